import { timingSafeEqual } from 'node:crypto';
import { HsmError, type KeyStore } from '../../hsm-bridge/index.js';
import { AutoLock } from './auto-lock.js';
import type { EngineContext } from './engine-context.js';
import type { PersonalKeyCreated } from './auth-service.js';
import type { CallContext, Principal } from './principal.js';
import { type SetUpRequest, parseRequest, setUpRequestSchema, unlockRequestSchema } from './schemas.js';
import { checkChosenPin, checkPinConfirmation } from './talon-pin.js';
import { TalonError } from './talon-error.js';
import { AttemptThrottle } from './unlock-throttle.js';
import type { HumanSession, UserService } from './user-service.js';
import { hsmToTalonError } from './value-barrier.js';

/**
 * How the engine gets a token at set-up when it has none: the composition root knows where the
 * embedded SoftHSM2 token lives, or how to open a configured YubiHSM 2.
 */
export interface TokenProvisioner {
  /** True when provision creates a new token with the PIN (the embedded SoftHSM2), so the human chooses it. */
  readonly createsToken: boolean;
  /**
   * Create (or open) the token and log in with `pin`; returns the logged-in key store. Leftovers
   * of an unfinished set-up are removed first; a finished token only when `replace` says so (the
   * engine checked that nothing depends on it).
   */
  provision(pin: string, options: { replace: boolean }): Promise<KeyStore>;
}

/** The steps of a set-up, as `onSetUpProgress` reports them (after the token's own steps). */
export type SetUpStep = 'token-ready' | 'owner-created';

export interface LifecycleOptions {
  tokenProvisioner?: TokenProvisioner;
  /** Lock after this many minutes without a request; 0 = never. Default 0 (the runtime sets 15). */
  autoLockMinutes?: number;
  onSetUpProgress?: (step: SetUpStep) => void;
  /**
   * Given the owner's first personal API key inside the set-up transaction, before it commits (the
   * runtime writes it to `owner-api-key`); throwing rolls the owner back.
   */
  onOwnerKey?: (apiKey: string) => void;
}

export interface TalonStatus {
  set_up: boolean;
  unlocked: boolean;
  mfa_enabled: boolean;
  auto_lock_minutes: number;
  /** Seconds before the next unlock attempt is allowed after wrong PINs; 0 = now. */
  unlock_retry_after: number;
  token: { label: string; manufacturer: string; model: string } | null;
}

export interface SetUpResult extends HumanSession {
  /** The owner's first personal API key, shown once. */
  api_key: string;
}

/** What the lifecycle needs of the Engine that holds the token. */
export interface TokenHolder {
  current(): KeyStore | null;
  attach(keyStore: KeyStore): void;
  /** Closes and forgets the token (only before set-up finished). */
  discard(): void;
  setUpOwner(
    owner: { email: string },
    call: CallContext,
    details: Record<string, unknown>,
    beforeCommit?: (apiKey: string) => void,
  ): { userId: string; apiKey: PersonalKeyCreated } | null;
  /** What the rest of the engine does at unlock and lock (approval grants "until lock"). */
  afterUnlock(call: CallContext): void;
  beforeLock(call: CallContext): void;
  afterLock(): void;
}

const unlockSubject = 'talon.unlock';
const pinCheckLabel = 'talon/pin-check/v1|';
const defaultOwnerEmail = 'owner@localhost';

/**
 * Set-up, unlock and lock: the human side of the token. Set-up creates (or opens) the token with a
 * PIN the human chose, then the owner; a set-up cut short at any step is completed, or restarted
 * cleanly when nothing depends on the half-made token yet, so no token is ever left whose PIN
 * nobody knows. Unlock takes the PIN and, when the owner turned 2FA on, a TOTP code, and returns a
 * human session. Wrong attempts are throttled and audited; those made while locked (when the audit
 * chain's key is not in memory) are kept in the store and chained at the next unlock.
 */
