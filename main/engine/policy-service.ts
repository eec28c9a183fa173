import type { PolicyRow, VaultRow } from '../store/store.js';
import { type EngineContext, recordSuccess, requireUnlocked, requireVault } from './engine-context.js';
import { newId } from '../store/ids.js';
import type { Decision, Permission } from './policy-decision.js';
import type { CallContext, Principal } from './principal.js';
import {
  createPolicyRequestSchema,
  parseRequest,
  permissionSchema,
  updatePolicyRequestSchema,
} from './schemas.js';
import { normalizeSecretPath } from './secret-path.js';
import { TalonError } from './talon-error.js';

/** 1Claw's PolicyResponse, plus Talon's require_approval and updated_at. */
export interface PolicyInfo {
  id: string;
  vault_id: string;
  secret_path_pattern: string;
  principal_type: 'user' | 'agent';
  principal_id: string;
  permissions: Permission[];
  conditions: Record<string, unknown> | null;
  expires_at: string | null;
  effect: 'allow' | 'deny';
  priority: number;
  require_approval: boolean;
  created_by: string;
  created_by_type: 'user' | 'agent';
  created_at: string;
  updated_at: string;
}

/** Policies (1Claw's "grants"): only a vault's owner, or the human owner, may change them. */
export class PolicyService {
  constructor(private readonly context: EngineContext) {}

  create(principal: Principal, vaultId: string, body: unknown, call: CallContext): PolicyInfo {
    const vault = this.requireAdmin(principal, vaultId, 'grant access to it');
    const request = parseRequest(createPolicyRequestSchema, body, 'policy');
    this.requirePrincipalExists(request.principal_type, request.principal_id);
    const now = this.context.options.now().toISOString();
    const row: PolicyRow = {
      id: newId(),
      vaultId: vault.id,
      principalType: request.principal_type,
      principalId: request.principal_id,
      secretPathPattern: request.secret_path_pattern,
      permissionsJson: JSON.stringify(request.permissions),
      conditionsJson: request.conditions ? JSON.stringify(request.conditions) : null,
      effect: request.effect,
      priority: request.priority,
      requireApproval: request.require_approval,
      expiresAt: request.expires_at ?? null,
      createdByType: principal.type,
      createdBy: principal.id,
      createdAt: now,
      updatedAt: now,
    };
    this.context.store.transaction(() => {
      this.context.store.policies.insert(row);
      this.record(principal, 'policy.create', vault, row, call);
    });
    return policyInfo(row);
  }

  list(principal: Principal, vaultId: string): PolicyInfo[] {
    const vault = this.requireAdmin(principal, vaultId, 'list its policies');
    return this.context.store.policies.listForVault(vault.id).map(policyInfo);
  }

  update(
    principal: Principal,
    vaultId: string,
    policyId: string,
    body: unknown,
    call: CallContext,
  ): PolicyInfo {
    const vault = this.requireAdmin(principal, vaultId, 'change its policies');
    const request = parseRequest(updatePolicyRequestSchema, body, 'policy update');
    return this.context.store.transaction(() => {
      const current = this.requirePolicy(vault, policyId);
      const next: PolicyRow = {
        ...current,
        permissionsJson: request.permissions ? JSON.stringify(request.permissions) : current.permissionsJson,
        conditionsJson:
          request.conditions === undefined
            ? current.conditionsJson
            : request.conditions
              ? JSON.stringify(request.conditions)
              : null,
        expiresAt: request.expires_at === undefined ? current.expiresAt : request.expires_at,
        effect: request.effect ?? current.effect,
        priority: request.priority ?? current.priority,
        requireApproval: request.require_approval ?? current.requireApproval,
        updatedAt: this.context.options.now().toISOString(),
      };
      this.context.store.policies.update(next);
      this.record(principal, 'policy.update', vault, next, call);
      return policyInfo(next);
    });
  }

  delete(principal: Principal, vaultId: string, policyId: string, call: CallContext): void {
    const vault = this.requireAdmin(principal, vaultId, 'revoke its policies');
    this.context.store.transaction(() => {
      const current = this.requirePolicy(vault, policyId);
      this.context.store.policies.delete(current.id);
      this.record(principal, 'policy.delete', vault, current, call);
    });
  }

  /** The policy simulator: may `subject` do `permission` on `path` now, and why. Read-only. */
  simulate(
    principal: Principal,
    vaultId: string,
    subject: Principal,
    rawPath: string,
    rawPermission: string,
    call: CallContext,
  ): Decision {
    const vault = this.requireAdmin(principal, vaultId, 'simulate its policies');
    const permission = parseRequest(permissionSchema, rawPermission, 'permission');
    const path = normalizeSecretPath(rawPath);
    const secret = this.context.store.secrets.getSecretByPath(vault.id, path);
    return this.context.access.decide(subject, vault, path, permission, call, secret?.type);
  }

  private requireAdmin(principal: Principal, vaultId: string, what: string): VaultRow {
    requireUnlocked(this.context);
    const vault = requireVault(this.context, principal, vaultId);
    if (!this.context.access.isVaultAdmin(principal, vault)) {
      throw new TalonError('forbidden', `Only the owner of vault '${vault.name}' can ${what}.`);
    }
    return vault;
  }

  private requirePolicy(vault: VaultRow, policyId: string): PolicyRow {
    const policy = this.context.store.policies.get(policyId.toLowerCase());
    if (!policy || policy.vaultId !== vault.id) {
      throw new TalonError(
        'not_found',
        `No policy ${policyId} in vault '${vault.name}'. List its policies to find the id.`,
      );
    }
    return policy;
  }

  private requirePrincipalExists(type: 'user' | 'agent', id: string): void {
    const exists = type === 'agent' ? this.context.store.agents.get(id) : this.context.store.users.get(id);
    if (!exists)
      throw new TalonError('not_found', `No ${type} with id ${id}. Create it first, or check the id.`);
  }

  private record(
    principal: Principal,
    action: string,
    vault: VaultRow,
    policy: PolicyRow,
    call: CallContext,
  ): void {
    recordSuccess(this.context, principal, call, {
      action,
      vaultId: vault.id,
      resourceType: 'policy',
      resourceId: policy.id,
      details: {
        principal: `${policy.principalType}:${policy.principalId}`,
        pattern: policy.secretPathPattern,
        permissions: JSON.parse(policy.permissionsJson) as unknown,
        effect: policy.effect,
      },
    });
  }
}

export function policyInfo(row: PolicyRow): PolicyInfo {
  return {
    id: row.id,
    vault_id: row.vaultId,
    secret_path_pattern: row.secretPathPattern,
    principal_type: row.principalType,
    principal_id: row.principalId,
    permissions: JSON.parse(row.permissionsJson) as Permission[],
    conditions: row.conditionsJson ? (JSON.parse(row.conditionsJson) as Record<string, unknown>) : null,
    expires_at: row.expiresAt,
    effect: row.effect,
    priority: row.priority,
    require_approval: row.requireApproval,
    created_by: row.createdBy,
    created_by_type: row.createdByType,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}
