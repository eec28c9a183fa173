/** Rows with plausible values; each test overrides what it is about. */
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type {
  AgentRow,
  ApiKeyRow,
  NewAuditEvent,
  NewSecret,
  PolicyRow,
  SecretVersionRow,
  UserRow,
  VaultRow,
} from '../../main/store/store.js';

export const ownerId = '01900000-0000-7000-8000-000000000001';
const at = '2026-01-01T00:00:00.000Z';

export function sampleUser(overrides: Partial<UserRow> = {}): UserRow {
  const id = uuidv7();
  return {
    id,
    email: `${id}@example.org`,
    displayName: 'Ann Owner',
    role: 'member',
    passwordHash: null,
    totpJson: null,
    isActive: true,
    createdAt: at,
    ...overrides,
  };
}

export function sampleAgent(overrides: Partial<AgentRow> = {}): AgentRow {
  return {
    id: uuidv7(),
    name: 'deploy-bot',
    description: null,
    scopesJson: '[]',
    vaultIdsJson: '[]',
    cryptoProxyEnabled: false,
    tokenTtlSeconds: null,
    expiresAt: null,
    isActive: true,
    createdBy: ownerId,
    createdAt: at,
    updatedAt: at,
    lastActiveAt: null,
    guardrailsJson: null,
    ...overrides,
  };
}

export function sampleApiKey(overrides: Partial<ApiKeyRow> = {}): ApiKeyRow {
  return {
    id: uuidv7(),
    principalType: 'agent',
    principalId: uuidv7(),
    name: 'default',
    prefix: 'ocv_abcd',
    keyHash: randomBytes(32),
    createdAt: at,
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    ...overrides,
  };
}

export function sampleVault(overrides: Partial<VaultRow> = {}): VaultRow {
  return {
    id: uuidv7(),
    name: `vault-${uuidv7()}`,
    description: null,
    ownerType: 'user',
    ownerId,
    strictMode: false,
    wrappedKey: randomBytes(40),
    createdAt: at,
    ...overrides,
  };
}

export function sampleSecret(vaultId: string, overrides: Partial<NewSecret> = {}): NewSecret {
  return {
    id: uuidv7(),
    vaultId,
    path: `keys/${uuidv7()}`,
    type: 'api_key',
    metadataJson: '{}',
    expiresAt: null,
    maxAccessCount: 0,
    currentVersion: 0,
    createdByType: 'user',
    createdBy: ownerId,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

export function sampleVersion(
  secretId: string,
  version: number,
  overrides: Partial<SecretVersionRow> = {},
): SecretVersionRow {
  return {
    secretId,
    version,
    type: 'api_key',
    ciphertext: randomBytes(48),
    wrappedDek: randomBytes(40),
    valueLength: 32,
    createdByType: 'user',
    createdBy: ownerId,
    createdAt: at,
    disabledAt: null,
    ...overrides,
  };
}

export function samplePolicy(vaultId: string, overrides: Partial<PolicyRow> = {}): PolicyRow {
  return {
    id: uuidv7(),
    vaultId,
    principalType: 'agent',
    principalId: uuidv7(),
    secretPathPattern: '**',
    permissionsJson: '["read"]',
    conditionsJson: null,
    effect: 'allow',
    priority: 0,
    requireApproval: false,
    expiresAt: null,
    createdByType: 'user',
    createdBy: ownerId,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

export function sampleAuditEvent(overrides: Partial<NewAuditEvent> = {}): NewAuditEvent {
  return {
    id: uuidv7(),
    action: 'secret.read',
    actorType: 'agent',
    actorId: uuidv7(),
    vaultId: null,
    resourceType: 'secret',
    resourceId: null,
    path: null,
    outcome: 'success',
    detailsJson: '{}',
    ipAddress: '127.0.0.1',
    createdAt: at,
    prevMac: Buffer.alloc(32),
    mac: randomBytes(32),
    ...overrides,
  };
}
