import { BearerSource } from './bearer-source.js';
import { readEventStream } from './event-stream.js';
import { TalonClientError, problemToError } from './talon-client-error.js';
import type {
  Agent,
  AgentCreated,
  Approval,
  ApprovalPending,
  ApprovalRequest,
  AuditEvent,
  AuditQuery,
  AuditVerification,
  CreateAgentRequest,
  CreatePolicyRequest,
  CreateShareRequest,
  CreateVaultRequest,
  GrantOptions,
  Health,
  LoginResponse,
  PersonalKey,
  PersonalKeyCreated,
  Permission,
  Policy,
  PolicySimulation,
  PrincipalType,
  RotationCharset,
  Secret,
  SecretCreated,
  SecretList,
  SecretMetadata,
  SecretOptions,
  SecretVersion,
  Share,
  ShareListItem,
  SharedSecret,
  TalonEvent,
  TalonStatus,
  TokenResponse,
  UnlockRequest,
  UpdateAgentRequest,
  UpdatePolicyRequest,
  Vault,
} from './wire-types.js';

export type Fetch = typeof fetch;

/** The options of `createClient`, named as 1Claw's SDK names them. */
export interface ClientOptions {
  /** Talon's local API. Default `http://127.0.0.1:7417`. */
  baseUrl?: string;
  /** A JWT: a person's session (from `auth.login` or `talon.unlock`) or an agent token. Never refreshed. */
  token?: string;
  /**
   * An agent key (`ocv_…`: exchanged for a token, refreshed 60 s before it expires) or a
   * personal key (`1ck_…`: sent as is; Talon takes it as a bearer credential).
   */
  apiKey?: string;
  /** The agent the `ocv_` key belongs to; learnt from the exchange when left out. */
  agentId?: string;
  fetch?: Fetch;
  /** Milliseconds since the epoch, for token refresh; injectable for tests. */
  now?: () => number;
}

export const defaultBaseUrl = 'http://127.0.0.1:7417';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Call {
  method: Method;
  /** Starting with `/v1/`, already encoded. */
  path: string;
  query?: Record<string, string | number | boolean | undefined | null>;
  body?: unknown;
  /** No credential is sent (public routes). */
  anonymous?: boolean;
  /** A 202 answer is an approval to wait for (a gated call). */
  gated?: boolean;
  /** Resubmits a gated call with the approval a human gave (`X-Approval-ID`). */
  approvalId?: string;
  signal?: AbortSignal;
}

/** A secret path in a URL: each segment encoded on its own, joined with `/` (as 1Claw's clients do). */
export function encodeSecretPath(path: string): string {
  return path
    .replace(/^\/+|\/+$/gu, '')
    .split('/')
    .map(encodeURIComponent)
    .join('/');
}

const id = (value: string) => encodeURIComponent(value);

/** A gated call, resubmitted once a human approved it. */
export interface GatedOptions {
  approvalId?: string;
}

/** Whether a result is an approval to wait for instead of the answer. */
export function isApprovalPending(value: unknown): value is ApprovalPending {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { approval_required?: unknown }).approval_required === true
  );
}

/**
 * 1Claw's SDK answers `{ data, error }` instead of throwing. `settle(promise)` gives that shape
 * for code written that way: `const { data, error } = await settle(client.vault.list())`.
 */
export async function settle<T>(
  promise: Promise<T>,
): Promise<{ data: T; error: null } | { data: null; error: TalonClientError }> {
  try {
    return { data: await promise, error: null };
  } catch (error) {
    if (error instanceof TalonClientError) return { data: null, error };
    throw error;
  }
}

