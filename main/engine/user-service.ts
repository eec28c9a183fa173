import type { UserRow } from '../store/store.js';
import type { TokenResponse } from './auth-service.js';
import { signToken, verifyPurposeToken } from './credentials.js';
import { type EngineContext, requireUnlocked } from './engine-context.js';
import { newId } from '../store/ids.js';
import { checkNewPassword, hashPassword, verifyPassword } from './password-hash.js';
import type { CallContext, Principal } from './principal.js';
import {
  changePasswordRequestSchema,
  createUserRequestSchema,
  loginRequestSchema,
  mfaCodeRequestSchema,
  mfaVerifyRequestSchema,
  parseRequest,
  updateUserRequestSchema,
} from './schemas.js';
import { TalonError } from './talon-error.js';
import {
  type StoredTotp,
  hashRecoveryCode,
  looksLikeRecoveryCode,
  matchTotp,
  newRecoveryCodes,
  newTotpSecret,
  openTotpSecret,
  parseStoredTotp,
  qrCodeDataUrl,
  recoveryCodeCount,
  sealTotpSecret,
  totpUri,
} from './totp.js';
import { AttemptThrottle } from './unlock-throttle.js';

/** A user as the API shows it: never a password hash or a TOTP secret. */
export interface UserInfo {
  id: string;
  email: string;
  display_name: string;
  role: 'owner' | 'member';
  is_active: boolean;
  mfa_enabled: boolean;
  has_password: boolean;
  created_at: string;
}

/** A human session: 1Claw's TokenResponse plus the user it is for. */
export interface HumanSession extends TokenResponse {
  user: UserInfo;
}

/** 1Claw's LoginResponse when a second factor is still needed. */
export interface MfaChallenge {
  mfa_required: true;
  mfa_token: string;
  expires_in: number;
}

export interface MfaSetUp {
  secret: string;
  otpauth_uri: string;
  qr_code: string;
}

const mfaTokenTtlSeconds = 300;

/** A password check that takes as long for an unknown email as for a known one. */
let dummyHash: Promise<string> | undefined;

export function userInfo(user: UserRow): UserInfo {
  return {
    id: user.id,
    email: user.email,
    display_name: user.displayName,
    role: user.role,
    is_active: user.isActive,
    mfa_enabled: parseStoredTotp(user.totpJson)?.status === 'enabled',
    has_password: user.passwordHash !== null,
    created_at: user.createdAt,
  };
}

/**
 * Human users (the owner, and in server mode the people the owner adds): create, list, disable,
 * passwords, password login, and TOTP two-factor with one-time recovery codes. Only the owner
 * manages users; every user manages their own password and second factor. Wrong passwords and
 * codes are throttled (unlock-throttle.ts) and every outcome is audited, never with the password,
 * code or secret.
 */
export class UserService {
  private readonly throttle: AttemptThrottle;

  constructor(private readonly context: EngineContext) {
    this.throttle = new AttemptThrottle(context.store);
  }

  list(principal: Principal): UserInfo[] {
    this.requireOwner(principal, 'list users');
    return this.context.store.users.list().map(userInfo);
  }

  get(principal: Principal, userId: string): UserInfo {
    requireUnlocked(this.context);
    const self = this.requireUser(principal, 'see users');
    const id = userId.toLowerCase();
    if (self.role !== 'owner' && id !== self.id) {
      throw new TalonError('forbidden', 'Only the owner can see other users.');
    }
    return userInfo(this.requireRow(id));
  }

  me(principal: Principal): UserInfo {
    requireUnlocked(this.context);
    return userInfo(this.requireRow(this.requireUser(principal, 'have an account').id));
  }

  async create(principal: Principal, body: unknown, call: CallContext): Promise<UserInfo> {
    const owner = this.requireOwner(principal, 'add users');
    const request = parseRequest(createUserRequestSchema, body, 'user request');
    if (request.password !== undefined) checkNewPassword(request.password);
    const passwordHash = request.password === undefined ? null : await hashPassword(request.password);
    return this.context.store.transaction(() => {
      if (this.context.store.users.findByEmail(request.email)) {
        throw new TalonError('conflict', `A user with the email ${request.email} exists already.`);
      }
      const row: UserRow = {
        id: newId(),
        email: request.email,
        displayName: request.display_name ?? request.email,
        role: 'member',
        passwordHash,
        totpJson: null,
        isActive: true,
        createdAt: call.now.toISOString(),
      };
      this.context.store.users.insert(row);
      this.audit('user.create', 'success', call, owner.id, row.id);
      return userInfo(row);
    });
  }

