import { compilePathGlob } from './path-glob.js';
import { evaluateConditions } from './policy-conditions.js';
import type { PolicyConditions, RequestContext } from './policy-conditions.js';
import { normalizeSecretPath } from './secret-path.js';

/**
 * The one function that decides whether a principal may act on a secret path. Deny by default;
 * the caller passes the policies (no store access here) and handles what lies outside policies:
 * vault ownership, token scopes, the crypto-proxy rule on private keys.
 */

/**
 * `use` lets an agent have a secret injected into a command or a request without ever reading
 * it. `read` implies `use`: an allow of `read` grants `use` too, and a deny of `use` denies
 * `read` too (who may not use a value may not read it); a deny of `read` leaves `use` alone, so
 * "allow read, deny read at a higher priority" makes a path use-only.
 */
export const permissions = ['read', 'write', 'delete', 'use'] as const;
export type Permission = (typeof permissions)[number];

/** Whether a rule speaks to a request for `permission` (see `permissions`). */
export function ruleCovers(
  rule: Pick<PolicyRule, 'permissions' | 'effect'>,
  permission: Permission,
): boolean {
  if (rule.permissions.includes(permission)) return true;
  if (permission === 'use' && rule.effect === 'allow') return rule.permissions.includes('read');
  if (permission === 'read' && rule.effect === 'deny') return rule.permissions.includes('use');
  return false;
}

export type PrincipalType = 'user' | 'agent';
export type PolicyEffect = 'allow' | 'deny';

export interface PolicyRule {
  id: string;
  vaultId: string;
  principalType: PrincipalType;
  principalId: string;
  secretPathPattern: string;
  permissions: readonly Permission[];
  conditions?: PolicyConditions | null;
  effect: PolicyEffect;
  priority: number;
  requireApproval: boolean;
  expiresAt?: string | null;
}

export interface DecisionRequest {
  policies: readonly PolicyRule[];
  principal: { type: PrincipalType; id: string };
  vaultId: string;
  path: string;
  permission: Permission;
  context: RequestContext;
}

export interface Decision {
  allowed: boolean;
  /** Only ever true when allowed: a human must approve this use first. */
  requireApproval: boolean;
  /** The policy that decided, or null when nothing applied (denied by default). */
  policyId: string | null;
  reason: string;
}

/**
 * Among the policies of this principal in this vault that cover the permission and path, are
 * unexpired and whose conditions hold, the highest priority wins and, at equal priority, deny
 * beats allow. Throws `invalid_input` only when `path` is not a valid secret path.
 */
export function decide(request: DecisionRequest): Decision {
  const { principal, vaultId, permission, context } = request;
  const path = normalizeSecretPath(request.path);
  const subject = `${principal.type} ${principal.id} ${permission} on '${path}' in vault ${vaultId}`;

  const applicable: PolicyRule[] = [];
  const setAside: string[] = [];
  for (const rule of request.policies) {
    if (
      !sameId(rule.vaultId, vaultId) ||
      rule.principalType !== principal.type ||
      !sameId(rule.principalId, principal.id) ||
      !ruleCovers(rule, permission)
    ) {
      continue;
    }
    const assessment = assess(rule, path, context);
    if (assessment.note) setAside.push(assessment.note);
    if (assessment.applies) applicable.push(rule);
  }

  // At equal priority and effect, a policy that names the permission explains the decision
  // better than one that only implies it (read implies use).
  const named = (rule: PolicyRule): number => Number(rule.permissions.includes(permission));
  const ranked = applicable.sort(
    (a, b) =>
      b.priority - a.priority ||
      Number(b.effect === 'deny') - Number(a.effect === 'deny') ||
      named(b) - named(a),
  );
  const winner = ranked[0];
  if (!winner) {
    const why = setAside.length > 0 ? `: ${setAside.join('; ')}` : '';
    return {
      allowed: false,
      requireApproval: false,
      policyId: null,
      reason: `no policy grants ${subject}${why}`,
    };
  }

  const rank = `(${winner.effect}, priority ${winner.priority})`;
  const notes: string[] = [];
  if (winner.effect === 'deny') {
    const tied = ranked.find((r) => r.effect === 'allow' && r.priority === winner.priority);
    if (tied) notes.push(`deny beats allow policy ${tied.id} at equal priority`);
    notes.push(...setAside.filter((note) => note.startsWith(`policy ${winner.id} `)));
    return {
      allowed: false,
      requireApproval: false,
      policyId: winner.id,
      reason: [`policy ${winner.id} ${rank} denies ${subject}`, ...notes].join('; '),
    };
  }

  const outranked = ranked.find((r) => r.effect === 'deny');
  if (outranked) notes.push(`it outranks deny policy ${outranked.id} (priority ${outranked.priority})`);
  if (winner.requireApproval) notes.push("each use needs a human's approval");
  return {
    allowed: true,
    requireApproval: winner.requireApproval,
    policyId: winner.id,
    reason: [`policy ${winner.id} ${rank} grants ${subject}`, ...notes].join('; '),
  };
}

/**
 * Whether a rule that names this principal, vault and permission applies to the request.
 * Anything unreadable in a stored rule (pattern, expiry, conditions) fails closed: an allow
 * grants nothing, a deny still denies.
 */
function assess(
  rule: PolicyRule,
  path: string,
  context: RequestContext,
): { applies: boolean; note?: string } {
  const deny = rule.effect === 'deny';
  const name = `policy ${rule.id}`;

  let matches: boolean;
  try {
    matches = compilePathGlob(rule.secretPathPattern)(path);
  } catch {
    return deny
      ? { applies: true, note: `${name} has an invalid secret_path_pattern and is applied as a deny` }
      : { applies: false, note: `${name} has an invalid secret_path_pattern and grants nothing` };
  }
  if (!matches) return { applies: false };

  if (rule.expiresAt !== undefined && rule.expiresAt !== null) {
    const expiresAt = Date.parse(rule.expiresAt);
    if (Number.isNaN(expiresAt)) {
      return deny
        ? { applies: true, note: `${name} has an unreadable expires_at and is applied as a deny` }
        : { applies: false, note: `${name} has an unreadable expires_at and grants nothing` };
    }
    if (expiresAt <= context.now.getTime()) {
      return { applies: false, note: `${name} expired at ${new Date(expiresAt).toISOString()}` };
    }
  }

  const outcome = evaluateConditions(rule.conditions, context);
  if (outcome.ok) return { applies: true };
  if (deny && outcome.undetermined) {
    return {
      applies: true,
      note: `${name} is applied because its conditions cannot be checked: ${outcome.reason}`,
    };
  }
  return { applies: false, note: `${name} does not apply: ${outcome.reason}` };
}

function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
