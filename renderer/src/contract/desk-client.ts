import {
  type DeskAnswer,
  DeskError,
  type DeskEvent,
  type DeskSecretMetadata,
  type DeskSettings,
  type DeskStatus,
  type TalonDesk,
  deskMethodNames,
} from './talon-desk.js';

/**
 * The two transports of the UI contract. `connectDesk()` picks the one it finds: the preload's
 * `window.talon` in the desktop app, else HTTP to the /v1 routes of the Talon that served the
 * page (browser mode, `talon serve`). Screens get a `TalonDesk` and never know which.
 */

type Bridge = Record<string, (...args: unknown[]) => Promise<DeskAnswer<unknown>>> & {
  subscribe(listener: (event: DeskEvent) => void): () => void;
};

/** The desktop transport: unwraps `{ ok, value | error }` answers into values or DeskErrors. */
export function ipcDesk(bridge: Bridge): TalonDesk {
  const desk: Record<string, unknown> = {};
  for (const method of deskMethodNames) {
    desk[method] = async (...args: unknown[]) => {
      const answer = await bridge[method]!(...args);
      if (!answer.ok) throw new DeskError(answer.error);
      return answer.value;
    };
  }
  desk.subscribe = (listener: (event: DeskEvent) => void) => bridge.subscribe(listener);
  return desk as TalonDesk;
}

export const csrfCookieName = 'talon_csrf';
export const csrfHeaderName = 'x-talon-csrf';
const settingsKey = 'talon.settings';

const defaultSettings: DeskSettings = {
  auto_lock_seconds: 900,
  remember_pin: false,
  remember_pin_available: false,
};

export interface HttpDeskOptions {
  /** Default: the page's origin. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Reads the CSRF cookie (default `document.cookie`). */
  readCookie?: (name: string) => string | undefined;
  /** Where browser-mode settings live (default localStorage). */
  storage?: KeyValueStorage;
  /** Opens the event stream (default `EventSource`). */
  openEvents?: (url: string) => EventSourceLike;
}

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * The page's globals, reached through globalThis so that this module also loads (and is tested) in
 * Node, where there is no DOM.
 */
const page = globalThis as {
  document?: { cookie: string };
  localStorage?: KeyValueStorage;
  EventSource?: new (url: string, init: { withCredentials: boolean }) => EventSourceLike;
  talon?: Bridge & { transport?: string };
};

export interface EventSourceLike {
  addEventListener(type: string, listener: (event: { data: string }) => void): void;
  close(): void;
}

/** Each segment percent-encoded on its own, so `/` stays a separator and nothing else escapes. */
export function encodeSecretPath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

