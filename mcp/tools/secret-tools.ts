import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { envBundleVariables } from '../env-bundle.js';
import { rotationCharsets, secretTypes, type VaultClientFor } from '../vault-client.js';
import {
  ToolRefusal,
  type UnexpectedErrorReport,
  apiDetail,
  secretFailure,
  toolOutcome,
} from './tool-outcome.js';

/**
 * The secret tools of 1Claw's MCP server: names, arguments, defaults and result texts are
 * 1Claw's (@1claw/mcp), so an agent written for it works against Talon unchanged. Only
 * get_secret and get_env_bundle ever answer with a value.
 */

const readOnly: ToolAnnotations = { readOnlyHint: true, openWorldHint: false };
/** Each call adds a version; earlier versions stay readable, so nothing is destroyed. */
const addsVersion: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: false,
};

export function registerSecretTools(
  server: McpServer,
  clientFor: VaultClientFor,
  report: UnexpectedErrorReport,
): void {
  server.registerTool(
    'list_secrets',
    {
      title: 'List secrets',
      description:
        'List the secrets stored in the Talon vault that you may read. Returns paths, types, versions and expiry — never secret values. Use this to discover what credentials are available before fetching one.',
      inputSchema: {
        prefix: z.string().optional().describe("Optional path prefix to filter secrets (e.g. 'api-keys/')"),
      },
      annotations: readOnly,
    },
    ({ prefix }, request) =>
      toolOutcome(
        'list_secrets',
        async () => {
          const secrets = await clientFor(request).listSecrets(prefix || undefined);
          if (secrets.length === 0) return 'No secrets found in this vault.';
          const lines = secrets.map(
            (s) =>
              `- ${s.path}  (type: ${s.type}, version: ${s.version}, expires: ${s.expires_at ?? 'never'})`,
          );
          return `Found ${secrets.length} secret(s):\n${lines.join('\n')}`;
        },
        apiDetail,
        report,
      ),
  );

  server.registerTool(
    'get_secret',
    {
      title: 'Get a secret',
      description:
        "Fetch the decrypted value of a secret from the Talon vault by its path (e.g. 'api-keys/stripe'). Use this immediately before making an API call that requires the credential. Do not store the value or include it in summaries.",
      inputSchema: {
        path: z.string().min(1).describe("Secret path, e.g. 'api-keys/stripe' or 'passwords/db-prod'"),
      },
      annotations: readOnly,
    },
    ({ path }, request) =>
      toolOutcome(
        'get_secret',
        async () => {
          const secret = await clientFor(request).getSecret(path);
          return JSON.stringify({
            path: secret.path,
            type: secret.type,
            version: secret.version,
            value: secret.value,
          });
        },
        secretFailure(path),
        report,
      ),
  );

  server.registerTool(
    'put_secret',
    {
      title: 'Store a secret',
      description:
        'Store a new secret or update an existing one in the Talon vault. Provide the path, value, and type. Each call creates a new version. Supports optional expiry and max access count.',
      inputSchema: {
        path: z.string().min(1).describe("Secret path, e.g. 'api-keys/stripe'"),
        value: z.string().min(1).describe('The secret value to store'),
        type: z
          .enum(secretTypes)
          .default('api_key')
          .describe(
            'Secret type: api_key, password, private_key, certificate, file, note, ssh_key, or env_bundle',
          ),
        metadata: z
          .record(z.string(), z.unknown())
          .optional()
          .describe('Optional JSON metadata to attach to the secret'),
        expires_at: z
          .string()
          .optional()
          .describe("Optional ISO 8601 expiry datetime (e.g. '2025-12-31T23:59:59Z')"),
        max_access_count: z
          .number()
          .int()
          .positive()
          .optional()
          .describe('Optional maximum number of times the secret can be read before auto-expiring'),
      },
      annotations: addsVersion,
    },
    ({ path, value, type, metadata, expires_at, max_access_count }, request) =>
      toolOutcome(
        'put_secret',
        async () => {
          const stored = await clientFor(request).putSecret(path, {
            value,
            type,
            ...(metadata !== undefined ? { metadata } : {}),
            ...(expires_at !== undefined ? { expires_at } : {}),
            ...(max_access_count !== undefined ? { max_access_count } : {}),
          });
          return `Secret stored at '${path}' (version ${stored.version}, type: ${stored.type}).`;
        },
        apiDetail,
        report,
      ),
  );

  server.registerTool(
    'delete_secret',
    {
      title: 'Delete a secret',
      description:
        'Soft-delete a secret at the given path. All versions are marked deleted. This is reversible by the vault owner.',
      inputSchema: {
        path: z.string().min(1).describe("Secret path to delete, e.g. 'api-keys/old-stripe'"),
      },
      // Deleting twice leaves the vault as deleting once does (the second call says it is gone).
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    ({ path }, request) =>
      toolOutcome(
        'delete_secret',
        async () => {
          await clientFor(request).deleteSecret(path);
          return `Secret at '${path}' has been soft-deleted.`;
        },
        secretFailure(path),
        report,
      ),
  );

  server.registerTool(
    'describe_secret',
    {
      title: 'Describe a secret',
      description:
        'Get metadata for a secret (type, version, expiry) without fetching its value. Use this to check if a secret exists or is still valid before fetching it.',
      inputSchema: {
        path: z.string().min(1).describe("Secret path to describe, e.g. 'api-keys/stripe'"),
      },
      annotations: readOnly,
    },
    ({ path }, request) =>
      toolOutcome(
        'describe_secret',
        async () => {
          const secret = await clientFor(request).describeSecret(path);
          return JSON.stringify(
            {
              path: secret.path,
              type: secret.type,
              version: secret.version,
              metadata: secret.metadata,
              created_at: secret.created_at,
              expires_at: secret.expires_at,
            },
            null,
            2,
          );
        },
        secretFailure(path),
        report,
      ),
  );

  server.registerTool(
    'rotate_and_store',
    {
      title: 'Store a rotated value',
      description:
        'Store a new value for an existing secret (creating a new version) and return the version number. Useful when an agent has regenerated an API key and needs to persist it.',
      inputSchema: {
        path: z.string().min(1).describe('Secret path to rotate'),
        value: z.string().min(1).describe('The new secret value'),
        type: z
          .string()
          .optional()
          .describe('Secret type (api_key, password, etc.). Uses existing type if omitted.'),
      },
      annotations: addsVersion,
    },
    ({ path, value, type }, request) =>
      toolOutcome(
        'rotate_and_store',
        async () => {
          // Without a type the new version keeps the secret's own type, as the description
          // promises (1Claw's server sends api_key then, which would retype a password).
          const stored = await clientFor(request).putSecret(path, { value, ...(type ? { type } : {}) });
          return `Rotated secret at '${path}'. New version: ${stored.version}.`;
        },
        apiDetail,
        report,
      ),
  );

  server.registerTool(
    'rotate_generate',
    {
      title: 'Rotate to a generated value',
      description:
        'Server-side secret rotation: generates a cryptographically random value and stores it as a new version. The secret value never leaves Talon. Returns the new version number.',
      inputSchema: {
        path: z.string().min(1).describe('Secret path to rotate'),
        length: z.number().min(8).max(1024).optional().describe('Length of generated value (default 32)'),
        charset: z.enum(rotationCharsets).optional().describe('Character set (default hex)'),
      },
      annotations: addsVersion,
    },
    ({ path, length, charset }, request) =>
      toolOutcome(
        'rotate_generate',
        async () => {
          const stored = await clientFor(request).rotateGenerate(path, {
            ...(length !== undefined ? { length } : {}),
            ...(charset !== undefined ? { charset } : {}),
          });
          return `Rotated secret at '${path}' with server-generated value. New version: ${stored.version}.`;
        },
        apiDetail,
        report,
      ),
  );

  server.registerTool(
    'list_versions',
    {
      title: 'List versions of a secret',
      description:
        'List all versions of a secret at the given path. Returns version numbers, creation dates, and disabled status.',
      inputSchema: { path: z.string().min(1).describe('Secret path') },
      annotations: readOnly,
    },
    ({ path }, request) =>
      toolOutcome(
        'list_versions',
        async () => {
          const versions = await clientFor(request).listVersions(path);
          if (versions.length === 0) return `No versions found for '${path}'.`;
          const lines = versions.map(
            (v) => `v${v.version} (${v.created_at})${v.is_disabled ? ' [disabled]' : ''}`,
          );
          return `Versions for '${path}' (${versions.length} total):\n${lines.join('\n')}`;
        },
        secretFailure(path),
        report,
      ),
  );

  server.registerTool(
    'get_env_bundle',
    {
      title: 'Get an env bundle',
      description:
        'Fetch a secret of type env_bundle, parse its KEY=VALUE lines, and return a structured JSON object. Useful for injecting environment variables into subprocesses.',
      inputSchema: { path: z.string().min(1).describe('Path to an env_bundle secret') },
      annotations: readOnly,
    },
    ({ path }, request) =>
      toolOutcome(
        'get_env_bundle',
        async () => {
          const secret = await clientFor(request).getSecret(path);
          if (secret.type !== 'env_bundle') {
            throw new ToolRefusal(`Secret at '${path}' is type '${secret.type}', not 'env_bundle'.`);
          }
          return JSON.stringify(envBundleVariables(secret.value), null, 2);
        },
        secretFailure(path),
        report,
      ),
  );
}
