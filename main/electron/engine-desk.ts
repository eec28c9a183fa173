import type { CallContext, Engine, Principal } from '../engine/index.js';
import { TalonError } from '../engine/index.js';
import type {
  DeskConnection,
  DeskFeatures,
  DeskSettings,
  DeskStatus,
} from '../../renderer/src/contract/talon-desk.js';
import type { DeskBackend } from './desk-ipc.js';

/**
 * The UI contract over the engine, for the desktop app: what the IPC handlers call once a
 * message passed their checks. The window's human session is the access token the engine's
 * unlock returns; it stays in the main process, and every call authenticates it again, so a
 * lock or an expired session ends the window's access at once. No HTTP on the way.
 */

/** Where the desktop app keeps its own settings (a JSON file in the app's data folder). */
export interface DeskSettingsStore {
  load(): Partial<Pick<DeskSettings, 'auto_lock_seconds' | 'remember_pin'>>;
  save(settings: Pick<DeskSettings, 'auto_lock_seconds' | 'remember_pin'>): void;
}

/** The OS keychain (Electron safeStorage) for the opt-in "remember PIN". */
export interface PinKeeper {
  available(): boolean;
  save(pin: string): void;
  load(): string | null;
  forget(): void;
}

export interface EngineDeskOptions {
  engine: Engine;
  settings: DeskSettingsStore;
  pinKeeper: PinKeeper;
  connection: DeskConnection | null;
  now?: () => Date;
  /** Told when the auto-lock time changes (the shell's idle watch). */
  onSettings?: (settings: DeskSettings) => void;
}

export const defaultAutoLockSeconds = 900;

const signedOut = () =>
  new TalonError('unauthenticated', 'Talon is locked. Unlock it with your PIN to continue.');

export class EngineDesk implements DeskBackend {
  private sessionToken: string | null = null;
  private readonly now: () => Date;

  constructor(private readonly options: EngineDeskOptions) {
    this.now = options.now ?? (() => new Date());
  }

  private call(): CallContext {
    return { now: this.now(), via: 'ui' };
  }

  private get engine(): Engine {
    return this.options.engine;
  }

  /** The owner behind the window's session; unauthenticated when there is none (any more). */
  private async owner(): Promise<Principal> {
    if (!this.sessionToken || !this.engine.isUnlocked) {
      this.sessionToken = null;
      throw signedOut();
    }
    try {
      return await this.engine.auth.authenticate(this.sessionToken, this.call());
    } catch (error) {
      if (TalonError.is(error, 'unauthenticated') || TalonError.is(error, 'locked')) this.sessionToken = null;
      throw error;
    }
  }

  get signedIn(): boolean {
    return this.sessionToken !== null && this.engine.isUnlocked;
  }

  /** Forget the window's session (the engine locked, by idle time, sleep or a request). */
  signOut(): void {
    this.sessionToken = null;
  }

  features(): DeskFeatures {
    return { setup: true, mfa: true, shares: true, approvals: true, events: true };
  }

  async status(): Promise<DeskStatus> {
    const status = this.engine.lifecycle.status();
    let engineToken: ReturnType<Engine['status']>['token'] = null;
    try {
      engineToken = this.engine.status().token;
    } catch {
      engineToken = null;
    }
    // The mechanism lists are for the signed-in owner's settings, as in browser mode.
    const mechanisms =
      this.signedIn && engineToken
        ? { mechanisms: engineToken.mechanisms, wrap_mechanisms: engineToken.wrap_mechanisms }
        : {};
    return {
      set_up: status.set_up,
      unlocked: status.unlocked,
      signed_in: this.signedIn,
      mfa_enabled: status.mfa_enabled,
      token: status.token ? { ...status.token, serial: engineToken?.serial ?? '', ...mechanisms } : null,
      features: this.features(),
      connection: this.options.connection,
    };
  }

  async setup(input: { pin: string; pin_confirmation: string }): Promise<DeskStatus> {
    const session = await this.engine.lifecycle.setUp(input, this.call());
    this.sessionToken = session.access_token;
    return this.status();
  }

  async unlock(input: { pin: string; totp_code?: string }): Promise<DeskStatus> {
    const session = await this.engine.lifecycle.unlock(input, this.call());
    this.sessionToken = session.access_token;
    if (this.settings().remember_pin) this.options.pinKeeper.save(input.pin);
    return this.status();
  }

