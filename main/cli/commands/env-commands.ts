import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { SecretMetadata } from '../../client/index.js';
import { TalonError } from '../../engine/talon-error.js';
import { parseEnvBundle } from '../../engine/env-bundle.js';
import { CliError } from '../cli-error.js';
import { outputOf, withExamples } from '../command-output.js';
import { formatEnvironment, secretsAsEnvironment, variableTypes } from '../env-variables.js';
import { type Connection, connect, globalFlags, resolveVault } from '../talon-connection.js';
import { throughApproval } from './approval-pending.js';

async function inVault(command: Command): Promise<{ connection: Connection; vaultId: string }> {
  const connection = connect(globalFlags(command));
  return {
    connection,
    vaultId: await resolveVault(connection, command.optsWithGlobals<{ vault?: string }>().vault),
  };
}

function readDotenv(file: string): { text: string; entries: ReturnType<typeof parseEnvBundle> } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CliError('invalid_input', `Cannot read ${file}.`);
  }
  try {
    return { text, entries: parseEnvBundle(text) };
  } catch (error) {
    if (error instanceof TalonError) throw new CliError('invalid_input', `${file}: ${error.message}`);
    throw error;
  }
}

/** `env pull|push` (`talon run` starts a command with them). */
export function registerEnvCommands(program: Command): void {
  const env = program
    .command('env')
    .description(
      'environment variables from secrets (api_key and password secrets by path, env_bundle secrets line by line)',
    )
    .option(
      '-v, --vault <vault>',
      'vault id or name (default ONECLAW_VAULT_ID, the linked vault, or your only vault)',
    );

  withExamples(
    env
      .command('pull')
      .description(
        'write the variables as a dotenv, shell or JSON file (reads every secret it exports: audited)',
      )
      .option('-p, --prefix <prefix>', 'only paths under this prefix (dropped from the names)')
      .option('-f, --format <format>', 'dotenv, shell or json', 'dotenv')
      .option('-o, --output <file>', 'write to a file, mode 0600 (default stdout)')
      .action(async (flags: { prefix?: string; format: string; output?: string }, command: Command) => {
        const out = outputOf(command);
        if (!['dotenv', 'shell', 'json'].includes(flags.format))
          throw new CliError('invalid_input', '--format must be dotenv, shell or json.');
        const { connection, vaultId } = await inVault(command);
        const listed = await connection.client.secrets.listAll(vaultId, flags.prefix);
        const wanted = listed.filter(
          (s: SecretMetadata) => variableTypes.has(s.type) || s.type === 'env_bundle',
        );
        const values = [];
        for (const secret of wanted)
          values.push(
            await throughApproval(connection.client, {}, out, () =>
              connection.client.secrets.get(vaultId, secret.path),
            ),
          );
        const variables = secretsAsEnvironment(values, flags.prefix ?? '');
        const text = formatEnvironment(variables, flags.format as 'dotenv' | 'shell' | 'json');
        if (flags.output) {
          writeFileSync(flags.output, text, { mode: 0o600 });
          out.result({ file: flags.output, variables: [...variables.keys()] }, () =>
            console.log(`Wrote ${variables.size} variables to ${flags.output} (mode 0600).`),
          );
        } else if (out.json) {
          process.stdout.write(formatEnvironment(variables, 'json'));
        } else {
          process.stdout.write(text);
        }
      }),
    ['talon env pull --prefix app/ -o .env', 'eval "$(talon env pull --format shell)"'],
  );

  withExamples(
    env
      .command('push <file>')
      .description('store a dotenv file as one env_bundle secret (a new version when it exists)')
      .option('-p, --path <path>', 'the secret path', 'config/env')
      .action(async (file: string, flags: { path: string }, command: Command) => {
        const out = outputOf(command);
        const { text, entries } = readDotenv(file);
        if (entries.length === 0) throw new CliError('invalid_input', `${file} holds no KEY=VALUE lines.`);
        const { connection, vaultId } = await inVault(command);
        const stored = await connection.client.secrets.set(vaultId, flags.path, text, { type: 'env_bundle' });
        out.result({ ...stored, variables: entries.map((e) => e.key) }, () =>
          console.log(
            `Stored ${entries.length} variables from ${file} as ${stored.path} (env_bundle, version ${stored.version}).`,
          ),
        );
      }),
    ['talon env push .env', 'talon env push .env.production --path config/prod-env --vault prod'],
  );
}

