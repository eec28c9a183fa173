import type { KeyStore } from '../../hsm-bridge/index.js';
import type { Store } from '../store/store.js';
import { AccessControl } from './access-control.js';
import { AgentService } from './agent-service.js';
import { ApprovalService } from './approval-service.js';
import { AuditLog, type AuditVerification } from './audit-log.js';
import { AuthService, type PersonalKeyCreated } from './auth-service.js';
import { type EngineContext, type EngineOptions, defaultEngineOptions } from './engine-context.js';
import { EngineEvents } from './engine-events.js';
import { newId } from '../store/ids.js';
import { KeyRing, lockedMessage } from './key-ring.js';
import { PairingService } from './pairing-service.js';
import { PolicyService } from './policy-service.js';
import type { CallContext, Principal } from './principal.js';
import { SecretService } from './secret-service.js';
import { ShareService } from './share-service.js';
import { SecretUseService } from './secret-use-service.js';
import { type LifecycleOptions, TalonLifecycle } from './talon-lifecycle.js';
import { UserService } from './user-service.js';
import { TalonError } from './talon-error.js';
import { ValueBarrier } from './value-barrier.js';
import { VaultService } from './vault-service.js';
import { ChainRegistry } from './chain-registry.js';
import { SigningKeyService } from './signing-keys.js';
import { TransactionService } from './transaction-service.js';

export interface EngineStatus {
  unlocked: boolean;
  users: number;
  token: {
    label: string;
    manufacturer: string;
    model: string;
    serial: string;
    /** Every mechanism the token lists. */
    mechanisms: string[];
    /** Wrap mechanisms that worked in the probe at unlock, preferred first (empty while locked). */
    wrap_mechanisms: string[];
  } | null;
}

/**
 * The vault engine: one service API that every transport (REST, MCP, IPC, CLI) calls with a
 * Principal. All authorization happens inside it. Construct it once per process (the one owner
 * of the database and the token session).
 */
export class Engine {
  readonly vaults: VaultService;
  readonly secrets: SecretService;
  readonly policies: PolicyService;
  readonly agents: AgentService;
  readonly auth: AuthService;
  /** Using secrets without seeing them: talon run, http_request, request_secret (secret-use-service.ts). */
  readonly use: SecretUseService;
  /** Credential-free MCP configurations (pairing-service.ts). */
  readonly pairings: PairingService;
  /** The approval queue (approval-service.ts). */
  readonly approvals: ApprovalService;
  readonly shares: ShareService;
  /** What subscribers hear: approvals, lock and unlock (engine-events.ts). */
  readonly events: EngineEvents;
  /** Human users, passwords, login and two-factor (user-service.ts). */
  readonly users: UserService;
  /** Set-up, unlock (PIN + TOTP), lock and auto-lock (talon-lifecycle.ts). */
  readonly lifecycle: TalonLifecycle;
  /** EVM chains and their RPC URLs (chain-registry.ts). */
  readonly chains: ChainRegistry;
  /** Agents' token-held signing keys (signing-keys.ts). */
  readonly signingKeys: SigningKeyService;
  /** The crypto transaction proxy (transaction-service.ts). */
  readonly transactions: TransactionService;
  private readonly context: EngineContext;
  /** The token, with the barrier over it; null until set-up creates it (a new data folder). */
  private token: { keyStore: KeyStore; barrier: ValueBarrier } | null = null;

  /**
   * `keyStore` may be null for a data folder not set up yet: everything then answers `locked`
   * until `lifecycle.setUp` gets a token from `options.tokenProvisioner`.
   */
  constructor(
    store: Store,
    keyStore: KeyStore | null,
    options: Partial<EngineOptions> & LifecycleOptions = {},
  ) {
    const keyRing = new KeyRing();
    const { tokenProvisioner, autoLockMinutes, onSetUpProgress, onOwnerKey, ...engineOptions } = options;
    const resolved = { ...defaultEngineOptions, ...engineOptions };
    if (keyStore) this.token = { keyStore, barrier: new ValueBarrier(keyStore, keyRing) };
    const requireToken = () => {
      if (!this.token) {
        throw new TalonError('locked', 'Talon is not set up yet: set it up with POST /v1/talon/setup first.');
      }
      return this.token;
    };
    const audit = new AuditLog(store, keyRing, resolved.now);
    this.events = new EngineEvents();
    this.approvals = new ApprovalService(
      { store, audit, keyRing, options: resolved, events: this.events },
      resolved.approvalTtlMs,
    );
    this.context = {
      store,
      get keyStore() {
        return requireToken().keyStore;
      },
      keyRing,
      get barrier() {
        return requireToken().barrier;
      },
      audit,
      access: new AccessControl(store),
      options: resolved,
      events: this.events,
      approvals: this.approvals,
    };
    this.vaults = new VaultService(this.context);
    this.secrets = new SecretService(this.context);
    this.shares = new ShareService(this.context);
    this.policies = new PolicyService(this.context);
    this.agents = new AgentService(this.context);
    this.auth = new AuthService(this.context, () => this.lifecycle.noteActivity());
    this.users = new UserService(this.context);
    this.lifecycle = new TalonLifecycle(
      this.context,
      {
        current: () => this.token?.keyStore ?? null,
        attach: (attached) => {
          this.token = { keyStore: attached, barrier: new ValueBarrier(attached, keyRing) };
        },
        discard: () => {
          keyRing.lock();
          this.token?.keyStore.close();
          this.token = null;
        },
        setUpOwner: (owner, call, details, beforeCommit) =>
          this.setUpOwner(owner, call, details, beforeCommit),
        // Windows granted "until lock" end at every lock; a crash may have skipped the last one.
        afterUnlock: (call) => this.approvals.clearGrants(call),
        beforeLock: (call) => this.approvals.clearGrants(call),
        afterLock: () => this.approvals.stop(),
      },
      this.users,
      {
        ...(tokenProvisioner ? { tokenProvisioner } : {}),
        ...(autoLockMinutes === undefined ? {} : { autoLockMinutes }),
        ...(onSetUpProgress ? { onSetUpProgress } : {}),
        ...(onOwnerKey ? { onOwnerKey } : {}),
      },
    );
    this.use = new SecretUseService(this.context, this.secrets, resolved.outbound);
    this.pairings = new PairingService(this.context);
    this.chains = new ChainRegistry(this.context);
    this.signingKeys = new SigningKeyService(this.context);
    this.transactions = new TransactionService(this.context, this.chains, this.signingKeys);
  }

