import { parseEnvBundle } from '../engine/env-bundle.js';

/**
 * Environment variables from secrets, named as 1Claw's `env pull` / `env run` name them: a secret
 * of type api_key or password becomes one variable, its path (less the prefix asked for) with
 * `/` and `-` as `_`, upper-cased; an env_bundle secret gives each of its KEY=VALUE lines. Other
 * types are not variables. Later secrets win over earlier ones with the same name.
 */
export function environmentVariableName(path: string, prefix = ''): string {
  const rest = prefix && path.startsWith(prefix) ? path.slice(prefix.length) : path;
  return rest.replace(/^\/+/u, '').replace(/[/-]/gu, '_').toUpperCase();
}

export const variableTypes = new Set(['api_key', 'password']);

export function secretsAsEnvironment(
  secrets: readonly { path: string; type: string; value: string }[],
  prefix = '',
): Map<string, string> {
  const variables = new Map<string, string>();
  for (const secret of secrets) {
    if (secret.type === 'env_bundle') {
      for (const entry of parseEnvBundle(secret.value)) variables.set(entry.key, entry.value);
    } else if (variableTypes.has(secret.type)) {
      variables.set(environmentVariableName(secret.path, prefix), secret.value);
    }
  }
  return variables;
}

/** The variables as a file in `format`: dotenv (`KEY="…"`), shell (`export KEY='…'`) or JSON. */
export function formatEnvironment(
  variables: Map<string, string>,
  format: 'dotenv' | 'shell' | 'json',
): string {
  if (format === 'json') return `${JSON.stringify(Object.fromEntries(variables), null, 2)}\n`;
  const lines: string[] = [];
  for (const [name, value] of variables) {
    if (format === 'shell') lines.push(`export ${name}='${value.replace(/'/gu, `'\\''`)}'`);
    else
      lines.push(`${name}="${value.replace(/\\/gu, '\\\\').replace(/"/gu, '\\"').replace(/\n/gu, '\\n')}"`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
