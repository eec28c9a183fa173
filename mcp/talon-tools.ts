import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { approvalWaitingClientFor, defaultApprovalWaitMs, registerApprovalTools } from './tools/approval-tools.js';
import { registerSecretTools } from './tools/secret-tools.js';
import { registerSecretsResource } from './tools/secrets-resource.js';
import { registerShareTools } from './tools/share-tools.js';
import { registerTransactionTools } from './tools/transaction-tools.js';
import { registerUseTools } from './tools/use-tools.js';
import type { UnexpectedErrorReport } from './tools/tool-outcome.js';
import { registerVaultTools } from './tools/vault-tools.js';
import type { VaultClient, VaultClientFor } from './vault-client.js';

/** Kept equal to package.json's version by test/mcp/talon-tools.test.ts. */
export const talonMcpVersion = '0.1.0';

export interface TalonToolOptions {
  /** Where errors that are not Talon's answers go (the app's log); the agent only reads that one happened. */
  reportUnexpectedError?: UnexpectedErrorReport;
  /** How long a tool call waits for a human's approval before answering approval_pending. */
  approvalWaitMs?: number;
}

/**
 * Registers 1Claw's core MCP surface on `server`: the secret and vault tools with 1Claw's names,
 * arguments, defaults and result texts, list_versions and rotate_generate from its later
 * versions, and the `vault://secrets` resource. `client` is one VaultClient for every request
 * (stdio) or a function choosing one per request (HTTP, where each request authenticates).
 */
export function registerTalonTools(
  server: McpServer,
  client: VaultClient | VaultClientFor,
  options: TalonToolOptions = {},
): void {
  const clientFor: VaultClientFor = approvalWaitingClientFor(
    typeof client === 'function' ? client : () => client,
    options.approvalWaitMs ?? approvalWaitFromEnvironment() ?? defaultApprovalWaitMs,
  );
  const report = options.reportUnexpectedError ?? (() => undefined);
  registerSecretTools(server, clientFor, report);
  registerVaultTools(server, clientFor, report);
  registerSecretsResource(server, clientFor, report);
  registerShareTools(server, clientFor, report);
  registerApprovalTools(server, clientFor, report);
  registerTransactionTools(server, clientFor, report);
  registerUseTools(server, clientFor, report);
}

/** TALON_MCP_APPROVAL_WAIT_SECONDS, when set to a whole number of seconds (0 = answer at once). */
function approvalWaitFromEnvironment(): number | undefined {
  const text = process.env.TALON_MCP_APPROVAL_WAIT_SECONDS;
  return text !== undefined && /^\d{1,5}$/u.test(text) ? Number(text) * 1000 : undefined;
}

/** A fresh MCP server named `talon` with Talon's tools; one per connection (an McpServer serves one transport). */
export function createTalonMcpServer(
  client: VaultClient | VaultClientFor,
  options: TalonToolOptions = {},
): McpServer {
  const server = new McpServer(
    { name: 'talon', version: talonMcpVersion },
    {
      instructions:
        'Talon keeps secrets in a hardware-backed local vault. List secrets to discover paths, fetch a value only right before using it, and never repeat a value in summaries.',
    },
  );
  registerTalonTools(server, client, options);
  return server;
}
