import { z } from 'zod';

import { normalizePathGlob } from './path-glob.js';
import { policyConditionsSchema } from './policy-conditions.js';
import { permissions } from './policy-decision.js';
import { TalonError } from './talon-error.js';
import { txGuardrailFields } from './tx-guardrails.js';

/**
 * The request contract shared by the REST routes, the MCP tools and the UI: 1Claw's field names,
 * snake_case on the wire. Objects strip fields they do not know (1Claw clients send extras), but
 * a known field is checked strictly, and fields that would ask for a protection Talon does not
 * enforce are refused rather than dropped. Each message reads after its field name
 * ("name: must be ...") so that `parseRequest` can put it straight into an API response.
 */

/** Message for a field: "is required" when absent, else the whole constraint. */
const expecting =
  (constraint: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is required' : `must be ${constraint}`;

export const secretTypes = [
  'api_key',
  'password',
  'private_key',
  'certificate',
  'file',
  'note',
  'ssh_key',
  'env_bundle',
] as const;
export const secretTypeSchema = z.enum(secretTypes, { error: expecting(`one of ${secretTypes.join(', ')}`) });
export type SecretType = z.output<typeof secretTypeSchema>;

const secretTypeAliases = { generic: 'note', env: 'env_bundle' } as const satisfies Record<
  string,
  SecretType
>;

/** Accepts the 1Claw spec's `generic` and `env` as well, mapped to `note` and `env_bundle`. */
export const secretTypeInputSchema = z
  .enum([...secretTypes, 'generic', 'env'], {
    error: expecting(`one of ${secretTypes.join(', ')} (or generic, env)`),
  })
  .transform((type): SecretType => (type === 'generic' || type === 'env' ? secretTypeAliases[type] : type));

const isoDateTime = z.iso.datetime({
  offset: true,
  error: expecting('an ISO 8601 date-time with a time zone, such as "2026-01-31T12:00:00Z"'),
});

/** UUIDs are compared as text downstream, so they are lower-cased here. */
const uuid = z.guid({ error: expecting('a UUID') }).transform((id) => id.toLowerCase());

const metadata = z.record(z.string(), z.unknown(), { error: expecting('a JSON object') });

const pathPattern = z
  .string({ error: expecting('a path pattern such as "api-keys/*" or "**"') })
  .transform((raw, context) => {
    try {
      return normalizePathGlob(raw);
    } catch (error) {
      if (!TalonError.is(error)) throw error;
      context.issues.push({ code: 'custom', input: raw, message: error.message });
      return z.NEVER;
    }
  });

const refused = (instead: string) =>
  z
    .null({
      error: `is not supported by Talon, and leaving it unenforced would weaken the request; ${instead}`,
    })
    .optional();

// ---- secrets --------------------------------------------------------------------------------

export const putSecretRequestSchema = z
  .object(
    {
      type: secretTypeInputSchema.optional(),
      secret_type: secretTypeInputSchema.optional(),
      value: z.string({ error: expecting('a non-empty string') }).min(1),
      metadata: metadata.nullish(),
      expires_at: isoDateTime.nullish(),
      max_access_count: z
        .int({ error: expecting('a whole number, 0 or more (0 = unlimited)') })
        .min(0)
        .nullish(),
      rotation_policy: z.record(z.string(), z.unknown(), { error: expecting('a JSON object') }).nullish(),
    },
    { error: 'must be a JSON object' },
  )
  .transform(({ secret_type, ...body }, context) => {
    if (body.type !== undefined && secret_type !== undefined && body.type !== secret_type) {
      context.issues.push({
        code: 'custom',
        input: secret_type,
        path: ['secret_type'],
        message: `disagrees with type ("${secret_type}" vs "${body.type}"); send only one of them`,
      });
      return z.NEVER;
    }
    // Absent type: the engine keeps the current type for a new version, or uses 'note' (1Claw's 'generic').
    return { ...body, type: body.type ?? secret_type };
  });
export type PutSecretRequest = z.output<typeof putSecretRequestSchema>;

export const rotationCharsets = ['hex', 'base64', 'alphanumeric', 'ascii'] as const;

export const rotateSecretRequestSchema = z.object(
  {
    length: z
      .int({ error: expecting('a whole number from 8 to 1024') })
      .min(8)
      .max(1024)
      .default(32),
    charset: z
      .enum(rotationCharsets, { error: expecting(`one of ${rotationCharsets.join(', ')}`) })
      .default('hex'),
    type: secretTypeInputSchema.optional(),
  },
  { error: 'must be a JSON object' },
);
export type RotateSecretRequest = z.output<typeof rotateSecretRequestSchema>;

/** The name of a vault or an agent. */
const displayName = z
  .string({ error: expecting('a name of 1 to 255 characters') })
  .trim()
  .min(1)
  .max(255);

const description = z
  .string({ error: expecting('a string of at most 2000 characters') })
  .max(2000)
  .nullish();

// ---- vaults ---------------------------------------------------------------------------------

export const createVaultRequestSchema = z.object(
  {
    name: displayName,
    description,
    /** Talon's: unwrap every data key in the token on each read. */
    strict_mode: z.boolean({ error: expecting('true or false') }).default(false),
  },
  { error: 'must be a JSON object' },
);
export type CreateVaultRequest = z.output<typeof createVaultRequestSchema>;

// ---- policies -------------------------------------------------------------------------------

export const permissionSchema = z.enum(permissions, { error: expecting(`one of ${permissions.join(', ')}`) });

const policyPermissions = z
  .array(permissionSchema, { error: expecting(`a non-empty list of ${permissions.join(', ')}`) })
  .min(1)
  .transform((granted) => permissions.filter((p) => granted.includes(p)));

const priority = z
  .int({ error: expecting('a whole number from -1000000 to 1000000') })
  .min(-1_000_000)
  .max(1_000_000);

const policyEffect = z.enum(['allow', 'deny'], { error: expecting('"allow" or "deny"') });
const requireApproval = z.boolean({ error: expecting('true or false') });

const unenforcedPolicyFields = {
  attribute_conditions: refused(
    'express the condition with conditions.ip_allowlist or conditions.time_window',
  ),
  consensus_trigger: refused('use require_approval for a human approval on each use'),
  tx_conditions: refused('leave it out'),
};

function withoutUnenforced<T extends Record<string, unknown>>(body: T) {
  const { attribute_conditions: _a, consensus_trigger: _c, tx_conditions: _t, ...rest } = body;
  return rest;
}

export const createPolicyRequestSchema = z
  .object(
    {
      secret_path_pattern: pathPattern,
      principal_type: z.enum(['user', 'agent'], { error: expecting('"user" or "agent"') }),
      principal_id: uuid,
      permissions: policyPermissions,
      conditions: policyConditionsSchema.nullish(),
      expires_at: isoDateTime.nullish(),
      effect: policyEffect.default('allow'),
      priority: priority.default(0),
      require_approval: requireApproval.default(false),
      ...unenforcedPolicyFields,
    },
    { error: 'must be a JSON object' },
  )
  .transform(withoutUnenforced);
export type CreatePolicyRequest = z.output<typeof createPolicyRequestSchema>;

/** Pattern and principal are immutable (as in 1Claw): to change them, create a new policy. */
export const updatePolicyRequestSchema = z
  .object(
    {
      permissions: policyPermissions.optional(),
      conditions: policyConditionsSchema.nullish(),
      expires_at: isoDateTime.nullish(),
      effect: policyEffect.optional(),
      priority: priority.optional(),
      require_approval: requireApproval.optional(),
      ...unenforcedPolicyFields,
    },
    { error: 'must be a JSON object' },
  )
  .transform(withoutUnenforced);
export type UpdatePolicyRequest = z.output<typeof updatePolicyRequestSchema>;

// ---- agents ---------------------------------------------------------------------------------

const agentFields = {
  name: displayName,
  description,
  /** Transaction guardrails with 1Claw's names, and Talon's auto-approve threshold (tx-guardrails.ts). */
  ...txGuardrailFields,
  scopes: z
    .array(
      z
        .string({ error: 'must be a non-empty path pattern of at most 512 characters' })
        .trim()
        .min(1)
        .max(512),
      {
        error: expecting('a list of at most 100 path patterns'),
      },
    )
    .max(100)
    .nullish(),
  vault_ids: z.array(uuid, { error: expecting('a list of vault UUIDs') }).nullish(),
  crypto_proxy_enabled: z.boolean({ error: expecting('true or false') }).optional(),
  /** 1Claw's newer name for crypto_proxy_enabled. */
  intents_api_enabled: z.boolean({ error: expecting('true or false') }).optional(),
  token_ttl_seconds: z
    .int({ error: expecting('a whole number of seconds from 60 to 86400') })
    .min(60)
    .max(86_400)
    .nullish(),
  expires_at: isoDateTime.nullish(),
  auth_method: z
    .literal('api_key', { error: 'must be "api_key": Talon agents authenticate with API keys only' })
    .optional(),
};

type AgentFlags = { crypto_proxy_enabled?: boolean; intents_api_enabled?: boolean; auth_method?: 'api_key' };

/** Folds intents_api_enabled into crypto_proxy_enabled; `whenAbsent` is the value if neither is sent. */
const withOneCryptoProxyFlag =
  <D extends boolean | undefined>(whenAbsent: D) =>
  <T extends AgentFlags>(
    { intents_api_enabled, auth_method: _authMethod, ...body }: T,
    context: z.core.$RefinementCtx,
  ) => {
    const { crypto_proxy_enabled } = body;
    if (
      crypto_proxy_enabled !== undefined &&
      intents_api_enabled !== undefined &&
      crypto_proxy_enabled !== intents_api_enabled
    ) {
      context.issues.push({
        code: 'custom',
        input: intents_api_enabled,
        path: ['intents_api_enabled'],
        message:
          'disagrees with crypto_proxy_enabled (they are two names for one setting); send only one of them',
      });
      return z.NEVER;
    }
    return { ...body, crypto_proxy_enabled: crypto_proxy_enabled ?? intents_api_enabled ?? whenAbsent };
  };

export const createAgentRequestSchema = z
  .object(agentFields, { error: 'must be a JSON object' })
  .transform(withOneCryptoProxyFlag(false));
export type CreateAgentRequest = z.output<typeof createAgentRequestSchema>;

/** Partial; `null` clears a nullable field. */
export const updateAgentRequestSchema = z
  .object(
    {
      ...agentFields,
      name: agentFields.name.optional(),
      is_active: z.boolean({ error: expecting('true or false') }).optional(),
    },
    { error: 'must be a JSON object' },
  )
  .transform(withOneCryptoProxyFlag(undefined));
export type UpdateAgentRequest = z.output<typeof updateAgentRequestSchema>;

// ---- parsing --------------------------------------------------------------------------------

/**
 * Parses a request against its schema or throws `invalid_input` with a message fit for the
 * response ("Invalid create policy request: permissions: must be ..."). Never echoes the input.
 */
export function parseRequest<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: issue.path.join('.'),
    message: issue.message.replace(/\.$/u, ''),
  }));
  const listed = issues
    .map(({ field, message }) => (field ? `${field}: ${message}` : `body ${message}`))
    .join('; ');
  throw new TalonError('invalid_input', `Invalid ${what}: ${listed}.`, { details: { issues } });
}

