import { describe, expect, it } from 'vitest';

import {
  createAgentRequestSchema,
  createPolicyRequestSchema,
  createVaultRequestSchema,
  parseRequest,
  putSecretRequestSchema,
  rotateSecretRequestSchema,
  secretTypeInputSchema,
  updateAgentRequestSchema,
  updatePolicyRequestSchema,
} from '../../main/engine/schemas.js';
import { TalonError } from '../../main/engine/talon-error.js';

const AGENT = '0190F1B6-0000-7000-8000-0000000000A1';
const VAULT = '0190f1b6-0000-7000-8000-00000000000a';

function invalid(run: () => unknown): TalonError {
  try {
    run();
  } catch (error) {
    if (TalonError.is(error, 'invalid_input')) return error;
    throw error;
  }
  throw new Error('expected invalid_input');
}

describe('secret types', () => {
  it.each([
    ['api_key', 'api_key'],
    ['env_bundle', 'env_bundle'],
    ['generic', 'note'],
    ['env', 'env_bundle'],
  ])('reads %s as %s', (input, type) => {
    expect(secretTypeInputSchema.parse(input)).toBe(type);
  });

  it('refuses an unknown type with the list of known ones', () => {
    const error = invalid(() =>
      parseRequest(putSecretRequestSchema, { type: 'blob', value: 'x' }, 'put secret request'),
    );
    expect(error.message).toMatch(
      /^Invalid put secret request: type: must be one of api_key, password, .*\.$/u,
    );
  });
});

describe('putSecretRequestSchema', () => {
  it('accepts a 1Claw body and strips unknown fields', () => {
    expect(
      putSecretRequestSchema.parse({
        type: 'generic',
        value: 'v',
        metadata: { env: 'prod' },
        expires_at: '2026-01-31T12:00:00+01:00',
        max_access_count: 0,
        rotation_policy: { days: 30 },
        client_hint: true,
      }),
    ).toEqual({
      type: 'note',
      value: 'v',
      metadata: { env: 'prod' },
      expires_at: '2026-01-31T12:00:00+01:00',
      max_access_count: 0,
      rotation_policy: { days: 30 },
    });
  });

  it('accepts the CLI’s secret_type and leaves an absent type absent', () => {
    expect(putSecretRequestSchema.parse({ secret_type: 'env_bundle', value: 'A=1' })).toEqual({
      type: 'env_bundle',
      value: 'A=1',
    });
    expect(putSecretRequestSchema.parse({ value: 'v' }).type).toBeUndefined();
    expect(putSecretRequestSchema.parse({ type: 'env', secret_type: 'env_bundle', value: 'A=1' }).type).toBe(
      'env_bundle',
    );
  });

  it.each([
    [{}, 'value: is required'],
    [{ value: '' }, 'value: must be a non-empty string'],
    [{ value: 5 }, 'value: must be a non-empty string'],
    [{ value: 'v', expires_at: 'tomorrow' }, 'expires_at: must be an ISO 8601 date-time'],
    [{ value: 'v', expires_at: '2026-01-31T12:00:00' }, 'expires_at: must be an ISO 8601 date-time'],
    [{ value: 'v', max_access_count: -1 }, 'max_access_count: must be a whole number, 0 or more'],
    [{ value: 'v', max_access_count: 1.5 }, 'max_access_count: must be a whole number, 0 or more'],
    [{ value: 'v', metadata: 'x' }, 'metadata: must be a JSON object'],
    [{ value: 'v', type: 'note', secret_type: 'password' }, 'secret_type: disagrees with type'],
    [null, 'body must be a JSON object'],
  ])('refuses %j', (body, message) => {
    expect(invalid(() => parseRequest(putSecretRequestSchema, body, 'put secret request')).message).toContain(
      message,
    );
  });

  it('never echoes the value in an error', () => {
    const error = invalid(() =>
      parseRequest(
        putSecretRequestSchema,
        { value: 'hunter2-secret', type: 'nope', max_access_count: 'x' },
        'request',
      ),
    );
    expect(error.message).not.toContain('hunter2');
    expect(JSON.stringify(error.details)).not.toContain('hunter2');
  });
});

