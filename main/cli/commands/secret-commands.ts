import type { Command } from 'commander';
import type { RotationCharset, SecretMetadata, SecretOptions } from '../../client/index.js';
import { CliError } from '../cli-error.js';
import { outputOf, when, withExamples } from '../command-output.js';
import { readSecretValue } from '../secret-input.js';
import { type Connection, connect, globalFlags, resolveVault } from '../talon-connection.js';
import { type ApprovalFlags, throughApproval, withApprovalOptions } from './approval-pending.js';

const charsets = ['hex', 'base64', 'alphanumeric', 'ascii'];

function positiveInteger(text: string, name: string): number {
  if (!/^\d+$/u.test(text) || Number(text) < 1)
    throw new CliError('invalid_input', `${name} must be a whole number above 0, not '${text}'.`);
  return Number(text);
}

function jsonObject(text: string, name: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new CliError('invalid_input', `${name} must be a JSON object, such as '{"owner":"ci"}'.`);
}

async function inVault(command: Command): Promise<{ connection: Connection; vaultId: string }> {
  const connection = connect(globalFlags(command));
  const vaultId = await resolveVault(connection, command.optsWithGlobals<{ vault?: string }>().vault);
  return { connection, vaultId };
}

function showMetadata(secret: SecretMetadata, out: ReturnType<typeof outputOf>): void {
  out.fields([
    ['id', secret.id],
    ['path', secret.path],
    ['type', secret.type],
    ['version', secret.version],
    ['metadata', Object.keys(secret.metadata ?? {}).length ? secret.metadata : undefined],
    ['created', secret.created_at],
    ['updated', secret.updated_at],
    ['expires', secret.expires_at ?? 'never'],
    [
      'reads',
      secret.max_access_count
        ? `${secret.access_count ?? 0} of ${secret.max_access_count}`
        : secret.access_count,
    ],
    ['disabled', secret.is_disabled || undefined],
    ['deleted', secret.deleted_at ?? undefined],
  ]);
}

interface SetFlags {
  type?: string;
  stdin?: boolean;
  file?: string;
  expires?: string;
  maxAccessCount?: string;
  metadata?: string;
}

function secretOptions(flags: SetFlags): SecretOptions {
  return {
    ...(flags.type ? { type: flags.type } : {}),
    ...(flags.expires ? { expires_at: flags.expires } : {}),
    ...(flags.maxAccessCount
      ? { max_access_count: positiveInteger(flags.maxAccessCount, '--max-access-count') }
      : {}),
    ...(flags.metadata ? { metadata: jsonObject(flags.metadata, '--metadata') } : {}),
  };
}

