import { parseEnvBundle } from '../main/engine/env-bundle.js';

/**
 * The variables of an `env_bundle` value, as `get_env_bundle` returns them, parsed by the rules
 * the engine checks every bundle against when it is stored (a later key wins).
 */
export function envBundleVariables(text: string): Record<string, string> {
  // No prototype: a variable named __proto__ is a variable like any other.
  const variables = Object.create(null) as Record<string, string>;
  for (const { key, value } of parseEnvBundle(text)) variables[key] = value;
  return variables;
}
