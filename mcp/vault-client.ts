import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';

/**
 * What the MCP tools need from a vault, in 1Claw's wire shapes (snake_case, as `/v1` answers).
 * Two implementations: `HttpVaultClient` (the `talon-mcp` stdio server, over the local REST API)
 * and `EngineVaultClient` (the app's `/mcp` endpoint, in process). Every method acts on the
 * client's vault, except the vault methods themselves.
 */
export interface VaultClient {
  /** The vault the secret tools act on (ONECLAW_VAULT_ID, the X-Vault-ID header, or the token's only vault). */
  vaultId(): Promise<string>;
  /** Every secret the caller may read (never values), in path order; `prefix` filters by plain string prefix. */
  listSecrets(prefix?: string): Promise<SecretSummary[]>;
  getSecret(path: string): Promise<SecretWithValue>;
  putSecret(path: string, secret: SecretInput): Promise<SecretStored>;
  deleteSecret(path: string): Promise<void>;
  describeSecret(path: string): Promise<SecretSummary>;
  listVersions(path: string): Promise<SecretVersionSummary[]>;
  /** A new version with a value generated in Talon; the value never leaves it. */
  rotateGenerate(
    path: string,
    options: { length?: number; charset?: RotationCharset },
  ): Promise<SecretStored>;
  createVault(vault: { name: string; description?: string }): Promise<VaultSummary>;
  listVaults(): Promise<VaultSummary[]>;
  grantAccess(vaultId: string, grant: AccessGrant): Promise<PolicySummary>;
  /** http_request: Talon sends it with its `{{secret:path}}` placeholders filled in (needs `use`); the answer comes back masked. */
  httpRequest(request: HttpRequestInput): Promise<HttpRequestAnswer>;
  /** request_secret: ask the human to store a credential; resolves with where it was stored, never the value. */
  requestSecret(request: SecretRequestInput): Promise<RequestedSecret>;
  /** 1Claw's POST /v1/secrets/{secret_id}/share. */
  shareSecret(secretId: string, share: ShareInput): Promise<ShareCreated>;
  /** An approval this agent asked for (GET /v1/approvals/{id}/status). */
  approvalStatus(approvalId: string): Promise<ApprovalStatusSummary>;
  /** Resolves once the approval is decided or expired, or after `timeoutMs` with it still pending. */
  waitForApproval(approvalId: string, options: ApprovalWaitOptions): Promise<ApprovalStatusSummary>;
  /** The same client, resubmitting its calls with this approval (X-Approval-ID). */
  withApproval(approvalId: string): VaultClient;
  /** The agent this client acts as: transactions are always the agent's own. */
  agentId(): Promise<string>;
  /** 1Claw's POST /v1/agents/{id}/transactions; a reverted simulate_first throws 422 `simulation_failed`. */
  submitTransaction(transaction: TransactionInput, idempotencyKey: string): Promise<TransactionSummary>;
  /** POST …/transactions/sign: signed, never sent. */
  signTransaction(transaction: TransactionInput, idempotencyKey?: string): Promise<TransactionSummary>;
  simulateTransaction(transaction: TransactionInput): Promise<SimulationSummary>;
  listTransactions(options?: { includeSignedTx?: boolean }): Promise<TransactionSummary[]>;
  getTransaction(transactionId: string, options?: { includeSignedTx?: boolean }): Promise<TransactionSummary>;
}

/** 1Claw's SubmitTransactionRequest (EVM fields). */
export interface TransactionInput {
  to: string;
  /** Decimal string in the chain's major unit ("0.01" ETH). */
  value: string;
  chain: string;
  data?: string;
  signing_key_path?: string;
  nonce?: number;
  gas_price?: string;
  gas_limit?: number;
  max_fee_per_gas?: string;
  max_priority_fee_per_gas?: string;
  simulate_first?: boolean;
  approval_id?: string;
}

/** 1Claw's TransactionResponse (the fields the tools show). */
export interface TransactionSummary {
  id: string;
  chain: string;
  chain_id: number;
  from?: string;
  to: string;
  value?: string;
  value_wei: string;
  status: string;
  signed_tx?: string | null;
  tx_hash: string | null;
  error_message: string | null;
  note?: string | null;
  simulation_status?: string | null;
  receipt_status?: string | null;
  block_number?: number | null;
  created_at: string;
}

/** 1Claw's SimulationResponse. */
export interface SimulationSummary {
  simulation_id: string;
  status: string;
  gas_used: number | null;
  gas_estimate_usd?: string | null;
  balance_changes: { address: string; change: string; token_symbol?: string | null }[];
  error: string | null;
  error_human_readable?: string | null;
  revert_reason: string | null;
  tenderly_dashboard_url?: string | null;
}

/** 1Claw's CreateShareRequest, as share_secret sends it. */
export interface ShareInput {
  recipient_type: 'creator' | 'user' | 'agent' | 'anyone_with_link';
  recipient_id?: string;
  expires_at: string;
  max_access_count: number;
}

