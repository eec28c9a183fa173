import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApi, startTestApi } from '../fixtures/test-api-server.js';
import { latencySummary, report, tunable } from './reliability-report.js';

/**
 * Load: 100 agents, each with its own policy (read under `agents/<n>/**` only), read at once for
 * a bounded time over REST and over MCP (streamable HTTP, the official SDK client). Every value
 * an agent receives is checked against what it may read; each also tries a neighbour's secret
 * now and then, which must be refused without the value. The server runs in the test process
 * (with the rate limit raised), so the latencies include the clients' own work.
 */

const agentCount = 100;
const durationMs = tunable('TALON_RELIABILITY_LOAD_MS', 12_000);

interface LoadAgent {
  index: number;
  id: string;
  apiKey: string;
  /** path -> value this agent may read */
  own: Map<string, string>;
}

let api: TestApi;
let vaultId: string;
const agents: LoadAgent[] = [];
/** Every value stored, to recognise any of them in an answer meant for another agent. */
const everyValue = new Map<string, number>();
const clients: Client[] = [];

beforeAll(async () => {
  api = await startTestApi({ rateLimit: { max: 10_000_000 } });
  const { engine, owner, call } = api.t;
  vaultId = (await engine.vaults.create(owner, { name: 'load' }, call())).id;
  for (let index = 0; index < agentCount; index += 1) {
    const created = engine.agents.create(owner, { name: `load-agent-${index}` }, call());
    engine.policies.create(
      owner,
      vaultId,
      {
        secret_path_pattern: `agents/${index}/**`,
        principal_type: 'agent',
        principal_id: created.agent.id,
        permissions: ['read'],
      },
      call(),
    );
    const own = new Map<string, string>();
    for (const name of ['api-key', 'db/password']) {
      const path = `agents/${index}/${name}`;
      const value = `load-${index}-${name}-${randomBytes(12).toString('hex')}`;
      await engine.secrets.put(owner, vaultId, path, { value, type: 'password' }, call());
      own.set(path, value);
      everyValue.set(value, index);
    }
    agents.push({ index, id: created.agent.id, apiKey: created.api_key, own });
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  await api?.close();
});

/** Fails when `text` holds any stored value other than the agent's own. */
function expectNoForeignValue(text: string, agent: LoadAgent): void {
  for (const match of text.matchAll(/load-\d+-[a-z/-]+-[0-9a-f]{24}/gu)) {
    const owner = everyValue.get(match[0]);
    expect(owner, `agent ${agent.index} received a value of agent ${owner}`).toBe(agent.index);
  }
}

/**
 * What an agent does on its n-th request: first one of each kind (so every agent is checked even
 * on a slow machine), then mostly reads of its own values.
 */
function kindOf(n: number): 'own' | 'neighbour' | 'list' {
  if (n === 1 || n % 10 === 9) return 'neighbour';
  if (n === 2 || n % 10 === 4) return 'list';
  return 'own';
}

interface Tally {
  reads: number;
  refusals: number;
  lists: number;
  errors: string[];
  latencies: number[];
}

const tally = (): Tally => ({ reads: 0, refusals: 0, lists: 0, errors: [], latencies: [] });

async function timed<T>(into: Tally, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    into.latencies.push(performance.now() - started);
  }
}

async function restLoop(agent: LoadAgent, until: number, into: Tally): Promise<void> {
  const paths = [...agent.own.keys()];
  const neighbour = agents[(agent.index + 1) % agentCount]!;
  for (let n = 0; n < 3 || Date.now() < until; n += 1) {
    if (kindOf(n) === 'neighbour') {
      const path = [...neighbour.own.keys()][n % 2]!;
      const answer = await timed(into, () =>
        api.request('GET', `/v1/vaults/${vaultId}/secrets/${path}`, { credential: agent.apiKey }),
      );
      expectNoForeignValue(answer.text, agent);
      if (answer.status === 403) into.refusals += 1;
      else into.errors.push(`neighbour read answered ${answer.status}`);
      continue;
    }
    const path = paths[n % paths.length]!;
    const answer = await timed(into, () =>
      api.request('GET', `/v1/vaults/${vaultId}/secrets/${path}`, { credential: agent.apiKey }),
    );
    if (answer.status !== 200) {
      into.errors.push(`REST read answered ${answer.status}: ${answer.text}`);
      continue;
    }
    expectNoForeignValue(answer.text, agent);
    expect(answer.body.value).toBe(agent.own.get(path));
    into.reads += 1;
  }
}