/** What every namespace uses: one authenticated call, JSON in and out, errors as TalonClientError. */
export class TalonHttp {
  readonly baseUrl: string;
  readonly credential: BearerSource;
  private readonly fetchImpl: Fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = (options.baseUrl ?? defaultBaseUrl).replace(/\/+$/u, '');
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.credential = new BearerSource(
      options,
      (body) =>
        this.request<TokenResponse>({ method: 'POST', path: '/v1/auth/agent-token', body, anonymous: true }),
      options.now ?? Date.now,
    );
  }

  /**
   * One call. A token Talon refuses (401) is exchanged again once when it came from an agent
   * key, and the call retried: the key may still be good (Talon was re-initialised, say).
   */
  async request<T>(call: Call): Promise<T> {
    const bearer = call.anonymous ? undefined : await this.credential.bearer();
    try {
      return await this.send<T>(call, bearer);
    } catch (error) {
      if (!(bearer && TalonClientError.is(error, 'unauthenticated') && this.credential.canRenew)) throw error;
      this.credential.forget(bearer);
      return this.send<T>(call, await this.credential.bearer());
    }
  }

  /** An open `text/event-stream` response (for `GET /v1/events`). */
  async stream(path: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const response = await this.fetchResponse(
      { method: 'GET', path, ...(signal ? { signal } : {}) },
      await this.credential.bearer(),
      'text/event-stream',
    );
    if (!response.ok)
      throw problemToError(response.status, await response.text(), response.headers.get('retry-after'));
    if (!response.body)
      throw new TalonClientError(502, 'bad_response', `Talon answered ${path} without a body.`);
    return response.body;
  }

  private async send<T>(call: Call, bearer: string | undefined): Promise<T> {
    const response = await this.fetchResponse(call, bearer, 'application/json');
    const text = await response.text();
    if (!response.ok) throw problemToError(response.status, text, response.headers.get('retry-after'));
    if (text === '') return undefined as T;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new TalonClientError(
        502,
        'bad_response',
        `Talon at ${this.baseUrl} answered ${call.method} ${call.path} with something other than JSON.`,
      );
    }
    if (response.status === 202 && call.gated) {
      const approval = (body as { approval?: Approval }).approval ?? (body as Approval);
      return { approval_required: true, approval } satisfies ApprovalPending as T;
    }
    return body as T;
  }

  private async fetchResponse(call: Call, bearer: string | undefined, accept: string): Promise<Response> {
    const headers: Record<string, string> = { accept };
    if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    if (call.approvalId !== undefined) headers['x-approval-id'] = call.approvalId;
    let url = `${this.baseUrl}${call.path}`;
    if (call.query) {
      const query = new URLSearchParams();
      for (const [name, value] of Object.entries(call.query)) {
        if (value !== undefined && value !== null) query.set(name, String(value));
      }
      const text = query.toString();
      if (text) url += `${url.includes('?') ? '&' : '?'}${text}`;
    }
    try {
      return await this.fetchImpl(url, {
        method: call.method,
        headers,
        ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
        ...(call.signal ? { signal: call.signal } : {}),
      });
    } catch (error) {
      if (call.signal?.aborted) throw error;
      throw new TalonClientError(
        503,
        'talon_unreachable',
        `Cannot reach Talon at ${this.baseUrl} (${networkCause(error)}). Start the Talon app or \`talon serve\`, or point ONECLAW_BASE_URL at it.`,
      );
    }
  }
}

/** Why fetch failed, in a word: the cause's code (ECONNREFUSED) or message, else fetch's own. */
function networkCause(error: unknown): string {
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

const secretUrl = (collection: string, vaultId: string, path: string) =>
  `/v1/vaults/${id(vaultId)}/${collection}/${encodeSecretPath(path)}`;

/** `client.vault`: vaults. */
export class VaultResource {
  constructor(private readonly http: TalonHttp) {}
  create(body: CreateVaultRequest): Promise<Vault> {
    return this.http.request({ method: 'POST', path: '/v1/vaults', body });
  }
  get(vaultId: string): Promise<Vault> {
    return this.http.request({ method: 'GET', path: `/v1/vaults/${id(vaultId)}` });
  }
  list(): Promise<{ vaults: Vault[] }> {
    return this.http.request({ method: 'GET', path: '/v1/vaults' });
  }
  async delete(vaultId: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: `/v1/vaults/${id(vaultId)}` });
  }
}

/** `client.secrets`: secrets and their versions, by vault and path. */
export class SecretsResource {
  constructor(private readonly http: TalonHttp) {}