/** 1Claw's ShareResponse, with Talon's approval fields. */
export interface ShareCreated {
  id: string;
  share_url: string;
  recipient_type: string;
  expires_at: string;
  max_access_count: number;
  approval_id?: string | null;
  approval_status?: string | null;
}

export interface ApprovalStatusSummary {
  id: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired';
  expires_at: string;
  decided_at?: string | null;
  decision_reason?: string | null;
  used_at?: string | null;
}

export interface ApprovalWaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called now and then while the approval is pending (for MCP progress notifications). */
  onProgress?: (elapsedMs: number) => void;
}

/**
 * Picks the client for one MCP request: the stdio server has one client for the process, the
 * HTTP endpoint one per request, for the principal that request authenticated (in `authInfo`).
 */
export type VaultClientFor = (request: { authInfo?: AuthInfo }) => VaultClient;

export { httpRequestMethods, rotationCharsets, secretTypes, type SecretType } from '../main/engine/schemas.js';
import type { rotationCharsets } from '../main/engine/schemas.js';
export type RotationCharset = (typeof rotationCharsets)[number];

/** 1Claw's PutSecretRequest. */
export interface SecretInput {
  value: string;
  /** One of `secretTypes` (Talon checks); absent: a new secret is a note, a new version keeps its type. */
  type?: string;
  metadata?: Record<string, unknown>;
  expires_at?: string;
  max_access_count?: number;
}

/** 1Claw's SecretMetadataResponse: never a value. */
export interface SecretSummary {
  id: string;
  path: string;
  type: string;
  version: number;
  metadata: Record<string, unknown>;
  created_at: string;
  expires_at: string | null;
  is_disabled?: boolean;
}

/** 1Claw's SecretCreatedResponse. */
export interface SecretStored {
  id: string;
  path: string;
  type: string;
  version: number;
  metadata?: Record<string, unknown>;
  created_at: string;
  expires_at: string | null;
}

/** 1Claw's SecretResponse: the decrypted value. */
export interface SecretWithValue {
  id: string;
  path: string;
  type: string;
  value: string;
  version: number;
  metadata: Record<string, unknown>;
  created_by?: string;
  created_at: string;
  expires_at: string | null;
}

export interface SecretVersionSummary {
  version: number;
  created_at: string;
  is_disabled: boolean;
}

/** 1Claw's VaultResponse. */
export interface VaultSummary {
  id: string;
  name: string;
  description: string | null;
  created_by: string;
  created_by_type: 'user' | 'agent';
  created_at: string;
}

/** 1Claw's CreatePolicyRequest, as grant_access sends it. */
export interface AccessGrant {
  principal_type: 'user' | 'agent';
  principal_id: string;
  permissions: ('read' | 'write' | 'delete')[];
  secret_path_pattern: string;
}

/** 1Claw's PolicyResponse. */
export interface PolicySummary {
  id: string;
  vault_id: string;
  secret_path_pattern: string;
  principal_type: 'user' | 'agent';
  principal_id: string;
  permissions: string[];
}

/**
 * describe_secret's answer from a listing: `/v1` has no describe endpoint (neither has 1Claw's),
 * so both clients list with the path as prefix and take the exact match. Describing thus never
 * reads, counts or decrypts a value, and shows exactly what list_secrets would.
 */
export async function describeByListing(
  client: Pick<VaultClient, 'listSecrets'>,
  path: string,
): Promise<SecretSummary> {
  // The path as Talon stores it: NFC, without a leading or trailing `/`.
  const wanted = path.normalize('NFC').replace(/^\//u, '').replace(/\/$/u, '');
  const match = (await client.listSecrets(wanted)).find((secret) => secret.path === wanted);
  if (!match) throw new VaultClientError(404, 'not_found', `No secret found at path '${path}'.`);
  return match;
}

/**
 * A refusal or failure, as `/v1` states it in its problem details: the HTTP status, Talon's
 * error code and the message (which says what to do next and never holds a secret value).
 */
export class VaultClientError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;

  /** Set when the call waits for a human (`approval_required`): the approval to wait for. */
  readonly approvalId: string | undefined;

  constructor(status: number, code: string, detail: string, approvalId?: string) {
    super(detail);
    this.name = 'VaultClientError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.approvalId = approvalId;
  }
}

/** http_request's input (POST /v1/http-request): placeholders `{{secret:path}}` in url, header values and body. */
export interface HttpRequestInput {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Default: the client's vault. */
  vault_id?: string;
}

/** What came back, every used value (and its encoded forms) masked as `***`. */
export interface HttpRequestAnswer {
  status: number;
  url: string;
  headers: Record<string, string>;
  body: string;
  redirects: number;
}

/** request_secret's input (POST /v1/vaults/{id}/secret-requests). */
export interface SecretRequestInput {
  path: string;
  description: string;
  type?: string;
  /** Default: the client's vault. */
  vault_id?: string;
}

/** A requested credential, once the human stored it: where, never the value. */
export interface RequestedSecret {
  status: 'stored';
  approval_id: string;
  secret: {
    id: string;
    path: string;
    type: string;
    version: number;
    metadata: Record<string, unknown>;
    created_at: string;
    expires_at: string | null;
  };
}
