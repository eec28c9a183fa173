import { createHash } from 'node:crypto';
import type { Principal } from './principal.js';

/**
 * The fingerprint an approval is bound to: SHA-256 of the request's fields as canonical JSON
 * (keys sorted at every depth), prefixed by what kind of request it is. An approval for one
 * request is then useless for any other: another path, version, recipient or amount gives
 * another hash.
 */
export function requestHash(kind: string, fields: Record<string, unknown>): string {
  return createHash('sha256').update(`talon/request/v1|${kind}|`).update(canonicalJson(fields)).digest('hex');
}

/** The hash of one secret operation by one principal: a read of a path (a given version, or the current one). */
export function secretRequestHash(
  principal: Principal,
  request: { vaultId: string; path: string; operation: string; version?: number | null },
): string {
  return requestHash('secret', {
    principal: `${principal.type}:${principal.id}`,
    vault_id: request.vaultId,
    path: request.path,
    operation: request.operation,
    version: request.version ?? null,
  });
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
