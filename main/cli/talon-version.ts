import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Talon's version, from package.json. */
export function talonVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return manifest.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The folder Talon runs from (the repository, or the installed package). */
export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));
