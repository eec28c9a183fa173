import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  type EmbeddedTokenStep,
  KeyStore,
  createEmbeddedToken,
  defaultSoftHsmModule,
  embeddedTokenState,
  removeEmbeddedToken,
  useEmbeddedSoftHsm,
} from '../../hsm-bridge/index.js';
import { type ApiServer, createApiServer } from '../api/server.js';
import type { RateLimitOptions } from '../api/request-guard.js';
import { type CallContext, Engine, TalonError } from '../engine/index.js';
import type { SetUpStep, TokenProvisioner } from '../engine/talon-lifecycle.js';
import { pinRule } from '../engine/talon-pin.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { lockDataFolder } from './data-folder-lock.js';
import { defaultAutoLockMinutes, defaultTokenLabel } from './talon-config.js';
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
  /**
   * Without a PIN, open a folder that is not set up yet anyway, locked, so the human can set it up
   * through the API (`POST /v1/talon/setup`). Default false: refuse, saying how to give a PIN.
   */
  awaitSetUp?: boolean;
  /** Lock after this many idle minutes; 0 = never. Default 15. */
  autoLockMinutes?: number;
  /** Told after each set-up step (a set-up screen shows progress; tests interrupt set-up here). */
  onSetUpProgress?: (step: TalonSetUpStep) => void;
}

/** Every step of a first set-up, in order. */
export type TalonSetUpStep = EmbeddedTokenStep | SetUpStep;

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
    `Choose a PIN (at least ${pinRule.minLength} characters, not a run such as 12345678) and give it in TALON_HSM_PIN (TALON_HSM_PIN=… ${command}), ` +
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

/**
 * The token as it is now: opened by label, or null when the embedded one does not exist yet or a
 * set-up stopped before its PIN was set or sealed (set-up then starts it again). A configured
 * token (YubiHSM 2) must exist.
 */
function openExistingToken(
  dataDir: string,
  modulePath: string,
  tokenLabel: string,
  ownerExists: boolean,
): KeyStore | null {
  if (modulePath !== defaultSoftHsmModule) return KeyStore.open({ modulePath, tokenLabel });
  if (!existsSync(modulePath)) return KeyStore.open({ modulePath, tokenLabel }); // says what to install
  const state = embeddedTokenState(dataDir, tokenLabel, modulePath);
  // With an owner the token is in use, whatever happened to the sealed SO PIN: never drop it.
  if (state === 'ready' || (state === 'unfinished' && ownerExists))
    return KeyStore.open({ modulePath, tokenLabel });
  return null;
}

/** How set-up gets a token: the embedded SoftHSM2 is created with the chosen PIN; another is opened. */
function tokenProvisioner(
  dataDir: string,
  modulePath: string,
  tokenLabel: string,
  onProgress: ((step: EmbeddedTokenStep) => void) | undefined,
  onCreated: () => void,
): TokenProvisioner {
  if (modulePath !== defaultSoftHsmModule) {
    return {
      createsToken: false,
      async provision(pin) {
        const keyStore = KeyStore.open({ modulePath, tokenLabel });
        try {
          await keyStore.login(pin);
          return keyStore;
        } catch (error) {
          keyStore.close();
          throw error;
        }
      },
    };
  }
  return {
    createsToken: true,
    async provision(pin, { replace }) {
      const state = embeddedTokenState(dataDir, tokenLabel, modulePath);
      if (state === 'ready' && !replace) {
        throw new TalonError(
          'conflict',
          `The data folder ${dataDir} already has a token; unlock it instead.`,
        );
      }
      if (state !== 'absent') removeEmbeddedToken(dataDir, modulePath);
      const keyStore = await createEmbeddedToken({
        dataDir,
        tokenLabel,
        userPin: pin,
        modulePath,
        ...(onProgress ? { onProgress } : {}),
      });
      onCreated();
      return keyStore;
    },
  };
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
    if (modulePath === defaultSoftHsmModule) useEmbeddedSoftHsm(options.dataDir);
    const databaseFile = join(options.dataDir, databaseFileName);
    const store = openSqliteStore(databaseFile);
    undo.unshift(() => store.close());
    chmodSync(databaseFile, 0o600);
    const ownerExists = store.users.list().some((user) => user.role === 'owner');
    const existing = openExistingToken(options.dataDir, modulePath, tokenLabel, ownerExists);
    if (!existing && options.pin === null && !options.awaitSetUp) {
      throw new TalonError('locked', notSetUpMessage(options.dataDir, options.setUpCommand ?? 'talon serve'));
    }
    let tokenCreated = false;
    const ownerKeyFile = join(options.dataDir, ownerKeyFileName);
    const engine = new Engine(store, existing, {
      now,
      autoLockMinutes: options.autoLockMinutes ?? defaultAutoLockMinutes,
      tokenProvisioner: tokenProvisioner(
        options.dataDir,
        modulePath,
        tokenLabel,
        options.onSetUpProgress,
        () => {
          tokenCreated = true;
        },
      ),
      ...(options.onSetUpProgress ? { onSetUpProgress: options.onSetUpProgress } : {}),
      // Written before the owner commits: a crash in between leaves a file the next set-up replaces.
      onOwnerKey: (apiKey) => writeOwnerKey(ownerKeyFile, apiKey),
    });
    // Closes whichever token the engine holds by then (set-up may have created it).
    undo.unshift(() => engine.closeToken());
    undo.unshift(() => engine.lock(systemCall(now)));

    let ownerCreated = false;
    if (options.pin !== null) {
      if (engine.lifecycle.isSetUp) {
        await engine.unlock(options.pin, systemCall(now));
      } else {
        await engine.lifecycle.setUp(
          { pin: options.pin, pin_confirmation: options.pin, email: ownerEmail },
          systemCall(now),
        );
        ownerCreated = true;
      }
    }
    let closed = false;
    return {
      engine,
      dataDir: options.dataDir,
      ownerKeyFile,
      created: { token: tokenCreated, owner: ownerCreated },
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