/** `secret list|get|set|delete|restore|rotate|versions|describe|rollback`. */
export function registerSecretCommands(program: Command): void {
  const secret = program
    .command('secret')
    .description(
      'secrets of a vault: values are read from stdin, a file or a hidden prompt, never from your shell history',
    )
    .option(
      '-v, --vault <vault>',
      'vault id or name (default ONECLAW_VAULT_ID, the linked vault, or your only vault)',
    );

  withExamples(
    secret
      .command('list')
      .alias('ls')
      .description('secrets of the vault (never values)')
      .option('-p, --prefix <prefix>', 'only paths starting with this')
      .option('--deleted', 'include deleted secrets (restorable)')
      .action(async (flags: { prefix?: string; deleted?: boolean }, command: Command) => {
        const out = outputOf(command);
        const { connection, vaultId } = await inVault(command);
        const secrets = await connection.client.secrets.listAll(vaultId, flags.prefix, {
          includeDeleted: flags.deleted === true,
        });
        out.result({ secrets }, () =>
          out.table(
            ['path', 'type', 'version', 'updated', 'expires', 'state'],
            secrets.map((s) => [
              s.path,
              s.type,
              s.version,
              when(s.updated_at ?? s.created_at),
              s.expires_at ? when(s.expires_at) : 'never',
              s.deleted_at ? 'deleted' : s.is_disabled ? 'disabled' : '',
            ]),
          ),
        );
      }),
    [
      'talon secret list',
      'talon secret list --vault personal --prefix api-keys/',
      'talon secret list --json',
    ],
  );

  withExamples(
    withApprovalOptions(
      secret
        .command('get <path>')
        .description('read a secret: prints its value (counts as a read, audited)')
        .option('--version <n>', 'an older version')
        .option('-q, --quiet', 'print only the value'),
    ).action(
      async (
        path: string,
        flags: ApprovalFlags & { version?: string; quiet?: boolean },
        command: Command,
      ) => {
        const out = outputOf(command);
        const { connection, vaultId } = await inVault(command);
        const version = flags.version ? positiveInteger(flags.version, '--version') : undefined;
        const found = await throughApproval(connection.client, flags, out, (approvalId) => {
          const gated = approvalId ? { approvalId } : {};
          return version
            ? connection.client.secrets.getVersion(vaultId, path, version, gated)
            : connection.client.secrets.get(vaultId, path, gated);
        });
        out.result(found, () => {
          if (flags.quiet) {
            process.stdout.write(`${found.value}\n`);
            return;
          }
          out.fields([
            ['path', found.path],
            ['type', found.type],
            ['version', found.version],
            ['expires', found.expires_at ?? 'never'],
            ['value', found.value],
          ]);
        });
      },
    ),
    [
      'talon secret get api-keys/openai',
      'talon secret get api-keys/openai --quiet | pbcopy',
      'talon secret get db/password --version 2 --json',
    ],
  );

  withExamples(
    secret
      .command('set <path> [value]')
      .description(
        'store a value (a new secret, or a new version); give it with --stdin, --file or the hidden prompt',
      )
      .option(
        '-t, --type <type>',
        'api_key, password, private_key, certificate, file, note, ssh_key or env_bundle',
      )
      .option('--stdin', 'read the value from stdin')
      .option('-f, --file <file>', 'read the value from a file')
      .option('-e, --expires <iso>', 'expiry, e.g. 2027-01-01T00:00:00Z')
      .option('--max-access-count <n>', 'readable this many times, then gone')
      .option('--metadata <json>', 'a JSON object of metadata')
      .action(async (path: string, value: string | undefined, flags: SetFlags, command: Command) => {
        const out = outputOf(command);
        const text = await readSecretValue(
          { argument: value, stdin: flags.stdin === true, ...(flags.file ? { file: flags.file } : {}) },
          'value',
        );
        const { connection, vaultId } = await inVault(command);
        const stored = await connection.client.secrets.set(vaultId, path, text, secretOptions(flags));
        out.result(stored, () =>
          console.log(`Stored ${stored.path}, version ${stored.version} (${stored.type}).`),
        );
      }),
    [
      'talon secret set api-keys/openai',
      'printf %s "$OPENAI_KEY" | talon secret set api-keys/openai --stdin --type api_key',
      'talon secret set certs/server --file server.pem --type certificate',
    ],
  );

  withExamples(
    secret
      .command('delete <path>')
      .alias('rm')
      .description('delete a secret (all versions; restorable with talon secret restore)')
      .option('-y, --yes', 'no questions (talon asks none: delete is restorable)')
      .action(async (path: string, _flags, command: Command) => {
        const out = outputOf(command);
        const { connection, vaultId } = await inVault(command);
        await connection.client.secrets.delete(vaultId, path);
        out.result({ deleted: path }, () =>
          console.log(`Deleted ${path}. Undo with: talon secret restore ${path}`),
        );
      }),
    ['talon secret delete api-keys/old'],
  );

  withExamples(
    secret
      .command('restore <path>')
      .description('bring back a deleted secret')
      .action(async (path: string, _flags, command: Command) => {
        const out = outputOf(command);
        const { connection, vaultId } = await inVault(command);
        const restored = await connection.client.secrets.restore(vaultId, path);
        out.result(restored, () => console.log(`Restored ${restored.path} (version ${restored.version}).`));
      }),
    ['talon secret restore api-keys/old'],
  );

  withExamples(
    secret
      .command('rotate <path> [value]')
      .description(
        'a new version: a value you give (--stdin, --file, prompt) or one Talon generates (--generate)',
      )
      .option('--stdin', 'read the new value from stdin')
      .option('-f, --file <file>', 'read the new value from a file')
      .option('-g, --generate', 'let Talon generate the value (it is not shown)')
      .option('-l, --length <n>', 'length of the generated value (default 32)')
      .option(
        '-c, --charset <charset>',
        `characters of the generated value: ${charsets.join(', ')} (default hex)`,
      )
      .action(
        async (
          path: string,
          value: string | undefined,
          flags: { stdin?: boolean; file?: string; generate?: boolean; length?: string; charset?: string },
          command: Command,
        ) => {
          const out = outputOf(command);
          if (!flags.generate && (flags.length || flags.charset)) {
            throw new CliError('invalid_input', '--length and --charset go with --generate.');
          }
          if (flags.charset && !charsets.includes(flags.charset)) {
            throw new CliError('invalid_input', `--charset must be one of ${charsets.join(', ')}.`);
          }
          let stored;
          if (flags.generate) {
            if (value !== undefined || flags.stdin || flags.file) {
              throw new CliError('invalid_input', 'Give a value or --generate, not both.');
            }
            const { connection, vaultId } = await inVault(command);
            stored = await connection.client.secrets.rotateGenerate(vaultId, path, {
              ...(flags.length ? { length: positiveInteger(flags.length, '--length') } : {}),
              ...(flags.charset ? { charset: flags.charset as RotationCharset } : {}),
            });
          } else {
            const text = await readSecretValue(
              { argument: value, stdin: flags.stdin === true, ...(flags.file ? { file: flags.file } : {}) },
              'new value',
            );
            const { connection, vaultId } = await inVault(command);
            stored = await connection.client.secrets.rotate(vaultId, path, text);
          }
          out.result(stored, () => console.log(`Rotated ${stored.path}: version ${stored.version}.`));
        },
      ),
    [
      'talon secret rotate db/password --generate --length 40 --charset alphanumeric',
      'talon secret rotate api-keys/openai --stdin < new-key.txt',
    ],
  );

  withExamples(
    secret
      .command('versions <path>')
      .description("a secret's versions (never values)")
      .action(async (path: string, _flags, command: Command) => {
        const out = outputOf(command);
        const { connection, vaultId } = await inVault(command);
        const { versions } = await connection.client.secrets.listVersions(vaultId, path);
        out.result({ versions }, () =>
          out.table(
            ['version', 'created', 'by', 'state'],
            versions.map((v) => [
              v.version,
              when(v.created_at),
              v.created_by,
              v.is_current ? 'current' : v.is_disabled ? 'disabled' : '',
            ]),
          ),
        );
      }),
    ['talon secret versions db/password'],
  );

  withExamples(
    secret
      .command('describe <path>')
      .description("a secret's metadata, without reading its value")
      .action(async (path: string, _flags, command: Command) => {
        const out = outputOf(command);
        const { connection, vaultId } = await inVault(command);
        const found = await connection.client.secrets.describe(vaultId, path);
        out.result(found, () => showMetadata(found, out));
      }),
    ['talon secret describe api-keys/openai'],
  );

  withExamples(
    secret
      .command('rollback <path> <version>')
      .description('a new version holding the value of an older one')
      .action(async (path: string, version: string, _flags, command: Command) => {
        const out = outputOf(command);
        const { connection, vaultId } = await inVault(command);
        const stored = await connection.client.secrets.rollback(
          vaultId,
          path,
          positiveInteger(version, 'The version'),
        );
        out.result(stored, () =>
          console.log(
            `Rolled ${stored.path} back to version ${version}'s value: now version ${stored.version}.`,
          ),
        );
      }),
    ['talon secret rollback db/password 3'],
  );
}
