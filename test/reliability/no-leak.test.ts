import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTalonWith } from '../cli/cli-runner.js';
import { cleanEnvironment, repositoryRoot } from '../cli/talon-process.js';
import { report } from './reliability-report.js';
import { openReadOnly } from './store-digest.js';
import { type ChildTalon, startChildTalon } from './talon-child.js';

/**
 * Secrets never leak: a canary value stored through each transport (REST, MCP over streamable
 * HTTP, MCP over stdio through talon-mcp, the talon CLI) must appear nowhere but in the answers to those who may
 * read it: not in the server's output (debug-level logs, across a SIGKILL and a restart), not in
 * talon-mcp's stderr, not in any audit row, not in any error body, and not in any file of the data
 * folder (database, WAL, token folder) as text, hex or base64; the database holds only ciphertext.
 */

let talon: ChildTalon;
let vaultId: string;
let agent: { id: string; apiKey: string };
const canaries: Record<string, string> = {};
const errorBodies: string[] = [];
const stdioStderr: string[] = [];
const cliOutput: string[] = [];
const clients: Client[] = [];

const newCanary = (transport: string) => `canary-${transport}-${randomBytes(16).toString('hex')}`;

beforeAll(async () => {
  talon = await startChildTalon({ logLevel: 'debug' });
  await talon.start();
  const vault = await talon.request('POST', '/v1/vaults', { json: { name: 'canaries' } });
  vaultId = vault.body.id as string;
  const created = await talon.request('POST', '/v1/agents', { json: { name: 'canary-agent' } });
  agent = { id: created.body.agent.id as string, apiKey: created.body.api_key as string };
  const policy = await talon.request('POST', `/v1/vaults/${vaultId}/policies`, {
    json: {
      secret_path_pattern: 'canary/**',
      principal_type: 'agent',
      principal_id: agent.id,
      permissions: ['read', 'write'],
    },
  });
  expect(policy.status).toBe(201);
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  await talon?.cleanup();
});

