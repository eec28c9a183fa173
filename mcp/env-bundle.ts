/**
 * The variables of an `env_bundle` value, as `get_env_bundle` returns them: `KEY=VALUE` lines,
 * blank lines and `#` comments skipped, each line split at its first `=`, an `export ` prefix
 * allowed and one pair of surrounding quotes stripped; a later key wins. These are the rules the
 * engine checks a bundle against when it is stored (main/engine/env-bundle.ts; a test keeps the
 * two in step), so a stored bundle always parses; a line without `=` is skipped, as 1Claw does.
 */
export function envBundleVariables(text: string): Record<string, string> {
  // No prototype: a variable named __proto__ is a variable like any other.
  const variables = Object.create(null) as Record<string, string>;
  for (const line of text.replace(/^\uFEFF/u, '').split(/\r?\n|\r/u)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const assignment = trimmed.replace(/^export\s+/u, '');
    const equals = assignment.indexOf('=');
    if (equals === -1) continue;
    variables[assignment.slice(0, equals).trim()] = unquote(assignment.slice(equals + 1).trim());
  }
  return variables;
}

function unquote(value: string): string {
  const first = value.charAt(0);
  if (value.length >= 2 && (first === '"' || first === "'") && value.endsWith(first))
    return value.slice(1, -1);
  return value;
}