describe('rotateSecretRequestSchema', () => {
  it('fills 1Claw’s defaults', () => {
    expect(rotateSecretRequestSchema.parse({})).toEqual({ length: 32, charset: 'hex' });
    expect(rotateSecretRequestSchema.parse({ length: 8, charset: 'ascii', type: 'generic' })).toEqual({
      length: 8,
      charset: 'ascii',
      type: 'note',
    });
  });

  it.each([[{ length: 7 }], [{ length: 1025 }], [{ length: 12.5 }], [{ charset: 'emoji' }]])(
    'refuses %j',
    (body) => {
      expect(rotateSecretRequestSchema.safeParse(body).success).toBe(false);
    },
  );
});

describe('createVaultRequestSchema', () => {
  it('trims the name and keeps a description', () => {
    expect(
      createVaultRequestSchema.parse({ name: '  Work  ', description: 'd', mpc_custody: '2-of-2' }),
    ).toEqual({
      name: 'Work',
      description: 'd',
      strict_mode: false,
    });
  });

  it('takes strict_mode as a boolean only', () => {
    expect(createVaultRequestSchema.parse({ name: 'v', strict_mode: true }).strict_mode).toBe(true);
    expect(createVaultRequestSchema.safeParse({ name: 'v', strict_mode: 'yes' }).success).toBe(false);
  });

  it.each([[{}], [{ name: '   ' }], [{ name: 'x'.repeat(256) }], [{ name: 3 }]])('refuses %j', (body) => {
    expect(
      invalid(() => parseRequest(createVaultRequestSchema, body, 'create vault request')).message,
    ).toContain('name: ');
  });
});

describe('createPolicyRequestSchema', () => {
  const minimal = {
    secret_path_pattern: '/api-keys/**/',
    principal_type: 'agent',
    principal_id: AGENT,
    permissions: ['read'],
  };

  it('fills defaults and normalises pattern, id and permissions', () => {
    expect(
      createPolicyRequestSchema.parse({
        ...minimal,
        permissions: ['write', 'read', 'read'],
        policy_schema_version: 2,
      }),
    ).toEqual({
      secret_path_pattern: 'api-keys/**',
      principal_type: 'agent',
      principal_id: AGENT.toLowerCase(),
      permissions: ['read', 'write'],
      effect: 'allow',
      priority: 0,
      require_approval: false,
    });
  });

  it('accepts conditions, expiry, effect, priority and require_approval', () => {
    const parsed = createPolicyRequestSchema.parse({
      ...minimal,
      conditions: {
        ip_allowlist: ['10.0.0.0/8'],
        time_window: { after: '09:00', before: '17:00', timezone: 'Asia/Tokyo' },
      },
      expires_at: '2026-01-01T00:00:00Z',
      effect: 'deny',
      priority: 7,
      require_approval: true,
      consensus_trigger: null,
    });
    expect(parsed).toMatchObject({ effect: 'deny', priority: 7, require_approval: true });
    expect(parsed.conditions?.time_window?.timezone).toBe('Asia/Tokyo');
    expect(parsed).not.toHaveProperty('consensus_trigger');
  });

  it.each([
    [{ ...minimal, permissions: [] }, 'permissions: must be a non-empty list of read, write, delete, use'],
    [{ ...minimal, permissions: ['rotate'] }, 'permissions.0: must be one of read, write, delete, use'],
    [
      { ...minimal, secret_path_pattern: 'a//b' },
      "secret_path_pattern: Path pattern 'a//b' has an empty segment",
    ],
    [{ ...minimal, secret_path_pattern: 'a/**x' }, "'**' must be a whole segment"],
    [{ ...minimal, principal_id: 'agent-1' }, 'principal_id: must be a UUID'],
    [{ ...minimal, principal_type: 'robot' }, 'principal_type: must be "user" or "agent"'],
    [{ ...minimal, effect: 'maybe' }, 'effect: must be "allow" or "deny"'],
    [{ ...minimal, priority: 1.5 }, 'priority: must be a whole number'],
    [{ ...minimal, require_approval: 'yes' }, 'require_approval: must be true or false'],
    [
      { ...minimal, conditions: { ip_allowlist: ['nope'] } },
      'conditions.ip_allowlist.0: "nope" is not an IPv4 or IPv6',
    ],
    [{ ...minimal, conditions: { geo: 'EU' } }, 'conditions: has unknown field "geo"'],
    [{ ...minimal, consensus_trigger: { approval: {} } }, 'consensus_trigger: is not supported by Talon'],
    [{ ...minimal, tx_conditions: { chain_in: ['base'] } }, 'tx_conditions: is not supported by Talon'],
    [{ permissions: ['read'] }, 'secret_path_pattern: is required'],
  ])('refuses %j', (body, message) => {
    expect(
      invalid(() => parseRequest(createPolicyRequestSchema, body, 'create policy request')).message,
    ).toContain(message);
  });
});

