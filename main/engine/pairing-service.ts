import { createHash } from 'node:crypto';
import type { AgentRow, ApiKeyRow } from '../store/store.js';
import { agentPrincipal } from './agent-service.js';
import type { ApprovalInfo } from './approval-service.js';
import { type EngineContext, actorOf, callDetails, requireUnlocked } from './engine-context.js';
import { apiKeyHint, generateApiKey, hashApiKey } from './credentials.js';
import { newId } from '../store/ids.js';
import type { AgentPrincipal, CallContext, Principal } from './principal.js';
import { requestHash } from './request-hash.js';
import { pairingRequestSchema, parseRequest } from './schemas.js';
import { TalonError } from './talon-error.js';

/**
 * Credential-free MCP configurations: `talon-mcp --agent <name>` with no key asks Talon to be
 * paired. The request needs no credential (only a process on this machine can reach the API),
 * raises an `mcp.pairing` approval naming the client and the agent, and is bound to a random
 * claim secret only the asking process knows (its hash is in the approval's request hash). Once
 * a human approves, the process claims — once — a new API key for the agent of that name
 * (created then if there is none); the key is stored as the agent's, named after the client, and
 * listed and revoked as a pairing. The agent's other keys are untouched.
 */

export interface PairingInfo {
  /** The id of the pairing's API key. */
  id: string;
  agent_id: string;
  agent_name: string;
  client_name: string;
  key_prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface PairingClaimed {
  agent_id: string;
  agent_name: string;
  /** Shown once; only its HMAC is stored. */
  api_key: string;
  pairing: PairingInfo;
}

export type PairingClaim =
  | { status: 'paired'; claimed: PairingClaimed }
  | { status: 'pending' | 'rejected' | 'expired'; approval: PairingApprovalStatus };

/** What the unauthenticated asker may see of its approval. */
export interface PairingApprovalStatus {
  approval_id: string;
  status: ApprovalInfo['status'];
  expires_at: string;
  decision_reason: string | null;
}

const keyNamePrefix = 'mcp pairing: ';

export class PairingService {
  constructor(private readonly context: EngineContext) {}

  /** Ask to be paired; the same request (same names and claim secret) finds the same approval. */
  request(body: unknown, call: CallContext): PairingApprovalStatus {
    requireUnlocked(this.context);
    const input = parseRequest(pairingRequestSchema, body, 'pairing request');
    const existing = this.agentNamed(input.agent_name);
    // A new agent gets its id now, so that the approval has a requester; it is created at claim.
    const requester = existing ? agentPrincipal(existing) : placeholderAgent(newId());
    const approval = this.context.approvals.request(
      {
        action: 'mcp.pairing',
        requester,
        target: { type: 'agent', id: requester.id },
        summary: `MCP client '${input.client_name}' asks to connect as ${existing ? `agent '${existing.name}'` : `a new agent '${input.agent_name}'`}`,
        riskTier: 'high',
        requestHash: pairingHash(input),
        details: {
          agent_name: input.agent_name,
          client_name: input.client_name,
          new_agent: existing === undefined,
        },
      },
      { ...call, client: input.client_name },
    );
    return statusOf(approval);
  }

  /** Claim the key of an approved pairing: once, with the claim secret of the request. */
  claim(approvalId: string, body: unknown, call: CallContext): PairingClaim {
    requireUnlocked(this.context);
    const input = parseRequest(pairingRequestSchema, body, 'pairing claim');
    const row = this.context.store.approvals.get(approvalId.trim().toLowerCase());
    if (!row || row.action !== 'mcp.pairing' || row.requestHash !== pairingHash(input)) {
      throw new TalonError(
        'not_found',
        `No pairing request ${approvalId} with these names and claim secret. Ask to be paired again.`,
      );
    }
    this.context.approvals.expireDue(call);
    const current = this.context.store.approvals.get(row.id)!;
    if (current.status !== 'approved') {
      return {
        status: current.status,
        approval: {
          approval_id: current.id,
          status: current.status,
          expires_at: current.expiresAt,
          decision_reason: current.decisionReason,
        },
      };
    }
    this.context.approvals.consume(
      placeholderAgent(current.requesterId),
      current.id,
      current.requestHash,
      call,
    );
    return this.context.store.transaction(() => {
      const now = call.now.toISOString();
      let agent = this.context.store.agents.get(current.requesterId);
      const created = agent === undefined;
      if (!agent) {
        agent = {
          id: current.requesterId,
          name: input.agent_name,
          description: `Paired from MCP client '${input.client_name}'`,
          scopesJson: '[]',
          vaultIdsJson: '[]',
          cryptoProxyEnabled: false,
          tokenTtlSeconds: null,
          expiresAt: null,
          isActive: true,
          createdBy: current.decidedBy ?? this.ownerId(),
          createdAt: now,
          updatedAt: now,
          lastActiveAt: null,
          guardrailsJson: null,
        } satisfies AgentRow;
        this.context.store.agents.insert(agent);
      }
      const apiKey = generateApiKey('agent');
      const key: ApiKeyRow = {
        id: newId(),
        principalType: 'agent',
        principalId: agent.id,
        name: `${keyNamePrefix}${input.client_name}`,
        prefix: apiKeyHint(apiKey),
        keyHash: hashApiKey(this.context.keyRing, apiKey),
        createdAt: now,
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: null,
      };
      this.context.store.apiKeys.insert(key);
      this.context.audit.append({
        action: 'mcp.pairing.claim',
        actor: { type: 'agent', id: agent.id },
        outcome: 'success',
        resourceType: 'api_key',
        resourceId: key.id,
        details: {
          approval_id: current.id,
          client_name: input.client_name,
          agent_created: created,
          ...callDetails(call),
        },
        ip: call.ip ?? null,
      });
      return {
        status: 'paired' as const,
        claimed: {
          agent_id: agent.id,
          agent_name: agent.name,
          api_key: apiKey,
          pairing: pairingInfo(key, agent),
        },
      };
    });
  }