// ---- using without seeing (secret use, http_request, secret requests, MCP pairing) ----------

const secretPathField = z
  .string({ error: expecting('a secret path such as "api-keys/stripe"') })
  .min(1, { error: 'must be a secret path such as "api-keys/stripe"' });

/** `talon run`'s question: the values of these paths and of everything under these prefixes. */
export const secretsForUseRequestSchema = z
  .object(
    {
      paths: z
        .array(secretPathField, { error: expecting('a list of secret paths') })
        .max(1000)
        .default([]),
      prefixes: z
        .array(z.string({ error: expecting('a path prefix such as "config/" ("" for all)') }), {
          error: expecting('a list of path prefixes'),
        })
        .max(100)
        .default([]),
    },
    { error: 'must be a JSON object' },
  )
  .refine((body) => body.paths.length > 0 || body.prefixes.length > 0, {
    error: 'names nothing to use: give paths, prefixes, or the prefix "" for the whole vault',
  });
export type SecretsForUseRequest = z.output<typeof secretsForUseRequestSchema>;

export const httpRequestMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** http_request: `{{secret:path}}` placeholders in url, header values and body. */
export const httpRequestSchema = z.object(
  {
    method: z
      .string({ error: expecting(`one of ${httpRequestMethods.join(', ')}`) })
      .transform((method) => method.toUpperCase())
      .pipe(z.enum(httpRequestMethods, { error: expecting(`one of ${httpRequestMethods.join(', ')}`) })),
    url: z
      .string({ error: expecting('an https:// URL') })
      .min(1)
      .max(8192),
    headers: z
      .record(
        z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/u, { error: 'must be a valid header name' }),
        z.string({ error: 'each header value must be a string' }),
        { error: expecting('an object of header names to string values') },
      )
      .optional(),
    body: z.string({ error: expecting('a string (serialise JSON yourself)') }).optional(),
    vault_id: uuid.optional(),
  },
  { error: 'must be a JSON object' },
);
export type HttpRequestBody = z.output<typeof httpRequestSchema>;

