/**
 * The UI contract: every call the renderer makes to Talon. Two transports implement it with the
 * same meaning — Electron IPC (preload → main process → engine) and HTTP (browser mode → /v1 REST
 * behind a session cookie) — and the renderer never knows which one it has. Field names are the
 * engine's wire names (snake_case), so both transports pass engine answers through unchanged.
 *
 * Pure TypeScript: the preload and the Electron main process import this file too, so it holds no
 * DOM and no Node.
 */

export type SecretType =
  'api_key' | 'password' | 'private_key' | 'certificate' | 'file' | 'note' | 'ssh_key' | 'env_bundle';

export const secretTypes: readonly SecretType[] = [
  'api_key',
  'password',
  'private_key',
  'certificate',
  'file',
  'note',
  'ssh_key',
  'env_bundle',
];

export type Permission = 'read' | 'write' | 'delete' | 'use';
export const permissions: readonly Permission[] = ['read', 'write', 'delete', 'use'];

export interface DeskTokenInfo {
  label: string;
  manufacturer: string;
  model: string;
  serial: string;
  /** Every mechanism the token lists (signed in only). */
  mechanisms?: string[];
  /** Wrap mechanisms that worked in the probe at unlock, preferred first (signed in only). */
  wrap_mechanisms?: string[];
}

/** Where Talon is: set up or not, locked or not, and whether this window has a human session. */
export interface DeskStatus {
  set_up: boolean;
  unlocked: boolean;
  /** This UI holds a human session (Electron: the main process unlocked for the owner). */
  signed_in: boolean;
  mfa_enabled: boolean;
  token: DeskTokenInfo | null;
  /** Which optional engine features this build has (shares, approvals, mfa, events). */
  features: DeskFeatures;
  /** Where agents reach this Talon: for the MCP configurations shown with a new agent key. */
  connection: DeskConnection | null;
}

export interface DeskConnection {
  base_url: string;
  stdio_command: string;
  stdio_args: string[];
}

export interface DeskFeatures {
  setup: boolean;
  mfa: boolean;
  shares: boolean;
  approvals: boolean;
  events: boolean;
}

export interface DeskUser {
  id: string;
  email?: string;
  display_name?: string;
  role?: string;
}

export interface SetupInput {
  pin: string;
  pin_confirmation: string;
}

export interface UnlockInput {
  pin: string;
  totp_code?: string;
}

export interface DeskVault {
  id: string;
  name: string;
  description: string | null;
  created_by: string;
  created_by_type: 'user' | 'agent';
  created_at: string;
  strict_mode: boolean;
  secret_count: number;
}

export interface CreateVaultInput {
  name: string;
  description?: string | null;
  strict_mode?: boolean;
}

export interface DeskSecretMetadata {
  id: string;
  path: string;
  type: string;
  version: number;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  max_access_count: number;
  access_count: number;
  is_disabled: boolean;
  deleted_at: string | null;
}

export interface DeskSecretValue {
  id: string;
  path: string;
  type: string;
  value: string;
  version: number;
  metadata: Record<string, unknown>;
  created_by: string;
  created_at: string;
  expires_at: string | null;
}

export interface DeskSecretVersion {
  id: string;
  path: string;
  type: string;
  version: number;
  created_at: string;
  created_by: string;
  is_disabled: boolean;
  is_current: boolean;
}

export interface PutSecretInput {
  type?: SecretType;
  value: string;
  metadata?: Record<string, unknown> | null;
  expires_at?: string | null;
  max_access_count?: number | null;
}

export interface ListSecretsOptions {
  prefix?: string;
  include_deleted?: boolean;
}

export interface DeskAgent {
  id: string;
  name: string;
  description: string | null;
  scopes: string[];
  vault_ids: string[];
  is_active: boolean;
  crypto_proxy_enabled: boolean;
  token_ttl_seconds: number | null;
  expires_at: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  last_active_at: string | null;
}

export interface CreateAgentInput {
  name: string;
  description?: string | null;
  vault_ids?: string[] | null;
  crypto_proxy_enabled?: boolean;
}

export interface UpdateAgentInput {
  name?: string;
  description?: string | null;
  vault_ids?: string[] | null;
  crypto_proxy_enabled?: boolean;
  is_active?: boolean;
}

export interface DeskAgentCreated {
  agent: DeskAgent;
  /** Shown once. */
  api_key: string;
}