export class TalonLifecycle {
  private readonly throttle: AttemptThrottle;
  private readonly autoLock: AutoLock;
  /** The token's HMAC of the PIN that unlocked Talon, to check a PIN again without logging out. */
  private pinCheck: Buffer | null = null;
  private setUpInProgress: Promise<SetUpResult> | null = null;

  constructor(
    private readonly context: EngineContext,
    private readonly token: TokenHolder,
    private readonly users: UserService,
    private readonly options: LifecycleOptions,
  ) {
    this.throttle = new AttemptThrottle(context.store);
    this.autoLock = new AutoLock((options.autoLockMinutes ?? 0) * 60_000, context.options.now, () => {
      void this.lock(null, { now: context.options.now(), via: 'auto-lock' }, 'idle').catch(() => undefined);
    });
  }

  get isSetUp(): boolean {
    return this.token.current() !== null && this.owner() !== undefined;
  }

  /** A human or agent request came in (auto-lock counts idle time from the last one). */
  noteActivity(): void {
    this.autoLock.touch();
  }

  /** Locks now if the idle time has run out by the engine's clock (what the auto-lock timer asks). */
  checkIdle(): boolean {
    return this.autoLock.check();
  }

  setAutoLockMinutes(minutes: number): void {
    this.autoLock.setIdleMinutes(minutes);
  }

  status(): TalonStatus {
    let token: TalonStatus['token'] = null;
    try {
      const info = this.token.current()?.tokenInfo();
      if (info) token = { label: info.label, manufacturer: info.manufacturer, model: info.model };
    } catch {
      token = null;
    }
    const owner = this.owner();
    return {
      set_up: this.isSetUp,
      unlocked: this.context.keyRing.isUnlocked,
      mfa_enabled: owner ? this.users.mfaEnabled(owner.id) : false,
      auto_lock_minutes: this.autoLock.idleMinutes,
      unlock_retry_after: this.throttle.waitSeconds(unlockSubject, this.context.options.now()),
      token,
    };
  }

  /** POST /v1/talon/setup. One at a time; a second call while one runs waits for it and then gets 409. */
  async setUp(body: unknown, call: CallContext): Promise<SetUpResult> {
    const request = parseRequest(setUpRequestSchema, body, 'set-up request');
    while (this.setUpInProgress) await this.setUpInProgress.catch(() => undefined);
    const running = this.runSetUp(request, call);
    this.setUpInProgress = running;
    try {
      return await running;
    } finally {
      this.setUpInProgress = null;
    }
  }

  private async runSetUp(request: SetUpRequest, call: CallContext): Promise<SetUpResult> {
    if (this.isSetUp) {
      throw new TalonError(
        'conflict',
        'Talon is already set up. Unlock it with POST /v1/talon/unlock instead.',
      );
    }
    checkPinConfirmation(request.pin, request.pin_confirmation);
    let keyStore = this.token.current();
    let restarted = false;
    if (keyStore) {
      // A token from a set-up that stopped before the owner existed: complete it with its PIN.
      this.throttle.check(unlockSubject, call.now, 'PIN');
      try {
        await this.logIn(keyStore, request.pin);
      } catch (error) {
        const wrongPin = error instanceof HsmError && error.kind === 'wrong_pin';
        if (!wrongPin || !this.options.tokenProvisioner?.createsToken || !this.nothingDependsOnToken()) {
          if (wrongPin) {
            const { failures } = this.throttle.fail(unlockSubject, call.now);
            this.record('talon.setup', 'denied', call, {
              reason: 'wrong PIN for the existing token',
              failures,
            });
          }
          throw this.setUpLoginError(error);
        }
        // Nothing is encrypted under it yet: start again with the PIN the human gives now.
        this.token.discard();
        keyStore = null;
        restarted = true;
      }
    }
    if (!keyStore) {
      const provisioner = this.options.tokenProvisioner;
      if (!provisioner) {
        throw new TalonError(
          'hsm_unavailable',
          'Talon has no token and no way to create one here. Connect the configured token and restart Talon.',
        );
      }
      if (provisioner.createsToken) checkChosenPin(request.pin, request.pin_confirmation);
      try {
        keyStore = await provisioner.provision(request.pin, { replace: restarted });
      } catch (error) {
        throw hsmToTalonError(error);
      }
      this.token.attach(keyStore);
      await this.unlockKeys(keyStore, request.pin);
    }
    let created;
    try {
      this.options.onSetUpProgress?.('token-ready');
      created = this.token.setUpOwner(
        { email: request.email ?? defaultOwnerEmail },
        call,
        restarted ? { restarted_unfinished_set_up: true } : {},
        this.options.onOwnerKey,
      );
      if (!created)
        throw new TalonError('conflict', 'Talon is already set up. Unlock it with POST /v1/talon/unlock.');
      this.options.onSetUpProgress?.('owner-created');
    } catch (error) {
      // Whatever committed stays (the next set-up completes it); the keys do not stay in memory.
      await this.relock(keyStore);
      throw error;
    }
    this.throttle.succeed(unlockSubject);
    this.afterUnlock(call);
    const owner = this.context.store.users.get(created.userId)!;
    return { ...(await this.users.session(owner, call)), api_key: created.apiKey.api_key };
  }