  /** Stores a value at `key` (a new secret, or a new version of one). */
  set(vaultId: string, key: string, value: string, options: SecretOptions = {}): Promise<SecretCreated> {
    return this.http.request({
      method: 'PUT',
      path: secretUrl('secrets', vaultId, key),
      body: { ...options, value },
    });
  }
  /**
   * The current value; an approval to wait for when a policy asks a human first. Once it is
   * approved, call again with `{ approvalId }`.
   */
  get(vaultId: string, key: string, options: GatedOptions = {}): Promise<Secret | ApprovalPending> {
    return this.http.request({
      method: 'GET',
      path: secretUrl('secrets', vaultId, key),
      gated: true,
      ...options,
    });
  }
  async delete(vaultId: string, key: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: secretUrl('secrets', vaultId, key) });
  }
  /** One page of metadata (never values); follow `next_cursor` with `options.cursor`. */
  list(
    vaultId: string,
    prefix?: string,
    options: { cursor?: string; limit?: number; includeDeleted?: boolean } = {},
  ): Promise<SecretList> {
    return this.http.request({
      method: 'GET',
      path: `/v1/vaults/${id(vaultId)}/secrets`,
      query: {
        prefix,
        cursor: options.cursor,
        limit: options.limit,
        include_deleted: options.includeDeleted ? 'true' : undefined,
      },
    });
  }
  /** Every page of the listing. */
  async listAll(
    vaultId: string,
    prefix?: string,
    options: { includeDeleted?: boolean } = {},
  ): Promise<SecretMetadata[]> {
    const all: SecretMetadata[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.list(vaultId, prefix, {
        ...options,
        limit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      all.push(...page.secrets);
      const next = page.next_cursor ?? null;
      if (next === null || next === cursor || page.secrets.length === 0) return all;
      cursor = next;
    }
  }
  /** A new version with the given value (1Claw's `rotate` = `set`). */
  rotate(vaultId: string, key: string, value: string, options: SecretOptions = {}): Promise<SecretCreated> {
    return this.set(vaultId, key, value, options);
  }
  /** A new version whose value Talon generates; the value never leaves Talon. */
  rotateGenerate(
    vaultId: string,
    key: string,
    options: { length?: number; charset?: RotationCharset } = {},
  ): Promise<SecretCreated> {
    return this.http.request({
      method: 'POST',
      path: secretUrl('secret-rotate', vaultId, key),
      body: options,
    });
  }
  listVersions(vaultId: string, key: string): Promise<{ versions: SecretVersion[] }> {
    return this.http.request({ method: 'GET', path: secretUrl('secret-versions', vaultId, key) });
  }
  getVersion(
    vaultId: string,
    key: string,
    version: number,
    options: GatedOptions = {},
  ): Promise<Secret | ApprovalPending> {
    return this.http.request({
      method: 'GET',
      path: `${secretUrl('secret-version', vaultId, key)}/${version}`,
      gated: true,
      ...options,
    });
  }
  async disableVersion(vaultId: string, key: string, version: number): Promise<void> {
    await this.http.request({
      method: 'POST',
      path: `${secretUrl('secret-version-disable', vaultId, key)}/${version}`,
    });
  }
  /** Talon: metadata of one secret, without reading its value. */
  describe(vaultId: string, key: string): Promise<SecretMetadata> {
    return this.http.request({ method: 'GET', path: secretUrl('secret-describe', vaultId, key) });
  }
  /** Talon: undoes a delete. */
  restore(vaultId: string, key: string): Promise<SecretMetadata> {
    return this.http.request({ method: 'POST', path: secretUrl('secret-restore', vaultId, key) });
  }
  /** Talon: a new version holding the value of an older one. */
  rollback(vaultId: string, key: string, version: number): Promise<SecretCreated> {
    return this.http.request({
      method: 'POST',
      path: `${secretUrl('secret-rollback', vaultId, key)}/${version}`,
    });
  }
  /** Talon: removes a deleted secret and all its versions for good. */
  async purge(vaultId: string, key: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: secretUrl('secret-purge', vaultId, key) });
  }
}