/** An MCP client paired with `talon-mcp --agent <name>`: one API key of its agent, named after the client. */
export interface DeskPairing {
  id: string;
  agent_id: string;
  agent_name: string;
  client_name: string;
  key_prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface DeskPolicy {
  id: string;
  vault_id: string;
  secret_path_pattern: string;
  principal_type: 'user' | 'agent';
  principal_id: string;
  permissions: Permission[];
  conditions: Record<string, unknown> | null;
  expires_at: string | null;
  effect: 'allow' | 'deny';
  priority: number;
  require_approval: boolean;
  created_at: string;
  updated_at: string;
}

export interface CreatePolicyInput {
  secret_path_pattern: string;
  principal_type: 'user' | 'agent';
  principal_id: string;
  permissions: Permission[];
  conditions?: Record<string, unknown> | null;
  expires_at?: string | null;
  effect?: 'allow' | 'deny';
  priority?: number;
  require_approval?: boolean;
}

export interface SimulateInput {
  principal_type: 'user' | 'agent';
  principal_id: string;
  path: string;
  permission: Permission;
}

export interface DeskSimulation {
  allowed: boolean;
  require_approval: boolean;
  policy_id: string | null;
  reason: string;
}

export interface AuditFilter {
  vault_id?: string;
  actor_id?: string;
  action?: string;
  outcome?: 'success' | 'denied' | 'error';
  from?: string;
  to?: string;
  limit?: number;
  offset?: number;
}

export interface DeskAuditEvent {
  id: string;
  seq: number;
  action: string;
  actor_type: string;
  actor_id: string | null;
  vault_id: string | null;
  resource_type: string | null;
  resource_id: string | null;
  path: string | null;
  outcome: string;
  details: Record<string, unknown>;
  ip_address: string | null;
  created_at: string;
}

export interface DeskAuditPage {
  count: number;
  events: DeskAuditEvent[];
}

export interface DeskAuditVerification {
  valid: boolean;
  checked: number;
  broken_at?: number | string | null;
  reason?: string;
}

export type ShareRecipientType = 'user' | 'agent' | 'anyone_with_link' | 'creator';

export interface CreateShareInput {
  recipient_type: ShareRecipientType;
  recipient_id?: string;
  expires_at: string;
  max_access_count?: number;
}

export interface DeskShare {
  id: string;
  share_url: string;
  secret_id: string;
  recipient_type: string;
  recipient_id: string | null;
  expires_at: string;
  max_access_count: number;
  status: string;
  approval_id: string | null;
  approval_status: string | null;
  /** In lists only. */
  secret_path?: string;
  access_count?: number;
  created_at?: string;
  is_expired?: boolean;
  is_accepted?: boolean;
}

/** What a share delivers to its recipient. */
export interface DeskSharedSecret {
  id: string;
  path: string;
  type: string;
  value: string;
  version: number;
  access_count: number;
  max_access_count: number;
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface DeskApproval {
  id: string;
  action: string;
  target_type: string;
  target_id: string;
  vault_id: string | null;
  /** One line a human reads: what is asked. */
  summary: string;
  /** The decoded request (recipient, path, amount, …); never a secret value. */
  details: Record<string, unknown>;
  risk_tier: string;
  status: string;
  requester: { type: 'user' | 'agent'; id: string; name: string | null; client: string | null };
  agent_id: string | null;
  reason: string | null;
  decision_reason: string | null;
  decided_by: string | null;
  decided_at: string | null;
  expires_at: string;
  created_at: string;
}

export interface DecideInput {
  decision: 'approve' | 'reject';
  reason?: string;
}

export interface DeskMfaStatus {
  enabled: boolean;
  pending?: boolean;
  recovery_codes_remaining?: number;
}

export interface DeskMfaEnrolment {
  secret: string;
  otpauth_uri: string;
  /** A data: URL of the QR code, when the engine draws it. */
  qr_code?: string;
}

export interface DeskMfaConfirmed {
  recovery_codes: string[];
}

export interface DeskSettings {
  /** Lock after this many seconds without input; 0 = never. */
  auto_lock_seconds: number;
  /** Electron only: keep the PIN in the OS keychain (safeStorage). */
  remember_pin: boolean;
  remember_pin_available: boolean;
}

export type DeskEvent =
  | { type: 'approval.created'; approval: DeskApproval }
  | { type: 'approval.decided'; approval: DeskApproval }
  | { type: 'talon.locked' }
  | { type: 'talon.unlocked' }
  /** Electron: the tray or a notification asks the window to show something. */
  | { type: 'navigate'; to: string };

/** The methods, each with its arguments and its answer. */
export interface DeskMethods {
  status(): DeskStatus;
  setup(input: SetupInput): DeskStatus;
  unlock(input: UnlockInput): DeskStatus;
  lock(): DeskStatus;

  listVaults(): DeskVault[];
  createVault(input: CreateVaultInput): DeskVault;
  deleteVault(vaultId: string): null;

