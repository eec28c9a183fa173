import type { Command } from 'commander';

type Registrar = (program: Command) => void;

/**
 * Which module registers each top-level command, in the order `talon --help` lists them. `talon`
 * loads only the module of the command it runs (every process pays for each module it loads, and
 * scripts run `talon` many times); help, completion and unknown names load them all.
 */
const groups: [names: string[], load: () => Promise<Registrar>][] = [
  [
    ['status', 'unlock', 'lock', 'login', 'logout'],
    async () => (await import('./commands/session-commands.js')).registerSessionCommands,
  ],
  [['vault'], async () => (await import('./commands/vault-commands.js')).registerVaultCommands],
  [['secret'], async () => (await import('./commands/secret-commands.js')).registerSecretCommands],
  [['agent'], async () => (await import('./commands/agent-commands.js')).registerAgentCommands],
  [['policy'], async () => (await import('./commands/policy-commands.js')).registerPolicyCommands],
  [['share'], async () => (await import('./commands/share-commands.js')).registerShareCommands],
  [['approval'], async () => (await import('./commands/approval-commands.js')).registerApprovalCommands],
  [['audit'], async () => (await import('./commands/audit-commands.js')).registerAuditCommands],
  [['env'], async () => (await import('./commands/env-commands.js')).registerEnvCommands],
  [['import'], async () => (await import('./commands/env-commands.js')).registerImportCommand],
  [['run'], async () => (await import('./talon-run.js')).registerRunCommand],
  [['mcp'], async () => (await import('./commands/mcp-config-command.js')).registerMcpConfigCommand],
  [
    ['backup', 'restore', 'migrate'],
    async () => (await import('./commands/maintenance-commands.js')).registerMaintenanceCommands,
  ],
  [['completion'], async () => (await import('./commands/completion-command.js')).registerCompletionCommand],
];

/** The command word of `args` (after the global options `--json` and `--url <url>`). */
function commandWord(args: readonly string[]): string | undefined {
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (arg === '--url') index += 1;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** Registers the commands `args` needs: that command's group, or every group. */
export async function registerCommandGroups(program: Command, args: readonly string[]): Promise<void> {
  const word = commandWord(args);
  const group = groups.find(([names]) => word !== undefined && names.includes(word));
  const wanted = group && word !== 'completion' ? [group] : groups;
  for (const register of await Promise.all(wanted.map(([, load]) => load()))) register(program);
}
