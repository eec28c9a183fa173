/**
 * The bodies Talon's `/v1` API answers with, in 1Claw's wire names (snake_case). Talon's own
 * additions are marked; a 1Claw field Talon does not have is simply absent.
 */

export type SecretType =
  | 'api_key'
  | 'password'
  | 'private_key'
  | 'certificate'
  | 'file'
  | 'note'
  | 'ssh_key'
  | 'env_bundle'
  | 'generic'
  | (string & {});

export type RotationCharset = 'hex' | 'base64' | 'alphanumeric' | 'ascii';
export type Permission = 'read' | 'write' | 'delete' | (string & {});
export type PrincipalType = 'user' | 'agent';

export interface Vault {
  id: string;
  name: string;
  description: string | null;
  created_by: string;
  created_by_type: PrincipalType;
  created_at: string;
  /** Talon: every read unwraps its data key in the token. */
  strict_mode?: boolean;
  /** Talon: how many live secrets the vault holds. */
  secret_count?: number;
}

export interface CreateVaultRequest {
  name: string;
  description?: string | null;
  /** Talon: unwrap every data key in the token on each read. */
  strict_mode?: boolean;
}

/** 1Claw's SecretMetadataResponse, never a value. */
export interface SecretMetadata {
  id: string;
  path: string;
  type: SecretType;
  version: number;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at?: string;
  expires_at: string | null;
  max_access_count?: number;
  access_count?: number;
  is_disabled: boolean;
  deleted_at?: string | null;
}

/** A page of a listing; `next_cursor` (Talon) is null on the last page. */
export interface SecretList {
  secrets: SecretMetadata[];
  next_cursor?: string | null;
}

/** 1Claw's SecretResponse: the decrypted value. */
export interface Secret {
  id: string;
  path: string;
  type: SecretType;
  value: string;
  version: number;
  metadata: Record<string, unknown>;
  created_by?: string;
  created_at: string;
  expires_at: string | null;
}

/** 1Claw's SecretCreatedResponse. */
export interface SecretCreated {
  id: string;
  path: string;
  type: SecretType;
  version: number;
  metadata?: Record<string, unknown>;
  created_at: string;
  expires_at: string | null;
}

export interface SecretVersion {
  id?: string;
  path?: string;
  type?: SecretType;
  version: number;
  created_at: string;
  created_by?: string;
  is_disabled: boolean;
  is_current?: boolean;
}

/** 1Claw's PutSecretRequest (less the value, which is its own argument). */
export interface SecretOptions {
  type?: SecretType;
  metadata?: Record<string, unknown>;
  expires_at?: string | null;
  max_access_count?: number | null;
  rotation_policy?: Record<string, unknown>;
}

export interface Policy {
  id: string;
  vault_id: string;
  secret_path_pattern: string;
  principal_type: PrincipalType;
  principal_id: string;
  permissions: Permission[];
  conditions: Record<string, unknown> | null;
  expires_at: string | null;
  effect?: 'allow' | 'deny';
  priority?: number;
  /** Talon: a human approves each use. */
  require_approval?: boolean;
  created_by?: string;
  created_by_type?: PrincipalType;
  created_at: string;
  updated_at?: string;
}

export interface CreatePolicyRequest {
  secret_path_pattern: string;
  principal_type: PrincipalType;
  principal_id: string;
  permissions: Permission[];
  conditions?: Record<string, unknown> | null;
  expires_at?: string | null;
  effect?: 'allow' | 'deny';
  priority?: number;
  require_approval?: boolean;
}

export type UpdatePolicyRequest = Partial<
  Omit<CreatePolicyRequest, 'secret_path_pattern' | 'principal_type' | 'principal_id'>
>;

/** The options of `access.grantHuman` / `grantAgent` (1Claw's SDK names). */
export interface GrantOptions {
  secretPathPattern?: string;
  conditions?: Record<string, unknown>;
  expiresAt?: string;
  effect?: 'allow' | 'deny';
  priority?: number;
  requireApproval?: boolean;
}

/** Talon's policy simulator: would this principal be allowed this now, and by which policy? */
export interface PolicySimulation {
  allowed: boolean;
  require_approval: boolean;
  policy_id: string | null;
  reason: string;
}

