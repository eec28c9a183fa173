import type { Command, Option } from 'commander';
import { CliError } from '../cli-error.js';
import { withExamples } from '../command-output.js';

/** The command tree as completion needs it: for each command path, its subcommands and options. */
interface Node {
  path: string[];
  commands: { name: string; description: string }[];
  options: { flags: string[]; description: string }[];
}

function visibleOptions(command: Command): Option[] {
  return command.options.filter((option) => !option.hidden);
}

function walk(command: Command, path: string[], nodes: Node[], inherited: Option[]): void {
  const options = [...visibleOptions(command), ...inherited];
  const children = command.commands.filter((child) => !(child as Command & { _hidden?: boolean })._hidden);
  nodes.push({
    path,
    commands: children.flatMap((child) =>
      [child.name(), ...child.aliases()].map((name) => ({ name, description: child.description() })),
    ),
    options: [
      ...options.map((option) => ({
        flags: [option.long, option.short].filter((flag): flag is string => typeof flag === 'string'),
        description: option.description,
      })),
      { flags: ['--help', '-h'], description: 'show help' },
    ],
  });
  for (const child of children) {
    for (const name of [child.name(), ...child.aliases()]) walk(child, [...path, name], nodes, options);
  }
}

export function commandTree(program: Command): Node[] {
  const nodes: Node[] = [];
  walk(program, [], nodes, []);
  return nodes;
}

const shellWord = (text: string) => text.replace(/[^A-Za-z0-9_-]/gu, '');
const singleQuoted = (text: string) => `'${text.replace(/'/gu, `'\\''`)}'`;

function bashScript(program: Command): string {
  const name = program.name();
  const fn = `_${shellWord(name).replace(/-/gu, '_')}`;
  const tree = commandTree(program);
  const caseOf = (render: (node: Node) => string[]) =>
    tree
      .map(
        (node) =>
          `    ${singleQuoted(node.path.join(' '))}) echo ${singleQuoted(render(node).map(shellWord).join(' '))} ;;`,
      )
      .join('\n');
  return `# ${name} completion for bash. Load it with: source <(${name} completion bash)
${fn}_children() {
  case "$1" in
${caseOf((node) => node.commands.map((c) => c.name))}
  esac
}
${fn}_words() {
  case "$1" in
${caseOf((node) => [...node.commands.map((c) => c.name), ...node.options.flatMap((o) => o.flags)])}
  esac
}
${fn}_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case " $(${fn}_children "$path") " in
      *" \${COMP_WORDS[i]} "*) path="\${path:+$path }\${COMP_WORDS[i]}" ;;
    esac
  done
  COMPREPLY=($(compgen -W "$(${fn}_words "$path")" -- "$cur"))
}
complete -F ${fn}_complete ${name}
`;
}

function zshScript(program: Command): string {
  const name = program.name();
  return `#compdef ${name}
# ${name} completion for zsh. Load it with: source <(${name} completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript(program)}`;
}

function fishScript(program: Command): string {
  const name = program.name();
  const lines = [
    `# ${name} completion for fish. Load it with: ${name} completion fish | source`,
    `complete -c ${name} -f`,
  ];
  for (const node of commandTree(program)) {
    const condition =
      node.path.length === 0
        ? '__fish_use_subcommand'
        : `__fish_seen_subcommand_from ${node.path.at(-1)}${node.path.length > 1 ? `; and __fish_seen_subcommand_from ${node.path[0]}` : ''}`;
    for (const child of node.commands) {
      lines.push(
        `complete -c ${name} -n ${singleQuoted(condition)} -a ${shellWord(child.name)} -d ${singleQuoted(child.description.slice(0, 80))}`,
      );
    }
    if (node.path.length === 0) continue;
    for (const option of node.options) {
      const long = option.flags.find((flag) => flag.startsWith('--'));
      const short = option.flags.find((flag) => /^-[^-]$/u.test(flag));
      if (!long) continue;
      lines.push(
        `complete -c ${name} -n ${singleQuoted(`__fish_seen_subcommand_from ${node.path.at(-1)}`)} -l ${shellWord(long.slice(2))}${short ? ` -s ${shellWord(short.slice(1))}` : ''} -d ${singleQuoted(option.description.slice(0, 80))}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `completion bash|zsh|fish`: generated from the command tree, so it never lags behind it. */
export function registerCompletionCommand(program: Command): void {
  withExamples(
    program
      .command('completion <shell>')
      .description('print a shell completion script: bash, zsh or fish')
      .action((shell: string) => {
        const scripts: Record<string, () => string> = {
          bash: () => bashScript(program),
          zsh: () => zshScript(program),
          fish: () => fishScript(program),
        };
        const script = scripts[shell];
        if (!script) throw new CliError('invalid_input', 'The shell is bash, zsh or fish.');
        process.stdout.write(script());
      }),
    [
      'source <(talon completion bash)            # in ~/.bashrc',
      'talon completion zsh > "${fpath[1]}/_talon"  # zsh',
      'talon completion fish > ~/.config/fish/completions/talon.fish',
    ],
  );
}
