import pkcs11js from 'pkcs11js';

type Session = pkcs11js.Handle;

/**
 * A few read-write sessions on one token. A PKCS#11 session runs one operation at a time, and
 * token calls run on libuv's thread pool (the *Async forms), so several sessions let reads
 * proceed in parallel while the event loop stays free. Callers queue for a free session.
 */
export class SessionPool {
  private idle: Session[] = [];
  private all: Session[] = [];
  private waiters: Array<(session: Session) => void> = [];
  private slot: pkcs11js.Handle | undefined;

  constructor(
    private readonly pkcs11: pkcs11js.PKCS11,
    private readonly size: number,
  ) {}

  open(slot: pkcs11js.Handle): void {
    this.slot = slot;
    for (let i = 0; i < this.size; i += 1) {
      const session = this.pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      this.all.push(session);
      this.idle.push(session);
    }
  }

  get isOpen(): boolean {
    return this.all.length > 0;
  }

  async use<T>(fn: (session: Session) => Promise<T> | T): Promise<T> {
    if (!this.isOpen) throw new Error('session pool is closed');
    const session = this.idle.pop() ?? (await new Promise<Session>((resolve) => this.waiters.push(resolve)));
    let healthy = session;
    try {
      return await fn(session);
    } catch (error) {
      healthy = this.replace(session);
      throw error;
    } finally {
      this.release(healthy);
    }
  }

  /**
   * A call that failed may leave an operation active on its session (CKR_OPERATION_ACTIVE for
   * the next caller), so the session is closed and a fresh one takes its place.
   */
  private replace(session: Session): Session {
    const index = this.all.indexOf(session);
    if (index < 0 || this.slot === undefined) return session;
    try {
      this.pkcs11.C_CloseSession(session);
    } catch {
      // already gone
    }
    try {
      const fresh = this.pkcs11.C_OpenSession(
        this.slot,
        pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION,
      );
      this.all[index] = fresh;
      return fresh;
    } catch {
      this.all.splice(index, 1); // the token is gone; reopen() will restore the pool
      return session;
    }
  }

  private release(session: Session): void {
    if (!this.all.includes(session)) return; // closed while in use
    const next = this.waiters.shift();
    if (next) next(session);
    else this.idle.push(session);
  }

  /** Close every session; callers still waiting get a fresh session once the pool is reopened. */
  close(): void {
    for (const session of this.all) {
      try {
        this.pkcs11.C_CloseSession(session);
      } catch {
        // the session may already be gone with the token; nothing to clean up then
      }
    }
    this.all = [];
    this.idle = [];
  }

  /** Reopen after the token dropped the sessions, handing new sessions to queued callers. */
  reopen(slot: pkcs11js.Handle): void {
    this.close();
    this.open(slot);
    while (this.waiters.length > 0 && this.idle.length > 0) this.waiters.shift()!(this.idle.pop()!);
  }
}
