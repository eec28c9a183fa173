import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createTalonMcpServer } from '../../mcp/talon-tools.js';
import type { VaultClientFor } from '../../mcp/vault-client.js';
import { type AgentPrincipal, type CallContext, type Engine, TalonError } from '../engine/index.js';
import { bearerCredential } from './authentication.js';
import { EngineVaultClient } from './engine-vault-client.js';
import { problemDetails, sendProblem } from './problem-details.js';

/**
 * Talon's MCP server over streamable HTTP, at `/mcp` (POST, GET, DELETE), for agents that speak
 * MCP over HTTP instead of starting `talon-mcp`. The tools are the same (mcp/talon-tools.ts);
 * they reach the engine in process through an EngineVaultClient.
 *
 * Sessions are stateful (the SDK's `Mcp-Session-Id`): a session is opened by an `initialize` for
 * one agent and one vault, and is bound to both. Stateful because the session is what binds the
 * vault (1Claw checks X-Vault-ID once, when a session opens) and because the approval waits to
 * come (DESIGN: a tool call that waits for a human sends progress notifications) need a session
 * to send them on. State is in memory, as the SDK keeps it: sessions end with the process, idle
 * ones are closed after `sessionIdleMs`, and an agent has at most `maxSessionsPerAgent` (its
 * least recently used one is closed to open another).
 *
 * Every request authenticates, not just the first: `Authorization: Bearer <agent JWT or ocv_
 * key>` (personal `1ck_` keys and people's tokens are refused: MCP is for agents) and
 * `X-Vault-ID`. A revoked key or deactivated agent is refused on its next request, and a request
 * on a session with another agent's credential or another vault is refused with 403. The
 * principal of each request, not of the session's first, is the one the tools act as, so
 * policies are decided afresh on every call. Host and Origin are checked by the server's
 * onRequest guard, as for every route.
 */
export interface McpEndpointOptions {
  /** The clock of call contexts (policy time windows, token expiry). Default: the system's. */
  now?: () => Date;
  /** Default 30 minutes. */
  sessionIdleMs?: number;
  /** Default 32. */
  maxSessionsPerAgent?: number;
}

export const mcpPath = '/mcp';

interface McpSession {
  transport: StreamableHTTPServerTransport;
  agentId: string;
  vaultId: string;
  lastSeen: number;
  /** The MCP client's own name (`clientInfo.name` of its initialize), shown in approval prompts. */
  clientName?: () => string | undefined;
}

