import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Page } from '@playwright/test';
import {
  type Finished,
  type ServingProcess,
  cleanEnvironment,
  repositoryRoot,
  startServe,
} from '../cli/talon-process.js';

/** A fresh `talon serve` on a temporary data folder (its own SoftHSM2 token), not set up yet. */
export interface E2eTalon {
  url: string;
  dataDir: string;
  serve: ServingProcess;
  /** The owner's personal API key, written by set-up to owner-api-key. */
  ownerKey(): string;
  stop(): Promise<void>;
}

/**
 * `talon serve` on the new folder, without a PIN, so that the UI leads to set-up. While `talon
 * serve` still refuses a new folder without a PIN, the same runtime is served by
 * serve-awaiting-set-up.ts instead; the fixture moves to `talon serve` by itself once it waits.
 */
async function serveNewFolder(dataDir: string): Promise<ServingProcess> {
  const env = cleanEnvironment({ TALON_DATA_DIR: dataDir });
  try {
    return await startServe(['--data-dir', dataDir], env, 40_000);
  } catch (error) {
    if (!/is not set up yet/u.test((error as Error).message)) throw error;
  }
  return startScript(join(repositoryRoot, 'test', 'e2e', 'serve-awaiting-set-up.mjs'), dataDir, env);
}

function startScript(script: string, dataDir: string, env: NodeJS.ProcessEnv): Promise<ServingProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, '--data-dir', dataDir], { env, cwd: repositoryRoot });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<Finished>((done) =>
      child.on('close', (code) => done({ code, stdout, stderr })),
    );
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const match = /serving on (http:\/\/127\.0\.0\.1:\d+)/u.exec(stdout);
      if (match) {
        resolve({
          child,
          url: match[1]!,
          output: () => stdout + stderr,
          stop(signal = 'SIGTERM') {
            child.kill(signal);
            return exited;
          },
        });
      }
    });
    void exited.then((finished) =>
      reject(new Error(`Talon exited with ${finished.code}:\n${stdout}\n${stderr}`)),
    );
  });
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
