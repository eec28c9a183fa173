import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { TalonHttp } from '../client/talon-client.js';
import { ValueMasker, maskedForms, minMaskedLength } from '../engine/value-mask.js';
import { CliError } from './cli-error.js';
import { withExamples } from './command-output.js';
import { secretsAsEnvironment } from './env-variables.js';
import { type Connection, connect, globalFlags, resolveVault } from './talon-connection.js';

/**
 * `talon run [--vault V] [--prefix P | --env-bundle PATH]… -- <command> [args…]`: starts the
 * command with secrets as environment variables and masks their values in its output. Works for
 * a person and for an agent that may only `use` the secrets (read implies use): Talon hands the
 * values over for injection only (`POST /v1/vaults/{id}/secrets-for-use`, audited as
 * `secret.use`). Variables are named as `env run` names them (env-variables.ts): an api_key or
 * password secret by its path below the prefix, an env_bundle secret line by line.
 *
 * The child's stdin is this process's; its stdout and stderr pass through a masker that replaces
 * every injected value, and its base64, base64url, percent- and JSON-encoded forms, with `***`,
 * even split across writes (values under 4 characters are not masked). SIGINT, SIGTERM and SIGHUP
 * are passed on; Talon exits with the child's code, or 128 + the signal's number if a signal
 * ended it. Talon's own credentials (ONECLAW_API_KEY, ONECLAW_TOKEN, ONECLAW_AGENT_API_KEY,
 * ONECLAW_AGENT_TOKEN) are not passed to the command.
 */

interface RunFlags {
  vault?: string;
  prefix: string[];
  envBundle: string[];
}

interface SecretsForUse {
  secrets: { path: string; type: string; version: number; value: string }[];
  skipped: { path: string; reason: string }[];
}

const passedSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const credentialVariables = [
  'ONECLAW_API_KEY',
  'ONECLAW_TOKEN',
  'ONECLAW_AGENT_API_KEY',
  'ONECLAW_AGENT_TOKEN',
];

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerRunCommand(program: Command): void {
  withExamples(
    program
      .command('run')
      .description(
        'run a command with secrets as environment variables, their values masked in its output (needs use or read)',
      )
      .argument('<command...>', 'the command and its arguments, after --')
      .option(
        '-v, --vault <vault>',
        'vault id or name (default ONECLAW_VAULT_ID, the linked vault, or your only vault)',
      )
      .option(
        '-p, --prefix <prefix>',
        'inject the secrets under this prefix (repeatable; names drop it)',
        collect,
        [],
      )
      .option(
        '-e, --env-bundle <path>',
        'inject the KEY=VALUE lines of this env_bundle secret (repeatable)',
        collect,
        [],
      )
      .action(async (argv: string[], flags: RunFlags, command: Command) => {
        process.exitCode = await runWithSecrets(argv, flags, command);
      }),
    [
      'talon run --prefix app/ -- npm test',
      'talon run --env-bundle config/prod -- ./deploy.sh',
      'ONECLAW_AGENT_API_KEY=ocv_… talon run --prefix api-keys/ -- curl -H "Authorization: Bearer $STRIPE" https://api.stripe.com/v1/charges',
    ],
  );
}

async function runWithSecrets(argv: string[], flags: RunFlags, command: Command): Promise<number> {
  const [file, ...args] = argv;
  if (!file)
    throw new CliError('usage', 'Give the command to run after --: talon run --prefix app/ -- npm test');
  const connection = connect(globalFlags(command));
  const vaultId = await resolveVault(connection, flags.vault);
  const prefixes = flags.prefix.length === 0 && flags.envBundle.length === 0 ? [''] : flags.prefix;
  const answer = await httpOf(connection).request<SecretsForUse>({
    method: 'POST',
    path: `/v1/vaults/${encodeURIComponent(vaultId)}/secrets-for-use`,
    body: { prefixes, paths: flags.envBundle },
  });
  const variables = new Map<string, string>();
  for (const prefix of prefixes) {
    const under = answer.secrets.filter(
      (s) => s.path.startsWith(prefix) && !flags.envBundle.includes(s.path),
    );
    for (const [name, value] of secretsAsEnvironment(under, prefix)) variables.set(name, value);
  }
  for (const path of flags.envBundle) {
    const bundle = answer.secrets.find((s) => s.path === path.replace(/^\/+|\/+$/gu, ''));
    if (bundle && bundle.type !== 'env_bundle') {
      throw new CliError(
        'invalid_input',
        `--env-bundle ${path}: that secret is a ${bundle.type}, not an env_bundle.`,
      );
    }
    if (bundle) for (const [name, value] of secretsAsEnvironment([bundle])) variables.set(name, value);
  }
  for (const skipped of answer.skipped) {
    process.stderr.write(`talon run: not injecting ${skipped.path}: ${skipped.reason}\n`);
  }
  const short = [...variables].filter(([, value]) => value !== '' && [...value].length < minMaskedLength);
  if (short.length > 0) {
    process.stderr.write(
      `talon run: ${short.map(([name]) => name).join(', ')} ${short.length === 1 ? 'is' : 'are'} shorter than ${minMaskedLength} characters and not masked in the output\n`,
    );
  }
  for (const secret of answer.secrets) secret.value = '';

  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of credentialVariables) delete env[name];
  for (const [name, value] of variables) env[name] = value;
  return runMasked(file, args, env, [...variables.values()]);
}

/** The client's HTTP layer: one authenticated call with the credential `connect` chose. */
function httpOf(connection: Connection): TalonHttp {
  const http = (connection.client as unknown as { http?: unknown }).http;
  if (!(http instanceof TalonHttp)) throw new CliError('internal', 'The Talon client has no HTTP layer.');
  return http;
}

/** Start the command, mask its output, pass signals on, and resolve with the exit code to use. */
export function runMasked(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  values: string[],
): Promise<number> {
  const forms = maskedForms(values);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['inherit', 'pipe', 'pipe'] });
    const forward = (signal: NodeJS.Signals) => () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    const handlers = passedSignals.map((signal) => [signal, forward(signal)] as const);
    for (const [signal, handler] of handlers) process.on(signal, handler);
    const pipes = [
      pipeMasked(child.stdout, process.stdout, forms),
      pipeMasked(child.stderr, process.stderr, forms),
    ];
    child.on('error', (error: NodeJS.ErrnoException) => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
      reject(
        new CliError(
          error.code === 'ENOENT' ? 'not_found' : 'internal',
          error.code === 'ENOENT'
            ? `Cannot run '${file}': no such command.`
            : `Cannot run '${file}': ${error.message}`,
        ),
      );
    });
    child.on('close', (code, signal) => {
      for (const [name, handler] of handlers) process.off(name, handler);
      void Promise.all(pipes).then(() =>
        resolve(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1)),
      );
    });
  });
}

function pipeMasked(from: NodeJS.ReadableStream, to: Writable, forms: Buffer[]): Promise<void> {
  const masker = new ValueMasker(forms);
  return new Promise((resolve) => {
    from.on('data', (chunk: Buffer) => {
      const out = masker.write(chunk);
      if (out.length > 0) to.write(out);
    });
    from.on('end', () => {
      const rest = masker.end();
      if (rest.length > 0) to.write(rest, () => resolve());
      else resolve();
    });
  });
}
