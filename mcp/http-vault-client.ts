import { type AgentCredentials, AgentTokenSource } from './agent-token-source.js';
import { type Fetch, type RestCall, callRest, encodeSecretPath, keepAliveFetch } from './rest-call.js';
import {
  type AccessGrant,
  type ApprovalStatusSummary,
  type ApprovalWaitOptions,
  type PolicySummary,
  type ShareCreated,
  type ShareInput,
  type RotationCharset,
  type SecretInput,
  type SecretStored,
  type SecretSummary,
  type SecretVersionSummary,
  type SecretWithValue,
  type SimulationSummary,
  type TransactionInput,
  type TransactionSummary,
  type VaultClient,
  VaultClientError,
  type VaultSummary,
  describeByListing,
  type HttpRequestAnswer,
  type HttpRequestInput,
  type RequestedSecret,
  type SecretRequestInput,
} from './vault-client.js';

export interface HttpVaultClientOptions {
  /** Talon's local API, e.g. `http://127.0.0.1:7417` (no trailing slash needed). */
  baseUrl: string;
  credentials: AgentCredentials;
  /** The vault to act on; optional when the agent is bound to exactly one vault. */
  vaultId?: string;
  fetch?: Fetch;
  /** Milliseconds since the epoch, for token refresh; injectable for tests. */
  now?: () => number;
  /** The MCP client's name (its clientInfo), sent as X-Talon-Client so approval prompts say who asks. */
  clientName?: () => string | undefined;
}

/** Secrets asked for per page (Talon's maximum); pages are followed while `next_cursor` is set. */
const listPageSize = 1000;
/** A guard against a server that never ends a listing. */
const maxListPages = 10_000;

/**
 * The VaultClient of the `talon-mcp` stdio server: Talon's 1Claw-compatible `/v1` REST API over
 * `fetch`, as the agent whose credentials it was given.
 */