  /**
   * Unlock with the PIN alone: headless `serve` with TALON_HSM_PIN or a PIN file, where the file is
   * the operator's factor. Audited; wrong PINs are throttled like any other.
   */
  async unlockWithPin(pin: string, call: CallContext): Promise<void> {
    await this.unlockChecked(pin, undefined, call, { requireSecondFactor: false });
  }

  /** POST /v1/talon/unlock: PIN (and TOTP code when 2FA is on) → the owner's session. */
  async unlock(body: unknown, call: CallContext): Promise<HumanSession> {
    const request = parseRequest(unlockRequestSchema, body, 'unlock request');
    if (!this.isSetUp) {
      throw new TalonError('conflict', 'Talon is not set up yet. Set it up first with POST /v1/talon/setup.');
    }
    const owner = await this.unlockChecked(request.pin, request.totp_code, call, {
      requireSecondFactor: true,
    });
    if (!owner)
      throw new TalonError('conflict', 'Talon has no owner yet. Set it up with POST /v1/talon/setup.');
    return this.users.session(owner, call);
  }

  private async unlockChecked(
    pin: string,
    totpCode: string | undefined,
    call: CallContext,
    options: { requireSecondFactor: boolean },
  ) {
    const keyStore = this.token.current();
    if (!keyStore) {
      throw new TalonError('conflict', 'Talon is not set up yet. Set it up first with POST /v1/talon/setup.');
    }
    const wait = this.throttle.waitSeconds(unlockSubject, call.now);
    if (wait > 0) {
      this.recordUnlock('denied', call, { reason: 'throttled', retry_after: wait });
      this.throttle.check(unlockSubject, call.now, 'PIN or code');
    }
    const wasUnlocked = this.context.keyRing.isUnlocked;
    if (wasUnlocked) {
      if (!(await this.pinMatches(keyStore, pin))) this.wrongAttempt(call, 'wrong PIN');
    } else {
      try {
        await this.logIn(keyStore, pin);
      } catch (error) {
        if (error instanceof HsmError && error.kind === 'wrong_pin')
          this.wrongAttempt(call, 'wrong PIN', error);
        if (error instanceof HsmError && error.kind === 'pin_locked') {
          this.recordUnlock('denied', call, { reason: 'token PIN locked' });
          throw pinLockedError(error);
        }
        throw hsmToTalonError(error);
      }
    }
    const owner = this.owner();
    if (owner && options.requireSecondFactor && this.users.mfaEnabled(owner.id)) {
      if (totpCode === undefined) {
        if (!wasUnlocked) await this.relock(keyStore);
        this.recordUnlock('denied', call, { reason: 'two-factor code missing' });
        throw new TalonError(
          'unauthenticated',
          'Two-factor authentication is on: send totp_code, the 6-digit code from your authenticator app (or a recovery code), with the PIN.',
          { details: { rule: 'mfa_required' } },
        );
      }
      try {
        await this.users.requireSecondFactor(owner, totpCode, call, 'talon.unlock.totp');
      } catch (error) {
        if (!wasUnlocked) await this.relock(keyStore);
        if (TalonError.is(error, 'unauthenticated')) this.wrongAttempt(call, 'wrong two-factor code');
        throw error;
      }
    }
    this.throttle.succeed(unlockSubject);
    this.chainLockedEvents();
    this.recordUnlock('success', call, wasUnlocked ? { already_unlocked: true } : {});
    if (!wasUnlocked) this.afterUnlock(call);
    return owner;
  }