  update(principal: Principal, userId: string, body: unknown, call: CallContext): UserInfo {
    const owner = this.requireOwner(principal, 'change users');
    const request = parseRequest(updateUserRequestSchema, body, 'user update');
    return this.context.store.transaction(() => {
      const row = this.requireRow(userId.toLowerCase());
      if (request.is_active === false && row.role === 'owner') {
        throw new TalonError('forbidden', 'The owner cannot be disabled. Disable other users only.');
      }
      const next = {
        ...row,
        displayName: request.display_name ?? row.displayName,
        isActive: request.is_active ?? row.isActive,
      };
      this.context.store.users.update(next);
      const action =
        request.is_active === undefined || request.is_active === row.isActive
          ? 'user.update'
          : request.is_active
            ? 'user.enable'
            : 'user.disable';
      this.audit(action, 'success', call, owner.id, row.id);
      return userInfo(next);
    });
  }

  /** Disabling stops every credential of the user at the next request (keys, sessions). */
  disable(principal: Principal, userId: string, call: CallContext): void {
    this.update(principal, userId, { is_active: false }, call);
  }

  async changePassword(principal: Principal, body: unknown, call: CallContext): Promise<void> {
    requireUnlocked(this.context);
    const self = this.requireUser(principal, 'have a password');
    const request = parseRequest(changePasswordRequestSchema, body, 'password change');
    const row = this.requireRow(self.id);
    const subject = `user:${row.id}`;
    if (row.passwordHash !== null) {
      this.throttle.check(subject, call.now, 'password');
      if (
        request.current_password === undefined ||
        !(await verifyPassword(request.current_password, row.passwordHash))
      ) {
        const { failures } = this.throttle.fail(subject, call.now);
        this.audit('user.password.change', 'denied', call, row.id, row.id, {
          reason: 'wrong current password',
          failures,
        });
        throw new TalonError(
          'unauthenticated',
          'current_password: is not your current password. Give your current password to change it.',
        );
      }
    }
    checkNewPassword(request.new_password);
    const passwordHash = await hashPassword(request.new_password);
    this.context.store.transaction(() => {
      const fresh = this.requireRow(row.id);
      this.context.store.users.update({ ...fresh, passwordHash });
      this.throttle.succeed(subject);
      this.audit('user.password.change', 'success', call, row.id, row.id);
    });
  }

  /** POST /v1/auth/token: email and password → a session, or an MFA challenge when 2FA is on. */
  async login(body: unknown, call: CallContext): Promise<HumanSession | MfaChallenge> {
    requireUnlocked(this.context);
    const request = parseRequest(loginRequestSchema, body, 'login request');
    const subject = `login:${request.email.toLowerCase()}`;
    this.throttle.check(subject, call.now, 'password');
    const user = this.context.store.users.findByEmail(request.email);
    dummyHash ??= hashPassword('talon/no-such-user');
    const matches = await verifyPassword(request.password, user?.passwordHash ?? (await dummyHash));
    if (!user || !user.passwordHash || !matches || !user.isActive) {
      const { failures } = this.throttle.fail(subject, call.now);
      const reason = !user ? 'unknown email' : !matches ? 'wrong password' : 'user disabled';
      this.context.audit.append({
        action: 'auth.login',
        actor: user ? { type: 'user', id: user.id } : { type: 'anonymous', id: null },
        outcome: 'denied',
        details: { reason, failures, ...(call.via ? { via: call.via } : {}) },
        ip: call.ip ?? null,
      });
      throw new TalonError(
        'unauthenticated',
        user && matches && !user.isActive
          ? 'This user is disabled. Ask the owner to enable it.'
          : 'The email or password is wrong. Check both and try again.',
      );
    }
    this.throttle.succeed(subject);
    if (parseStoredTotp(user.totpJson)?.status === 'enabled') {
      const mfaToken = await signToken(
        this.context.keyRing,
        { sub: `user:${user.id}`, purpose: 'mfa' },
        mfaTokenTtlSeconds,
        call.now,
      );
      this.audit('auth.login', 'success', call, user.id, user.id, { mfa_required: true });
      return { mfa_required: true, mfa_token: mfaToken, expires_in: mfaTokenTtlSeconds };
    }
    this.audit('auth.login', 'success', call, user.id, user.id);
    return this.session(user, call);
  }

  /** POST /v1/auth/mfa/verify: the second step of a login that answered `mfa_required`. */
  async verifyMfaLogin(body: unknown, call: CallContext): Promise<HumanSession> {
    requireUnlocked(this.context);
    const request = parseRequest(mfaVerifyRequestSchema, body, 'MFA verification');
    const userId = await verifyPurposeToken(this.context.keyRing, request.mfa_token, 'mfa', call.now);
    const user = this.requireRow(userId);
    if (!user.isActive)
      throw new TalonError('unauthenticated', 'This user is disabled. Ask the owner to enable it.');
    await this.requireSecondFactor(user, request.code, call, 'auth.mfa.verify');
    return this.session(user, call);
  }

