import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { talonConfigDir } from './talon-config.js';

/**
 * What `talon` keeps in the user's config folder: `session.json` (the credential `talon login` or
 * `talon unlock` got, mode 0600) and `cli.json` (settings such as the linked vault). Both are
 * written whole to a temporary file and renamed, so a reader never sees half a file.
 */
export interface StoredSession {
  base_url: string;
  /** `token`: a session JWT (expires); `api_key`: a personal key `1ck_…`. */
  kind: 'token' | 'api_key';
  credential: string;
  expires_at?: string;
  email?: string;
  created_at: string;
}

export interface CliSettings {
  /** The vault commands act on when no --vault is given (`talon vault link`). */
  linked_vault?: { id: string; name: string; base_url: string };
}

const sessionFile = () => join(talonConfigDir(), 'session.json');
const settingsFile = () => join(talonConfigDir(), 'cli.json');

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function writePrivateJson(file: string, value: unknown): void {
  mkdirSync(talonConfigDir(), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

export function readSession(): StoredSession | undefined {
  const file = sessionFile();
  try {
    // A session file others can read is not used: someone may have copied it.
    if ((statSync(file).mode & 0o077) !== 0) return undefined;
  } catch {
    return undefined;
  }
  return readJson<StoredSession>(file);
}

export function writeSession(session: StoredSession): string {
  writePrivateJson(sessionFile(), session);
  return sessionFile();
}

export function removeSession(): boolean {
  const file = sessionFile();
  try {
    statSync(file);
  } catch {
    return false;
  }
  rmSync(file, { force: true });
  return true;
}

export function readSettings(): CliSettings {
  return readJson<CliSettings>(settingsFile()) ?? {};
}

export function writeSettings(settings: CliSettings): void {
  writePrivateJson(settingsFile(), settings);
}
