import { TalonError } from './talon-error.js';

/**
 * An `env_bundle` secret holds `KEY=VALUE` lines, as 1Claw's `get_env_bundle` and `env run` read
 * them: blank lines and `#` comments are skipped, a line splits at its first `=`, an `export `
 * prefix is allowed and one pair of surrounding quotes is stripped. Nothing else is interpreted:
 * no escapes, no `${VAR}` expansion and no inline comments, because a value may contain `#`.
 * Errors name the line number only; the line itself may hold a secret value.
 */

export interface EnvEntry {
  key: string;
  value: string;
}

const envKey = /^[A-Za-z_][A-Za-z0-9_]*$/u;

/** Entries in the order written; a key may repeat, and the last one wins when applied. */
export function parseEnvBundle(text: string): EnvEntry[] {
  const entries: EnvEntry[] = [];
  const lines = text.replace(/^\uFEFF/u, '').split(/\r?\n|\r/u);
  lines.forEach((line, index) => {
    const lineNumber = index + 1;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;

    const assignment = trimmed.replace(/^export\s+/u, '');
    const equals = assignment.indexOf('=');
    if (equals === -1) {
      throw new TalonError(
        'invalid_input',
        `Env bundle line ${lineNumber} is not KEY=VALUE; write each variable as KEY=VALUE.`,
        {
          details: { line: lineNumber, rule: 'missing_equals' },
        },
      );
    }
    const key = assignment.slice(0, equals).trim();
    if (!envKey.test(key)) {
      throw new TalonError(
        'invalid_input',
        `Env bundle line ${lineNumber} has an invalid variable name; names start with a letter or '_' and hold only letters, digits and '_'.`,
        { details: { line: lineNumber, rule: 'invalid_key' } },
      );
    }
    entries.push({ key, value: unquote(assignment.slice(equals + 1).trim()) });
  });
  return entries;
}

function unquote(value: string): string {
  const first = value.charAt(0);
  if (value.length >= 2 && (first === '"' || first === "'") && value.endsWith(first))
    return value.slice(1, -1);
  return value;
}
