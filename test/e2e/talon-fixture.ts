import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Page } from '@playwright/test';
import { type ServingProcess, cleanEnvironment, repositoryRoot, startServe } from '../cli/talon-process.js';

/** A fresh `talon serve` on a temporary data folder (its own SoftHSM2 token), not set up yet. */
export interface E2eTalon {
  url: string;
  dataDir: string;
  serve: ServingProcess;
  /** The owner's personal API key, written by set-up to owner-api-key. */
  ownerKey(): string;
  stop(): Promise<void>;
}

/** `talon serve` on the new folder, without a PIN, so that the UI leads to set-up. */
function serveNewFolder(dataDir: string): Promise<ServingProcess> {
  return startServe(['--data-dir', dataDir], cleanEnvironment({ TALON_DATA_DIR: dataDir }), 40_000);
}

export async function startTalon(): Promise<E2eTalon> {
  const dataDir = mkdtempSync(join(tmpdir(), 'talon-e2e-'));
  const serve = await serveNewFolder(dataDir);
  return {
    url: serve.url,
    dataDir,
    serve,
    ownerKey: () => readFileSync(join(dataDir, 'owner-api-key'), 'utf8').trim(),
    async stop() {
      await serve.stop('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const e2ePin = 'correct-horse-battery-e2e';

/** Saves the page into test-results/screens/<name>.png, for a human to look at. */
export async function screen(page: Page, name: string): Promise<void> {
  await page.screenshot({
    path: join(repositoryRoot, 'test-results', 'screens', `${name}.png`),
    fullPage: true,
  });
}

/** An agent connected over Talon's streamable HTTP MCP endpoint with the official SDK client. */
export async function mcpAgent(url: string, apiKey: string, vaultId: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', url), {
    requestInit: { headers: { authorization: `Bearer ${apiKey}`, 'x-vault-id': vaultId } },
  });
  const client = new Client({ name: 'talon-e2e-agent', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

export async function toolCall(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<{ text: string; isError: boolean }> {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });
  const content = result.content as { type: string; text?: string }[];
  return { text: content.map((part) => part.text ?? '').join('\n'), isError: result.isError === true };
}

export interface RestAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  body: any;
}

/** A REST call as an agent or the owner (Bearer credential). */
export async function rest(
  url: string,
  credential: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<RestAnswer> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${credential}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}