async function mcpOverHttp(): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', talon.url), {
    requestInit: { headers: { authorization: `Bearer ${agent.apiKey}`, 'x-vault-id': vaultId } },
  });
  const client = new Client({ name: 'canary-http', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

async function mcpOverStdio(): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['bin/talon-mcp.mjs'],
    cwd: repositoryRoot,
    env: {
      ONECLAW_BASE_URL: talon.url,
      ONECLAW_AGENT_ID: agent.id,
      ONECLAW_AGENT_API_KEY: agent.apiKey,
      ONECLAW_VAULT_ID: vaultId,
    },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => stdioStderr.push(chunk.toString('utf8')));
  const client = new Client({ name: 'canary-stdio', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

const textOf = (result: Awaited<ReturnType<Client['callTool']>>) =>
  (result.content as { text?: string }[]).map((part) => part.text ?? '').join('\n');

/** Requests that fail while carrying a canary, to make sure no error body or log line repeats it. */
async function provokeErrors(canary: string, client: Client): Promise<number> {
  const failing = [
    talon.request('PUT', `/v1/vaults/${vaultId}/secrets/canary/bad-type`, {
      json: { value: canary, type: 'nope' },
    }),
    talon.request('PUT', `/v1/vaults/${vaultId}/secrets/canary/bad-expiry`, {
      json: { value: canary, expires_at: canary },
    }),
    talon.request('PUT', `/v1/vaults/${vaultId}/secrets/other/denied`, {
      json: { value: canary },
      credential: agent.apiKey,
    }),
    talon.request('PUT', `/v1/vaults/${vaultId}/secrets/canary/%00`, { json: { value: canary } }),
    talon.request('PUT', `/v1/vaults/${vaultId}/secrets/canary/not-json`, {
      headers: { 'content-type': 'application/json' },
      json: undefined,
    }),
    talon.request('POST', '/v1/auth/agent-token', { json: { agent_id: agent.id, api_key: `ocv_${canary}` } }),
    talon.request('GET', `/v1/vaults/${vaultId}/secrets/canary/missing`, { credential: canary }),
  ];
  let count = 0;
  for (const answer of await Promise.all(failing)) {
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    errorBodies.push(answer.text);
    count += 1;
  }
  for (const args of [
    { path: 'other/denied', value: canary },
    { path: 'canary/bad-type', value: canary, type: 'nope' },
    { path: '../escape', value: canary },
    { path: 'canary/bad-count', value: canary, max_access_count: -1 },
  ]) {
    try {
      const result = await client.callTool({ name: 'put_secret', arguments: args });
      expect(result.isError).toBe(true);
      errorBodies.push(textOf(result));
    } catch (error) {
      errorBodies.push((error as Error).message);
    }
    count += 1;
  }
  return count;
}

/** Every form a value could take in a file or a log: text, hex, base64. */
function forms(value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  return [
    bytes,
    Buffer.from(bytes.toString('hex')),
    Buffer.from(bytes.toString('base64').replace(/=+$/u, '')),
  ];
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('secrets never leak', () => {
  it('keeps canaries stored over REST, MCP HTTP, MCP stdio and the CLI out of logs, audit, errors, files and crash output', async () => {
    canaries.rest = newCanary('rest');
    const put = await talon.request('PUT', `/v1/vaults/${vaultId}/secrets/canary/rest`, {
      json: { value: canaries.rest, type: 'api_key' },
    });
    expect(put.status).toBe(201);
    expect(put.text).not.toContain(canaries.rest);

    const http = await mcpOverHttp();
    canaries.mcpHttp = newCanary('mcp-http');
    const httpPut = await http.callTool({
      name: 'put_secret',
      arguments: { path: 'canary/mcp-http', value: canaries.mcpHttp, type: 'password' },
    });
    expect(httpPut.isError).not.toBe(true);
    expect(textOf(httpPut)).not.toContain(canaries.mcpHttp);

    const stdio = await mcpOverStdio();
    canaries.mcpStdio = newCanary('mcp-stdio');
    const stdioPut = await stdio.callTool({
      name: 'put_secret',
      arguments: { path: 'canary/mcp-stdio', value: canaries.mcpStdio, type: 'password' },
    });
    expect(stdioPut.isError).not.toBe(true);

    // The CLI, as a person uses it: the value on stdin, never in the arguments.
    canaries.cli = newCanary('cli');
    const cliEnv = cleanEnvironment({
      ONECLAW_BASE_URL: talon.url,
      ONECLAW_API_KEY: talon.ownerKey,
      TALON_CONFIG_DIR: join(talon.dataDir, 'cli-config'),
    });
    const cliPut = await runTalonWith(
      ['secret', 'set', 'canary/cli', '--stdin', '-v', vaultId],
      cliEnv,
      canaries.cli,
    );
    expect(cliPut.code, cliPut.stderr).toBe(0);
    const cliRefused = await runTalonWith(
      ['secret', 'set', 'canary/cli', '--stdin', '-v', 'no-such-vault'],
      cliEnv,
      canaries.cli,
    );
    expect(cliRefused.code).not.toBe(0);
    cliOutput.push(cliPut.stdout, cliPut.stderr, cliRefused.stdout, cliRefused.stderr);

    // Each reads back to whoever may read it, over each transport.
    const paths: Record<string, string> = {
      rest: 'canary/rest',
      mcpHttp: 'canary/mcp-http',
      mcpStdio: 'canary/mcp-stdio',
      cli: 'canary/cli',
    };
    for (const [name, value] of Object.entries(canaries)) {
      const path = paths[name]!;
      expect((await talon.request('GET', `/v1/vaults/${vaultId}/secrets/${path}`)).body.value).toBe(value);
      expect(
        JSON.parse(textOf(await stdio.callTool({ name: 'get_secret', arguments: { path } }))).value,
      ).toBe(value);
    }
    let provoked = 0;
    for (const value of Object.values(canaries)) provoked += await provokeErrors(value, http);

    // The raw files while Talon runs (the WAL holds the newest pages), then a SIGKILL mid-work.
    const whileRunning = filesUnder(talon.dataDir).map((file) => ({ file, bytes: readFileSync(file) }));
    const reads = Array.from({ length: 20 }, () =>
      talon.request('GET', `/v1/vaults/${vaultId}/secrets/canary/rest`).catch(() => undefined),
    );
    await talon.kill();
    await Promise.all(reads);
    const afterKill = filesUnder(talon.dataDir).map((file) => ({ file, bytes: readFileSync(file) }));
    await talon.start();
    expect((await talon.request('GET', `/v1/vaults/${vaultId}/secrets/canary/rest`)).body.value).toBe(
      canaries.rest,
    );
    const audit = await talon.request('GET', '/v1/audit/events?limit=1000');
    expect(audit.status).toBe(200);
    await talon.stop();
    const afterStop = filesUnder(talon.dataDir).map((file) => ({ file, bytes: readFileSync(file) }));

    const db = openReadOnly(talon.databaseFile);
    let auditRows: string;
    let versions: number;
    try {
      auditRows = JSON.stringify(
        db.prepare('SELECT * FROM audit_events').raw().all(),
        (_key, value: unknown) => (Buffer.isBuffer(value) ? value.toString('hex') : value),
      );
      versions = db.prepare('SELECT count(*) FROM secret_versions').pluck().get() as number;
    } finally {
      db.close();
    }
    expect(versions).toBeGreaterThanOrEqual(4);

    const output = talon.output() + stdioStderr.join('');
    const places: Record<string, string | Buffer> = {
      'server output (debug logs, SIGKILL, restart, SIGTERM)': output,
      'CLI output (a put, a refused put)': cliOutput.join('\n'),
      'audit rows (table)': auditRows,
      'audit events (API)': audit.text,
      'error bodies': errorBodies.join('\n'),
    };
    const snapshots = [...whileRunning, ...afterKill, ...afterStop];
    for (const { file, bytes } of snapshots) places[`file ${file.slice(talon.dataDir.length)}`] = bytes;
    for (const [name, value] of Object.entries(canaries)) {
      for (const [where, content] of Object.entries(places)) {
        const haystack = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
        for (const form of forms(value)) {
          expect(haystack.includes(form), `the ${name} canary is in ${where}`).toBe(false);
        }
      }
    }
    expect(output).toMatch(/"level":20/u); // debug logs were on, so there was something to search
    report('no-leak', {
      transports: Object.keys(canaries),
      canaries: Object.keys(canaries).length,
      errors_provoked: provoked,
      error_bodies_searched: errorBodies.length,
      sigkills: 1,
      server_output_bytes: Buffer.byteLength(output),
      audit_rows_bytes: auditRows.length,
      file_snapshots_searched: snapshots.length,
      files: [...new Set(snapshots.map(({ file }) => file.slice(talon.dataDir.length)))],
      forms_searched: 'utf8, hex, base64',
    });
  }, 180_000);
});
