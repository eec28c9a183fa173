import type { AgentRow } from '../store/store.js';
import { type EngineContext, actorOf, requireUnlocked } from './engine-context.js';
import { apiKeyHint, generateApiKey, hashApiKey } from './credentials.js';
import { newId } from '../store/ids.js';
import type { AgentPrincipal, CallContext, Principal } from './principal.js';
import { createAgentRequestSchema, parseRequest, updateAgentRequestSchema } from './schemas.js';
import { TalonError } from './talon-error.js';
import { type TxGuardrails, guardrailInfo, mergeGuardrails, readGuardrails } from './tx-guardrails.js';

/** 1Claw's AgentResponse (the fields Talon has). */
export interface AgentInfo {
  id: string;
  name: string;
  description: string | null;
  scopes: string[];
  vault_ids: string[];
  is_active: boolean;
  crypto_proxy_enabled: boolean;
  /** 1Claw's newer name for crypto_proxy_enabled. */
  intents_api_enabled: boolean;
  token_ttl_seconds: number | null;
  expires_at: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  last_active_at: string | null;
  /** The address of the agent's token-held signing key, once it has one (1Claw's evm_address). */
  evm_address: string | null;
  /** Transaction guardrails (tx-guardrails.ts); null when unset. */
  tx_to_allowlist: string[] | null;
  tx_max_value: string | null;
  tx_daily_limit: string | null;
  tx_allowed_chains: string[] | null;
  tx_max_per_day: number | null;
  tx_auto_approve_max_value: string | null;
}

export interface AgentCreated {
  agent: AgentInfo;
  /** Shown once; only its HMAC is stored. */
  api_key: string;
}

/** Agents and their API keys. Humans manage agents; an agent may only read itself. */
export class AgentService {
  constructor(private readonly context: EngineContext) {}

  create(principal: Principal, body: unknown, call: CallContext): AgentCreated {
    const user = this.requireHuman(principal, 'register agents');
    const request = parseRequest(createAgentRequestSchema, body, 'agent');
    const now = this.now();
    const agent: AgentRow = {
      id: newId(),
      name: request.name,
      description: request.description ?? null,
      scopesJson: JSON.stringify(request.scopes ?? []),
      vaultIdsJson: JSON.stringify(request.vault_ids ?? []),
      cryptoProxyEnabled: request.crypto_proxy_enabled,
      tokenTtlSeconds: request.token_ttl_seconds ?? null,
      expiresAt: request.expires_at ?? null,
      isActive: true,
      createdBy: user.id,
      createdAt: now,
      updatedAt: now,
      lastActiveAt: null,
      guardrailsJson: guardrailsJson(mergeGuardrails({}, request)),
    };
    const apiKey = generateApiKey('agent');
    this.context.store.transaction(() => {
      this.context.store.agents.insert(agent);
      this.insertKey(agent.id, apiKey, now);
      this.record(principal, 'agent.create', agent, call);
    });
    return { agent: agentInfo(agent), api_key: apiKey };
  }

  list(principal: Principal): AgentInfo[] {
    this.requireHuman(principal, 'list agents');
    return this.context.store.agents.list().map((agent) => agentInfo(agent, this.evmAddress(agent.id)));
  }

  get(principal: Principal, agentId: string): AgentInfo {
    requireUnlocked(this.context);
    if (principal.type === 'agent' && principal.id !== agentId.toLowerCase()) {
      throw new TalonError('forbidden', 'An agent can only read itself (GET /v1/agents/me).');
    }
    const agent = this.requireAgent(agentId);
    return agentInfo(agent, this.evmAddress(agent.id));
  }

  update(principal: Principal, agentId: string, body: unknown, call: CallContext): AgentInfo {
    this.requireHuman(principal, 'change agents');
    const request = parseRequest(updateAgentRequestSchema, body, 'agent update');
    return this.context.store.transaction(() => {
      const current = this.requireAgent(agentId);
      const next: AgentRow = {
        ...current,
        name: request.name ?? current.name,
        description: request.description === undefined ? current.description : request.description,
        scopesJson: request.scopes === undefined ? current.scopesJson : JSON.stringify(request.scopes ?? []),
        vaultIdsJson:
          request.vault_ids === undefined ? current.vaultIdsJson : JSON.stringify(request.vault_ids ?? []),
        cryptoProxyEnabled: request.crypto_proxy_enabled ?? current.cryptoProxyEnabled,
        tokenTtlSeconds:
          request.token_ttl_seconds === undefined ? current.tokenTtlSeconds : request.token_ttl_seconds,
        expiresAt: request.expires_at === undefined ? current.expiresAt : request.expires_at,
        isActive: request.is_active ?? current.isActive,
        guardrailsJson: guardrailsJson(mergeGuardrails(readGuardrails(current.guardrailsJson), request)),
        updatedAt: this.now(),
      };
      this.context.store.agents.update(next);
      this.record(principal, 'agent.update', next, call);
      return agentInfo(next, this.evmAddress(next.id));
    });
  }