/** `client.access`: policies (1Claw's grants). */
export class AccessResource {
  constructor(private readonly http: TalonHttp) {}
  grantHuman(
    vaultId: string,
    userId: string,
    permissions: Permission[],
    options: GrantOptions = {},
  ): Promise<Policy> {
    return this.grant(vaultId, 'user', userId, permissions, options);
  }
  grantAgent(
    vaultId: string,
    agentId: string,
    permissions: Permission[],
    options: GrantOptions = {},
  ): Promise<Policy> {
    return this.grant(vaultId, 'agent', agentId, permissions, options);
  }
  /** A policy in `/v1`'s own shape. */
  create(vaultId: string, body: CreatePolicyRequest): Promise<Policy> {
    return this.http.request({ method: 'POST', path: `/v1/vaults/${id(vaultId)}/policies`, body });
  }
  update(vaultId: string, policyId: string, body: UpdatePolicyRequest): Promise<Policy> {
    return this.http.request({
      method: 'PUT',
      path: `/v1/vaults/${id(vaultId)}/policies/${id(policyId)}`,
      body,
    });
  }
  async revoke(vaultId: string, policyId: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: `/v1/vaults/${id(vaultId)}/policies/${id(policyId)}` });
  }
  listGrants(vaultId: string): Promise<{ policies: Policy[] }> {
    return this.http.request({ method: 'GET', path: `/v1/vaults/${id(vaultId)}/policies` });
  }
  /** Talon: would this principal get this permission on this path now, and by which policy? */
  simulate(
    vaultId: string,
    body: { principal_type: PrincipalType; principal_id: string; path: string; permission: Permission },
  ): Promise<PolicySimulation> {
    return this.http.request({ method: 'POST', path: `/v1/vaults/${id(vaultId)}/policies/simulate`, body });
  }

  private grant(
    vaultId: string,
    principalType: PrincipalType,
    principalId: string,
    permissions: Permission[],
    options: GrantOptions,
  ): Promise<Policy> {
    return this.create(vaultId, {
      secret_path_pattern: options.secretPathPattern ?? '**',
      principal_type: principalType,
      principal_id: principalId,
      permissions,
      ...(options.conditions ? { conditions: options.conditions } : {}),
      ...(options.expiresAt ? { expires_at: options.expiresAt } : {}),
      ...(options.effect ? { effect: options.effect } : {}),
      ...(options.priority !== undefined ? { priority: options.priority } : {}),
      ...(options.requireApproval !== undefined ? { require_approval: options.requireApproval } : {}),
    });
  }
}

/** `client.agents`: agents and their keys. */
export class AgentsResource {
  constructor(private readonly http: TalonHttp) {}
  create(body: CreateAgentRequest): Promise<AgentCreated> {
    return this.http.request({ method: 'POST', path: '/v1/agents', body });
  }
  /** The calling agent (agent credentials only). */
  getSelf(): Promise<Agent> {
    return this.http.request({ method: 'GET', path: '/v1/agents/me' });
  }
  get(agentId: string): Promise<Agent> {
    return this.http.request({ method: 'GET', path: `/v1/agents/${id(agentId)}` });
  }
  list(): Promise<{ agents: Agent[] }> {
    return this.http.request({ method: 'GET', path: '/v1/agents' });
  }
  update(agentId: string, body: UpdateAgentRequest): Promise<Agent> {
    return this.http.request({ method: 'PATCH', path: `/v1/agents/${id(agentId)}`, body });
  }
  async delete(agentId: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: `/v1/agents/${id(agentId)}` });
  }
  /** A new key (shown once); the old one stops working. */
  rotateKey(agentId: string): Promise<{ api_key: string }> {
    return this.http.request({ method: 'POST', path: `/v1/agents/${id(agentId)}/rotate-key` });
  }
}

/** `client.sharing`: shares of one secret (by its UUID) with a person, an agent or a link. */
export class SharingResource {
  constructor(private readonly http: TalonHttp) {}
  /** A share; an approval to wait for when an agent shares (a human approves agent shares). */
  create(
    secretId: string,
    body: CreateShareRequest,
    options: GatedOptions = {},
  ): Promise<Share | ApprovalPending> {
    return this.http.request({
      method: 'POST',
      path: `/v1/secrets/${id(secretId)}/share`,
      body,
      gated: true,
      ...options,
    });
  }
  access(shareId: string): Promise<SharedSecret> {
    return this.http.request({ method: 'GET', path: `/v1/share/${id(shareId)}` });
  }
  listOutbound(): Promise<{ shares: ShareListItem[] }> {
    return this.http.request({ method: 'GET', path: '/v1/shares/outbound' });
  }
  listInbound(): Promise<{ shares: ShareListItem[] }> {
    return this.http.request({ method: 'GET', path: '/v1/shares/inbound' });
  }
  async accept(shareId: string): Promise<void> {
    await this.http.request({ method: 'POST', path: `/v1/shares/${id(shareId)}/accept` });
  }
  async decline(shareId: string): Promise<void> {
    await this.http.request({ method: 'POST', path: `/v1/shares/${id(shareId)}/decline` });
  }
  async revoke(shareId: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: `/v1/share/${id(shareId)}` });
  }
}