  /** Every pairing (revoked ones too), newest first: humans only. */
  list(principal: Principal): PairingInfo[] {
    this.requireHuman(principal);
    const pairings: PairingInfo[] = [];
    for (const agent of this.context.store.agents.list()) {
      for (const key of this.context.store.apiKeys.listByPrincipal('agent', agent.id)) {
        if (key.name.startsWith(keyNamePrefix)) pairings.push(pairingInfo(key, agent));
      }
    }
    return pairings.sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
  }

  /** Revoke a pairing's key: the MCP client must pair again. The agent and its other keys stay. */
  revoke(principal: Principal, pairingId: string, call: CallContext): void {
    this.requireHuman(principal);
    this.context.store.transaction(() => {
      const key = this.context.store.apiKeys.get(pairingId.trim().toLowerCase());
      if (!key || key.principalType !== 'agent' || !key.name.startsWith(keyNamePrefix)) {
        throw new TalonError('not_found', `No MCP pairing ${pairingId}. List pairings to find its id.`);
      }
      if (!this.context.store.apiKeys.revoke(key.id, call.now.toISOString())) {
        throw new TalonError('conflict', `MCP pairing ${key.id} is already revoked.`);
      }
      this.context.audit.append({
        action: 'mcp.pairing.revoke',
        actor: actorOf(principal),
        outcome: 'success',
        resourceType: 'api_key',
        resourceId: key.id,
        details: {
          agent_id: key.principalId,
          client_name: key.name.slice(keyNamePrefix.length),
          ...callDetails(call),
        },
        ip: call.ip ?? null,
      });
    });
  }

  /** The oldest active agent of that exact name (names are not unique; the oldest wins). */
  private agentNamed(name: string): AgentRow | undefined {
    return this.context.store.agents.list().find((agent) => agent.name === name && agent.isActive);
  }

  private ownerId(): string {
    const owner = this.context.store.users.list().find((user) => user.role === 'owner');
    if (!owner) throw new TalonError('conflict', 'Talon has no owner yet; set it up first.');
    return owner.id;
  }

  private requireHuman(principal: Principal): void {
    requireUnlocked(this.context);
    if (principal.type !== 'user') throw new TalonError('forbidden', 'Only a human can manage MCP pairings.');
  }
}

function pairingHash(input: { agent_name: string; client_name: string; claim_secret: string }): string {
  return requestHash('mcp.pairing', {
    agent_name: input.agent_name,
    client_name: input.client_name,
    claim: createHash('sha256').update(input.claim_secret).digest('hex'),
  });
}

function placeholderAgent(id: string): AgentPrincipal {
  return { type: 'agent', id, createdBy: '', cryptoProxyEnabled: false, vaultIds: [] };
}

function statusOf(approval: ApprovalInfo): PairingApprovalStatus {
  return {
    approval_id: approval.id,
    status: approval.status,
    expires_at: approval.expires_at,
    decision_reason: approval.decision_reason,
  };
}

function pairingInfo(key: ApiKeyRow, agent: AgentRow): PairingInfo {
  return {
    id: key.id,
    agent_id: agent.id,
    agent_name: agent.name,
    client_name: key.name.slice(keyNamePrefix.length),
    key_prefix: key.prefix,
    created_at: key.createdAt,
    last_used_at: key.lastUsedAt,
    revoked_at: key.revokedAt,
  };
}
