import { execFile } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createApiServer } from '../../main/api/server.js';
import { Engine } from '../../main/engine/index.js';
import type { CallContext, Principal } from '../../main/engine/index.js';
import { openSqliteStore } from '../../main/store/sqlite-store.js';
import type { KeyStore } from '../../hsm-bridge/index.js';
import { testPin } from '../fixtures/test-token.js';
import { type Measurement, measure, ratio } from './measure.js';
import { startBareMcpHttp } from './bare-mcp-echo.js';
import type { SuiteResult } from './token-bench.js';

async function mcpClient(transport: StreamableHTTPClientTransport | StdioClientTransport): Promise<Client> {
  const client = new Client({ name: 'talon-bench', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** One get_secret call; throws unless the tool answered without error. */
async function getSecretOver(client: Client): Promise<void> {
  const result = await client.callTool({ name: 'get_secret', arguments: { path: 'bench/api-key' } });
  if (result.isError) throw new Error(`get_secret failed: ${JSON.stringify(result.content)}`);
}

const concurrency = 8;

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p97_5: number; p99: number };
  non2xx: number;
  errors: number;
  duration: number;
}

/**
 * `seconds` of requests from `concurrency` connections, sent by autocannon in a child process so
 * the load generator does not share Talon's event loop (the machines here have two cores). By
 * duration, not by amount (`-a`): autocannon notices the last answer only on its one-second tick,
 * so an amount run's duration is rounded up to whole seconds and its rate (20,000 / 2.02 s) is an
 * artefact of the rounding.
 */
function loadFromChild(name: string, url: string, seconds: number, headers: Record<string, string> = {}): Promise<Measurement> {
  const args = ['-c', String(concurrency), '-d', String(seconds), '-j', ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]), url];
  return new Promise((resolve, reject) => {
    execFile('node_modules/.bin/autocannon', args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error) return reject(error);
      const result = JSON.parse(stdout) as AutocannonResult;
      if (result.non2xx > 0 || result.errors > 0) {
        return reject(new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`));
      }
      resolve({
        name,
        count: result.requests.total,
        opsPerSecond: result.requests.total / result.duration,
        p50Ms: result.latency.p50,
        p95Ms: result.latency.p97_5,
        p99Ms: result.latency.p99,
        maxLoopBlockMs: 0,
        syncPartMs: 0,
      });
    });
  });
}

/** A bare node:http server answering a fixed 64-byte body: the floor of any HTTP API here. */
async function startBareServer(): Promise<{ url: string; close(): Promise<void> }> {
  const body = Buffer.from(JSON.stringify({ value: 'x'.repeat(52) }));
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * REST secret reads with several clients in flight, next to a bare node:http server and to the
 * engine's own read rate, all measured in this run with the same client (fetch, keep-alive).
 */
export async function benchApi(keyStore: KeyStore, dataDir: string, scale: number): Promise<SuiteResult> {
  const n = (count: number) => Math.max(200, Math.round(count * scale));
  const loadSeconds = Math.max(3, Math.round(5 * scale));
  const store = openSqliteStore(join(dataDir, 'api-bench.sqlite'));
  const engine = new Engine(store, keyStore);
  const call = (): CallContext => ({ now: new Date(), via: 'bench' });
  await engine.unlock(testPin, call());
  const setup = engine.setUpOwner({ email: 'api-bench@talon.local' }, call())!;
  const owner: Principal = { type: 'user', id: setup.userId, role: 'owner' };
  const vault = await engine.vaults.create(owner, { name: 'api' }, call());
  await engine.secrets.put(owner, vault.id, 'bench/api-key', { value: 'sk-'.padEnd(40, 'x'), type: 'api_key' }, call());

  const api = await createApiServer({ engine, port: 0, rateLimit: { max: 10_000_000 } });
  const talonUrl = await api.listen();
  const bare = await startBareServer();
  const headers = { authorization: `Bearer ${setup.apiKey.api_key}` };
  const secretUrl = `${talonUrl}/v1/vaults/${vault.id}/secrets/bench/api-key`;
  const fetchOk = async (url: string, init?: RequestInit) => {
    const response = await fetch(url, init);
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return response.arrayBuffer();
  };

  const { agent, api_key: agentKey } = engine.agents.create(owner, { name: 'bench-agent' }, call());
  engine.policies.create(
    owner,
    vault.id,
    { principal_type: 'agent', principal_id: agent.id, secret_path_pattern: 'bench/**', permissions: ['read'] },
    call(),
  );
  // The SDK's HTTP client passes one AbortSignal to every fetch, and undici on Node 20 releases
  // its listeners only at garbage collection: thousands of calls trip the leak warning, client side.
  setMaxListeners(20_000);
  const bareMcp = await startBareMcpHttp();
  const clients = {
    talonHttp: await mcpClient(
      new StreamableHTTPClientTransport(new URL('/mcp', talonUrl), {
        requestInit: { headers: { authorization: `Bearer ${agentKey}`, 'x-vault-id': vault.id } },
      }),
    ),
    bareHttp: await mcpClient(new StreamableHTTPClientTransport(new URL(bareMcp.url))),
    talonStdio: await mcpClient(
      new StdioClientTransport({
        command: process.execPath,
        args: ['bin/talon-mcp.mjs'],
        env: {
          PATH: process.env.PATH ?? '',
          ONECLAW_BASE_URL: talonUrl,
          ONECLAW_AGENT_ID: agent.id,
          ONECLAW_AGENT_API_KEY: agentKey,
          ONECLAW_VAULT_ID: vault.id,
        },
      }),
    ),
    bareStdio: await mcpClient(
      new StdioClientTransport({
        command: process.execPath,
        args: ['--import', 'tsx', 'test/bench/bare-mcp-echo.ts', '--stdio'],
        env: { PATH: process.env.PATH ?? '' },
      }),
    ),
  };

  let m: Record<string, Measurement>;
  try {
    m = {
      bare: await loadFromChild(`bare node:http fixed 64 B, ${concurrency} connections`, bare.url, loadSeconds),
      rest: await loadFromChild(`REST GET secret, ${concurrency} connections`, secretUrl, loadSeconds, headers),
      restOne: await measure('REST GET secret, 1 client', () => fetchOk(secretUrl, { headers }), { count: n(5_000) }),
      mcpHttp: await measure('MCP get_secret, streamable HTTP', () => getSecretOver(clients.talonHttp), {
        count: n(2_000),
      }),
      bareMcpHttp: await measure('bare MCP echo tool, streamable HTTP', () => getSecretOver(clients.bareHttp), {
        count: n(2_000),
      }),
      mcpStdio: await measure('MCP get_secret, stdio (talon-mcp → REST)', () => getSecretOver(clients.talonStdio), {
        count: n(2_000),
      }),
      bareMcpStdio: await measure('bare MCP echo tool, stdio', () => getSecretOver(clients.bareStdio), {
        count: n(2_000),
      }),
      engine: await measure('engine read (in process)', () => engine.secrets.get(owner, vault.id, 'bench/api-key', call()), {
        count: n(20_000),
      }),
    };
  } finally {
    for (const client of Object.values(clients)) await client.close().catch(() => undefined);
    await bareMcp.close();
    await bare.close();
    await api.app.close();
    await engine.lock(call());
    store.close();
  }
  return {
    suite: 'api',
    measurements: Object.values(m),
    ratios: [
      ratio('REST reads / bare node:http', m.rest!, m.bare!, { atLeast: 0.5 }),
      ratio('REST reads / engine reads', m.rest!, m.engine!),
    ],
    notes: [
      `MCP get_secret p50 over HTTP ${m.mcpHttp!.p50Ms.toFixed(2)} ms vs bare echo ${m.bareMcpHttp!.p50Ms.toFixed(2)} ms (${(m.mcpHttp!.p50Ms / m.bareMcpHttp!.p50Ms).toFixed(2)}×, goal ≤ 1.5×); p99 ${m.mcpHttp!.p99Ms.toFixed(2)} ms (goal < 10 ms)`,
      `MCP get_secret p50 over stdio ${m.mcpStdio!.p50Ms.toFixed(2)} ms vs bare echo ${m.bareMcpStdio!.p50Ms.toFixed(2)} ms (${(m.mcpStdio!.p50Ms / m.bareMcpStdio!.p50Ms).toFixed(2)}×, goal ≤ 1.5×)`,
    ],
  };
}