describe('updatePolicyRequestSchema', () => {
  it('leaves absent fields absent, and strips immutable ones', () => {
    expect(
      updatePolicyRequestSchema.parse({ priority: 3, secret_path_pattern: 'x/**', principal_id: AGENT }),
    ).toEqual({
      priority: 3,
    });
    expect(updatePolicyRequestSchema.parse({ conditions: null, expires_at: null })).toEqual({
      conditions: null,
      expires_at: null,
    });
  });

  it('checks what it is given', () => {
    expect(updatePolicyRequestSchema.safeParse({ permissions: [] }).success).toBe(false);
    expect(updatePolicyRequestSchema.safeParse({ attribute_conditions: { a: 1 } }).success).toBe(false);
  });
});

describe('agent requests', () => {
  it('create: fills crypto_proxy_enabled and folds in intents_api_enabled', () => {
    expect(createAgentRequestSchema.parse({ name: 'bot' })).toEqual({
      name: 'bot',
      crypto_proxy_enabled: false,
    });
    expect(
      createAgentRequestSchema.parse({
        name: ' bot ',
        description: 'd',
        scopes: ['api-keys/**'],
        vault_ids: [VAULT.toUpperCase()],
        intents_api_enabled: true,
        token_ttl_seconds: 3600,
        expires_at: '2026-01-01T00:00:00Z',
        auth_method: 'api_key',
        tx_max_value: '1',
      }),
    ).toEqual({
      name: 'bot',
      description: 'd',
      scopes: ['api-keys/**'],
      vault_ids: [VAULT],
      crypto_proxy_enabled: true,
      token_ttl_seconds: 3600,
      expires_at: '2026-01-01T00:00:00Z',
      // A guardrail since the crypto transaction proxy (tx-guardrails.ts), no longer an unknown field.
      tx_max_value: '1',
    });
    expect(
      createAgentRequestSchema.parse({ name: 'b', crypto_proxy_enabled: true, intents_api_enabled: true }),
    ).toMatchObject({
      crypto_proxy_enabled: true,
    });
  });

  it.each([
    [{}, 'name: is required'],
    [
      { name: 'b', token_ttl_seconds: 59 },
      'token_ttl_seconds: must be a whole number of seconds from 60 to 86400',
    ],
    [
      { name: 'b', token_ttl_seconds: 86_401 },
      'token_ttl_seconds: must be a whole number of seconds from 60 to 86400',
    ],
    [{ name: 'b', vault_ids: ['v1'] }, 'vault_ids.0: must be a UUID'],
    [{ name: 'b', crypto_proxy_enabled: true, intents_api_enabled: false }, 'intents_api_enabled: disagrees'],
    [{ name: 'b', auth_method: 'mtls' }, 'auth_method: must be "api_key"'],
    [{ name: 'b', scopes: [''] }, 'scopes.0: must be a non-empty path pattern'],
  ])('create refuses %j', (body, message) => {
    expect(
      invalid(() => parseRequest(createAgentRequestSchema, body, 'create agent request')).message,
    ).toContain(message);
  });

  it('update: partial, null clears, no defaults', () => {
    expect(updateAgentRequestSchema.parse({})).toEqual({});
    expect(
      updateAgentRequestSchema.parse({
        description: null,
        token_ttl_seconds: null,
        intents_api_enabled: false,
      }),
    ).toEqual({
      description: null,
      token_ttl_seconds: null,
      crypto_proxy_enabled: false,
    });
    expect(updateAgentRequestSchema.safeParse({ name: '' }).success).toBe(false);
  });
});