  get isUnlocked(): boolean {
    return this.context.keyRing.isUnlocked;
  }

  /**
   * Log in to the token with the PIN alone and derive the in-memory subkeys (headless unlock, tests).
   * The PIN is always checked; wrong ones are throttled and audited (lifecycle.unlockWithPin). A
   * failed unlock leaves Talon locked.
   */
  async unlock(pin: string, call: CallContext): Promise<void> {
    await this.lifecycle.unlockWithPin(pin, call);
  }

  /** Seal the audit head, zero every key held in memory and log out of the token. Call it at shutdown too. */
  async lock(call: CallContext): Promise<void> {
    await this.lifecycle.lock(null, call, 'shutdown');
  }

  /** Close the token this engine holds (the one it was given, or the one set-up created). Lock first. */
  closeToken(): void {
    this.token?.keyStore.close();
  }

  status(): EngineStatus {
    let token: EngineStatus['token'] = null;
    try {
      const info = this.context.keyStore.tokenInfo();
      token = {
        label: info.label,
        manufacturer: info.manufacturer,
        model: info.model,
        serial: info.serial,
        mechanisms: info.mechanisms,
        wrap_mechanisms: info.wrapMechanisms,
      };
    } catch {
      token = null;
    }
    return { unlocked: this.isUnlocked, users: this.context.store.users.count(), token };
  }

  /**
   * First run: create the owner and their first personal API key. Idempotent: once an owner
   * exists it returns null and changes nothing.
   */
  setUpOwner(
    owner: { email: string; displayName?: string },
    call: CallContext,
    details: Record<string, unknown> = {},
    beforeCommit?: (apiKey: string) => void,
  ): { userId: string; apiKey: PersonalKeyCreated } | null {
    if (!this.isUnlocked) throw new TalonError('locked', 'Unlock Talon before setting it up.');
    return this.context.store.transaction(() => {
      if (this.context.store.users.list().some((user) => user.role === 'owner')) return null;
      const userId = newId();
      this.context.store.users.insert({
        id: userId,
        email: owner.email,
        displayName: owner.displayName ?? 'Owner',
        role: 'owner',
        passwordHash: null,
        totpJson: null,
        isActive: true,
        createdAt: this.context.options.now().toISOString(),
      });
      const apiKey = this.auth.insertPersonalKey(userId, 'first key');
      this.context.audit.append({
        action: 'talon.setup',
        actor: { type: 'system', id: null },
        outcome: 'success',
        resourceType: 'user',
        resourceId: userId,
        details: { ...details, ...(call.via ? { via: call.via } : {}) },
        ip: call.ip ?? null,
      });
      beforeCommit?.(apiKey.api_key);
      return { userId, apiKey };
    });
  }

  verifyAudit(principal: Principal): AuditVerification {
    this.requireHuman(principal);
    return this.context.audit.verify();
  }

  queryAudit(
    principal: Principal,
    filter: {
      vaultId?: string;
      actorId?: string;
      action?: string;
      outcome?: 'success' | 'denied' | 'error';
      from?: string;
      to?: string;
      limit?: number;
      offset?: number;
    },
  ) {
    this.requireHuman(principal);
    const limit = Math.min(Math.max(1, filter.limit ?? 100), 1000);
    const { events, count } = this.context.audit.query({
      ...filter,
      from: auditTime(filter.from, 'from'),
      to: auditTime(filter.to, 'to'),
      limit,
      offset: filter.offset ?? 0,
    });
    return {
      count,
      events: events.map((event) => ({
        id: event.id,
        seq: event.seq,
        action: event.action,
        actor_type: event.actorType,
        actor_id: event.actorId,
        vault_id: event.vaultId,
        resource_type: event.resourceType,
        resource_id: event.resourceId,
        path: event.path,
        outcome: event.outcome,
        details: JSON.parse(event.detailsJson) as Record<string, unknown>,
        ip_address: event.ipAddress,
        created_at: event.createdAt,
      })),
    };
  }

  private requireHuman(principal: Principal): void {
    if (!this.isUnlocked) throw new TalonError('locked', lockedMessage);
    if (principal.type !== 'user') throw new TalonError('forbidden', 'Only a human can read the audit log.');
  }
}

/** Entries are compared as UTC text, so a bound given with another offset is turned into UTC first. */
function auditTime(text: string | undefined, name: string): string | undefined {
  if (text === undefined) return undefined;
  const time = Date.parse(text);
  if (Number.isNaN(time)) {
    throw new TalonError(
      'invalid_input',
      `Invalid audit query: ${name}: must be an ISO 8601 date-time with a time zone, such as 2026-01-31T12:00:00Z.`,
    );
  }
  return new Date(time).toISOString();
}