  /** POST /v1/talon/lock, shutdown and auto-lock: seal the audit head, zero every key, log out. */
  async lock(
    principal: Principal | null,
    call: CallContext,
    reason: 'request' | 'idle' | 'shutdown',
  ): Promise<void> {
    if (principal && principal.type !== 'user') {
      throw new TalonError('forbidden', 'Only a human can lock Talon; agents cannot.');
    }
    this.autoLock.stop();
    const wasUnlocked = this.context.keyRing.isUnlocked;
    if (wasUnlocked) {
      this.token.beforeLock(call);
      // append writes pending read entries first, so the sealed head covers them.
      this.context.audit.append({
        action: 'talon.lock',
        actor: principal ? { type: 'user', id: principal.id } : { type: 'system', id: null },
        outcome: 'success',
        details: { reason, ...(call.via ? { via: call.via } : {}) },
        ip: call.ip ?? null,
      });
      this.context.audit.sealHead();
    }
    this.forgetPin();
    this.context.keyRing.lock();
    this.token.afterLock();
    const keyStore = this.token.current();
    if (keyStore?.isLoggedIn) await keyStore.logout().catch(() => undefined);
    if (wasUnlocked) this.context.events.emit({ type: 'talon.locked', at: call.now.toISOString() });
  }

  /** Log in to the token and derive the keys, without auditing (the caller records the outcome). */
  private async logIn(keyStore: KeyStore, pin: string): Promise<void> {
    // The token accepts any PIN for a session already logged in: log out first so the PIN is checked.
    if (keyStore.isLoggedIn) await keyStore.logout();
    await keyStore.login(pin);
    await this.unlockKeys(keyStore, pin);
  }

  private async unlockKeys(keyStore: KeyStore, pin: string): Promise<void> {
    try {
      await this.context.keyRing.unlock(keyStore);
      this.forgetPin();
      this.pinCheck = await keyStore.hmac(Buffer.from(pinCheckLabel + pin, 'utf8'));
    } catch (error) {
      await this.relock(keyStore);
      throw hsmToTalonError(error);
    }
  }

  private async pinMatches(keyStore: KeyStore, pin: string): Promise<boolean> {
    if (!this.pinCheck) return false;
    const candidate = await keyStore.hmac(Buffer.from(pinCheckLabel + pin, 'utf8'));
    try {
      return candidate.length === this.pinCheck.length && timingSafeEqual(candidate, this.pinCheck);
    } finally {
      candidate.fill(0);
    }
  }

  /** Undo a login that did not finish an unlock: no audit, no seal, nothing was served. */
  private async relock(keyStore: KeyStore): Promise<void> {
    this.forgetPin();
    this.context.keyRing.lock();
    if (keyStore.isLoggedIn) await keyStore.logout().catch(() => undefined);
  }

  private forgetPin(): void {
    this.pinCheck?.fill(0);
    this.pinCheck = null;
  }

  private afterUnlock(call: CallContext): void {
    this.token.afterUnlock(call);
    this.autoLock.start();
    this.context.events.emit({ type: 'talon.unlocked', at: call.now.toISOString() });
  }

