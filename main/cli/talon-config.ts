import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
// Light imports only: `talon` checks its configuration before it loads the token and the engine.
import { TalonError } from '../engine/talon-error.js';

/**
 * Talon's configuration, from the names DESIGN fixes ("Configuration and entry points"): flags
 * first, then the environment, then the defaults.
 */
export interface TalonConfig {
  dataDir: string;
  /** Unset: the embedded SoftHSM2 (the runtime knows its module). */
  modulePath: string | undefined;
  tokenLabel: string;
  port: number;
  /** The token PIN; null when none was given (serve then starts locked). */
  pin: string | null;
  /** Minutes without a human or agent request before Talon locks itself; 0 = never. */
  autoLockMinutes: number;
  /** Requests each client address may make in a minute before it gets 429. */
  rateLimitPerMinute: number;
}

export interface TalonFlags {
  dataDir?: string;
  pinFile?: string;
  port?: string;
}

export const defaultPort = 7417;
export const defaultTokenLabel = 'talon';
export const defaultAutoLockMinutes = 15;
export const defaultRateLimitPerMinute = 600;

function parseRateLimit(text: string): number {
  if (!/^[1-9][0-9]{0,6}$/u.test(text.trim())) {
    throw new TalonError(
      'invalid_input',
      `TALON_RATE_LIMIT must be a whole number of requests per minute per address (1 to 9999999), not '${text}'.`,
    );
  }
  return Number(text);
}

function parseAutoLockMinutes(text: string): number {
  if (!/^[0-9]{1,6}(\.[0-9]+)?$/u.test(text.trim())) {
    throw new TalonError(
      'invalid_input',
      `TALON_AUTO_LOCK_MINUTES must be a number of minutes (0 = never lock by itself), not '${text}'.`,
    );
  }
  return Number(text);
}

/** The OS app-data folder: `~/.local/share/talon` on Linux (or under XDG_DATA_HOME). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'talon');
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'talon');
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'talon');
}

function parsePort(text: string, source: string): number {
  if (!/^[0-9]{1,5}$/u.test(text.trim()) || Number(text) > 65_535) {
    throw new TalonError('invalid_input', `${source} must be a port number from 0 to 65535, not '${text}'.`);
  }
  return Number(text);
}

/**
 * The PIN in a file, which must be readable by its owner only: a PIN that any local user can read
 * protects nothing. One trailing newline is dropped.
 */
export function readPinFile(file: string): string {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    throw new TalonError('invalid_input', `The PIN file ${file} does not exist or cannot be read.`);
  }
  if ((mode & 0o077) !== 0) {
    throw new TalonError(
      'forbidden',
      `The PIN file ${file} can be read by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}). Make it private with: chmod 600 '${file}'`,
    );
  }
  const pin = readFileSync(file, 'utf8').replace(/\r?\n$/u, '');
  if (pin === '') throw new TalonError('invalid_input', `The PIN file ${file} is empty.`);
  return pin;
}

/** The PIN: `--pin-file`, else TALON_HSM_PIN, else TALON_HSM_PIN_FILE; null when none is set. */
function resolvePin(flags: TalonFlags, env: NodeJS.ProcessEnv): string | null {
  if (flags.pinFile) return readPinFile(resolve(flags.pinFile));
  if (env.TALON_HSM_PIN) return env.TALON_HSM_PIN;
  if (env.TALON_HSM_PIN_FILE) return readPinFile(resolve(env.TALON_HSM_PIN_FILE));
  return null;
}

export function resolveTalonConfig(flags: TalonFlags, env: NodeJS.ProcessEnv = process.env): TalonConfig {
  return {
    dataDir: resolve(flags.dataDir || env.TALON_DATA_DIR || defaultDataDir(env)),
    modulePath: env.TALON_PKCS11_MODULE || undefined,
    tokenLabel: env.TALON_TOKEN_LABEL || defaultTokenLabel,
    port:
      flags.port !== undefined
        ? parsePort(flags.port, '--port')
        : env.TALON_PORT
          ? parsePort(env.TALON_PORT, 'TALON_PORT')
          : defaultPort,
    pin: resolvePin(flags, env),
    autoLockMinutes: env.TALON_AUTO_LOCK_MINUTES
      ? parseAutoLockMinutes(env.TALON_AUTO_LOCK_MINUTES)
      : defaultAutoLockMinutes,
    rateLimitPerMinute: env.TALON_RATE_LIMIT
      ? parseRateLimit(env.TALON_RATE_LIMIT)
      : defaultRateLimitPerMinute,
  };
}

/**
 * The user's Talon config folder, for what belongs to the person rather than to a data folder
 * (the CLI's session and settings): TALON_CONFIG_DIR, else `~/.config/talon` on Linux (or under
 * XDG_CONFIG_HOME).
 */
export function talonConfigDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.TALON_CONFIG_DIR) return resolve(env.TALON_CONFIG_DIR);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Preferences', 'talon');
  if (platform === 'win32')
    return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'talon', 'config');
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'talon');
}
