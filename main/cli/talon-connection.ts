import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type TalonClient, createClient } from '../client/index.js';
import { CliError } from './cli-error.js';
import { type StoredSession, readSession, readSettings } from './cli-files.js';
import { defaultDataDir, defaultPort } from './talon-config.js';

/** The options every command has (defined on `talon` itself). */
export interface GlobalFlags {
  json?: boolean;
  url?: string;
}

/** Where a credential came from, for `talon status` and for messages. */
export type CredentialSource =
  'ONECLAW_TOKEN' | 'ONECLAW_API_KEY' | 'ONECLAW_AGENT_API_KEY' | 'session' | 'owner-api-key' | 'none';

export interface Connection {
  client: TalonClient;
  baseUrl: string;
  source: CredentialSource;
  session: StoredSession | undefined;
}

export function globalFlags(command: Command): GlobalFlags {
  return command.optsWithGlobals<GlobalFlags>();
}

/** `--url`, else ONECLAW_BASE_URL (alias TALON_URL), else the local Talon on TALON_PORT. */
export function baseUrlOf(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): string {
  const url =
    flags.url || env.ONECLAW_BASE_URL || env.TALON_URL || `http://127.0.0.1:${env.TALON_PORT || defaultPort}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(
      'invalid_input',
      `The Talon URL '${url}' is not a URL; give one like http://127.0.0.1:7417.`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CliError('invalid_input', `The Talon URL must be http(s), not '${parsed.protocol}'.`);
  }
  return url.replace(/\/+$/u, '');
}

/**
 * The owner key `talon init` wrote to the data folder: a last resort on the machine that runs
 * Talon, used only when it is private to this user like the folder itself.
 */
function ownerKey(env: NodeJS.ProcessEnv): string | undefined {
  const file = join(env.TALON_DATA_DIR || defaultDataDir(env), 'owner-api-key');
  try {
    if ((statSync(file).mode & 0o077) !== 0) return undefined;
    const key = readFileSync(file, 'utf8').trim();
    return key.startsWith('1ck_') ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The client, as whoever the environment names: ONECLAW_TOKEN, ONECLAW_API_KEY or
 * ONECLAW_AGENT_API_KEY (+ ONECLAW_AGENT_ID) first, as 1Claw's CLI reads them; then the session
 * of `talon login` / `talon unlock` for this URL; then, for a local Talon, the owner's key in the
 * data folder. With `anonymous` a missing credential is fine (status, unlock, login).
 */
export function connect(
  flags: GlobalFlags,
  options: { anonymous?: boolean } = {},
  env: NodeJS.ProcessEnv = process.env,
): Connection {
  const baseUrl = baseUrlOf(flags, env);
  const session = readSession();
  const sessionHere = session && session.base_url === baseUrl ? session : undefined;
  const make = (
    credential: { token?: string; apiKey?: string; agentId?: string },
    source: CredentialSource,
  ) => ({
    client: createClient({ baseUrl, ...credential }),
    baseUrl,
    source,
    session: sessionHere,
  });
  if (env.ONECLAW_TOKEN) return make({ token: env.ONECLAW_TOKEN }, 'ONECLAW_TOKEN');
  if (env.ONECLAW_API_KEY) return make({ apiKey: env.ONECLAW_API_KEY }, 'ONECLAW_API_KEY');
  if (env.ONECLAW_AGENT_API_KEY) {
    return make(
      {
        apiKey: env.ONECLAW_AGENT_API_KEY,
        ...(env.ONECLAW_AGENT_ID ? { agentId: env.ONECLAW_AGENT_ID } : {}),
      },
      'ONECLAW_AGENT_API_KEY',
    );
  }
  if (sessionHere) {
    const expired = sessionHere.expires_at !== undefined && Date.parse(sessionHere.expires_at) <= Date.now();
    if (!expired) {
      return make(
        sessionHere.kind === 'token' ? { token: sessionHere.credential } : { apiKey: sessionHere.credential },
        'session',
      );
    }
    if (!options.anonymous) {
      throw new CliError(
        'unauthenticated',
        `Your Talon session for ${baseUrl} has expired. Run: talon login (or talon unlock)`,
      );
    }
  }
  const local = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/u.test(baseUrl)
    ? ownerKey(env)
    : undefined;
  if (local) return make({ apiKey: local }, 'owner-api-key');
  if (!options.anonymous) {
    throw new CliError(
      'unauthenticated',
      `No credential for Talon at ${baseUrl}. Run talon login (email and password, or a personal key), talon unlock, or set ONECLAW_API_KEY (a 1ck_ personal key), ONECLAW_TOKEN or ONECLAW_AGENT_API_KEY.`,
    );
  }
  return make({}, 'none');
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;
export const isUuid = (text: string) => uuidPattern.test(text);

/**
 * The vault a command acts on: `--vault` (an id or a name), else ONECLAW_VAULT_ID, else the
 * vault `talon vault link` chose for this URL, else the only vault the caller can see.
 */
export async function resolveVault(connection: Connection, given: string | undefined): Promise<string> {
  const wanted = given || process.env.ONECLAW_VAULT_ID;
  if (wanted && isUuid(wanted)) return wanted.toLowerCase();
  if (!wanted) {
    const linked = readSettings().linked_vault;
    if (linked && linked.base_url === connection.baseUrl) return linked.id;
  }
  const { vaults } = await connection.client.vault.list();
  if (wanted) {
    const named = vaults.filter((vault) => vault.name === wanted);
    if (named.length === 1) return named[0]!.id;
    throw new CliError(
      named.length > 1 ? 'conflict' : 'not_found',
      named.length > 1
        ? `${named.length} vaults are named '${wanted}'; give the vault's id instead (talon vault list).`
        : `No vault named '${wanted}' that you can see. talon vault list shows them.`,
    );
  }
  if (vaults.length === 1) return vaults[0]!.id;
  throw new CliError(
    'invalid_input',
    vaults.length === 0
      ? 'There is no vault yet. Create one with: talon vault create <name>'
      : 'Which vault? Give --vault <id or name>, set ONECLAW_VAULT_ID, or choose a default with: talon vault link <id or name>',
  );
}
