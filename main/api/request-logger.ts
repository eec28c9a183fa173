import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';

/** Pino's loggers say which levels they write; another logger's child is made for every line. */
type ParentLogger = FastifyBaseLogger & Partial<Pick<Logger, 'isLevelEnabled'>>;

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * The logger of one request. Fastify asks for a child logger of every request, bound to its
 * request id, and a pino child of the API's redacting logger costs more than a whole health
 * answer; nearly every request then logs nothing. This one makes that child on the first line
 * actually written (a level the API's logger has enabled), and writes every line through it: each
 * line carries the request id, and the API logger's redaction applies to it as to any other.
 */
export class RequestLogger implements FastifyBaseLogger {
  #child: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: ParentLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get level(): string {
    return this.#child?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.made().level = level;
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }

  error(...args: unknown[]): void {
    this.write('error', args);
  }

  warn(...args: unknown[]): void {
    this.write('warn', args);
  }

  info(...args: unknown[]): void {
    this.write('info', args);
  }

  debug(...args: unknown[]): void {
    this.write('debug', args);
  }

  trace(...args: unknown[]): void {
    this.write('trace', args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.made().child(bindings, options);
  }

  private made(): FastifyBaseLogger {
    this.#child ??= this.parent.child(this.bindings, this.options);
    return this.#child;
  }

  private write(level: Level, args: unknown[]): void {
    // A level of the request's own (a route's logLevel) is the child's to judge.
    if (this.#child === undefined && this.options.level === undefined) {
      if (this.parent.isLevelEnabled?.(level) === false) return;
    }
    const child = this.made();
    Reflect.apply(child[level], child, args);
  }
}