/** request_secret: an agent asks the human to store a credential at a path. */
export const secretRequestSchema = z.object(
  {
    path: secretPathField,
    description: z
      .string({ error: expecting('a short text saying what the credential is and why it is needed') })
      .trim()
      .min(1)
      .max(2000),
    type: secretTypeInputSchema.optional(),
  },
  { error: 'must be a JSON object' },
);
export type SecretRequestBody = z.output<typeof secretRequestSchema>;

/** The human's answer to a secret request: the value, stored as a new version at the requested path. */
export const fulfilSecretRequestSchema = z.object(
  {
    value: z.string({ error: expecting('a non-empty string') }).min(1),
    metadata: metadata.nullish(),
  },
  { error: 'must be a JSON object' },
);

/** `talon-mcp --agent <name>` asking to be paired. */
export const pairingRequestSchema = z.object(
  {
    agent_name: displayName,
    client_name: z
      .string({ error: expecting('the name of the MCP client, 1 to 200 characters') })
      .trim()
      .min(1)
      .max(200),
    /** A random secret the client keeps, to claim the key once the human approved. */
    claim_secret: z
      .string({ error: expecting('a random string of 32 to 256 characters') })
      .min(32)
      .max(256),
  },
  { error: 'must be a JSON object' },
);

// ---- the human side: set-up, unlock, users, login, two-factor ---------------------------------

