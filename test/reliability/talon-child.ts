import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Finished,
  type ServingProcess,
  cleanEnvironment,
  cliPin,
  startServe,
} from '../cli/talon-process.js';

/**
 * `talon serve` as a real child process on its own data folder (and so its own SoftHSM2 token),
 * which a scenario can kill and start again. Everything the children printed is kept, across
 * restarts, so a scenario can search it (for a canary value, say).
 */
export interface ChildTalon {
  dataDir: string;
  databaseFile: string;
  /** The embedded token's folder, which token-fault scenarios move away. */
  tokenFolder: string;
  url: string;
  ownerKey: string;
  /** Every line every child printed so far (stdout and stderr), and how each ended. */
  output(): string;
  /** Starts the child (again), with the PIN; resolves once it serves. */
  start(extraEnv?: Record<string, string>): Promise<void>;
  /** SIGKILL: no lock, no seal, no flush; resolves once the process is gone. */
  kill(): Promise<Finished>;
  /** SIGTERM, the clean way. */
  stop(): Promise<Finished>;
  request(method: string, path: string, options?: ChildRequest): Promise<ChildAnswer>;
  /** Stops the child if it runs and removes the data folder. */
  cleanup(): Promise<void>;
}

export interface ChildRequest {
  json?: unknown;
  /** Default: the owner's personal key; null sends none. */
  credential?: string | null;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ChildAnswer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- scenarios read arbitrary JSON
  text: string;
}

export async function startChildTalon(
  options: { logLevel?: string; env?: Record<string, string>; parentDir?: string } = {},
): Promise<ChildTalon> {
  const dataDir = mkdtempSync(join(options.parentDir ?? tmpdir(), 'talon-reliability-'));
  const databaseFile = join(dataDir, 'talon.db');
  let serving: ServingProcess | undefined;
  let ownerKey = '';
  const finished: string[] = [];
  const outputs: string[] = [];

  const child: ChildTalon = {
    dataDir,
    databaseFile,
    tokenFolder: join(dataDir, 'softhsm2', 'tokens'),
    get url() {
      if (!serving) throw new Error('talon serve is not running');
      return serving.url;
    },
    get ownerKey() {
      return ownerKey;
    },
    output: () => [...outputs, serving?.output() ?? '', ...finished].join('\n'),
    async start(extraEnv = {}) {
      serving = await startServe(
        ['--data-dir', dataDir],
        cleanEnvironment({
          TALON_HSM_PIN: cliPin,
          TALON_LOG_LEVEL: options.logLevel ?? 'warn',
          ...options.env,
          ...extraEnv,
        }),
        60_000,
      );
      ownerKey = readFileSync(join(dataDir, 'owner-api-key'), 'utf8').trim();
    },
    async kill() {
      return end('SIGKILL');
    },
    async stop() {
      return end('SIGTERM');
    },
    async request(method, path, request = {}) {
      const headers: Record<string, string> = { ...request.headers };
      const credential = request.credential === undefined ? ownerKey : request.credential;
      if (credential !== null) headers.authorization = `Bearer ${credential}`;
      let body: string | undefined;
      if (request.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(request.json);
      }
      const response = await fetch(`${child.url}${path}`, {
        method,
        headers,
        body,
        ...(request.signal ? { signal: request.signal } : {}),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: response.status, body: parsed, text };
    },
    async cleanup() {
      if (serving && serving.child.exitCode === null && serving.child.signalCode === null)
        await end('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };

  async function end(signal: NodeJS.Signals): Promise<Finished> {
    if (!serving) throw new Error('talon serve is not running');
    const stopping = serving;
    serving = undefined;
    const result = await stopping.stop(signal);
    outputs.push(result.stdout, result.stderr);
    finished.push(`[exit ${signal}: code ${result.code}]`);
    return result;
  }

  return child;
}
