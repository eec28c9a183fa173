import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import { type Logger, pino } from 'pino';
import type { Engine } from '../engine/index.js';
import { authenticateRequests, callContext } from './authentication.js';
import { acceptJsonBodiesOnly } from './json-bodies.js';
import { acceptBrowserSessions } from './browser-session.js';
import { registerMcpEndpoint } from './mcp-endpoint.js';
import { answerErrorsAsProblems, maxBodyBytes, sendError } from './problem-details.js';
import { type RateLimitOptions, guardRequests, limitRequestRates } from './request-guard.js';
import { RequestLogger } from './request-logger.js';
import type { RouteContext } from './route-context.js';
import { registerAgentRoutes } from './routes/agent-routes.js';
import { registerApprovalRoutes } from './routes/approval-routes.js';
import { registerAuditRoutes } from './routes/audit-routes.js';
import { registerEventRoutes } from './routes/event-routes.js';
import { registerShareAccessRoute, registerShareRoutes } from './routes/share-routes.js';
import { registerApiKeyRoutes, registerTokenRoutes } from './routes/auth-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerMfaRoutes, registerMfaVerifyRoute } from './routes/mfa-routes.js';
import { registerTalonRoutes } from './routes/talon-routes.js';
import { registerLoginRoutes, registerUserRoutes } from './routes/user-routes.js';
import { registerPairingRequestRoutes, registerPairingRoutes } from './routes/pairing-routes.js';
import { registerPolicyRoutes } from './routes/policy-routes.js';
import { registerSecretRoutes } from './routes/secret-routes.js';
import { registerUiRoutes } from './routes/ui-routes.js';
import { registerUseRoutes } from './routes/use-routes.js';
import { registerVaultRoutes } from './routes/vault-routes.js';
import { registerChainRoutes } from './routes/chain-routes.js';
import { registerTransactionRoutes } from './routes/transaction-routes.js';

export interface ApiServerOptions {
  engine: Engine;
  /** 0 picks a free port (tests); the guard then learns the real one when Talon listens. */
  port: number;
  /** Default 127.0.0.1: Talon's API is local. */
  host?: string;
  /** More names the Host header may carry (`name` or `name:port`), beyond the loopback names. */
  extraAllowedHosts?: string[];
  /** Where the server logs; secrets and credentials are redacted from whatever it is given. */
  logger?: Logger;
  rateLimit?: RateLimitOptions;
  /** The clock of every call context (tests move it; default the system clock). */
  now?: () => Date;
  /** Reported by GET /v1/health. */
  version?: string;
  /** The built renderer served in browser mode (default renderer/dist of the repository). */
  rendererDir?: string;
}

export interface ApiServer {
  app: FastifyInstance;
  /** Start listening; resolves to the base URL, e.g. `http://127.0.0.1:7417`. */
  listen(): Promise<string>;
  /** The port Talon listens on (the configured one until it listens). */
  port(): number;
}

/**
 * Fields that must never reach a log line, wherever they sit: credentials in headers, and values,
 * keys, tokens and passwords in any object logged. Bodies are never logged in the first place.
 */
const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  ...[
    'value',
    'api_key',
    'access_token',
    'password',
    'pin',
    // the human side: set-up, login and two-factor
    'pin_confirmation',
    'current_password',
    'new_password',
    'totp_code',
    'mfa_token',
    'secret',
    'otpauth_uri',
    'qr_code',
    'recovery_codes',
  ].flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
];

/**
 * The local HTTP API: 1Claw's /v1 REST paths over the engine, the MCP endpoint, and the guards
 * that keep it local (request-guard.ts). Returns the server ready to listen, not yet listening.
 */
export async function createApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? (() => new Date());
  const apiLogger: Logger = (options.logger ?? pino({ level: 'info' })).child(
    { component: 'api' },
    { redact: { paths: redactedPaths, censor: '[redacted]' } },
  );
  const logger: FastifyBaseLogger = apiLogger;
  const app: FastifyInstance = Fastify({
    loggerInstance: logger,
    bodyLimit: maxBodyBytes,
    genReqId: () => randomUUID(),
    // A client's own request id would let it write into the log; Talon makes its own.
    requestIdHeader: false,
    trustProxy: false,
    return503OnClosing: true,
    // Two info lines per request cost more than the read they describe; requests are logged at
    // debug level below, errors always.
    logController: new LogController({ disableRequestLogging: true }),
    // Each request's child logger (its lines carry the request id) is made when it first logs.
    childLoggerFactory: (parent, bindings, childOptions) => new RequestLogger(parent, bindings, childOptions),
    // Errors before routing (a URL that is not valid percent-encoding) are problems too.
    frameworkErrors: sendError,
  });

  // Asked on every request by the Host check: read the socket's port once it is listening.
  let listeningPort: number | undefined;
  const port = (): number => {
    if (listeningPort !== undefined) return listeningPort;
    const address = app.server.address() as AddressInfo | string | null;
    if (address === null || typeof address !== 'object') return options.port;
    listeningPort = address.port;
    return listeningPort;
  };

  app.decorateRequest('principal', null);
  answerErrorsAsProblems(app);
  acceptJsonBodiesOnly(app);
  // Hooks whose work is synchronous take Fastify's callback: an async hook costs a promise and a
  // trip through the microtask queue on every request.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    // Answers may hold secret values: no cache keeps them, and no browser sniffs them into a page.
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (apiLogger.isLevelEnabled('debug')) {
      request.log.debug(
        {
          method: request.method,
          route: request.routeOptions.url,
          status: reply.statusCode,
          ms: reply.elapsedTime,
        },
        'request completed',
      );
    }
    done();
  });
  guardRequests(app, { port, extraAllowedHosts: options.extraAllowedHosts ?? [] });
  await limitRequestRates(app, options.rateLimit);
  await acceptBrowserSessions(app);

  const context: RouteContext = {
    engine: options.engine,
    call: (request: FastifyRequest) => callContext(request, now),
  };
  registerHealthRoutes(app, options.engine, options.version ?? 'dev');
  registerTokenRoutes(app, context);
  registerTalonRoutes(app, context);
  registerLoginRoutes(app, context);
  registerMfaVerifyRoute(app, context);
  registerShareAccessRoute(app, context);
  registerPairingRequestRoutes(app, context);
  await app.register(async (authenticated) => {
    authenticated.addHook('preHandler', authenticateRequests(options.engine, context.call));
    registerApiKeyRoutes(authenticated, context);
    registerUserRoutes(authenticated, context);
    registerMfaRoutes(authenticated, context);
    registerVaultRoutes(authenticated, context);
    registerSecretRoutes(authenticated, context);
    registerPolicyRoutes(authenticated, context);
    registerAgentRoutes(authenticated, context);
    registerAuditRoutes(authenticated, context);
    registerShareRoutes(authenticated, context);
    registerApprovalRoutes(authenticated, context);
    registerEventRoutes(authenticated, context);
    registerUseRoutes(authenticated, context);
    registerPairingRoutes(authenticated, context);
    registerTransactionRoutes(authenticated, context);
    registerChainRoutes(authenticated, context);
  });
  await registerMcpEndpoint(app, options.engine, { now });
  await registerUiRoutes(app, options.engine, { rendererDir: options.rendererDir });

  return {
    app,
    port,
    async listen() {
      await app.listen({ port: options.port, host });
      const shownHost = host.includes(':') ? `[${host}]` : host;
      return `http://${shownHost}:${port()}`;
    },
  };
}