  /** A session token for a user who has proved who they are. */
  async session(user: UserRow, call: CallContext): Promise<HumanSession> {
    const ttl = this.context.options.tokenTtlSeconds;
    const accessToken = await signToken(this.context.keyRing, { sub: `user:${user.id}` }, ttl, call.now);
    return { access_token: accessToken, token_type: 'Bearer', expires_in: ttl, user: userInfo(user) };
  }

  mfaStatus(principal: Principal): { enabled: boolean; pending: boolean; recovery_codes_remaining: number } {
    requireUnlocked(this.context);
    const stored = parseStoredTotp(
      this.requireRow(this.requireUser(principal, 'use two-factor').id).totpJson,
    );
    return {
      enabled: stored?.status === 'enabled',
      pending: stored?.status === 'pending',
      recovery_codes_remaining: stored?.recovery.filter((code) => code.used_at === null).length ?? 0,
    };
  }

  /** POST /v1/auth/mfa/setup: a new secret, pending until verify-setup proves the app has it. */
  async mfaSetUp(principal: Principal, call: CallContext): Promise<MfaSetUp> {
    requireUnlocked(this.context);
    const user = this.requireRow(this.requireUser(principal, 'use two-factor').id);
    if (parseStoredTotp(user.totpJson)?.status === 'enabled') {
      throw new TalonError(
        'conflict',
        'Two-factor authentication is already on. Disable it first (with a current code) to set it up again.',
      );
    }
    const secret = newTotpSecret();
    const sealed = await sealTotpSecret(this.context.barrier, user.id, secret);
    const stored: StoredTotp = {
      v: 1,
      status: 'pending',
      ...sealed,
      last_step: null,
      recovery: [],
      enabled_at: null,
    };
    this.context.store.transaction(() => {
      this.context.store.users.update({ ...this.requireRow(user.id), totpJson: JSON.stringify(stored) });
      this.audit('auth.mfa.setup', 'success', call, user.id, user.id);
    });
    const uri = totpUri(secret, user.email);
    return { secret, otpauth_uri: uri, qr_code: await qrCodeDataUrl(uri) };
  }

  /** POST /v1/auth/mfa/verify-setup: a code from the app turns 2FA on; the recovery codes are shown once. */
  async mfaVerifySetUp(
    principal: Principal,
    body: unknown,
    call: CallContext,
  ): Promise<{ enabled: true; recovery_codes: string[] }> {
    requireUnlocked(this.context);
    const { code } = parseRequest(mfaCodeRequestSchema, body, 'MFA set-up verification');
    const user = this.requireRow(this.requireUser(principal, 'use two-factor').id);
    const stored = parseStoredTotp(user.totpJson);
    if (stored?.status !== 'pending') {
      throw new TalonError(
        'conflict',
        stored?.status === 'enabled'
          ? 'Two-factor authentication is already on.'
          : 'Start with POST /v1/auth/mfa/setup, then confirm with a code from your app.',
      );
    }
    const subject = `mfa:${user.id}`;
    this.throttle.check(subject, call.now, 'two-factor code');
    const secret = await openTotpSecret(this.context.barrier, user.id, stored);
    const step = matchTotp(secret, code, call.now, null);
    if (step === null) {
      const { failures } = this.throttle.fail(subject, call.now);
      this.audit('auth.mfa.enable', 'denied', call, user.id, user.id, { reason: 'wrong code', failures });
      throw new TalonError(
        'unauthenticated',
        "The code does not match. Check your device's clock, and enter the code your app shows now.",
      );
    }
    const recoveryCodes = newRecoveryCodes();
    const enabled: StoredTotp = {
      ...stored,
      status: 'enabled',
      last_step: step,
      recovery: recoveryCodes.map((recovery) => ({
        hash: hashRecoveryCode(this.context.keyRing, recovery),
        used_at: null,
      })),
      enabled_at: call.now.toISOString(),
    };
    this.context.store.transaction(() => {
      this.context.store.users.update({ ...this.requireRow(user.id), totpJson: JSON.stringify(enabled) });
      this.throttle.succeed(subject);
      this.audit('auth.mfa.enable', 'success', call, user.id, user.id, { recovery_codes: recoveryCodeCount });
    });
    return { enabled: true, recovery_codes: recoveryCodes };
  }

