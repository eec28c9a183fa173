import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalInfo } from '../../main/engine/approval-service.js';
import { type TestApi, startTestApi } from '../fixtures/test-api-server.js';
import { callTool } from './mcp-fixtures.js';

/**
 * `talon-mcp --agent <name>` with no key: it asks Talon to pair, naming the MCP client; a human
 * approves; the key lands in a 0600 file under XDG_CONFIG_HOME and is reused; revoking the
 * pairing makes it ask again.
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
let api: TestApi;
let config: string;
const running: Client[] = [];

beforeAll(async () => {
  api = await startTestApi();
  config = mkdtempSync(join(tmpdir(), 'talon-pairing-config-'));
}, 60_000);

afterAll(async () => {
  await Promise.all(running.map((client) => client.close().catch(() => undefined)));
  await api?.close();
  if (config) rmSync(config, { recursive: true, force: true });
});

async function startPaired(clientName: string): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['bin/talon-mcp.mjs', '--agent', 'helper'],
    cwd: repoRoot,
    env: { ONECLAW_BASE_URL: api.url, XDG_CONFIG_HOME: config, HOME: config },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client({ name: clientName, version: '1.0.0' });
  await client.connect(transport);
  running.push(client);
  return { client, stderr: () => stderr };
}

async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 200; i += 1) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const pendingPairing = (): ApprovalInfo | undefined =>
  api.t.engine.approvals
    .list(api.t.owner, { status: 'pending' })
    .find((approval) => approval.action === 'mcp.pairing');

const pairingFile = () => join(config, 'talon', 'pairings', 'helper.json');

describe('talon-mcp --agent without a key', () => {
  it('asks for a pairing naming the client, waits for approval, then works and keeps the key 0600', async () => {
    const { client, stderr } = await startPaired('Claude Desktop');
    const approval = await eventually(pendingPairing, 'the pairing approval');
    expect(approval.summary).toMatch(/MCP client 'Claude Desktop' asks to connect as a new agent 'helper'/u);
    expect(approval.requester.client).toBe('Claude Desktop');
    expect(await eventually(() => (stderr().includes('Approve it') ? true : undefined), 'stderr')).toBe(true);

    const early = await callTool(client, 'list_vaults');
    expect(early.isError).toBe(true);
    expect(early.text).toMatch(/not paired with Talon yet/u);

    api.t.engine.approvals.decide(api.t.owner, approval.id, { decision: 'approve' }, api.t.call());
    await eventually(() => {
      try {
        return statSync(pairingFile());
      } catch {
        return undefined;
      }
    }, 'the pairing file');
    expect(statSync(pairingFile()).mode & 0o777).toBe(0o600);
    expect(statSync(join(config, 'talon', 'pairings')).mode & 0o777).toBe(0o700);
    const saved = JSON.parse(readFileSync(pairingFile(), 'utf8')) as { api_key: string; agent_id: string };
    expect(saved.api_key).toMatch(/^ocv_/u);

    const after = await eventually(async () => {
      const answer = await callTool(client, 'list_vaults');
      return answer.isError ? undefined : answer;
    }, 'a paired tool call');
    expect(after.isError).toBe(false);
    const agent = api.t.engine.agents.get(api.t.owner, saved.agent_id);
    expect(agent.name).toBe('helper');
    expect(api.t.engine.pairings.list(api.t.owner)).toEqual([
      expect.objectContaining({ agent_id: saved.agent_id, client_name: 'Claude Desktop', revoked_at: null }),
    ]);
    await client.close();
  }, 60_000);

  it('reuses the saved key the next time, without asking again', async () => {
    const { client } = await startPaired('Claude Desktop');
    const answer = await callTool(client, 'list_vaults');
    expect(answer.isError).toBe(false);
    expect(pendingPairing()).toBeUndefined();
    await client.close();
  }, 60_000);

  it('lists pairings for humans only, and a revoked pairing asks again', async () => {
    const listed = await api.request('GET', '/v1/mcp/pairings', { credential: api.t.ownerApiKey });
    expect(listed.status).toBe(200);
    expect(listed.text).not.toMatch(/ocv_[A-Za-z0-9_-]{20}/u);
    const pairing = listed.body.pairings[0] as { id: string; agent_id: string };
    const saved = JSON.parse(readFileSync(pairingFile(), 'utf8')) as { api_key: string };
    const asAgent = await api.request('GET', '/v1/mcp/pairings', { credential: saved.api_key });
    expect(asAgent.status).toBe(403);

    const revoked = await api.request('DELETE', `/v1/mcp/pairings/${pairing.id}`, {
      credential: api.t.ownerApiKey,
    });
    expect(revoked.status).toBe(204);
    const refused = await api.request('GET', '/v1/vaults', { credential: saved.api_key });
    expect(refused.status).toBe(401);

    const { client, stderr } = await startPaired('Cursor');
    const again = await eventually(pendingPairing, 'a new pairing approval');
    expect(again.summary).toMatch(/MCP client 'Cursor' asks to connect as agent 'helper'/u);
    expect(stderr()).toMatch(/no longer accepts the saved pairing/u);
    api.t.engine.approvals.decide(
      api.t.owner,
      again.id,
      { decision: 'reject', reason: 'not this one' },
      api.t.call(),
    );
    await eventually(() => (stderr().includes('rejected') ? true : undefined), 'the rejection on stderr');
    const answer = await callTool(client, 'list_vaults');
    expect(answer.isError).toBe(true);
    expect(answer.text).toMatch(/rejected/u);
  }, 60_000);

  it('refuses to claim with the wrong claim secret', async () => {
    const body = { agent_name: 'helper', client_name: 'x', claim_secret: 'a'.repeat(40) };
    const asked = await api.request('POST', '/v1/mcp/pairings', { json: body });
    expect(asked.status).toBe(202);
    const claim = await api.request('POST', `/v1/mcp/pairings/${asked.body.approval_id}/claim`, {
      json: { ...body, claim_secret: 'b'.repeat(40) },
    });
    expect(claim.status).toBe(404);
  });
});
