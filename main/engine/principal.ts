import type { RequestContext } from './policy-conditions.js';

/** Who is calling: a human user or an agent. Every engine call takes one. */
export type Principal = UserPrincipal | AgentPrincipal;

export interface UserPrincipal {
  type: 'user';
  id: string;
  role: 'owner' | 'member';
}

export interface AgentPrincipal {
  type: 'agent';
  id: string;
  /** The user who registered the agent (1Claw's `creator`). */
  createdBy: string;
  cryptoProxyEnabled: boolean;
  /** Vaults the agent is bound to; empty = every vault its policies reach. */
  vaultIds: string[];
  /** Path globs fixed in its token at issue time (a ceiling); undefined when it used its API key. */
  tokenScopes?: string[];
}

/** The request around a call: source address and time, for policy conditions and the audit log. */
export interface CallContext extends RequestContext {
  requestId?: string;
  /** The client the request came through (`rest`, `mcp`, `ui`, `cli`), for the audit log. */
  via?: string;
  /** The program behind the transport, when it says (an MCP client's `clientInfo.name`); shown in approval prompts. */
  client?: string;
  /** The approval the caller resubmits its request with (`approval_id` / `X-Approval-ID`); see approval-service.ts. */
  approvalId?: string;
  /** Why the caller asks (`X-Approval-Reason`), shown in the prompt of an approval its call queues. */
  approvalReason?: string;
}

export function principalLabel(principal: Principal): string {
  return `${principal.type} ${principal.id}`;
}
