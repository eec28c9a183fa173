import type { PolicyRow, Store, VaultRow } from '../store/store.js';
import { matchesPathGlob } from './path-glob.js';
import { policyConditionsSchema } from './policy-conditions.js';
import { type Decision, type Permission, type PolicyRule, decide } from './policy-decision.js';
import type { CallContext, Principal } from './principal.js';

/** Secret types an agent with crypto proxy enabled may never read, whatever its policies say. */
export const cryptoProxyBlockedTypes: ReadonlySet<string> = new Set(['private_key', 'ssh_key']);

/**
 * Everything that decides access to a secret path, in the order 1Claw documents for agents:
 * vault binding, token scopes, then the policy decision (`decide`); the human owner and a vault's
 * owner pass; the crypto-proxy rule overrides all of it. Transports never decide; they call this
 * through the engine.
 */
export class AccessControl {
  constructor(private readonly store: Store) {}

  /** Whether the principal owns the vault or is the human owner of this Talon. */
  isVaultAdmin(principal: Principal, vault: VaultRow): boolean {
    if (principal.type === 'user' && principal.role === 'owner') return true;
    return vault.ownerType === principal.type && vault.ownerId === principal.id;
  }

  decide(
    principal: Principal,
    vault: VaultRow,
    path: string,
    permission: Permission,
    context: CallContext,
    secretType?: string,
  ): Decision {
    if (
      principal.type === 'agent' &&
      principal.cryptoProxyEnabled &&
      (permission === 'read' || permission === 'use') &&
      secretType !== undefined &&
      cryptoProxyBlockedTypes.has(secretType)
    ) {
      return deny(
        `agent ${principal.id} has crypto proxy enabled, so it may never read ${secretType} secrets; it signs through the transaction API instead`,
      );
    }
    if (this.isVaultAdmin(principal, vault)) {
      return {
        allowed: true,
        requireApproval: false,
        policyId: null,
        reason: `${principal.type} ${principal.id} administers vault ${vault.id}`,
      };
    }
    if (principal.type === 'agent') {
      if (principal.vaultIds.length > 0 && !principal.vaultIds.includes(vault.id)) {
        return deny(`agent ${principal.id} is bound to other vaults (vault_ids), not ${vault.id}`);
      }
      if (principal.tokenScopes && !principal.tokenScopes.some((scope) => scopeCovers(scope, path))) {
        return deny(
          `the agent's token scopes (${principal.tokenScopes.join(', ')}) do not cover '${path}'; get a new token`,
        );
      }
    }
    const policies = this.rulesFor(principal, vault.id);
    const request = {
      policies,
      principal: { type: principal.type, id: principal.id },
      vaultId: vault.id,
      path,
      context,
    };
    const decision = decide({ ...request, permission });
    if (permission === 'read' && !decision.allowed && decide({ ...request, permission: 'use' }).allowed) {
      return {
        ...decision,
        reason: `${decision.reason}. The secret is use-only for ${principal.type} ${principal.id}: it may be injected into a command (talon run) or a request (http_request), never read`,
      };
    }
    return decision;
  }

  /** Vaults the principal may see: owned ones, and any where a policy names it. */
  canSeeVault(principal: Principal, vault: VaultRow): boolean {
    if (this.isVaultAdmin(principal, vault)) return true;
    if (principal.type === 'agent' && principal.vaultIds.length > 0 && !principal.vaultIds.includes(vault.id))
      return false;
    return this.store.policies.listForPrincipal(vault.id, principal.type, principal.id).length > 0;
  }

  /**
   * An agent token's scopes, as 1Claw derives them: the agent's own, else the path patterns of
   * its current allow policies, else `*` (policies still decide every request).
   */
  scopesFor(principal: Principal, agentScopes: string[]): string[] {
    if (agentScopes.length > 0) return agentScopes;
    const patterns = this.store.policies
      .listForPrincipalAllVaults(principal.type, principal.id)
      .filter((policy) => policy.effect === 'allow')
      .map((policy) => policy.secretPathPattern);
    return patterns.length > 0 ? [...new Set(patterns)] : ['*'];
  }

  rulesFor(principal: Principal, vaultId: string): PolicyRule[] {
    return this.store.policies.listForPrincipal(vaultId, principal.type, principal.id).map(cachedPolicyRule);
  }
}

/**
 * Rules parsed from rows the store hands out again unchanged (its row cache gives the same frozen
 * object until the policy changes), so a request does not parse its policies' JSON each time.
 */
const parsedRules = new WeakMap<PolicyRow, PolicyRule>();

function cachedPolicyRule(row: PolicyRow): PolicyRule {
  if (!Object.isFrozen(row)) return policyRule(row);
  let rule = parsedRules.get(row);
  if (!rule) {
    rule = policyRule(row);
    parsedRules.set(row, rule);
  }
  return rule;
}

export function policyRule(row: PolicyRow): PolicyRule {
  let conditions: PolicyRule['conditions'] = null;
  if (row.conditionsJson) {
    const parsed = policyConditionsSchema.safeParse(JSON.parse(row.conditionsJson));
    conditions = parsed.success ? parsed.data : unreadableConditions;
  }
  return {
    id: row.id,
    vaultId: row.vaultId,
    principalType: row.principalType,
    principalId: row.principalId,
    secretPathPattern: row.secretPathPattern,
    permissions: JSON.parse(row.permissionsJson) as Permission[],
    conditions,
    effect: row.effect,
    priority: row.priority,
    requireApproval: row.requireApproval,
    expiresAt: row.expiresAt,
  };
}

/**
 * Stored conditions that no longer parse: evaluating them throws, which decide() treats as
 * undetermined, so an allow grants nothing and a deny still applies.
 */
const unreadableConditions = {
  get ip_allowlist(): string[] {
    throw new Error('the stored conditions are unreadable');
  },
} as PolicyRule['conditions'];

/** 1Claw's scopes use `*` for "everything"; otherwise a scope is a path glob. */
function scopeCovers(scope: string, path: string): boolean {
  if (scope === '*' || scope === '**') return true;
  try {
    return matchesPathGlob(scope, path);
  } catch {
    return false;
  }
}

function deny(reason: string): Decision {
  return { allowed: false, requireApproval: false, policyId: null, reason };
}
