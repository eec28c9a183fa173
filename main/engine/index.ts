export { Engine, type EngineStatus } from './engine.js';
export type { EngineOptions } from './engine-context.js';
export type { CallContext, Principal, AgentPrincipal, UserPrincipal } from './principal.js';
export { TalonError, storageToTalonError, talonErrorStatus, type TalonErrorCode } from './talon-error.js';
export type { SecretMetadata, SecretValue, SecretVersionInfo, SecretPage } from './secret-service.js';
export type { VaultInfo } from './vault-service.js';
export type { PolicyInfo } from './policy-service.js';
export type { AgentInfo, AgentCreated } from './agent-service.js';
export type { TokenResponse, PersonalKeyCreated, PersonalKeyInfo } from './auth-service.js';
export type { AuditVerification } from './audit-log.js';
export type {
  AccessGrantInfo,
  ApprovalAction,
  ApprovalEvent,
  ApprovalInfo,
  ApprovalRequestInput,
  ApprovalStatus,
  ApprovalStatusInfo,
  DecideInput,
  GateInput,
  RiskTier,
  WaitOptions,
} from './approval-service.js';
export type { EngineEvent, EngineEventListener, EngineEventType } from './engine-events.js';
export { requestHash, secretRequestHash } from './request-hash.js';
export type { ShareInfo, ShareListItem, SharedSecret, ShareStatus } from './share-service.js';
export type { Decision, Permission } from './policy-decision.js';
export * from './schemas.js';
export { hsmToTalonError } from './value-barrier.js';
export type { TransactionAnswer, TransactionInfo, SimulationInfo } from './transaction-service.js';
export type { ChainInfo } from './chain-registry.js';
export type { SigningKeyInfo } from './signing-keys.js';
export type {
  HttpRequestResult,
  SecretForUse,
  SecretRequestOutcome,
  SecretsForUse,
  StoredSecretInfo,
} from './secret-use-service.js';
export type { PairingClaim, PairingClaimed, PairingInfo } from './pairing-service.js';