export class HttpVaultClient implements VaultClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: Fetch;
  private readonly tokens: AgentTokenSource;
  /** Sent with every call of a client from withApproval. */
  private approvalHeaders: Record<string, string> | undefined;

  constructor(private readonly options: HttpVaultClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/u, '');
    this.fetchImpl = options.fetch ?? keepAliveFetch;
    this.tokens = new AgentTokenSource({
      baseUrl: this.baseUrl,
      credentials: options.credentials,
      fetch: this.fetchImpl,
      now: options.now ?? Date.now,
    });
  }

  async vaultId(): Promise<string> {
    if (this.options.vaultId) return this.options.vaultId;
    const { vaultIds } = await this.tokens.token();
    if (vaultIds?.length === 1) return vaultIds[0]!;
    throw new VaultClientError(
      400,
      'vault_required',
      vaultIds && vaultIds.length > 1
        ? `This agent is bound to ${vaultIds.length} vaults; set ONECLAW_VAULT_ID to the one to use.`
        : 'Set ONECLAW_VAULT_ID to the vault to use (list_vaults shows the ones you can reach).',
    );
  }

  async listSecrets(prefix?: string): Promise<SecretSummary[]> {
    const base = `${await this.vaultPath()}/secrets`;
    const secrets: SecretSummary[] = [];
    let after: string | null = null;
    for (let page = 0; page < maxListPages; page += 1) {
      const query = new URLSearchParams({ limit: String(listPageSize) });
      if (prefix !== undefined) query.set('prefix', prefix);
      if (after !== null) query.set('cursor', after);
      const body = await this.call<{ secrets: SecretSummary[]; next_cursor?: string | null }>({
        method: 'GET',
        path: `${base}?${query.toString()}`,
      });
      secrets.push(...body.secrets);
      const next = body.next_cursor ?? null;
      if (next === null || next === after || body.secrets.length === 0) break;
      after = next;
    }
    return secrets;
  }

  async getSecret(path: string): Promise<SecretWithValue> {
    return this.call({ method: 'GET', path: await this.secretUrl('secrets', path) });
  }

  async putSecret(path: string, secret: SecretInput): Promise<SecretStored> {
    return this.call({ method: 'PUT', path: await this.secretUrl('secrets', path), body: secret });
  }

  async deleteSecret(path: string): Promise<void> {
    await this.call({ method: 'DELETE', path: await this.secretUrl('secrets', path) });
  }

  async describeSecret(path: string): Promise<SecretSummary> {
    return describeByListing(this, path);
  }

  async listVersions(path: string): Promise<SecretVersionSummary[]> {
    const body = await this.call<{ versions: SecretVersionSummary[] }>({
      method: 'GET',
      path: await this.secretUrl('secret-versions', path),
    });
    return body.versions;
  }

  async rotateGenerate(
    path: string,
    options: { length?: number; charset?: RotationCharset },
  ): Promise<SecretStored> {
    return this.call({ method: 'POST', path: await this.secretUrl('secret-rotate', path), body: options });
  }

  async createVault(vault: { name: string; description?: string }): Promise<VaultSummary> {
    return this.call({ method: 'POST', path: '/v1/vaults', body: vault });
  }

  async listVaults(): Promise<VaultSummary[]> {
    const body = await this.call<{ vaults: VaultSummary[] }>({ method: 'GET', path: '/v1/vaults' });
    return body.vaults;
  }

  async shareSecret(secretId: string, share: ShareInput): Promise<ShareCreated> {
    return this.call({ method: 'POST', path: `/v1/secrets/${encodeURIComponent(secretId)}/share`, body: share });
  }

  async approvalStatus(approvalId: string): Promise<ApprovalStatusSummary> {
    return this.call({ method: 'GET', path: `/v1/approvals/${encodeURIComponent(approvalId)}/status` });
  }

  /** Polls the approval's status once a second: stdio reaches Talon only over /v1. */
  async waitForApproval(approvalId: string, options: ApprovalWaitOptions): Promise<ApprovalStatusSummary> {
    const started = Date.now();
    for (;;) {
      const status = await this.approvalStatus(approvalId);
      const elapsed = Date.now() - started;
      if (status.status !== 'pending' || elapsed >= options.timeoutMs) return status;
      options.signal?.throwIfAborted();
      options.onProgress?.(elapsed);
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, options.timeoutMs - elapsed)));
    }
  }

  withApproval(approvalId: string): VaultClient {
    const resubmitting = Object.assign(Object.create(HttpVaultClient.prototype) as HttpVaultClient, this);
    resubmitting.approvalHeaders = { 'x-approval-id': approvalId };
    return resubmitting;
  }

  /** The configured agent id, else the `agent:<id>` subject of the agent's token. */
  async agentId(): Promise<string> {
    const credentials = this.options.credentials;
    if ('agentId' in credentials && credentials.agentId) return credentials.agentId;
    const { accessToken } = await this.tokens.token();
    try {
      const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
        sub?: unknown;
      };
      if (typeof payload.sub === 'string' && payload.sub.startsWith('agent:')) return payload.sub.slice(6);
    } catch {
      // not a JWT Talon made: fall through
    }
    throw new VaultClientError(400, 'agent_required', 'Set ONECLAW_AGENT_ID: transactions need the agent id.');
  }

  async submitTransaction(transaction: TransactionInput, idempotencyKey: string): Promise<TransactionSummary> {
    return this.call({
      method: 'POST',
      path: `${await this.agentPath()}/transactions`,
      body: transaction,
      headers: { 'idempotency-key': idempotencyKey },
    });
  }

  async signTransaction(transaction: TransactionInput, idempotencyKey?: string): Promise<TransactionSummary> {
    return this.call({
      method: 'POST',
      path: `${await this.agentPath()}/transactions/sign`,
      body: transaction,
      ...(idempotencyKey ? { headers: { 'idempotency-key': idempotencyKey } } : {}),
    });
  }

  async simulateTransaction(transaction: TransactionInput): Promise<SimulationSummary> {
    return this.call({ method: 'POST', path: `${await this.agentPath()}/transactions/simulate`, body: transaction });
  }

  async listTransactions(options: { includeSignedTx?: boolean } = {}): Promise<TransactionSummary[]> {
    const query = options.includeSignedTx ? '?include_signed_tx=true' : '';
    const body = await this.call<{ transactions: TransactionSummary[] }>({
      method: 'GET',
      path: `${await this.agentPath()}/transactions${query}`,
    });
    return body.transactions;
  }

  async getTransaction(transactionId: string, options: { includeSignedTx?: boolean } = {}): Promise<TransactionSummary> {
    const query = options.includeSignedTx ? '?include_signed_tx=true' : '';
    return this.call({
      method: 'GET',
      path: `${await this.agentPath()}/transactions/${encodeURIComponent(transactionId)}${query}`,
    });
  }

  private async agentPath(): Promise<string> {
    return `/v1/agents/${encodeURIComponent(await this.agentId())}`;
  }

  async httpRequest(request: HttpRequestInput): Promise<HttpRequestAnswer> {
    const { vault_id, ...rest } = request;
    return this.call({
      method: 'POST',
      path: '/v1/http-request',
      body: { ...rest, vault_id: vault_id ?? (await this.vaultId()) },
    });
  }

  async requestSecret(request: SecretRequestInput): Promise<RequestedSecret> {
    const { vault_id, ...body } = request;
    const vault = encodeURIComponent(vault_id ?? (await this.vaultId()));
    return this.call({ method: 'POST', path: `/v1/vaults/${vault}/secret-requests`, body });
  }

  async grantAccess(vaultId: string, grant: AccessGrant): Promise<PolicySummary> {
    return this.call({
      method: 'POST',
      path: `/v1/vaults/${encodeURIComponent(vaultId)}/policies`,
      body: grant,
    });
  }

  /**
   * One authenticated call. A token Talon refuses (401) before it was due for refresh is
   * exchanged again once, and the call retried: the agent's key may still be good (Talon was
   * re-initialised, or the clocks disagree). If the key is not, the exchange says why.
   */
  private async call<T>(request: Omit<RestCall, 'bearer'>): Promise<T> {
    const clientName = this.options.clientName?.();
    const headers = {
      ...request.headers,
      ...this.approvalHeaders,
      ...(clientName ? { 'x-talon-client': clientName } : {}),
    };
    const call = { ...request, headers };
    const { accessToken } = await this.tokens.token();
    try {
      return await callRest<T>(this.fetchImpl, this.baseUrl, { ...call, bearer: accessToken });
    } catch (error) {
      if (!(error instanceof VaultClientError && error.status === 401 && this.tokens.canRenew)) throw error;
      this.tokens.forget(accessToken);
      const renewed = await this.tokens.token();
      return callRest<T>(this.fetchImpl, this.baseUrl, { ...call, bearer: renewed.accessToken });
    }
  }

  private async vaultPath(): Promise<string> {
    return `/v1/vaults/${encodeURIComponent(await this.vaultId())}`;
  }

  private async secretUrl(collection: 'secrets' | 'secret-versions' | 'secret-rotate', path: string) {
    return `${await this.vaultPath()}/${collection}/${encodeSecretPath(path)}`;
  }
}