  listSecrets(vaultId: string, options: ListSecretsOptions): DeskSecretMetadata[];
  revealSecret(vaultId: string, path: string, version: number | null): DeskSecretValue;
  putSecret(vaultId: string, path: string, input: PutSecretInput): DeskSecretMetadata;
  deleteSecret(vaultId: string, path: string): null;
  restoreSecret(vaultId: string, path: string): DeskSecretMetadata;
  purgeSecret(vaultId: string, path: string): null;
  listVersions(vaultId: string, path: string): DeskSecretVersion[];
  rollbackSecret(vaultId: string, path: string, version: number): DeskSecretMetadata;

  listAgents(): DeskAgent[];
  createAgent(input: CreateAgentInput): DeskAgentCreated;
  updateAgent(agentId: string, input: UpdateAgentInput): DeskAgent;
  rotateAgentKey(agentId: string): { api_key: string };
  deactivateAgent(agentId: string): null;
  /** Every MCP pairing, revoked ones too, newest first. */
  listPairings(): DeskPairing[];
  revokePairing(pairingId: string): null;

  listPolicies(vaultId: string): DeskPolicy[];
  createPolicy(vaultId: string, input: CreatePolicyInput): DeskPolicy;
  deletePolicy(vaultId: string, policyId: string): null;
  simulatePolicy(vaultId: string, input: SimulateInput): DeskSimulation;

  queryAudit(filter: AuditFilter): DeskAuditPage;
  verifyAudit(): DeskAuditVerification;

  listShares(direction: 'outbound' | 'inbound'): DeskShare[];
  createShare(secretId: string, input: CreateShareInput): DeskShare;
  acceptShare(shareId: string): null;
  declineShare(shareId: string): null;
  revokeShare(shareId: string): null;
  accessShare(shareId: string): DeskSharedSecret;

  listApprovals(status: ApprovalStatus | 'all'): DeskApproval[];
  decideApproval(approvalId: string, input: DecideInput): DeskApproval;
  /** Answers an agent's `secret.request` approval by storing the value at the requested path. */
  fulfilSecretRequest(approvalId: string, value: string): DeskSecretMetadata;

  mfaStatus(): DeskMfaStatus;
  mfaBegin(): DeskMfaEnrolment;
  mfaConfirm(code: string): DeskMfaConfirmed;
  mfaDisable(code: string): unknown;

  getSettings(): DeskSettings;
  updateSettings(input: Partial<Pick<DeskSettings, 'auto_lock_seconds' | 'remember_pin'>>): DeskSettings;
}

export type DeskMethodName = keyof DeskMethods;

/** Every method name, in one list: the preload builds its bridge from it, main its handler table. */
export const deskMethodNames = [
  'status',
  'setup',
  'unlock',
  'lock',
  'listVaults',
  'createVault',
  'deleteVault',
  'listSecrets',
  'revealSecret',
  'putSecret',
  'deleteSecret',
  'restoreSecret',
  'purgeSecret',
  'listVersions',
  'rollbackSecret',
  'listAgents',
  'createAgent',
  'updateAgent',
  'rotateAgentKey',
  'deactivateAgent',
  'listPairings',
  'revokePairing',
  'listPolicies',
  'createPolicy',
  'deletePolicy',
  'simulatePolicy',
  'queryAudit',
  'verifyAudit',
  'listShares',
  'createShare',
  'acceptShare',
  'declineShare',
  'revokeShare',
  'accessShare',
  'listApprovals',
  'decideApproval',
  'fulfilSecretRequest',
  'mfaStatus',
  'mfaBegin',
  'mfaConfirm',
  'mfaDisable',
  'getSettings',
  'updateSettings',
] as const satisfies readonly DeskMethodName[];

// Compile-time check that the list names every method exactly.
type Missing = Exclude<DeskMethodName, (typeof deskMethodNames)[number]>;
const everyMethodListed: Missing extends never ? true : Missing = true;
void everyMethodListed;

/** An error as every transport reports it: the engine's code and a message that says what to do. */
export interface DeskErrorShape {
  code: string;
  status: number;
  message: string;
  details?: Record<string, unknown>;
}

export class DeskError extends Error implements DeskErrorShape {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown>;

  constructor(shape: DeskErrorShape) {
    super(shape.message);
    this.name = 'DeskError';
    this.code = shape.code;
    this.status = shape.status;
    this.details = shape.details ?? {};
  }
}

/** The async contract the renderer holds. */
export type TalonDesk = {
  [K in DeskMethodName]: (...args: Parameters<DeskMethods[K]>) => Promise<ReturnType<DeskMethods[K]>>;
} & {
  /** Live events; returns the unsubscribe function. */
  subscribe(listener: (event: DeskEvent) => void): () => void;
};

/** IPC answers: `{ ok, value | error }`, the same error shape as the API's problem details. */
export type DeskAnswer<T> = { ok: true; value: T } | { ok: false; error: DeskErrorShape };

export const deskChannelPrefix = 'talon:';
export const deskEventChannel = 'talon:event';