export interface Agent {
  id: string;
  name: string;
  description: string | null;
  scopes: string[];
  vault_ids: string[];
  is_active: boolean;
  crypto_proxy_enabled?: boolean;
  intents_api_enabled: boolean;
  token_ttl_seconds: number | null;
  expires_at: string | null;
  created_by?: string;
  created_at: string;
  updated_at?: string;
  last_active_at: string | null;
}

export interface CreateAgentRequest {
  name: string;
  description?: string | null;
  scopes?: string[] | null;
  vault_ids?: string[] | null;
  intents_api_enabled?: boolean;
  crypto_proxy_enabled?: boolean;
  token_ttl_seconds?: number | null;
  expires_at?: string | null;
}

export type UpdateAgentRequest = Partial<CreateAgentRequest> & { is_active?: boolean };

/** The agent and its API key, which is shown this once. */
export interface AgentCreated {
  agent: Agent;
  api_key: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  refresh_token?: string;
  agent_id?: string;
  vault_ids?: string[];
}

/** `POST /v1/auth/token`: when MFA is on, a second step with `mfa_token` is needed. */
export interface LoginResponse extends Partial<TokenResponse> {
  mfa_required?: boolean;
  mfa_token?: string;
}

export interface PersonalKey {
  id: string;
  name: string;
  key_prefix: string;
  scopes: string[];
  is_active: boolean;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

export interface PersonalKeyCreated {
  key: PersonalKey;
  api_key: string;
}

export type ShareRecipientType = 'user' | 'agent' | 'external_email' | 'anyone_with_link' | 'creator';

export interface CreateShareRequest {
  recipient_type: ShareRecipientType;
  recipient_id?: string;
  email?: string;
  permissions?: string[];
  max_access_count?: number;
  expires_at: string;
  passphrase?: string;
  ip_allowlist?: string[];
}

export interface Share {
  id: string;
  share_url?: string;
  recipient_type: ShareRecipientType;
  recipient_id?: string | null;
  recipient_email?: string | null;
  expires_at: string;
  max_access_count?: number;
  [field: string]: unknown;
}

export interface ShareListItem {
  id: string;
  secret_path?: string;
  recipient_type: ShareRecipientType;
  recipient_email?: string | null;
  access_count?: number;
  max_access_count?: number;
  expires_at: string;
  created_at?: string;
  is_expired?: boolean;
  is_accepted?: boolean;
  [field: string]: unknown;
}

export interface SharedSecret {
  id: string;
  path: string;
  type: SecretType;
  value: string;
  access_count?: number;
  max_access_count?: number;
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | (string & {});

export interface Approval {
  id: string;
  action: string;
  status: ApprovalStatus;
  summary?: unknown;
  reason?: string | null;
  risk_tier?: string | number;
  agent_id?: string | null;
  target_type?: string;
  target_id?: string;
  decision_reason?: string | null;
  decided_by?: string | null;
  decided_at?: string | null;
  expires_at?: string | null;
  created_at: string;
  [field: string]: unknown;
}

export interface ApprovalRequest {
  action: string;
  target_type: string;
  target_id: string;
  summary: unknown;
  reason?: string;
  risk_tier?: string | number;
}

/** A call a human must approve first (HTTP 202): Talon answered with the approval to wait for. */
export interface ApprovalPending {
  approval_required: true;
  approval: Approval;
}

export interface AuditEvent {
  id: string;
  seq?: number;
  action: string;
  actor_type: string;
  actor_id: string | null;
  vault_id?: string | null;
  resource_type?: string | null;
  resource_id?: string | null;
  path?: string | null;
  outcome?: string;
  details?: Record<string, unknown>;
  ip_address?: string | null;
  created_at: string;
  [field: string]: unknown;
}

export interface AuditQuery {
  vault_id?: string;
  actor_id?: string;
  action?: string;
  outcome?: 'success' | 'denied' | 'error';
  from?: string;
  to?: string;
  limit?: number;
  offset?: number;
}

export interface AuditVerification {
  valid: boolean;
  checked: number;
  broken_at?: number;
  reason?: string;
}

/** `GET /v1/talon/status` (no credential needed). */
export interface TalonStatus {
  set_up: boolean;
  unlocked: boolean;
  mfa_enabled?: boolean;
  [field: string]: unknown;
}

export interface UnlockRequest {
  pin: string;
  totp_code?: string;
}

export interface Health {
  status: string;
  locked: boolean;
  version?: string;
}

/** One event of `GET /v1/events` (server-sent events). */
export interface TalonEvent {
  type: string;
  data: unknown;
  id?: string;
}
