/**
 * Locks Talon after a stretch without a human or agent request. A request only notes its time (no
 * timer is touched per request); one timer wakes when the idle time could have run out and asks the
 * engine's clock whether it has, so tests that move the clock see the same rule.
 */
export class AutoLock {
  private lastActivity = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private idleMs: number,
    private readonly now: () => Date,
    private readonly onIdle: () => void,
  ) {}

  get idleMinutes(): number {
    return this.idleMs / 60_000;
  }

  /** 0 turns auto-lock off. */
  setIdleMinutes(minutes: number): void {
    this.idleMs = Math.max(0, minutes) * 60_000;
    if (this.timer !== undefined) this.start();
  }

  /** Talon was unlocked: start counting from now. */
  start(): void {
    this.stop();
    this.lastActivity = this.now().getTime();
    this.schedule(this.idleMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A request came in. */
  touch(): void {
    this.lastActivity = this.now().getTime();
  }

  /** Locks when the idle time has run out by the engine's clock; true when it did. */
  check(): boolean {
    if (this.idleMs <= 0 || this.timer === undefined) return false;
    const idleFor = this.now().getTime() - this.lastActivity;
    if (idleFor >= this.idleMs) {
      this.stop();
      this.onIdle();
      return true;
    }
    this.schedule(this.idleMs - idleFor);
    return false;
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.idleMs <= 0) return;
    // A frozen test clock would otherwise spin on a zero delay.
    this.timer = setTimeout(() => this.check(), Math.max(delayMs, 50));
    this.timer.unref();
  }
}