/** What a request proved, handed to the tools through the SDK's `authInfo.extra`. */
interface McpCaller {
  principal: AgentPrincipal;
  vaultId: string;
  call: () => CallContext;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;

/** A body that did not parse as JSON: answered with JSON-RPC's parse error, after authentication. */
class UnparsableBody {}

export async function registerMcpEndpoint(
  app: FastifyInstance,
  engine: Engine,
  options: McpEndpointOptions = {},
): Promise<void> {
  const now = options.now ?? (() => new Date());
  const idleMs = options.sessionIdleMs ?? 30 * 60_000;
  const maxPerAgent = options.maxSessionsPerAgent ?? 32;
  const sessions = new Map<string, McpSession>();

  const clientFor: VaultClientFor = ({ authInfo }) => {
    const caller = authInfo?.extra?.caller as McpCaller | undefined;
    if (!caller) throw new Error('an MCP request reached a tool without an authenticated caller');
    return new EngineVaultClient(engine, caller.principal, caller.call, caller.vaultId);
  };

  async function openSession(agentId: string, vaultId: string): Promise<McpSession> {
    const ofAgent = [...sessions.values()].filter((session) => session.agentId === agentId);
    if (ofAgent.length >= maxPerAgent) {
      const oldest = ofAgent.reduce((a, b) => (a.lastSeen <= b.lastSeen ? a : b));
      await oldest.transport.close();
    }
    const session: McpSession = {
      agentId,
      vaultId,
      lastSeen: Date.now(),
      transport: new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, session);
        },
        onsessionclosed: (id) => {
          sessions.delete(id);
        },
      }),
    };
    session.transport.onclose = () => {
      if (session.transport.sessionId) sessions.delete(session.transport.sessionId);
    };
    const server = createTalonMcpServer(clientFor, {
      reportUnexpectedError: (error, tool) =>
        app.log.error({ err: error, tool }, 'unexpected error in an MCP tool call'),
    });
    await server.connect(session.transport);
    session.clientName = () => server.server.getClientVersion()?.name;
    return session;
  }

  async function handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    let session: McpSession | undefined;
    const call = (): CallContext => {
      const client = session?.clientName?.();
      return { ip: request.ip, now: now(), requestId: request.id, via: 'mcp', ...(client ? { client } : {}) };
    };
    const credential = agentCredential(request.headers.authorization);
    const vaultId = vaultHeader(request.headers['x-vault-id']);
    const principal = await engine.auth.authenticate(credential, call());
    if (principal.type !== 'agent') {
      throw new TalonError(
        'unauthenticated',
        "Talon's MCP endpoint only accepts agent credentials; this access token belongs to a person, not an agent.",
      );
    }

    if (request.body instanceof UnparsableBody) {
      return sendJsonRpcError(reply, 400, -32700, 'Parse error: Invalid JSON');
    }

    const sessionId = singleHeader(request.headers['mcp-session-id']);
    if (sessionId !== undefined) {
      session = sessions.get(sessionId);
      if (!session) return sendJsonRpcError(reply, 404, -32001, 'Session not found');
      if (session.agentId !== principal.id || session.vaultId !== vaultId) {
        throw new TalonError(
          'forbidden',
          'This MCP session was opened by another agent or for another vault; open a session of your own.',
        );
      }
    } else if (request.method === 'POST' && opensSession(request.body)) {
      // 1Claw checks the vault when a session opens: one the agent cannot reach is refused here.
      engine.vaults.get(principal, vaultId);
      session = await openSession(principal.id, vaultId);
    } else {
      return sendJsonRpcError(reply, 400, -32000, 'Bad Request: No valid session ID provided');
    }

    session.lastSeen = Date.now();
    const caller: McpCaller = { principal, vaultId, call };
    const authInfo: AuthInfo = {
      token: `agent:${principal.id}`,
      clientId: principal.id,
      scopes: [],
      extra: { caller },
    };
    (request.raw as IncomingMessage & { auth?: AuthInfo }).auth = authInfo;

    // From here the SDK writes the response. Headers set so far (by the server's hooks) go with
    // it, and those the server's onSend hook would have added, since it does not run for this reply.
    reply.hijack();
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) reply.raw.setHeader(name, value);
    }
    reply.raw.setHeader('x-request-id', request.id);
    reply.raw.setHeader('cache-control', 'no-store');
    reply.raw.setHeader('x-content-type-options', 'nosniff');
    try {
      await session.transport.handleRequest(request.raw, reply.raw, request.body);
    } catch (error) {
      request.log.error({ err: error }, 'the MCP transport failed while answering a request');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(jsonRpcError(-32603, `Internal error (request id ${request.id})`));
      } else {
        reply.raw.end();
      }
    }
  }

  await app.register(async (scope) => {
    // JSON-RPC answers a body that is not JSON with its own parse error, so this scope parses
    // for itself (Fastify's parser, prototype poisoning refused) and marks what does not parse.
    const parseJson = scope.getDefaultJsonParser('error', 'error');
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      parseJson(request, text, (error, parsed) => done(null, error ? new UnparsableBody() : parsed));
    });

    const route = async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        await handle(request, reply);
      } catch (error) {
        if (!(error instanceof TalonError)) throw error;
        return sendProblem(reply, problemDetails(error, request.id));
      }
    };
    scope.post(mcpPath, route);
    scope.get(mcpPath, route);
    scope.delete(mcpPath, route);

    const sweep = setInterval(
      () => {
        const cutoff = Date.now() - idleMs;
        for (const session of sessions.values()) {
          if (session.lastSeen < cutoff) void session.transport.close();
        }
      },
      Math.min(idleMs, 60_000),
    );
    sweep.unref();
    // Before the server closes: open SSE streams would otherwise hold its connections.
    scope.addHook('preClose', async () => {
      clearInterval(sweep);
      await Promise.all([...sessions.values()].map((session) => session.transport.close()));
      sessions.clear();
    });
  });
}

/** The Bearer credential of an agent; 401 with 1Claw's message when there is none. */
function agentCredential(header: string | undefined): string {
  const credential = bearerCredential(header, 'Missing Authorization header (Bearer <agent-token>)');
  if (credential.startsWith('1ck_')) {
    throw new TalonError(
      'unauthenticated',
      "Talon's MCP endpoint only accepts agent credentials (an ocv_ agent API key or an agent access token). Personal API keys (1ck_) are for people: use the Talon app, the CLI or the REST API.",
    );
  }
  return credential;
}

/** The vault of the request; 400 with 1Claw's message when it is missing. */
function vaultHeader(header: string | string[] | undefined): string {
  const value = singleHeader(header)?.trim();
  if (!value) throw new TalonError('invalid_input', 'Missing X-Vault-ID header');
  if (!uuidPattern.test(value)) {
    throw new TalonError(
      'invalid_input',
      'X-Vault-ID must be a vault id (a UUID); list_vaults or the Talon app shows the ids.',
    );
  }
  return value.toLowerCase();
}

function singleHeader(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header;
}

function opensSession(body: unknown): boolean {
  return Array.isArray(body)
    ? body.some((message) => isInitializeRequest(message))
    : isInitializeRequest(body);
}

function jsonRpcError(code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/** The transport's own answers (no session, unparsable body), in the SDK's JSON-RPC shape. */
function sendJsonRpcError(reply: FastifyReply, status: number, code: number, message: string): void {
  void reply.code(status).header('content-type', 'application/json').send(jsonRpcError(code, message));
}
