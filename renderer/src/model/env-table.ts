/**
 * The env-bundle editor's table: rows of KEY and VALUE, written as `KEY=VALUE` lines, the format
 * the engine's env-bundle.ts reads (blank lines and `#` comments skipped, split at the first `=`,
 * one pair of surrounding quotes stripped). Errors name the row, never the value.
 */
export interface EnvRow {
  key: string;
  value: string;
}

const envKey = /^[A-Za-z_][A-Za-z0-9_]*$/u;

export function parseEnvRows(text: string): EnvRow[] {
  const rows: EnvRow[] = [];
  for (const line of text.replace(/^\uFEFF/u, '').split(/\r?\n|\r/u)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const assignment = trimmed.replace(/^export\s+/u, '');
    const equals = assignment.indexOf('=');
    if (equals === -1) continue;
    let value = assignment.slice(equals + 1).trim();
    const first = value.charAt(0);
    if (value.length >= 2 && (first === '"' || first === "'") && value.endsWith(first))
      value = value.slice(1, -1);
    rows.push({ key: assignment.slice(0, equals).trim(), value });
  }
  return rows;
}

/** The problem with the rows, if any, in words that say how to fix it. */
export function envRowsProblem(rows: readonly EnvRow[]): string | null {
  const filled = rows.filter((row) => row.key !== '' || row.value !== '');
  if (filled.length === 0) return 'Add at least one variable (a name and its value).';
  const seen = new Set<string>();
  for (const [index, row] of filled.entries()) {
    if (!envKey.test(row.key)) {
      return `Row ${index + 1}: a name starts with a letter or "_" and holds only letters, digits and "_".`;
    }
    if (seen.has(row.key)) return `Row ${index + 1}: ${row.key} appears twice; keep one of them.`;
    seen.add(row.key);
    if (/[\r\n]/u.test(row.value)) return `Row ${index + 1}: a value must fit on one line.`;
  }
  return null;
}

/** Values that would lose characters when read back (surrounding quotes, edge spaces) are quoted. */
export function serializeEnvRows(rows: readonly EnvRow[]): string {
  return rows
    .filter((row) => row.key !== '' || row.value !== '')
    .map(({ key, value }) => {
      const needsQuotes = value !== value.trim() || /^(["']).*\1$/su.test(value);
      const quote = value.includes('"') ? "'" : '"';
      return `${key}=${needsQuotes ? `${quote}${value}${quote}` : value}`;
    })
    .join('\n')
    .concat('\n');
}
