import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { type Engine, TalonError, type TalonErrorCode, talonErrorStatus } from '../../engine/index.js';
import { contentSecurityPolicy } from '../content-security-policy.js';
import { endBrowserSession, hasBrowserSession, startBrowserSession } from '../browser-session.js';

/**
 * Browser mode: the built renderer (renderer/dist) on the API's own origin, and the three
 * session routes its HTTP transport uses (GET/POST/DELETE /ui/session). The login is the human
 * unlock route itself (POST /v1/talon/unlock, PIN and TOTP), called in process; its access token
 * goes into the session cookie instead of the page. Everything else the page does is the /v1 REST
 * API, authenticated by that cookie (browser-session.ts).
 */

export const defaultRendererDir = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'renderer',
  'dist',
);

const talonMcpScript = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'bin',
  'talon-mcp.mjs',
);

interface Forwarded {
  status: number;
  body: Record<string, unknown>;
}

/** Calls another route of this server in process, as the same client. */
async function forward(
  app: FastifyInstance,
  request: FastifyRequest,
  method: HTTPMethods,
  url: string,
  payload?: unknown,
): Promise<Forwarded> {
  const headers: Record<string, string> = { host: request.headers.host ?? '127.0.0.1' };
  if (request.headers.authorization) headers.authorization = request.headers.authorization;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const response = await app.inject({
    method,
    url,
    headers,
    remoteAddress: request.ip,
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
  });
  let body: Record<string, unknown> = {};
  try {
    body = response.body === '' ? {} : (JSON.parse(response.body) as Record<string, unknown>);
  } catch {
    body = {};
  }
  return { status: response.statusCode, body };
}

/** A failed forwarded call, as the engine error it was. */
function problemOf({ status, body }: Forwarded): TalonError {
  const code =
    typeof body.code === 'string' && body.code in talonErrorStatus ? (body.code as TalonErrorCode) : null;
  const message = typeof body.detail === 'string' ? body.detail : `Talon answered ${status}.`;
  return new TalonError(code ?? (status === 404 ? 'not_found' : 'internal'), message);
}

const notInThisBuild = (what: string) =>
  new TalonError('not_found', `${what} is not available in this build of Talon.`);

function features(app: FastifyInstance) {
  const has = (method: HTTPMethods, url: string) => app.hasRoute({ method, url });
  return {
    setup: has('POST', '/v1/talon/setup'),
    mfa: has('GET', '/v1/auth/mfa/status'),
    shares: has('GET', '/v1/shares/outbound'),
    approvals: has('GET', '/v1/approvals'),
    events: has('GET', '/v1/events'),
  };
}

async function sessionStatus(
  app: FastifyInstance,
  engine: Engine,
  request: FastifyRequest,
  justSignedIn = false,
) {
  const available = features(app);
  const engineStatus = engine.status();
  let talon: Record<string, unknown> = {};
  if (app.hasRoute({ method: 'GET', url: '/v1/talon/status' })) {
    const answer = await forward(app, request, 'GET', '/v1/talon/status');
    if (answer.status === 200) talon = answer.body;
  }
  const unlocked = typeof talon.unlocked === 'boolean' ? talon.unlocked : engineStatus.unlocked;
  const signedIn = justSignedIn || (unlocked && hasBrowserSession(request));
  let token: Record<string, unknown> | null = engineStatus.token;
  if (token && !signedIn) {
    // The mechanism lists are for the signed-in owner's settings, not for any local page.
    const { mechanisms: _mechanisms, wrap_mechanisms: _wrap, ...facts } = token;
    token = facts;
  }
  return {
    set_up: typeof talon.set_up === 'boolean' ? talon.set_up : engineStatus.users > 0,
    unlocked,
    signed_in: signedIn,
    mfa_enabled: talon.mfa_enabled === true,
    token: talon.token ? { ...token, ...(talon.token as object) } : token,
    features: available,
    connection: {
      base_url: `http://${request.headers.host ?? '127.0.0.1:7417'}`,
      stdio_command: 'node',
      stdio_args: [talonMcpScript],
    },
  };
}

async function sendIndex(rendererDir: string, reply: FastifyReply) {
  const index = join(rendererDir, 'index.html');
  if (!existsSync(index)) {
    return reply
      .code(503)
      .type('text/plain; charset=utf-8')
      .send(
        'The Talon UI is not built yet. Run `npm run build:renderer` (or `npm start`), then reload this page.',
      );
  }
  return reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', contentSecurityPolicy)
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin')
    .send(await readFile(index));
}

export async function registerUiRoutes(
  app: FastifyInstance,
  engine: Engine,
  options: { rendererDir?: string } = {},
): Promise<void> {
  const rendererDir = options.rendererDir ?? defaultRendererDir;

  app.get('/ui/session', async (request) => sessionStatus(app, engine, request));

  app.post('/ui/session', async (request, reply) => {
    if (!app.hasRoute({ method: 'POST', url: '/v1/talon/unlock' }))
      throw notInThisBuild('Signing in from a browser');
    // The login is the PIN's own check: an old session's Bearer must not ride along.
    delete request.headers.authorization;
    const answer = await forward(app, request, 'POST', '/v1/talon/unlock', request.body ?? {});
    if (answer.status !== 200) throw problemOf(answer);
    const token = answer.body.access_token;
    if (typeof token !== 'string')
      throw new TalonError('internal', 'The unlock answer held no session token.');
    const expiresIn = typeof answer.body.expires_in === 'number' ? answer.body.expires_in : 3600;
    startBrowserSession(reply, token, expiresIn);
    const status = await sessionStatus(app, engine, request, true);
    return { ...status, unlocked: true };
  });

  app.delete('/ui/session', async (_request, reply) => {
    endBrowserSession(reply);
    return reply.code(204).send();
  });

  app.get('/', async (_request, reply) => sendIndex(rendererDir, reply));
  app.get('/index.html', async (_request, reply) => sendIndex(rendererDir, reply));
  if (existsSync(join(rendererDir, 'assets'))) {
    await app.register(fastifyStatic, {
      root: join(rendererDir, 'assets'),
      prefix: '/assets/',
      wildcard: false,
      index: false,
      cacheControl: false,
      etag: false,
      lastModified: false,
    });
  }
  for (const file of ['favicon.svg', 'icon.png']) {
    if (existsSync(join(rendererDir, file))) {
      app.get(`/${file}`, async (_request, reply) =>
        reply
          .type(file.endsWith('.svg') ? 'image/svg+xml' : 'image/png')
          .send(await readFile(join(rendererDir, file))),
      );
    }
  }
}
