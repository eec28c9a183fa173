import type { VaultRow } from '../store/store.js';
import { type EngineContext, recordSuccess, requireUnlocked, requireVault } from './engine-context.js';
import { newId } from '../store/ids.js';
import type { CallContext, Principal } from './principal.js';
import { createVaultRequestSchema, parseRequest } from './schemas.js';
import { TalonError } from './talon-error.js';

/** 1Claw's VaultResponse, plus Talon's encryption mode. */
export interface VaultInfo {
  id: string;
  name: string;
  description: string | null;
  created_by: string;
  created_by_type: 'user' | 'agent';
  created_at: string;
  /** Strict mode: every read unwraps its data key in the token. */
  strict_mode: boolean;
  secret_count: number;
}

export class VaultService {
  constructor(private readonly context: EngineContext) {}

  async create(principal: Principal, body: unknown, call: CallContext): Promise<VaultInfo> {
    requireUnlocked(this.context);
    const request = parseRequest(createVaultRequestSchema, body, 'vault');
    const strict = request.strict_mode;
    this.refuseDuplicate(principal, request.name);
    const wrappedKey = await this.context.barrier.createVaultKey();
    const vault: VaultRow = {
      id: newId(),
      name: request.name,
      description: request.description ?? null,
      ownerType: principal.type,
      ownerId: principal.id,
      strictMode: strict,
      wrappedKey,
      createdAt: this.context.options.now().toISOString(),
    };
    this.context.store.transaction(() => {
      this.refuseDuplicate(principal, request.name);
      this.context.store.vaults.insert(vault);
      this.record(principal, 'vault.create', vault, call, { strict_mode: strict });
    });
    return this.info(vault);
  }

  list(principal: Principal): VaultInfo[] {
    requireUnlocked(this.context);
    return this.context.store.vaults
      .list()
      .filter((vault) => this.context.access.canSeeVault(principal, vault))
      .map((vault) => this.info(vault));
  }

  get(principal: Principal, vaultId: string): VaultInfo {
    requireUnlocked(this.context);
    return this.info(requireVault(this.context, principal, vaultId));
  }

  /** Refuses a vault that still holds secrets unless `force`; only its owner may delete it. */
  delete(principal: Principal, vaultId: string, call: CallContext, options: { force?: boolean } = {}): void {
    requireUnlocked(this.context);
    const vault = this.requireAdmin(principal, vaultId, 'delete it');
    this.context.store.transaction(() => {
      const count = this.context.store.vaults.countSecrets(vault.id);
      if (count > 0 && !options.force) {
        throw new TalonError(
          'conflict',
          `Vault '${vault.name}' still holds ${count} secret(s). Delete them first, or delete the vault with force.`,
          { details: { secret_count: count } },
        );
      }
      this.context.store.vaults.delete(vault.id);
      this.record(principal, 'vault.delete', vault, call, {
        forced: Boolean(options.force),
        secret_count: count,
      });
    });
    this.context.keyRing.forgetVaultKey(vault.id);
  }

  /** Switch between session mode and strict mode; existing versions stay readable either way. */
  setStrictMode(principal: Principal, vaultId: string, strict: boolean, call: CallContext): VaultInfo {
    requireUnlocked(this.context);
    const vault = this.requireAdmin(principal, vaultId, 'change its mode');
    this.context.store.transaction(() => {
      this.context.store.vaults.setStrictMode(vault.id, strict);
      this.record(principal, 'vault.mode', vault, call, { strict_mode: strict });
    });
    return this.info({ ...vault, strictMode: strict });
  }

  private requireAdmin(principal: Principal, vaultId: string, what: string): VaultRow {
    const vault = requireVault(this.context, principal, vaultId);
    if (!this.context.access.isVaultAdmin(principal, vault)) {
      throw new TalonError('forbidden', `Only the owner of vault '${vault.name}' can ${what}.`);
    }
    return vault;
  }

  private refuseDuplicate(principal: Principal, name: string): void {
    if (this.context.store.vaults.findByName(principal.type, principal.id, name)) {
      throw new TalonError('conflict', `You already have a vault named '${name}'. Choose another name.`);
    }
  }

  private record(
    principal: Principal,
    action: string,
    vault: VaultRow,
    call: CallContext,
    details: Record<string, unknown>,
  ): void {
    recordSuccess(this.context, principal, call, {
      action,
      vaultId: vault.id,
      resourceType: 'vault',
      resourceId: vault.id,
      details: { name: vault.name, ...details },
    });
  }

  private info(vault: VaultRow): VaultInfo {
    return {
      id: vault.id,
      name: vault.name,
      description: vault.description,
      created_by: vault.ownerId,
      created_by_type: vault.ownerType,
      created_at: vault.createdAt,
      strict_mode: vault.strictMode,
      secret_count: this.context.store.vaults.countSecrets(vault.id),
    };
  }
}