  private wrongAttempt(call: CallContext, reason: string, cause?: HsmError): never {
    const { failures, retryAfter } = this.throttle.fail(unlockSubject, call.now);
    this.recordUnlock('denied', call, { reason, failures });
    const wait = retryAfter > 0 ? ` Wait ${retryAfter} s before the next try.` : '';
    const triesLeft = cause?.triesLeft;
    throw new TalonError(
      'unauthenticated',
      reason === 'wrong PIN'
        ? `${cause?.message ?? 'The token PIN is wrong. Check it and try again.'}${wait}`
        : `The two-factor code is wrong or was already used.${wait}`,
      {
        details: {
          ...(retryAfter > 0 ? { retry_after: retryAfter } : {}),
          ...(triesLeft === undefined ? {} : { tries_left: triesLeft }),
        },
      },
    );
  }

  private recordUnlock(
    outcome: 'success' | 'denied',
    call: CallContext,
    details: Record<string, unknown>,
  ): void {
    this.record('talon.unlock', outcome, call, details);
  }

  /** Audit an outcome: into the chain when the keys are in memory, else kept until the next unlock. */
  private record(
    action: string,
    outcome: 'success' | 'denied',
    call: CallContext,
    details: Record<string, unknown>,
  ): void {
    const withVia = { ...details, ...(call.via ? { via: call.via } : {}) };
    if (this.context.keyRing.isUnlocked) {
      this.context.audit.append({
        action,
        actor: { type: 'system', id: null },
        outcome,
        details: withVia,
        ip: call.ip ?? null,
      });
      return;
    }
    this.context.store.throttle.queueLockedEvent({
      action,
      outcome,
      detailsJson: JSON.stringify(withVia),
      ipAddress: call.ip ?? null,
      createdAt: call.now.toISOString(),
    });
  }

  /** Chain the entries of attempts made while locked, with the time they happened. */
  private chainLockedEvents(): void {
    this.context.store.transaction(() => {
      const queued = this.context.store.throttle.lockedEvents();
      for (const event of queued) {
        this.context.audit.append({
          action: event.action,
          actor: { type: 'system', id: null },
          outcome: event.outcome,
          details: {
            ...(JSON.parse(event.detailsJson) as Record<string, unknown>),
            occurred_at: event.createdAt,
            recorded_while_locked: true,
          },
          ip: event.ipAddress,
        });
      }
      if (queued.length > 0) this.context.store.throttle.removeLockedEvents(queued.at(-1)!.seq);
    });
  }

  private nothingDependsOnToken(): boolean {
    const { store } = this.context;
    return store.users.count() === 0 && store.vaults.list().length === 0 && store.audit.last() === undefined;
  }

  private setUpLoginError(error: unknown): unknown {
    if (error instanceof HsmError && error.kind === 'wrong_pin') {
      return new TalonError(
        'unauthenticated',
        'A token from an earlier, unfinished set-up exists and this is not its PIN. Give the PIN you chose then.',
      );
    }
    if (error instanceof HsmError && error.kind === 'pin_locked') return pinLockedError(error);
    return hsmToTalonError(error);
  }

  private owner() {
    return this.context.store.users.list().find((user) => user.role === 'owner');
  }
}

/** CKR_PIN_LOCKED, said as it is: Talon cannot undo it, and what can. */
function pinLockedError(cause: HsmError): TalonError {
  return new TalonError(
    'forbidden',
    'The token has locked its user PIN after too many wrong PINs, so Talon cannot unlock. Talon cannot reset it: ' +
      'the security officer PIN is sealed under a key the locked PIN protects. Reset the user PIN with the ' +
      "token's own tool and its security officer PIN (YubiHSM 2: yubihsm-shell; SoftHSM2: softhsm2-util), " +
      'or restore the data folder from a backup.',
    { cause },
  );
}
