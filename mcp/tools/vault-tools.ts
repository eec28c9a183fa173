import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { VaultClientFor } from '../vault-client.js';
import { type UnexpectedErrorReport, apiDetail, toolOutcome } from './tool-outcome.js';

/** The vault and access tools of 1Claw's MCP server, with its names, arguments and texts. */
export function registerVaultTools(
  server: McpServer,
  clientFor: VaultClientFor,
  report: UnexpectedErrorReport,
): void {
  server.registerTool(
    'create_vault',
    {
      title: 'Create a vault',
      description:
        'Create a new vault for organising secrets. The vault is owned by this agent and automatically shared with the human who registered you. Use descriptive names so your human collaborator can find it in the Talon app.',
      inputSchema: {
        name: z.string().min(1).max(255).describe("Vault name (e.g. 'stripe-production', 'ci-deploy-keys')"),
        description: z.string().optional().describe('Short description of what this vault is for'),
      },
      // A second call with the same name is refused (names are unique per owner).
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    ({ name, description }, request) =>
      toolOutcome(
        'create_vault',
        async () => {
          const vault = await clientFor(request).createVault({
            name,
            ...(description !== undefined ? { description } : {}),
          });
          return (
            `Vault created successfully.\n` +
            `  ID: ${vault.id}\n` +
            `  Name: ${vault.name}\n` +
            `  Owner: ${vault.created_by_type}:${vault.created_by}\n\n` +
            `The vault has been automatically shared with your creator. ` +
            `You can now store secrets with put_secret (use the vault list to switch vaults).`
          );
        },
        apiDetail,
        report,
      ),
  );

  server.registerTool(
    'list_vaults',
    {
      title: 'List vaults',
      description:
        'List all vaults accessible to you (both your own and those shared with you). Returns vault IDs, names, and who created them. Use this to discover available vaults before accessing secrets.',
      inputSchema: {},
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (_args, request) =>
      toolOutcome(
        'list_vaults',
        async () => {
          const vaults = await clientFor(request).listVaults();
          if (vaults.length === 0) return 'No vaults found. Create one with create_vault.';
          const lines = vaults.map(
            (v) => `- ${v.name}  (id: ${v.id}, created by: ${v.created_by_type}, ${v.created_at})`,
          );
          return `Found ${vaults.length} vault(s):\n${lines.join('\n')}`;
        },
        apiDetail,
        report,
      ),
  );

  server.registerTool(
    'grant_access',
    {
      title: 'Grant access to a vault',
      description:
        'Grant a user or agent access to one of your vaults. You can only grant access on vaults you created. Use this to share secrets with team members or other agents.',
      inputSchema: {
        vault_id: z.uuid().describe('ID of the vault to share'),
        principal_type: z.enum(['user', 'agent']).describe('Type of principal to grant access to'),
        principal_id: z.uuid().describe('UUID of the user or agent to grant access to'),
        permissions: z
          .array(z.enum(['read', 'write', 'delete']))
          .default(['read'])
          .describe('Permissions to grant (default: read-only)'),
        secret_path_pattern: z
          .string()
          .default('**')
          .describe('Glob pattern for which secrets the policy covers (default: all)'),
      },
      // Each call adds a policy.
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    ({ vault_id, principal_type, principal_id, permissions, secret_path_pattern }, request) =>
      toolOutcome(
        'grant_access',
        async () => {
          const policy = await clientFor(request).grantAccess(vault_id, {
            principal_type,
            principal_id,
            permissions,
            secret_path_pattern,
          });
          return (
            `Access granted.\n` +
            `  Policy ID: ${policy.id}\n` +
            `  Vault: ${policy.vault_id}\n` +
            `  Granted to: ${policy.principal_type}:${policy.principal_id}\n` +
            `  Permissions: ${policy.permissions.join(', ')}\n` +
            `  Path pattern: ${policy.secret_path_pattern}`
          );
        },
        apiDetail,
        report,
      ),
  );

  // share_secret (1Claw's fifth vault tool) is not registered yet: Talon's engine has no shares
  // until the sharing issue lands; registering it now could only ever fail.
}