  /** At start: unlock with the PIN kept in the keychain, when the human opted in (never with 2FA on). */
  async unlockWithRememberedPin(): Promise<boolean> {
    if (!this.settings().remember_pin) return false;
    const pin = this.options.pinKeeper.load();
    if (!pin) return false;
    try {
      await this.unlock({ pin });
      return true;
    } catch {
      return false;
    }
  }

  async lock(): Promise<DeskStatus> {
    const principal = this.sessionToken ? await this.owner().catch(() => null) : null;
    await this.engine.lifecycle.lock(principal, this.call(), 'request');
    this.sessionToken = null;
    return this.status();
  }

  async listVaults() {
    return this.engine.vaults.list(await this.owner());
  }
  async createVault(input: unknown) {
    return this.engine.vaults.create(await this.owner(), input, this.call());
  }
  async deleteVault(vaultId: string) {
    this.engine.vaults.delete(await this.owner(), vaultId, this.call());
    return null;
  }

  async listSecrets(vaultId: string, options: { prefix?: string; include_deleted?: boolean }) {
    const owner = await this.owner();
    const all = [];
    let after: string | undefined;
    for (;;) {
      const page = this.engine.secrets.list(owner, vaultId, this.call(), {
        ...(options.prefix ? { prefix: options.prefix } : {}),
        ...(after ? { after } : {}),
        limit: 1000,
        includeDeleted: options.include_deleted ?? false,
      });
      all.push(...page.secrets);
      if (!page.next_cursor) return all;
      after = page.next_cursor;
    }
  }
  async revealSecret(vaultId: string, path: string, version: number | null) {
    return this.engine.secrets.get(await this.owner(), vaultId, path, this.call(), version ?? undefined);
  }
  async putSecret(vaultId: string, path: string, input: unknown) {
    return this.engine.secrets.put(await this.owner(), vaultId, path, input, this.call());
  }
  async deleteSecret(vaultId: string, path: string) {
    await this.engine.secrets.delete(await this.owner(), vaultId, path, this.call());
    return null;
  }
  async restoreSecret(vaultId: string, path: string) {
    return this.engine.secrets.restore(await this.owner(), vaultId, path, this.call());
  }
  async purgeSecret(vaultId: string, path: string) {
    this.engine.secrets.purge(await this.owner(), vaultId, path, this.call());
    return null;
  }
  async listVersions(vaultId: string, path: string) {
    return this.engine.secrets.versions(await this.owner(), vaultId, path, this.call());
  }
  async rollbackSecret(vaultId: string, path: string, version: number) {
    return this.engine.secrets.rollback(await this.owner(), vaultId, path, version, this.call());
  }

  async listAgents() {
    return this.engine.agents.list(await this.owner());
  }
  async createAgent(input: unknown) {
    return this.engine.agents.create(await this.owner(), input, this.call());
  }
  async updateAgent(agentId: string, input: unknown) {
    return this.engine.agents.update(await this.owner(), agentId, input, this.call());
  }
  async rotateAgentKey(agentId: string) {
    return this.engine.agents.rotateKey(await this.owner(), agentId, this.call());
  }
  async deactivateAgent(agentId: string) {
    this.engine.agents.delete(await this.owner(), agentId, this.call());
    return null;
  }
  async listPairings() {
    return this.engine.pairings.list(await this.owner());
  }
  async revokePairing(pairingId: string) {
    this.engine.pairings.revoke(await this.owner(), pairingId, this.call());
    return null;
  }

  async listPolicies(vaultId: string) {
    return this.engine.policies.list(await this.owner(), vaultId);
  }
  async createPolicy(vaultId: string, input: unknown) {
    return this.engine.policies.create(await this.owner(), vaultId, input, this.call());
  }
  async deletePolicy(vaultId: string, policyId: string) {
    this.engine.policies.delete(await this.owner(), vaultId, policyId, this.call());
    return null;
  }
  async simulatePolicy(
    vaultId: string,
    input: { principal_type: 'user' | 'agent'; principal_id: string; path: string; permission: string },
  ) {
    const owner = await this.owner();
    const subject = this.engine.auth.principalFor(input.principal_type, input.principal_id);
    const decision = this.engine.policies.simulate(
      owner,
      vaultId,
      subject,
      input.path,
      input.permission,
      this.call(),
    );
    return {
      allowed: decision.allowed,
      require_approval: decision.requireApproval,
      policy_id: decision.policyId,
      reason: decision.reason,
    };
  }