/** `client.approvals`: the human-in-the-loop queue. */
export class ApprovalsResource {
  constructor(
    private readonly http: TalonHttp,
    private readonly events: EventsResource,
  ) {}
  /** An agent asks a human to approve something. */
  request(body: ApprovalRequest): Promise<Approval> {
    return this.http.request({ method: 'POST', path: '/v1/approvals/request', body });
  }
  list(query: { status?: string; limit?: number; offset?: number } = {}): Promise<{ approvals: Approval[] }> {
    return this.http.request({ method: 'GET', path: '/v1/approvals', query });
  }
  get(approvalId: string): Promise<Approval> {
    return this.http.request({ method: 'GET', path: `/v1/approvals/${id(approvalId)}` });
  }
  decide(approvalId: string, body: { decision: 'approve' | 'reject'; reason?: string }): Promise<Approval> {
    return this.http.request({ method: 'POST', path: `/v1/approvals/${id(approvalId)}/decide`, body });
  }
  approve(approvalId: string, reason?: string): Promise<Approval> {
    return this.decide(approvalId, { decision: 'approve', ...(reason ? { reason } : {}) });
  }
  deny(approvalId: string, reason?: string): Promise<Approval> {
    return this.decide(approvalId, { decision: 'reject', ...(reason ? { reason } : {}) });
  }
  /** The approval's status now. */
  async check(approvalId: string): Promise<Approval['status']> {
    return (await this.get(approvalId)).status;
  }
  /**
   * Calls `listener` with every approval event (`approval.created`, `approval.decided`, …) from
   * Talon's event stream until the returned function is called. Errors go to `onError`.
   */
  subscribe(listener: (event: TalonEvent) => void, onError?: (error: unknown) => void): () => void {
    const controller = new AbortController();
    void (async () => {
      try {
        for await (const event of this.events.stream({ signal: controller.signal })) {
          if (event.type.startsWith('approval.')) listener(event);
        }
      } catch (error) {
        if (!controller.signal.aborted) onError?.(error);
      }
    })();
    return () => controller.abort();
  }
}

/** `client.events`: Talon's live event stream (people only). */
export class EventsResource {
  constructor(private readonly http: TalonHttp) {}
  async *stream(options: { signal?: AbortSignal } = {}): AsyncGenerator<TalonEvent> {
    yield* readEventStream(await this.http.stream('/v1/events', options.signal));
  }
}

/** `client.audit`: the audit log (people only). */
export class AuditResource {
  constructor(private readonly http: TalonHttp) {}
  query(query: AuditQuery = {}): Promise<{ events: AuditEvent[]; count: number }> {
    return this.http.request({ method: 'GET', path: '/v1/audit/events', query: { ...query } });
  }
  /** Checks the whole chain of entries. */
  verify(): Promise<AuditVerification> {
    return this.http.request({ method: 'GET', path: '/v1/audit/verify' });
  }
}

