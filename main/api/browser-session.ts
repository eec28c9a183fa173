import { randomBytes, timingSafeEqual } from 'node:crypto';
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { TalonError } from '../engine/index.js';

/**
 * Browser mode's human session. After a PIN (+TOTP) login (ui-routes.ts), the human's access token
 * lives in an HttpOnly cookie the page's scripts cannot read, and a request that carries the cookie
 * and no Authorization header is authenticated with it. Cross-site requests are refused three
 * ways: the cookie is SameSite=Strict (a request from another site does not carry it), the
 * existing Origin check (request-guard.ts) refuses other origins, and every unsafe method must
 * repeat the CSRF cookie in the `x-talon-csrf` header (double submit), which another origin can
 * neither read nor set. The cookie is never accepted on /mcp: agents use Bearer credentials.
 */

export const sessionCookieName = 'talon_session';
export const csrfCookieName = 'talon_csrf';
export const csrfHeaderName = 'x-talon-csrf';

const safeMethods = new Set(['GET', 'HEAD']);

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** What `request.cookies` holds when the request has no Cookie header: nearly every API call. */
const noCookies: Readonly<Record<string, string | undefined>> = Object.freeze({});

/** The cookie's token becomes the request's Bearer credential, once the CSRF check passes. */
export async function acceptBrowserSessions(app: FastifyInstance): Promise<void> {
  // Cookies are parsed here, and only when there are some: the plugin's own hook parses (and
  // allocates for) every request, and agents never send a cookie.
  await app.register(cookie, { hook: false });
  app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const header = request.headers.cookie;
    request.cookies = header === undefined ? noCookies : app.parseCookie(header);
    const session = request.cookies[sessionCookieName];
    // The login itself (/ui/session) needs no session; /mcp never takes one.
    if (!session || request.headers.authorization !== undefined || !request.url.startsWith('/v1/')) {
      done();
      return;
    }
    if (!safeMethods.has(request.method)) {
      const expected = request.cookies[csrfCookieName];
      const given = request.headers[csrfHeaderName];
      if (!expected || typeof given !== 'string' || !sameText(expected, given)) {
        throw new TalonError(
          'forbidden',
          'This request carries the browser session but not its CSRF token. Reload the Talon page and try again.',
        );
      }
    }
    request.headers.authorization = `Bearer ${session}`;
    done();
  });
}

/** True when the request carries a browser session cookie. */
export function hasBrowserSession(request: FastifyRequest): boolean {
  return Boolean(request.cookies[sessionCookieName]);
}

/** Starts the session: the token in an HttpOnly cookie, a fresh CSRF token beside it. */
export function startBrowserSession(
  reply: FastifyReply,
  accessToken: string,
  expiresInSeconds: number,
): void {
  const common = { path: '/', sameSite: 'strict' as const, maxAge: Math.max(60, expiresInSeconds) };
  reply.setCookie(sessionCookieName, accessToken, { ...common, httpOnly: true });
  reply.setCookie(csrfCookieName, randomBytes(32).toString('base64url'), { ...common, httpOnly: false });
}

export function endBrowserSession(reply: FastifyReply): void {
  reply.clearCookie(sessionCookieName, { path: '/', sameSite: 'strict', httpOnly: true });
  reply.clearCookie(csrfCookieName, { path: '/', sameSite: 'strict' });
}
