import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { httpRequestMethods, secretTypes, type VaultClientFor } from '../vault-client.js';
import { type UnexpectedErrorReport, apiDetail, toolOutcome } from './tool-outcome.js';

/**
 * Tools for using a credential without its value ever entering the conversation (Talon's own;
 * 1Claw's server has no equivalent):
 * - `http_request`: Talon fills `{{secret:path}}` placeholders in a request, sends it itself to
 *   the hosts the secret allows, and answers with the values masked. Needs `use` (or `read`).
 * - `request_secret`: ask the human to store a credential the agent needs; the answer says where
 *   it was stored, never what.
 * There is deliberately no `run_command`: an agent with a shell runs `talon run` (see README).
 */
export function registerUseTools(
  server: McpServer,
  clientFor: VaultClientFor,
  report: UnexpectedErrorReport,
): void {
  server.registerTool(
    'http_request',
    {
      title: 'Send an HTTP request with a secret, without seeing it',
      description:
        'Send an HTTPS request in which Talon substitutes secrets for placeholders like {{secret:api-keys/stripe}} in the url (path or query), header values or body, and get back the status, headers and body with every secret value masked as ***. Use this instead of get_secret to call an API with a credential: the value never enters the conversation. A secret is sent only to the hosts listed in its allowed_hosts; redirects are checked again; responses are limited to 1 MiB and 15 s.',
      inputSchema: {
        method: z.enum(httpRequestMethods).describe('HTTP method'),
        url: z.string().min(1).describe("Absolute https:// URL, e.g. 'https://api.stripe.com/v1/charges'"),
        headers: z
          .record(z.string(), z.string())
          .optional()
          .describe('Request headers, e.g. { "Authorization": "Bearer {{secret:api-keys/stripe}}" }'),
        body: z.string().optional().describe('Request body as a string (serialise JSON yourself)'),
        vault_id: z.string().optional().describe('Vault of the secrets (default: the configured vault)'),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    (args, request) =>
      toolOutcome(
        'http_request',
        async () => {
          const answer = await clientFor(request).httpRequest({
            method: args.method,
            url: args.url,
            ...(args.headers ? { headers: args.headers } : {}),
            ...(args.body !== undefined ? { body: args.body } : {}),
            ...(args.vault_id ? { vault_id: args.vault_id } : {}),
          });
          return JSON.stringify(answer, null, 2);
        },
        apiDetail,
        report,
      ),
  );

  server.registerTool(
    'request_secret',
    {
      title: 'Ask the human to store a credential',
      description:
        "Ask the human to store a credential you need (e.g. 'the Stripe key, at api-keys/stripe') instead of asking them to paste it into the conversation. Talon shows them a prompt with a masked input; once they have stored it you get its path and metadata, never the value. Then use it with http_request (or have a command run with talon run).",
      inputSchema: {
        path: z.string().min(1).describe("Where the credential should be stored, e.g. 'api-keys/stripe'"),
        description: z
          .string()
          .min(1)
          .describe('What the credential is and why you need it; the human reads this in the prompt'),
        type: z.enum(secretTypes).optional().describe('Secret type (default api_key)'),
        vault_id: z.string().optional().describe('Vault to store it in (default: the configured vault)'),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    (args, request) =>
      toolOutcome(
        'request_secret',
        async () => {
          const stored = await clientFor(request).requestSecret({
            path: args.path,
            description: args.description,
            ...(args.type ? { type: args.type } : {}),
            ...(args.vault_id ? { vault_id: args.vault_id } : {}),
          });
          const { secret } = stored;
          return (
            `The human stored the credential at '${secret.path}' (type: ${secret.type}, version: ${secret.version}). ` +
            `Its value stays in Talon; use it with http_request as {{secret:${secret.path}}}.\n` +
            JSON.stringify({
              path: secret.path,
              type: secret.type,
              version: secret.version,
              metadata: secret.metadata,
            })
          );
        },
        apiDetail,
        report,
      ),
  );
}