function documentCookie(name: string): string | undefined {
  if (!page.document) return undefined;
  for (const part of page.document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

/** The browser-mode transport: the contract as calls to Talon's /v1 REST routes. */
export function httpDesk(options: HttpDeskOptions = {}): TalonDesk {
  const base = options.baseUrl ?? '';
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const readCookie = options.readCookie ?? documentCookie;
  const storage = options.storage ?? page.localStorage;

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && method !== 'HEAD') {
      const csrf = readCookie(csrfCookieName);
      if (csrf) headers[csrfHeaderName] = csrf;
    }
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers,
        credentials: 'same-origin',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      throw new DeskError({
        code: 'unreachable',
        status: 0,
        message: 'Talon does not answer. Check that `talon serve` (or the desktop app) is still running.',
      });
    }
    if (response.status === 204) return null as T;
    const text = await response.text();
    let parsed: unknown = null;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    if (!response.ok) {
      const problem = (parsed ?? {}) as { code?: string; detail?: string; title?: string };
      throw new DeskError({
        code: problem.code ?? (response.status === 404 ? 'not_found' : 'internal'),
        status: response.status,
        message: problem.detail ?? problem.title ?? `Talon answered ${response.status}.`,
        details: (parsed ?? {}) as Record<string, unknown>,
      });
    }
    return parsed as T;
  }

  const secretUrl = (kind: string, vaultId: string, path: string) =>
    `/v1/vaults/${encodeURIComponent(vaultId)}/${kind}/${encodeSecretPath(path)}`;

  const readSettings = (): DeskSettings => {
    try {
      const saved = JSON.parse(storage?.getItem(settingsKey) ?? '{}') as Partial<DeskSettings>;
      return {
        ...defaultSettings,
        ...(typeof saved.auto_lock_seconds === 'number'
          ? { auto_lock_seconds: saved.auto_lock_seconds }
          : {}),
      };
    } catch {
      return defaultSettings;
    }
  };

  const status = () => request<DeskStatus>('GET', '/ui/session');

  const desk: TalonDesk = {
    status,
    async setup(input) {
      await request('POST', '/v1/talon/setup', input);
      return request<DeskStatus>('POST', '/ui/session', { pin: input.pin });
    },
    unlock: (input) => request<DeskStatus>('POST', '/ui/session', input),
    async lock() {
      try {
        await request('POST', '/v1/talon/lock', {});
      } finally {
        await request('DELETE', '/ui/session').catch(() => null);
      }
      return status();
    },

    listVaults: async () => (await request<{ vaults: never[] }>('GET', '/v1/vaults')).vaults,
    createVault: (input) => request('POST', '/v1/vaults', input),
    deleteVault: (vaultId) => request('DELETE', `/v1/vaults/${encodeURIComponent(vaultId)}`),

    async listSecrets(vaultId, listOptions) {
      const all: DeskSecretMetadata[] = [];
      let cursor: string | null = null;
      do {
        const query = new URLSearchParams({ limit: '1000' });
        if (listOptions.prefix) query.set('prefix', listOptions.prefix);
        if (listOptions.include_deleted) query.set('include_deleted', 'true');
        if (cursor) query.set('cursor', cursor);
        const page: { secrets: DeskSecretMetadata[]; next_cursor: string | null } = await request(
          'GET',
          `/v1/vaults/${encodeURIComponent(vaultId)}/secrets?${query}`,
        );
        all.push(...page.secrets);
        cursor = page.next_cursor;
      } while (cursor);
      return all;
    },
    revealSecret: (vaultId, path, version) =>
      version === null
        ? request('GET', secretUrl('secrets', vaultId, path))
        : request('GET', `${secretUrl('secret-version', vaultId, path)}/${version}`),
    putSecret: (vaultId, path, input) => request('PUT', secretUrl('secrets', vaultId, path), input),
    deleteSecret: (vaultId, path) => request('DELETE', secretUrl('secrets', vaultId, path)),
    restoreSecret: (vaultId, path) => request('POST', secretUrl('secret-restore', vaultId, path), {}),
    purgeSecret: (vaultId, path) => request('DELETE', secretUrl('secret-purge', vaultId, path)),
    listVersions: async (vaultId, path) =>
      (await request<{ versions: never[] }>('GET', secretUrl('secret-versions', vaultId, path))).versions,
    rollbackSecret: (vaultId, path, version) =>
      request('POST', `${secretUrl('secret-rollback', vaultId, path)}/${version}`, {}),

    listAgents: async () => (await request<{ agents: never[] }>('GET', '/v1/agents')).agents,
    createAgent: (input) => request('POST', '/v1/agents', input),
    updateAgent: (agentId, input) => request('PATCH', `/v1/agents/${encodeURIComponent(agentId)}`, input),
    rotateAgentKey: (agentId) => request('POST', `/v1/agents/${encodeURIComponent(agentId)}/rotate-key`, {}),
    deactivateAgent: (agentId) => request('DELETE', `/v1/agents/${encodeURIComponent(agentId)}`),
    listPairings: async () => (await request<{ pairings: never[] }>('GET', '/v1/mcp/pairings')).pairings,
    revokePairing: (pairingId) => request('DELETE', `/v1/mcp/pairings/${encodeURIComponent(pairingId)}`),

    listPolicies: async (vaultId) =>
      (await request<{ policies: never[] }>('GET', `/v1/vaults/${encodeURIComponent(vaultId)}/policies`))
        .policies,
    createPolicy: (vaultId, input) =>
      request('POST', `/v1/vaults/${encodeURIComponent(vaultId)}/policies`, input),
    deletePolicy: (vaultId, policyId) =>
      request('DELETE', `/v1/vaults/${encodeURIComponent(vaultId)}/policies/${encodeURIComponent(policyId)}`),
    simulatePolicy: (vaultId, input) =>
      request('POST', `/v1/vaults/${encodeURIComponent(vaultId)}/policies/simulate`, input),

    queryAudit(filter) {
      const query = new URLSearchParams();
      for (const [key, value] of Object.entries(filter)) {
        if (value !== undefined && value !== '') query.set(key, String(value));
      }
      return request('GET', `/v1/audit/events?${query}`);
    },
    verifyAudit: () => request('GET', '/v1/audit/verify'),

    listShares: async (direction) =>
      (await request<{ shares: never[] }>('GET', `/v1/shares/${direction}`)).shares,
    createShare: (secretId, input) =>
      request('POST', `/v1/secrets/${encodeURIComponent(secretId)}/share`, input),
    acceptShare: (shareId) => request('POST', `/v1/shares/${encodeURIComponent(shareId)}/accept`, {}),
    declineShare: (shareId) => request('POST', `/v1/shares/${encodeURIComponent(shareId)}/decline`, {}),
    revokeShare: (shareId) => request('DELETE', `/v1/share/${encodeURIComponent(shareId)}`),
    accessShare: (shareId) => request('GET', `/v1/share/${encodeURIComponent(shareId)}`),

    async listApprovals(approvalStatus) {
      const query = approvalStatus === 'all' ? '' : `?status=${approvalStatus}`;
      return (await request<{ approvals: never[] }>('GET', `/v1/approvals${query}`)).approvals;
    },
    decideApproval: (approvalId, input) =>
      request('POST', `/v1/approvals/${encodeURIComponent(approvalId)}/decide`, input),
    fulfilSecretRequest: (approvalId, value) =>
      request('POST', `/v1/secret-requests/${encodeURIComponent(approvalId)}/fulfil`, { value }),

    mfaStatus: () => request('GET', '/v1/auth/mfa/status'),
    mfaBegin: () => request('POST', '/v1/auth/mfa/setup', {}),
    mfaConfirm: (code) => request('POST', '/v1/auth/mfa/verify-setup', { code }),
    mfaDisable: (code) => request('DELETE', '/v1/auth/mfa', { code }),

    getSettings: async () => readSettings(),
    async updateSettings(input) {
      const next = { ...readSettings(), ...input, remember_pin: false };
      storage?.setItem(settingsKey, JSON.stringify({ auto_lock_seconds: next.auto_lock_seconds }));
      return readSettings();
    },

    subscribe(listener) {
      const EventSourceClass = page.EventSource;
      const open =
        options.openEvents ??
        (EventSourceClass
          ? (url: string) => new EventSourceClass(url, { withCredentials: true })
          : undefined);
      if (!open) return () => undefined;
      const source = open(`${base}/v1/events`);
      for (const type of ['approval.created', 'approval.decided', 'talon.locked', 'talon.unlocked']) {
        source.addEventListener(type, (event: { data: string }) => {
          let data: Record<string, unknown> = {};
          try {
            data = JSON.parse(event.data) as Record<string, unknown>;
          } catch {
            data = {};
          }
          const approval = (data.approval ?? data) as never;
          listener(type.startsWith('approval') ? ({ type, approval } as DeskEvent) : ({ type } as DeskEvent));
        });
      }
      return () => source.close();
    },
  };
  return desk;
}

export function connectDesk(): TalonDesk {
  return page.talon ? ipcDesk(page.talon) : httpDesk();
}