async function mcpLoop(agent: LoadAgent, client: Client, until: number, into: Tally): Promise<void> {
  const paths = [...agent.own.keys()];
  const neighbour = agents[(agent.index + 7) % agentCount]!;
  for (let n = 0; n < 3 || Date.now() < until; n += 1) {
    const kind = kindOf(n);
    const name = kind === 'list' ? 'list_secrets' : 'get_secret';
    const args =
      kind === 'neighbour'
        ? { path: [...neighbour.own.keys()][n % 2]! }
        : kind === 'list'
          ? {}
          : { path: paths[n % paths.length]! };
    const result = await timed(into, () => client.callTool({ name, arguments: args }));
    const text = (result.content as { text?: string }[]).map((part) => part.text ?? '').join('\n');
    expectNoForeignValue(text, agent);
    if (kind === 'neighbour') {
      if (result.isError === true) into.refusals += 1;
      else into.errors.push(`neighbour get_secret succeeded: ${text.slice(0, 80)}`);
    } else if (result.isError === true) {
      into.errors.push(`${name} failed: ${text}`);
    } else if (kind === 'list') {
      const listed = [...text.matchAll(/^- (\S+)/gmu)].map((match) => match[1]);
      expect(listed.sort()).toEqual(paths.slice().sort());
      into.lists += 1;
    } else {
      expect((JSON.parse(text) as { value: string }).value).toBe(agent.own.get(args.path!));
      into.reads += 1;
    }
  }
}

describe('load', () => {
  it(
    `serves ${agentCount} agents with distinct policies over REST and MCP at once, each only its own values`,
    async () => {
      for (const agent of agents) {
        const transport = new StreamableHTTPClientTransport(new URL('/mcp', api.url), {
          requestInit: { headers: { authorization: `Bearer ${agent.apiKey}`, 'x-vault-id': vaultId } },
        });
        const client = new Client({ name: `load-${agent.index}`, version: '1.0.0' });
        await client.connect(transport);
        clients.push(client);
      }
      const rest = tally();
      const mcp = tally();
      const until = Date.now() + durationMs;
      const started = performance.now();
      await Promise.all(
        agents.flatMap((agent, i) => [restLoop(agent, until, rest), mcpLoop(agent, clients[i]!, until, mcp)]),
      );
      const seconds = (performance.now() - started) / 1000;
      for (const [transport, counts] of [
        ['rest', rest],
        ['mcp-http', mcp],
      ] as const) {
        report(`load-${transport}`, {
          agents: agentCount,
          seconds: Math.round(seconds * 10) / 10,
          values_read_and_checked: counts.reads,
          lists_checked: counts.lists,
          neighbour_reads_refused: counts.refusals,
          errors: counts.errors.length,
          requests_per_s: Math.round((counts.latencies.length / seconds) * 10) / 10,
          latency_ms: latencySummary(counts.latencies),
        });
      }
      expect([...rest.errors, ...mcp.errors].slice(0, 5)).toEqual([]);
      // Every agent got through on both transports, and was refused its neighbour's secret on both.
      expect(rest.reads).toBeGreaterThanOrEqual(agentCount * 2);
      expect(mcp.reads).toBeGreaterThanOrEqual(agentCount);
      expect(mcp.lists).toBeGreaterThanOrEqual(agentCount);
      expect(rest.refusals).toBeGreaterThanOrEqual(agentCount);
      expect(mcp.refusals).toBeGreaterThanOrEqual(agentCount);
    },
    durationMs + 180_000,
  );
});