/** Never length-checked here: the PIN rule (talon-pin.ts) and the token judge it, without echoing it. */
const pinField = z
  .string({ error: expecting('the token PIN, as a string') })
  .max(1024, { error: 'is too long' });
const totpCodeField = z
  .string({ error: expecting('the 6-digit code from your authenticator app, or a recovery code') })
  .trim()
  .min(6, { error: 'must be the 6-digit code from your authenticator app, or a recovery code' })
  .max(32, { error: 'must be the 6-digit code from your authenticator app, or a recovery code' });
// Loose on purpose: a local account such as owner@localhost is an address here.
const emailField = z
  .string({ error: expecting('an email address') })
  .trim()
  .max(320, { error: 'must be an email address' })
  .regex(/^[^@\s]+@[^@\s]+$/u, { error: 'must be an email address' });
const passwordField = z
  .string({ error: expecting('a password, as a string') })
  .max(1024, { error: 'is too long' });

export const setUpRequestSchema = z.object(
  { pin: pinField, pin_confirmation: pinField, email: emailField.optional() },
  { error: 'must be a JSON object' },
);
export type SetUpRequest = z.output<typeof setUpRequestSchema>;

export const unlockRequestSchema = z.object(
  { pin: pinField, totp_code: totpCodeField.optional() },
  { error: 'must be a JSON object' },
);
export type UnlockRequest = z.output<typeof unlockRequestSchema>;

export const createUserRequestSchema = z.object(
  {
    email: emailField,
    display_name: z
      .string({ error: expecting('a name of 1 to 255 characters') })
      .trim()
      .min(1)
      .max(255)
      .optional(),
    password: passwordField.optional(),
  },
  { error: 'must be a JSON object' },
);
export type CreateUserRequest = z.output<typeof createUserRequestSchema>;

export const updateUserRequestSchema = z.object(
  {
    display_name: z
      .string({ error: expecting('a name of 1 to 255 characters') })
      .trim()
      .min(1)
      .max(255)
      .optional(),
    is_active: z.boolean({ error: expecting('true or false') }).optional(),
  },
  { error: 'must be a JSON object' },
);
export type UpdateUserRequest = z.output<typeof updateUserRequestSchema>;

export const loginRequestSchema = z.object(
  {
    email: z
      .string({ error: expecting('your email address') })
      .trim()
      .min(1)
      .max(320),
    password: passwordField,
  },
  { error: 'must be a JSON object' },
);

export const changePasswordRequestSchema = z.object(
  { current_password: passwordField.optional(), new_password: passwordField },
  { error: 'must be a JSON object' },
);

export const mfaCodeRequestSchema = z.object({ code: totpCodeField }, { error: 'must be a JSON object' });

export const mfaVerifyRequestSchema = z.object(
  {
    mfa_token: z
      .string({ error: expecting('the mfa_token POST /v1/auth/token returned') })
      .min(1)
      .max(8192),
    code: totpCodeField,
  },
  { error: 'must be a JSON object' },
);
