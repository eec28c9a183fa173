import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { TalonError } from '../engine/index.js';

/**
 * What keeps the local API local. Talon listens on loopback, but a web page in the human's browser
 * can still reach it: by DNS rebinding (a hostile name that resolves to 127.0.0.1, so the browser
 * sends `Host: evil.example`), or by a cross-origin request from the page itself. So:
 *
 * - the Host header must name Talon itself: a loopback name with Talon's port, or a host the
 *   human configured;
 * - a request that carries an Origin must come from Talon's own origin (its browser UI);
 * - Talon sets no CORS header ever, and refuses every CORS preflight (OPTIONS);
 * - every address gets a generous request budget, so a runaway client cannot starve the others.
 */
export interface RequestGuardOptions {
  /** The port Talon listens on (known only once it listens, when asked for port 0). */
  port: () => number;
  /** More names the Host header may carry, as `name` or `name:port`. */
  extraAllowedHosts?: readonly string[];
}

export interface RateLimitOptions {
  /** Requests per address per window. Default 600. */
  max?: number;
  /** Default one minute. */
  timeWindowMs?: number;
}

const loopbackNames = ['127.0.0.1', 'localhost', '[::1]'];

/** Host header values Talon answers to, lower-cased. */
export function allowedHosts(port: number, extra: readonly string[] = []): Set<string> {
  const hosts = new Set(loopbackNames.map((name) => `${name}:${port}`));
  for (const entry of extra) {
    const host = entry.trim().toLowerCase();
    if (host === '') continue;
    hosts.add(host);
    if (!/:\d+$/u.test(host)) hosts.add(`${host}:${port}`);
  }
  return hosts;
}

const forbidden = (message: string) => new TalonError('forbidden', message);

export function guardRequests(app: FastifyInstance, options: RequestGuardOptions): void {
  let known: { port: number; hosts: Set<string> } | undefined;
  const hostsFor = (port: number): Set<string> => {
    if (known?.port !== port) known = { port, hosts: allowedHosts(port, options.extraAllowedHosts) };
    return known.hosts;
  };
  app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const hosts = hostsFor(options.port());
    const host = request.headers.host?.toLowerCase();
    if (host === undefined || !hosts.has(host)) {
      throw forbidden(
        `Talon answers only requests addressed to itself (Host ${[...hosts][0]}). If you reach it under another name, add that name to Talon's allowed hosts.`,
      );
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !hosts.has(originHost(origin))) {
      throw forbidden(
        "Talon refuses requests from other web origins: only Talon's own pages may call its API from a browser.",
      );
    }
    if (request.method === 'OPTIONS') {
      throw forbidden('Talon does not answer cross-origin (CORS) requests.');
    }
    done();
  });
}

/** `host[:port]` of an `http://` origin; '' (never allowed) for anything else, `null` included. */
function originHost(origin: string): string {
  const match = /^http:\/\/([^/?#@]+)$/iu.exec(origin.trim());
  return match ? match[1]!.toLowerCase() : '';
}

export async function limitRequestRates(app: FastifyInstance, options: RateLimitOptions = {}): Promise<void> {
  const max = options.max ?? 600;
  const timeWindow = options.timeWindowMs ?? 60_000;
  await app.register(rateLimit, {
    max,
    timeWindow,
    keyGenerator: (request) => request.ip,
    // The x-ratelimit-* headers on every answer were about a third of the limit's cost per request
    // (~2 of ~5 µs here), and no client of Talon reads them; a refused request still gets them,
    // with Retry-After.
    addHeadersOnExceeding: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
    },
    errorResponseBuilder: (_request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new TalonError(
        'rate_limited',
        `Too many requests from this address (at most ${context.max} in ${Math.round(timeWindow / 1000)} s). Retry in ${seconds} s.`,
        { details: { retry_after: seconds } },
      );
    },
  });
}
