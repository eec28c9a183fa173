import { z } from 'zod';
import {
  TalonError,
  createAgentRequestSchema,
  createPolicyRequestSchema,
  createVaultRequestSchema,
  fulfilSecretRequestSchema,
  parseRequest,
  permissionSchema,
  putSecretRequestSchema,
  updateAgentRequestSchema,
} from '../engine/index.js';
import {
  type DeskAnswer,
  type DeskErrorShape,
  type DeskMethodName,
  type DeskMethods,
  deskChannelPrefix,
  deskMethodNames,
} from '../../renderer/src/contract/talon-desk.js';

/**
 * The IPC handler table of the desktop app: one channel per contract method. Each message is
 * checked twice before it reaches the engine: its sender must be the app's own page (a frame
 * whose URL is on the app's origin, not an iframe or a page navigated elsewhere), and its
 * arguments must parse with the method's schema — the engine's shared request schemas for
 * bodies. The answer is `{ ok, value | error }` with the problem-details error shape, so the
 * renderer has one error path for both transports. Pure: no electron import, so it is tested
 * without Electron.
 */

/** What the handler table calls: the contract, implemented over the engine (engine-desk.ts). */
export type DeskBackend = {
  [K in DeskMethodName]: (
    ...args: Parameters<DeskMethods[K]>
  ) => Promise<ReturnType<DeskMethods[K]>> | ReturnType<DeskMethods[K]>;
};

const uuid = z.guid({ error: 'must be a UUID' });
const secretPath = z.string({ error: 'must be a secret path' }).min(1).max(512);
const version = z.int({ error: 'must be a version number' }).min(1);
const pin = z.string({ error: 'must be a PIN of 4 to 255 characters' }).min(4).max(255);
const totpCode = z.string({ error: 'must be a 6-digit code or a recovery code' }).min(6).max(64);
const object = z.record(z.string(), z.unknown(), { error: 'must be an object' });

const simulateSchema = z.object({
  principal_type: z.enum(['user', 'agent']),
  principal_id: uuid,
  path: secretPath,
  permission: permissionSchema,
});

const auditFilterSchema = z.object({
  vault_id: uuid.optional(),
  actor_id: z.string().max(100).optional(),
  action: z.string().max(100).optional(),
  outcome: z.enum(['success', 'denied', 'error']).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.int().min(1).max(1000).optional(),
  offset: z.int().min(0).optional(),
});

const shareSchema = z.object({
  recipient_type: z.enum(['user', 'agent', 'anyone_with_link', 'creator']),
  recipient_id: uuid.optional(),
  expires_at: z.iso.datetime({ offset: true }),
  max_access_count: z.int().min(0).optional(),
});

/** The argument list of each method, as a tuple schema. */
export const deskArgumentSchemas = {
  status: z.tuple([]),
  setup: z.tuple([z.object({ pin, pin_confirmation: pin })]),
  unlock: z.tuple([z.object({ pin, totp_code: totpCode.optional() })]),
  lock: z.tuple([]),
  listVaults: z.tuple([]),
  createVault: z.tuple([createVaultRequestSchema]),
  deleteVault: z.tuple([uuid]),
  listSecrets: z.tuple([
    uuid,
    z.object({ prefix: z.string().max(512).optional(), include_deleted: z.boolean().optional() }),
  ]),
  revealSecret: z.tuple([uuid, secretPath, version.nullable()]),
  putSecret: z.tuple([uuid, secretPath, putSecretRequestSchema]),
  deleteSecret: z.tuple([uuid, secretPath]),
  restoreSecret: z.tuple([uuid, secretPath]),
  purgeSecret: z.tuple([uuid, secretPath]),
  listVersions: z.tuple([uuid, secretPath]),
  rollbackSecret: z.tuple([uuid, secretPath, version]),
  listAgents: z.tuple([]),
  createAgent: z.tuple([createAgentRequestSchema]),
  updateAgent: z.tuple([uuid, updateAgentRequestSchema]),
  rotateAgentKey: z.tuple([uuid]),
  deactivateAgent: z.tuple([uuid]),
  listPairings: z.tuple([]),
  revokePairing: z.tuple([uuid]),
  listPolicies: z.tuple([uuid]),
  createPolicy: z.tuple([uuid, createPolicyRequestSchema]),
  deletePolicy: z.tuple([uuid, uuid]),
  simulatePolicy: z.tuple([uuid, simulateSchema]),
  queryAudit: z.tuple([auditFilterSchema]),
  verifyAudit: z.tuple([]),
  listShares: z.tuple([z.enum(['outbound', 'inbound'])]),
  createShare: z.tuple([uuid, shareSchema]),
  acceptShare: z.tuple([uuid]),
  declineShare: z.tuple([uuid]),
  revokeShare: z.tuple([uuid]),
  accessShare: z.tuple([uuid]),
  listApprovals: z.tuple([z.enum(['pending', 'approved', 'rejected', 'expired', 'all'])]),
  decideApproval: z.tuple([
    uuid,
    z.object({ decision: z.enum(['approve', 'reject']), reason: z.string().max(1000).optional() }),
  ]),
  fulfilSecretRequest: z.tuple([uuid, fulfilSecretRequestSchema.shape.value]),
  mfaStatus: z.tuple([]),
  mfaBegin: z.tuple([]),
  mfaConfirm: z.tuple([totpCode]),
  mfaDisable: z.tuple([totpCode]),
  getSettings: z.tuple([]),
  updateSettings: z.tuple([
    object.pipe(
      z.strictObject({
        auto_lock_seconds: z.int().min(0).max(86_400).optional(),
        remember_pin: z.boolean().optional(),
      }),
    ),
  ]),
} satisfies Record<DeskMethodName, z.ZodTuple>;