  /** Remove the agent with its keys and policies; its tokens stop working on the next request. */
  delete(principal: Principal, agentId: string, call: CallContext): void {
    this.requireHuman(principal, 'delete agents');
    this.context.store.transaction(() => {
      const agent = this.requireAgent(agentId);
      this.context.store.apiKeys.deleteAllForPrincipal('agent', agent.id);
      this.context.store.policies.deleteAllForPrincipal('agent', agent.id);
      this.context.store.agents.delete(agent.id);
      this.record(principal, 'agent.delete', agent, call);
    });
  }

  /** A new API key; every earlier key of the agent stops working at once. */
  rotateKey(principal: Principal, agentId: string, call: CallContext): { api_key: string } {
    this.requireHuman(principal, 'rotate agent keys');
    const apiKey = generateApiKey('agent');
    this.context.store.transaction(() => {
      const agent = this.requireAgent(agentId);
      const now = this.now();
      this.context.store.apiKeys.revokeAllForPrincipal('agent', agent.id, now);
      this.insertKey(agent.id, apiKey, now);
      this.record(principal, 'agent.key.rotate', agent, call);
    });
    return { api_key: apiKey };
  }

  private insertKey(agentId: string, apiKey: string, now: string): void {
    this.context.store.apiKeys.insert({
      id: newId(),
      principalType: 'agent',
      principalId: agentId,
      name: 'agent key',
      prefix: apiKeyHint(apiKey),
      keyHash: hashApiKey(this.context.keyRing, apiKey),
      createdAt: now,
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    });
  }

  private requireHuman(principal: Principal, what: string): Principal & { type: 'user' } {
    requireUnlocked(this.context);
    if (principal.type !== 'user') throw new TalonError('forbidden', `Only a human can ${what}.`);
    return principal;
  }

  private requireAgent(agentId: string): AgentRow {
    const agent = this.context.store.agents.get(agentId.toLowerCase());
    if (!agent) throw new TalonError('not_found', `No agent with id ${agentId}. List agents to find its id.`);
    return agent;
  }

  private record(principal: Principal, action: string, agent: AgentRow, call: CallContext): void {
    this.context.audit.append({
      action,
      actor: actorOf(principal),
      outcome: 'success',
      resourceType: 'agent',
      resourceId: agent.id,
      details: {
        name: agent.name,
        crypto_proxy_enabled: agent.cryptoProxyEnabled,
        is_active: agent.isActive,
      },
      ip: call.ip ?? null,
    });
  }

  private now(): string {
    return this.context.options.now().toISOString();
  }

  private evmAddress(agentId: string): string | null {
    return this.context.store.signingKeys.get(agentId, 'evm')?.address ?? null;
  }
}

function guardrailsJson(guardrails: TxGuardrails): string | null {
  return Object.keys(guardrails).length === 0 ? null : JSON.stringify(guardrails);
}

export function agentInfo(agent: AgentRow, evmAddress: string | null = null): AgentInfo {
  return {
    id: agent.id,
    name: agent.name,
    description: agent.description,
    scopes: JSON.parse(agent.scopesJson) as string[],
    vault_ids: JSON.parse(agent.vaultIdsJson) as string[],
    is_active: agent.isActive,
    crypto_proxy_enabled: agent.cryptoProxyEnabled,
    intents_api_enabled: agent.cryptoProxyEnabled,
    token_ttl_seconds: agent.tokenTtlSeconds,
    expires_at: agent.expiresAt,
    created_by: agent.createdBy,
    created_at: agent.createdAt,
    updated_at: agent.updatedAt,
    last_active_at: agent.lastActiveAt,
    evm_address: evmAddress,
    ...guardrailInfo(readGuardrails(agent.guardrailsJson)),
  };
}

export function agentPrincipal(agent: AgentRow, tokenScopes?: string[]): AgentPrincipal {
  return {
    type: 'agent',
    id: agent.id,
    createdBy: agent.createdBy,
    cryptoProxyEnabled: agent.cryptoProxyEnabled,
    vaultIds: JSON.parse(agent.vaultIdsJson) as string[],
    ...(tokenScopes ? { tokenScopes } : {}),
  };
}
