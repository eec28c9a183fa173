import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { VaultClientError, type VaultClientFor } from '../vault-client.js';
import { type UnexpectedErrorReport, unexpectedErrorText } from './tool-outcome.js';

export const secretsResourceUri = 'vault://secrets';

/** 1Claw's `vault://secrets` resource: the vault's secret listing as JSON, metadata only. */
export function registerSecretsResource(
  server: McpServer,
  clientFor: VaultClientFor,
  report: UnexpectedErrorReport,
): void {
  server.registerResource(
    'Vault secrets',
    secretsResourceUri,
    {
      description:
        'Browsable listing of all secret paths in the configured vault (metadata only, no values).',
      mimeType: 'application/json',
    },
    async (uri, request) => {
      try {
        const secrets = await clientFor(request).listSecrets();
        const listing = secrets.map((s) => ({
          path: s.path,
          type: s.type,
          version: s.version,
          expires_at: s.expires_at,
        }));
        return {
          contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(listing, null, 2) }],
        };
      } catch (error) {
        if (error instanceof VaultClientError) throw new McpError(ErrorCode.InternalError, error.detail);
        report(error, secretsResourceUri);
        throw new McpError(ErrorCode.InternalError, unexpectedErrorText);
      }
    },
  );
}
