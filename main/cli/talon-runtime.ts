import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  HsmError,
  KeyStore,
  createEmbeddedToken,
  defaultSoftHsmModule,
  useEmbeddedSoftHsm,
} from '../../hsm-bridge/index.js';
import { type ApiServer, createApiServer } from '../api/server.js';
import type { RateLimitOptions } from '../api/request-guard.js';
import { type CallContext, Engine, TalonError, hsmToTalonError } from '../engine/index.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { lockDataFolder } from './data-folder-lock.js';
import { defaultTokenLabel } from './talon-config.js';
import { talonVersion } from './talon-version.js';

/**
 * The composition root: the one place that opens the token and the store and builds the engine
 * on them, for `talon init`, `talon serve` and tests that run Talon in process.
 */
export interface TalonRuntimeOptions {
  dataDir: string;
  /** Default: the embedded SoftHSM2, whose token lives in the data folder. */
  modulePath?: string;
  tokenLabel?: string;
  /** Unlocks Talon (and sets it up on first use); null leaves it locked. */
  pin: string | null;
  now?: () => Date;
  /** The command a message shows for setting the folder up with a PIN. Default `talon serve`. */
  setUpCommand?: string;
}

export interface TalonRuntime {
  engine: Engine;
  dataDir: string;
  /** Where the owner's first personal API key is written at set-up. */
  ownerKeyFile: string;
  /** What this opening did for the first time: created the embedded token, set up the owner. */
  created: { token: boolean; owner: boolean };
  /** The clock of the engine and of every call context. */
  now: () => Date;
  /** Locks Talon (sealing the audit head), closes the store and the token, releases the folder. */
  close(): Promise<void>;
}

const databaseFileName = 'talon.db';
const ownerKeyFileName = 'owner-api-key';
const ownerEmail = 'owner@localhost';

function notSetUpMessage(dataDir: string, command: string): string {
  return (
    `The data folder ${dataDir} is not set up yet, and no token PIN was given to set it up. ` +
    `Choose a PIN (4 to 255 characters) and give it in TALON_HSM_PIN (TALON_HSM_PIN=… ${command}), ` +
    'or write it to a file only you can read (chmod 600) and give that with TALON_HSM_PIN_FILE or --pin-file.'
  );
}

function systemCall(now: () => Date): CallContext {
  return { now: now(), via: 'cli' };
}

/** Runs every step, even after one fails; then throws the first failure. */
async function runAll(steps: readonly (() => unknown)[]): Promise<void> {
  let failure: unknown;
  let failed = false;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      if (!failed) failure = error;
      failed = true;
    }
  }
  if (failed) throw failure;
}

/** The owner's key, readable by its owner only; an older file is replaced, never rewritten in place. */
function writeOwnerKey(file: string, apiKey: string): void {
  rmSync(file, { force: true });
  writeFileSync(file, `${apiKey}\n`, { mode: 0o600, flag: 'wx' });
}

/** The token: opened by label; the embedded one is created in the data folder when it is missing. */
async function openToken(
  options: TalonRuntimeOptions,
  modulePath: string,
  tokenLabel: string,
): Promise<{ keyStore: KeyStore; created: boolean }> {
  const embedded = modulePath === defaultSoftHsmModule;
  if (embedded) useEmbeddedSoftHsm(options.dataDir);
  try {
    return { keyStore: KeyStore.open({ modulePath, tokenLabel }), created: false };
  } catch (error) {
    const missingToken =
      embedded && existsSync(modulePath) && error instanceof HsmError && error.kind === 'hsm_unavailable';
    if (!missingToken) throw error;
  }
  if (options.pin === null) {
    throw new TalonError('locked', notSetUpMessage(options.dataDir, options.setUpCommand ?? 'talon serve'));
  }
  const keyStore = await createEmbeddedToken({
    dataDir: options.dataDir,
    tokenLabel,
    userPin: options.pin,
  }).catch((error: unknown) => {
    throw hsmToTalonError(error);
  });
  return { keyStore, created: true };
}

/**
 * Open Talon on a data folder: take the folder's lock, open (or create) the token, open the
 * database, build the engine, and with a PIN unlock it and set up the owner if there is none yet.
 */
export async function openTalon(options: TalonRuntimeOptions): Promise<TalonRuntime> {
  const now = options.now ?? (() => new Date());
  const modulePath = options.modulePath ?? defaultSoftHsmModule;
  const tokenLabel = options.tokenLabel ?? defaultTokenLabel;
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const lock = lockDataFolder(options.dataDir);
  const undo: (() => unknown)[] = [() => lock.release()];
  try {
    const token = await openToken(options, modulePath, tokenLabel);
    undo.unshift(() => token.keyStore.close());
    const databaseFile = join(options.dataDir, databaseFileName);
    const store = openSqliteStore(databaseFile);
    undo.unshift(() => store.close());
    chmodSync(databaseFile, 0o600);
    const engine = new Engine(store, token.keyStore, { now });
    undo.unshift(() => engine.lock(systemCall(now)));

    const ownerKeyFile = join(options.dataDir, ownerKeyFileName);
    let ownerCreated = false;
    if (options.pin !== null) {
      await engine.unlock(options.pin, systemCall(now));
      const setUp = engine.setUpOwner({ email: ownerEmail }, systemCall(now));
      if (setUp) {
        writeOwnerKey(ownerKeyFile, setUp.apiKey.api_key);
        ownerCreated = true;
      }
    }
    let closed = false;
    return {
      engine,
      dataDir: options.dataDir,
      ownerKeyFile,
      created: { token: token.created, owner: ownerCreated },
      now,
      async close() {
        if (closed) return;
        closed = true;
        await runAll(undo);
      },
    };
  } catch (error) {
    await runAll(undo).catch(() => undefined);
    throw error;
  }
}

export interface ServeOptions {
  port: number;
  host?: string;
  logger?: Logger;
  rateLimit?: RateLimitOptions;
  extraAllowedHosts?: string[];
}

export interface ServingTalon {
  url: string;
  server: ApiServer;
  /** Stops answering, then closes the runtime (locking Talon). */
  stop(): Promise<void>;
}

/** The local API over an opened runtime, listening on 127.0.0.1 (or `host`) and `port`. */
export async function serveTalon(runtime: TalonRuntime, options: ServeOptions): Promise<ServingTalon> {
  const server = await createApiServer({
    ...options,
    engine: runtime.engine,
    now: runtime.now,
    version: talonVersion(),
  });
  let url: string;
  try {
    url = await server.listen();
  } catch (error) {
    await server.app.close();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    url,
    server,
    stop() {
      stopped ??= (async () => {
        try {
          await server.app.close();
        } finally {
          await runtime.close();
        }
      })();
      return stopped;
    },
  };
}