/** `client.auth`: tokens and sessions. Login and unlock switch the client to the session they open. */
export class AuthResource {
  constructor(private readonly http: TalonHttp) {}
  async login(body: { email: string; password: string }): Promise<LoginResponse> {
    const response = await this.http.request<LoginResponse>({
      method: 'POST',
      path: '/v1/auth/token',
      body,
      anonymous: true,
    });
    if (response.access_token) this.http.credential.use({ token: response.access_token });
    return response;
  }
  /** Second step of a login that answered `mfa_required`. */
  async verifyMfa(body: { mfa_token: string; code: string }): Promise<TokenResponse> {
    const response = await this.http.request<TokenResponse>({
      method: 'POST',
      path: '/v1/auth/mfa/verify',
      body,
      anonymous: true,
    });
    this.http.credential.use({ token: response.access_token });
    return response;
  }
  /** Ends the session on Talon's side. */
  async logout(): Promise<void> {
    await this.http.request({ method: 'DELETE', path: '/v1/auth/token' });
  }
  agentToken(body: { api_key: string; agent_id?: string }): Promise<TokenResponse> {
    return this.http.request({ method: 'POST', path: '/v1/auth/agent-token', body, anonymous: true });
  }
  apiKeyToken(body: { api_key: string }): Promise<TokenResponse> {
    return this.http.request({ method: 'POST', path: '/v1/auth/api-key-token', body, anonymous: true });
  }
  getMe(): Promise<Record<string, unknown>> {
    return this.http.request({ method: 'GET', path: '/v1/auth/me' });
  }
}

/** `client.apiKeys`: a person's personal keys (`1ck_…`). */
export class ApiKeysResource {
  constructor(private readonly http: TalonHttp) {}
  create(body: { name: string }): Promise<PersonalKeyCreated> {
    return this.http.request({ method: 'POST', path: '/v1/auth/api-keys', body });
  }
  list(): Promise<{ keys: PersonalKey[] }> {
    return this.http.request({ method: 'GET', path: '/v1/auth/api-keys' });
  }
  async revoke(keyId: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: `/v1/auth/api-keys/${id(keyId)}` });
  }
}

/** `client.talon`: Talon's own lock and health (no 1Claw equivalent). */
export class TalonResource {
  constructor(private readonly http: TalonHttp) {}
  status(): Promise<TalonStatus> {
    return this.http.request({ method: 'GET', path: '/v1/talon/status', anonymous: true });
  }
  health(): Promise<Health> {
    return this.http.request({ method: 'GET', path: '/v1/health', anonymous: true });
  }
  /** Unlocks with the token PIN (and a TOTP code when 2FA is on); the client then acts as the owner. */
  async unlock(body: UnlockRequest): Promise<TokenResponse> {
    const response = await this.http.request<TokenResponse>({
      method: 'POST',
      path: '/v1/talon/unlock',
      body,
      anonymous: true,
    });
    if (response?.access_token) this.http.credential.use({ token: response.access_token });
    return response;
  }
  async lock(): Promise<void> {
    await this.http.request({ method: 'POST', path: '/v1/talon/lock' });
  }
}

/** Talon's TypeScript client: 1Claw's SDK namespaces over Talon's `/v1`. */
export class TalonClient {
  readonly vault: VaultResource;
  readonly secrets: SecretsResource;
  readonly access: AccessResource;
  readonly agents: AgentsResource;
  readonly sharing: SharingResource;
  readonly approvals: ApprovalsResource;
  readonly events: EventsResource;
  readonly audit: AuditResource;
  readonly auth: AuthResource;
  readonly apiKeys: ApiKeysResource;
  readonly talon: TalonResource;
  private readonly http: TalonHttp;

  constructor(options: ClientOptions = {}) {
    this.http = new TalonHttp(options);
    this.vault = new VaultResource(this.http);
    this.secrets = new SecretsResource(this.http);
    this.access = new AccessResource(this.http);
    this.agents = new AgentsResource(this.http);
    this.sharing = new SharingResource(this.http);
    this.events = new EventsResource(this.http);
    this.approvals = new ApprovalsResource(this.http, this.events);
    this.audit = new AuditResource(this.http);
    this.auth = new AuthResource(this.http);
    this.apiKeys = new ApiKeysResource(this.http);
    this.talon = new TalonResource(this.http);
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /** The agent id, given or learnt from the key exchange. */
  get agentId(): string | undefined {
    return this.http.credential.agentId;
  }

  /** The vaults the agent's token is bound to (known after the first exchange). */
  get agentVaultIds(): string[] | undefined {
    return this.http.credential.vaultIds;
  }

  /** Switches to another credential. */
  useCredential(credential: { token?: string; apiKey?: string; agentId?: string }): void {
    this.http.credential.use(credential);
  }
}

/** 1Claw's `createClient(config)`. */
export function createClient(options: ClientOptions = {}): TalonClient {
  return new TalonClient(options);
}