  /** DELETE /v1/auth/mfa: needs a current code (or a recovery code). */
  async mfaDisable(principal: Principal, body: unknown, call: CallContext): Promise<{ enabled: false }> {
    requireUnlocked(this.context);
    const { code } = parseRequest(mfaCodeRequestSchema, body, 'MFA disable request');
    const user = this.requireRow(this.requireUser(principal, 'use two-factor').id);
    const stored = parseStoredTotp(user.totpJson);
    if (stored === null) throw new TalonError('conflict', 'Two-factor authentication is not on.');
    if (stored.status === 'enabled') await this.requireSecondFactor(user, code, call, 'auth.mfa.disable');
    this.context.store.transaction(() => {
      this.context.store.users.update({ ...this.requireRow(user.id), totpJson: null });
      this.audit('auth.mfa.disable', 'success', call, user.id, user.id);
    });
    return { enabled: false };
  }

  /** Whether the user has 2FA on (readable while locked: no key is needed to know it). */
  mfaEnabled(userId: string): boolean {
    const row = this.context.store.users.get(userId);
    return parseStoredTotp(row?.totpJson ?? null)?.status === 'enabled';
  }

  /**
   * Check a TOTP code or an unused recovery code of a user with 2FA on, counting failures against
   * `mfa:<id>` and auditing `action`. A TOTP step or recovery code, once accepted, is spent.
   */
  async requireSecondFactor(user: UserRow, code: string, call: CallContext, action: string): Promise<void> {
    const subject = `mfa:${user.id}`;
    this.throttle.check(subject, call.now, 'two-factor code');
    const stored = parseStoredTotp(user.totpJson);
    if (stored?.status !== 'enabled') return;
    const used = await this.spendSecondFactor(user.id, stored, code, call);
    if (used === null) {
      const { failures } = this.throttle.fail(subject, call.now);
      this.audit(action, 'denied', call, user.id, user.id, { reason: 'wrong two-factor code', failures });
      throw new TalonError(
        'unauthenticated',
        'The two-factor code is wrong or was already used. Enter the code your app shows now, or an unused recovery code.',
      );
    }
    this.throttle.succeed(subject);
    this.audit(action, 'success', call, user.id, user.id, { factor: used });
  }

  private async spendSecondFactor(
    userId: string,
    stored: StoredTotp,
    code: string,
    call: CallContext,
  ): Promise<'totp' | 'recovery_code' | null> {
    const trimmed = code.trim();
    if (/^[0-9]{6}$/u.test(trimmed)) {
      const secret = await openTotpSecret(this.context.barrier, userId, stored);
      const step = matchTotp(secret, trimmed, call.now, stored.last_step);
      if (step === null) return null;
      return this.context.store.transaction(() => {
        const fresh = parseStoredTotp(this.requireRow(userId).totpJson);
        // A concurrent request spent this step first.
        if (fresh?.status !== 'enabled' || (fresh.last_step !== null && fresh.last_step >= step)) return null;
        this.writeTotp(userId, { ...fresh, last_step: step });
        return 'totp' as const;
      });
    }
    if (!looksLikeRecoveryCode(trimmed)) return null;
    const hash = hashRecoveryCode(this.context.keyRing, trimmed);
    return this.context.store.transaction(() => {
      const fresh = parseStoredTotp(this.requireRow(userId).totpJson);
      const index = fresh?.recovery.findIndex((entry) => entry.hash === hash && entry.used_at === null) ?? -1;
      if (!fresh || index < 0) return null;
      const recovery = fresh.recovery.map((entry, i) =>
        i === index ? { ...entry, used_at: call.now.toISOString() } : entry,
      );
      this.writeTotp(userId, { ...fresh, recovery });
      return 'recovery_code' as const;
    });
  }

  private writeTotp(userId: string, stored: StoredTotp): void {
    this.context.store.users.update({ ...this.requireRow(userId), totpJson: JSON.stringify(stored) });
  }

  private requireRow(id: string): UserRow {
    const row = this.context.store.users.get(id);
    if (!row) throw new TalonError('not_found', `No user with id ${id}. List the users to find the id.`);
    return row;
  }

  private requireUser(principal: Principal, what: string): Principal & { type: 'user' } {
    if (principal.type !== 'user')
      throw new TalonError('forbidden', `Only a human can ${what}; agents cannot.`);
    return principal;
  }

  private requireOwner(principal: Principal, what: string): Principal & { type: 'user' } {
    requireUnlocked(this.context);
    const user = this.requireUser(principal, what);
    if (user.role !== 'owner') throw new TalonError('forbidden', `Only the owner can ${what}.`);
    return user;
  }

  private audit(
    action: string,
    outcome: 'success' | 'denied',
    call: CallContext,
    actorId: string,
    userId: string,
    details: Record<string, unknown> = {},
  ): void {
    this.context.audit.append({
      action,
      actor: { type: 'user', id: actorId },
      outcome,
      resourceType: 'user',
      resourceId: userId,
      details: { ...details, ...(call.via ? { via: call.via } : {}) },
      ip: call.ip ?? null,
    });
  }
}
