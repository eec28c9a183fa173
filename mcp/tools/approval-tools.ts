import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { z } from 'zod';
import { type VaultClient, VaultClientError, type VaultClientFor } from '../vault-client.js';
import { ToolRefusal, type UnexpectedErrorReport, toolOutcome } from './tool-outcome.js';

/**
 * Approvals seen from an agent: a tool call that needs a human's approval waits for the
 * decision (up to `approvalWaitMs`, sending MCP progress notifications when the client asked for
 * them with a progressToken), then answers with the result, or with an `approval_pending` text
 * naming the approval; `get_approval_status` polls it later.
 *
 * The default wait, 50 s, stays under the MCP SDK client's default request timeout (60 s), so a
 * client that does not reset its timeout on progress still hears the answer.
 */
export const defaultApprovalWaitMs = 50_000;

/** The part of the SDK's RequestHandlerExtra that waiting uses. */
interface ToolRequest {
  authInfo?: AuthInfo;
  signal?: AbortSignal;
  _meta?: { progressToken?: string | number };
  sendNotification?: (notification: {
    method: 'notifications/progress';
    params: { progressToken: string | number; progress: number; total?: number; message?: string };
  }) => Promise<void>;
}

const approvalMethods = new Set<string | symbol>([
  'approvalStatus',
  'waitForApproval',
  'withApproval',
  'vaultId',
]);

export function approvalPendingText(approvalId: string, status: string, expiresAt?: string): string {
  if (status === 'rejected') return `A human rejected this request in Talon (approval ${approvalId}).`;
  if (status === 'expired') return `No one decided approval ${approvalId} in time; it expired. Ask again.`;
  return (
    `approval_pending: a human must approve this request in Talon first.\n` +
    `  Approval ID: ${approvalId}\n` +
    (expiresAt ? `  Expires: ${expiresAt}\n` : '') +
    `Call get_approval_status with this approval_id, then retry the same call once it is approved.`
  );
}

/**
 * Wraps `clientFor` so that every VaultClient call a human must approve first waits for the
 * decision, then runs again with the approval (once) or ends in an approval_pending refusal.
 */
export function approvalWaitingClientFor(clientFor: VaultClientFor, waitMs: number): VaultClientFor {
  return (request) => {
    const client = clientFor(request);
    const extra = request as ToolRequest;
    return new Proxy(client, {
      get(target, property, receiver) {
        const member = Reflect.get(target, property, receiver) as unknown;
        if (typeof member !== 'function' || approvalMethods.has(property)) return member;
        return async (...args: unknown[]) => {
          try {
            return await (member as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } catch (error) {
            if (
              !(error instanceof VaultClientError) ||
              error.code !== 'approval_required' ||
              !error.approvalId
            ) {
              throw error;
            }
            const decided = await waitWithProgress(target, error.approvalId, waitMs, extra);
            if (decided.status !== 'approved') {
              throw new ToolRefusal(approvalPendingText(decided.id, decided.status, decided.expires_at));
            }
            const again = target.withApproval(error.approvalId) as unknown as Record<
              string | symbol,
              unknown
            >;
            return (again[property] as (...a: unknown[]) => Promise<unknown>).apply(again, args);
          }
        };
      },
    });
  };
}

async function waitWithProgress(client: VaultClient, approvalId: string, waitMs: number, extra: ToolRequest) {
  const token = extra._meta?.progressToken;
  let step = 0;
  const onProgress =
    token !== undefined && extra.sendNotification
      ? (elapsedMs: number) => {
          step += 1;
          void extra
            .sendNotification?.({
              method: 'notifications/progress',
              params: {
                progressToken: token,
                progress: step,
                message: `Waiting for a human to approve in Talon (approval ${approvalId}, ${Math.round(elapsedMs / 1000)} s)`,
              },
            })
            .catch(() => undefined);
        }
      : undefined;
  onProgress?.(0);
  return client.waitForApproval(approvalId, {
    timeoutMs: waitMs,
    ...(extra.signal ? { signal: extra.signal } : {}),
    ...(onProgress ? { onProgress } : {}),
  });
}

export function registerApprovalTools(
  server: McpServer,
  clientFor: VaultClientFor,
  report: UnexpectedErrorReport,
): void {
  server.registerTool(
    'get_approval_status',
    {
      title: 'Get approval status',
      description:
        'Poll lightweight approval status (agent-only). Returns status and expires_at for an approval the calling agent created.',
      inputSchema: { approval_id: z.string().describe('UUID of the approval request to poll') },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ approval_id }, request) =>
      toolOutcome(
        'get_approval_status',
        async () => JSON.stringify(await clientFor(request).approvalStatus(approval_id), null, 2),
        (error) =>
          error.status === 404
            ? `Approval ${approval_id} not found.`
            : error.status === 403
              ? 'Access denied: agents can only poll their own approval requests.'
              : error.detail,
        report,
      ),
  );
}