/** The part of Electron's IPC event the table looks at. */
export interface DeskIpcEvent {
  senderFrame: { url: string; parent?: unknown } | null;
}

export interface DeskIpcOptions {
  backend: DeskBackend;
  /** The origin the app's page is served from, e.g. `app://talon`. */
  appOrigin: string;
  /** Told about each failure that is not the caller's fault (logged by the shell; never values). */
  onUnexpectedError?: (method: string, error: unknown) => void;
}

export const deskChannel = (method: DeskMethodName): string => `${deskChannelPrefix}${method}`;

/** True when `url` is a page of the app itself (same scheme and host as `appOrigin`). */
export function isAppUrl(url: string, appOrigin: string): boolean {
  try {
    const parsed = new URL(url);
    const expected = new URL(appOrigin);
    return parsed.protocol === expected.protocol && parsed.host === expected.host;
  } catch {
    return false;
  }
}

function errorShape(error: unknown): DeskErrorShape {
  if (TalonError.is(error)) {
    return { code: error.code, status: error.status, message: error.message, details: error.details };
  }
  return {
    code: 'internal',
    status: 500,
    message: 'Talon hit an unexpected error. Try again; if it keeps happening, restart Talon.',
  };
}

/** One handler per method name: checks the sender and the arguments, then calls the backend. */
export function createDeskHandlers(
  options: DeskIpcOptions,
): Map<string, (event: DeskIpcEvent, ...args: unknown[]) => Promise<DeskAnswer<unknown>>> {
  const handlers = new Map<
    string,
    (event: DeskIpcEvent, ...args: unknown[]) => Promise<DeskAnswer<unknown>>
  >();
  for (const method of deskMethodNames) {
    handlers.set(deskChannel(method), async (event, ...args) => {
      try {
        const frame = event.senderFrame;
        // A sub-frame (parent set) is never trusted, even on the app's origin.
        if (!frame || frame.parent || !isAppUrl(frame.url, options.appOrigin)) {
          throw new TalonError(
            'forbidden',
            'This message did not come from the Talon window; it was ignored.',
          );
        }
        const schema: z.ZodTuple = deskArgumentSchemas[method];
        const arity = schema.def.items.length;
        if (args.length !== arity) {
          throw new TalonError(
            'invalid_input',
            `Invalid ${method} call: it takes ${arity} argument${arity === 1 ? '' : 's'}, not ${args.length}.`,
          );
        }
        parseRequest(schema, args, `${method} call`);
        const call = options.backend[method] as (...values: unknown[]) => unknown;
        const value = await call.apply(options.backend, args);
        return { ok: true, value: value ?? null };
      } catch (error) {
        if (!TalonError.is(error)) options.onUnexpectedError?.(method, error);
        return { ok: false, error: errorShape(error) };
      }
    });
  }
  return handlers;
}

/** The subset of `ipcMain` the table needs. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: DeskIpcEvent, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

/** Registers every handler on `ipcMain`; returns the function that removes them. */
export function registerDeskIpc(ipcMain: IpcMainLike, options: DeskIpcOptions): () => void {
  const handlers = createDeskHandlers(options);
  for (const [channel, handler] of handlers) {
    ipcMain.handle(channel, handler);
  }
  return () => {
    for (const channel of handlers.keys()) ipcMain.removeHandler(channel);
  };
}