/** `import <.env>`: one secret per variable. */
export function registerImportCommand(program: Command): void {
  withExamples(
    program
      .command('import <file>')
      .description('import a dotenv file, one secret per variable (path = prefix + NAME, type api_key)')
      .option(
        '-v, --vault <vault>',
        'vault id or name (default ONECLAW_VAULT_ID, the linked vault, or your only vault)',
      )
      .option('-p, --prefix <prefix>', 'put the secrets under this path prefix, e.g. app/', '')
      .option('-t, --type <type>', 'the type of the secrets', 'api_key')
      .option(
        '--on-conflict <mode>',
        'when a secret exists: fail (default, nothing is written), skip, or overwrite (a new version)',
        'fail',
      )
      .option('--dry-run', 'show what would happen, change nothing')
      .action(
        async (
          file: string,
          flags: { vault?: string; prefix: string; type: string; onConflict: string; dryRun?: boolean },
          command: Command,
        ) => {
          const out = outputOf(command);
          if (!['fail', 'skip', 'overwrite'].includes(flags.onConflict)) {
            throw new CliError('invalid_input', '--on-conflict must be fail, skip or overwrite.');
          }
          const { entries } = readDotenv(file);
          const latest = new Map(entries.map((e) => [e.key, e.value]));
          const connection = connect(globalFlags(command));
          const vaultId = await resolveVault(connection, flags.vault);
          const existing = new Set(
            (await connection.client.secrets.listAll(vaultId, flags.prefix || undefined)).map((s) => s.path),
          );
          const plan = [...latest.keys()].map((name) => {
            const path = `${flags.prefix}${name}`;
            const exists = existing.has(path);
            const action = !exists
              ? 'create'
              : flags.onConflict === 'skip'
                ? 'skip'
                : flags.onConflict === 'overwrite'
                  ? 'overwrite'
                  : 'conflict';
            return { name, path, action };
          });
          const conflicts = plan.filter((p) => p.action === 'conflict');
          if (conflicts.length && !flags.dryRun) {
            throw new CliError(
              'conflict',
              `${conflicts.length} secret(s) exist already (${conflicts
                .map((c) => c.path)
                .slice(0, 5)
                .join(
                  ', ',
                )}${conflicts.length > 5 ? ', …' : ''}); nothing was imported. Use --on-conflict skip or overwrite.`,
            );
          }
          if (!flags.dryRun) {
            for (const step of plan) {
              if (step.action === 'create' || step.action === 'overwrite') {
                await connection.client.secrets.set(vaultId, step.path, latest.get(step.name)!, {
                  type: flags.type,
                });
              }
            }
          }
          out.result({ dry_run: flags.dryRun === true, vault_id: vaultId, plan }, () => {
            out.table(
              ['variable', 'path', flags.dryRun ? 'would' : 'done'],
              plan.map((p) => [p.name, p.path, p.action]),
            );
            const count = (action: string) => plan.filter((p) => p.action === action).length;
            console.log(
              flags.dryRun
                ? `Dry run, nothing changed: ${count('create')} to create, ${count('overwrite')} to overwrite, ${count('skip')} to skip${conflicts.length ? `, ${conflicts.length} already there (the import would fail; see --on-conflict)` : ''}.`
                : `${count('create')} created, ${count('overwrite')} overwritten, ${count('skip')} skipped.`,
            );
          });
        },
      ),
    ['talon import .env --prefix app/ --dry-run', 'talon import .env --prefix app/ --on-conflict overwrite'],
  );
}