  async queryAudit(filter: {
    vault_id?: string;
    actor_id?: string;
    action?: string;
    outcome?: 'success' | 'denied' | 'error';
    from?: string;
    to?: string;
    limit?: number;
    offset?: number;
  }) {
    const { vault_id, actor_id, ...rest } = filter;
    return this.engine.queryAudit(await this.owner(), {
      ...rest,
      ...(vault_id ? { vaultId: vault_id.toLowerCase() } : {}),
      ...(actor_id ? { actorId: actor_id.toLowerCase() } : {}),
    });
  }
  async verifyAudit() {
    const result = this.engine.verifyAudit(await this.owner());
    return result.ok
      ? { valid: true, checked: result.checked }
      : { valid: false, checked: result.checked, broken_at: result.brokenAt, reason: result.reason };
  }

  async listShares(direction: 'outbound' | 'inbound') {
    const owner = await this.owner();
    return direction === 'outbound'
      ? this.engine.shares.listOutbound(owner, this.call())
      : this.engine.shares.listInbound(owner, this.call());
  }
  async createShare(secretId: string, input: unknown) {
    return this.engine.shares.create(await this.owner(), secretId, input, this.call());
  }
  async acceptShare(shareId: string) {
    this.engine.shares.accept(await this.owner(), shareId, this.call());
    return null;
  }
  async declineShare(shareId: string) {
    this.engine.shares.decline(await this.owner(), shareId, this.call());
    return null;
  }
  async revokeShare(shareId: string) {
    this.engine.shares.revoke(await this.owner(), shareId, this.call());
    return null;
  }
  async accessShare(shareId: string) {
    return this.engine.shares.access(await this.owner(), shareId, {}, this.call());
  }

  async listApprovals(status: 'pending' | 'approved' | 'rejected' | 'expired' | 'all') {
    return this.engine.approvals.list(await this.owner(), status === 'all' ? {} : { status }, this.call());
  }
  async decideApproval(approvalId: string, input: unknown) {
    return this.engine.approvals.decide(await this.owner(), approvalId, input, this.call());
  }
  async fulfilSecretRequest(approvalId: string, value: string) {
    return this.engine.use.fulfilSecretRequest(await this.owner(), approvalId, { value }, this.call());
  }

  async mfaStatus() {
    return this.engine.users.mfaStatus(await this.owner());
  }
  async mfaBegin() {
    return this.engine.users.mfaSetUp(await this.owner(), this.call());
  }
  async mfaConfirm(code: string) {
    return this.engine.users.mfaVerifySetUp(await this.owner(), { code }, this.call());
  }
  async mfaDisable(code: string) {
    return this.engine.users.mfaDisable(await this.owner(), { code }, this.call());
  }

  settings(): DeskSettings {
    const saved = this.options.settings.load();
    const available = this.options.pinKeeper.available();
    return {
      auto_lock_seconds: saved.auto_lock_seconds ?? defaultAutoLockSeconds,
      remember_pin: available && saved.remember_pin === true,
      remember_pin_available: available,
    };
  }

  async getSettings(): Promise<DeskSettings> {
    await this.owner();
    return this.settings();
  }

  async updateSettings(input: { auto_lock_seconds?: number; remember_pin?: boolean }): Promise<DeskSettings> {
    await this.owner();
    const current = this.settings();
    if (input.remember_pin === true && !current.remember_pin_available) {
      throw new TalonError(
        'conflict',
        'This system offers no keychain Talon can use, so the PIN cannot be remembered here.',
      );
    }
    const next = {
      auto_lock_seconds: input.auto_lock_seconds ?? current.auto_lock_seconds,
      remember_pin: input.remember_pin ?? current.remember_pin,
    };
    // Turning it on takes effect at the next unlock (the PIN is not kept in memory until then).
    if (!next.remember_pin) this.options.pinKeeper.forget();
    this.options.settings.save(next);
    this.engine.lifecycle.setAutoLockMinutes(Math.ceil(next.auto_lock_seconds / 60));
    const settings = this.settings();
    this.options.onSettings?.(settings);
    return settings;
  }
}
