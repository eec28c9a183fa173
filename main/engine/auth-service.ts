import { z } from 'zod';
import type { AgentRow, ApiKeyRow, UserRow } from '../store/store.js';
import { type EngineContext, requireUnlocked } from './engine-context.js';
import {
  apiKeyHint,
  generateApiKey,
  hashApiKey,
  looksLikeApiKey,
  signToken,
  type VerifiedToken,
  verifyToken,
} from './credentials.js';
import { agentPrincipal } from './agent-service.js';
import { newId } from '../store/ids.js';
import type { CallContext, Principal } from './principal.js';
import { parseRequest } from './schemas.js';
import { TalonError } from './talon-error.js';

const agentTokenRequestSchema = z.object(
  {
    api_key: z.string({ error: 'must be the agent API key (ocv_…)' }).min(1).max(512),
    agent_id: z.uuid({ error: 'must be the agent id (a UUID)' }).optional(),
  },
  { error: 'must be a JSON object' },
);

const apiKeyTokenRequestSchema = z.object(
  { api_key: z.string({ error: 'must be a personal API key (1ck_…)' }).min(1).max(512) },
  { error: 'must be a JSON object' },
);

/** 1Claw's TokenResponse, with the `agent_id` and `vault_ids` its SDK reads. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  agent_id?: string;
  vault_ids?: string[];
}

export interface PersonalKeyCreated {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  /** Shown once. */
  api_key: string;
}

export interface PersonalKeyInfo {
  id: string;
  name: string;
  /** The start of the key (`1ck_AbCd…`), to tell keys apart. */
  prefix: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

/** Verified JWTs remembered at most (one per live client session; the oldest goes first). */
const maxVerifiedTokens = 10_000;

const unauthenticated = (why: string) => new TalonError('unauthenticated', why);

/** Whose key it is, for the audit log: a personal key is its user's, not an agent's. */
const keyOwner = (key: ApiKeyRow) => ({ type: key.principalType, id: key.principalId });

/**
 * Who is calling. A Bearer credential is an API key (`ocv_…` agent, `1ck_…` personal) or a JWT
 * from a key exchange. Every request re-reads the principal from the store, so deactivating an
 * agent or revoking a policy takes effect on the next request, token or not.
 */
export class AuthService {
  /** JWTs verified under the current JWT subkey (a new unlock brings a new key and forgets them). */
  private readonly verifiedTokens = new Map<string, VerifiedToken>();
  private verifiedUnder: Buffer | null = null;

  constructor(
    private readonly context: EngineContext,
    /** Told of every successful authentication: auto-lock counts idle time from the last one. */
    private readonly onActivity: () => void = () => undefined,
  ) {}

  async authenticate(credential: string, call: CallContext): Promise<Principal> {
    const principal = await this.identify(credential, call);
    this.onActivity();
    return principal;
  }

  private async identify(credential: string, call: CallContext): Promise<Principal> {
    requireUnlocked(this.context);
    if (looksLikeApiKey(credential)) {
      const key = this.lookUpKey(credential, call);
      return key.principalType === 'agent'
        ? agentPrincipal(this.requireActiveAgent(key.principalId, call))
        : this.userPrincipal(this.requireActiveUser(key.principalId));
    }
    const token = await this.verifiedToken(credential, call);
    if (token.principalType === 'agent') {
      return agentPrincipal(this.requireActiveAgent(token.principalId, call), token.scopes);
    }
    return this.userPrincipal(this.requireActiveUser(token.principalId));
  }

  /**
   * A JWT's claims, its signature checked once per unlock: a client sends the same token until it
   * expires, and the check (WebCrypto through jose) costs more than the rest of a read. Expiry is
   * checked on every use, and the caller re-reads the principal, so deactivating an agent or
   * revoking a policy still takes effect on the next request. Past `exp`, jose decides again
   * (with its clock skew).
   */
  private async verifiedToken(credential: string, call: CallContext): Promise<VerifiedToken> {
    const key = this.context.keyRing.subkey('jwt');
    if (this.verifiedUnder !== key) {
      this.verifiedTokens.clear();
      this.verifiedUnder = key;
    }
    const known = this.verifiedTokens.get(credential);
    if (known && call.now.getTime() < known.expiresAt * 1000) return known;
    const token = await verifyToken(this.context.keyRing, credential, call.now);
    if (this.verifiedTokens.size >= maxVerifiedTokens) {
      const oldest = this.verifiedTokens.keys().next();
      if (!oldest.done) this.verifiedTokens.delete(oldest.value);
    }
    if (this.verifiedUnder === this.context.keyRing.subkey('jwt')) this.verifiedTokens.set(credential, token);
    return token;
  }

  /**
   * The principal a policy names, built as `authenticate` builds it for that user or agent (an
   * agent without token scopes, as with its API key). For the policy simulator.
   */
  principalFor(type: 'user' | 'agent', id: string): Principal {
    requireUnlocked(this.context);
    if (type === 'agent') {
      const agent = this.context.store.agents.get(id.toLowerCase());
      if (agent) return agentPrincipal(agent);
    } else {
      const user = this.context.store.users.get(id.toLowerCase());
      if (user) return this.userPrincipal(user);
    }
    throw new TalonError('not_found', `No ${type} with id ${id}. Check the id.`);
  }

  /** POST /v1/auth/agent-token: an agent key (with or without its id) for a short-lived JWT. */
  async exchangeAgentToken(body: unknown, call: CallContext): Promise<TokenResponse> {
    requireUnlocked(this.context);
    const request = parseRequest(agentTokenRequestSchema, body, 'agent token request');
    const key = this.lookUpKey(request.api_key, call);
    if (
      key.principalType !== 'agent' ||
      (request.agent_id && request.agent_id.toLowerCase() !== key.principalId)
    ) {
      this.audit('auth.agent_token', 'denied', call, keyOwner(key), 'key does not belong to that agent');
      throw unauthenticated(
        'The agent id and API key do not match. Check ONECLAW_AGENT_ID and ONECLAW_AGENT_API_KEY.',
      );
    }
    const agent = this.requireActiveAgent(key.principalId, call);
    const principal = agentPrincipal(agent);
    const scopes = this.context.access.scopesFor(principal, JSON.parse(agent.scopesJson) as string[]);
    const ttl = agent.tokenTtlSeconds ?? this.context.options.tokenTtlSeconds;
    const expiresIn = this.clampToAgentExpiry(agent, ttl, call.now);
    const accessToken = await signToken(
      this.context.keyRing,
      { sub: `agent:${agent.id}`, scopes, vault_ids: principal.vaultIds },
      expiresIn,
      call.now,
    );
    this.context.store.transaction(() => {
      this.context.store.agents.touchLastActive(agent.id, call.now.toISOString());
      this.audit('auth.agent_token', 'success', call, { type: 'agent', id: agent.id });
    });
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: expiresIn,
      agent_id: agent.id,
      vault_ids: principal.vaultIds,
    };
  }

  /** POST /v1/auth/api-key-token: a personal key for a JWT. */
  async exchangeApiKeyToken(body: unknown, call: CallContext): Promise<TokenResponse> {
    requireUnlocked(this.context);
    const request = parseRequest(apiKeyTokenRequestSchema, body, 'API key token request');
    const key = this.lookUpKey(request.api_key, call);
    if (key.principalType !== 'user') {
      throw unauthenticated('That is an agent key; exchange it at /v1/auth/agent-token instead.');
    }
    const user = this.requireActiveUser(key.principalId);
    const ttl = this.context.options.tokenTtlSeconds;
    const accessToken = await signToken(this.context.keyRing, { sub: `user:${user.id}` }, ttl, call.now);
    this.context.audit.append({
      action: 'auth.api_key_token',
      actor: { type: 'user', id: user.id },
      outcome: 'success',
      ip: call.ip ?? null,
    });
    return { access_token: accessToken, token_type: 'Bearer', expires_in: ttl };
  }

  createPersonalKey(principal: Principal, name: string, call: CallContext): PersonalKeyCreated {
    requireUnlocked(this.context);
    if (principal.type !== 'user') throw new TalonError('forbidden', 'Only a human has personal API keys.');
    return this.context.store.transaction(() => {
      const created = this.insertPersonalKey(principal.id, name);
      this.context.audit.append({
        action: 'auth.api_key.create',
        actor: { type: 'user', id: principal.id },
        outcome: 'success',
        resourceType: 'api_key',
        resourceId: created.id,
        ip: call.ip ?? null,
      });
      return created;
    });
  }

  /** The caller's personal keys, revoked ones included; never the key itself, only its start. */
  listPersonalKeys(principal: Principal): PersonalKeyInfo[] {
    requireUnlocked(this.context);
    if (principal.type !== 'user') throw new TalonError('forbidden', 'Only a human has personal API keys.');
    return this.context.store.apiKeys.listByPrincipal('user', principal.id).map((key) => ({
      id: key.id,
      name: key.name,
      prefix: key.prefix,
      created_at: key.createdAt,
      expires_at: key.expiresAt,
      revoked_at: key.revokedAt,
    }));
  }

  /** Revoke one of the caller's personal keys; it stops working on the next request. */
  revokePersonalKey(principal: Principal, keyId: string, call: CallContext): void {
    requireUnlocked(this.context);
    if (principal.type !== 'user') throw new TalonError('forbidden', 'Only a human has personal API keys.');
    this.context.store.transaction(() => {
      const key = this.context.store.apiKeys.get(keyId.toLowerCase());
      if (!key || key.principalType !== 'user' || key.principalId !== principal.id || key.revokedAt) {
        throw new TalonError(
          'not_found',
          `You have no live API key with id ${keyId}. List your keys to find its id.`,
        );
      }
      this.context.store.apiKeys.revoke(key.id, call.now.toISOString());
      this.context.audit.append({
        action: 'auth.api_key.revoke',
        actor: { type: 'user', id: principal.id },
        outcome: 'success',
        resourceType: 'api_key',
        resourceId: key.id,
        ip: call.ip ?? null,
      });
    });
  }

  /** Used at set-up (inside its transaction) and by createPersonalKey. */
  insertPersonalKey(userId: string, name: string): PersonalKeyCreated {
    const apiKey = generateApiKey('user');
    const row: ApiKeyRow = {
      id: newId(),
      principalType: 'user',
      principalId: userId,
      name,
      prefix: apiKeyHint(apiKey),
      keyHash: hashApiKey(this.context.keyRing, apiKey),
      createdAt: this.context.options.now().toISOString(),
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    };
    this.context.store.apiKeys.insert(row);
    return { id: row.id, name, prefix: row.prefix, created_at: row.createdAt, api_key: apiKey };
  }

  private lookUpKey(credential: string, call: CallContext): ApiKeyRow {
    if (!looksLikeApiKey(credential)) {
      throw unauthenticated(
        'That is not a Talon API key (they start with ocv_ for agents and 1ck_ for people).',
      );
    }
    const key = this.context.store.apiKeys.findByHash(hashApiKey(this.context.keyRing, credential));
    if (!key) {
      this.audit('auth.api_key', 'denied', call, null, 'unknown key');
      throw unauthenticated('The API key is not valid. Check it, or create a new one.');
    }
    if (key.revokedAt) {
      this.audit('auth.api_key', 'denied', call, keyOwner(key), 'revoked key');
      throw unauthenticated('The API key was revoked or rotated. Use the newest key.');
    }
    if (key.expiresAt && Date.parse(key.expiresAt) <= call.now.getTime()) {
      throw unauthenticated('The API key has expired. Create a new one.');
    }
    return key;
  }

  private requireActiveAgent(agentId: string, call: CallContext): AgentRow {
    const agent = this.context.store.agents.get(agentId);
    if (!agent) throw unauthenticated('The agent no longer exists.');
    if (!agent.isActive)
      throw unauthenticated('The agent is deactivated. A human can reactivate it in Talon.');
    if (agent.expiresAt && Date.parse(agent.expiresAt) <= call.now.getTime()) {
      throw unauthenticated('The agent has expired. A human can extend it in Talon.');
    }
    return agent;
  }

  private requireActiveUser(userId: string): UserRow {
    const user = this.context.store.users.get(userId);
    if (!user || !user.isActive) throw unauthenticated('The user is disabled or no longer exists.');
    return user;
  }

  private userPrincipal(user: UserRow): Principal {
    return { type: 'user', id: user.id, role: user.role };
  }

  private clampToAgentExpiry(agent: AgentRow, ttl: number, now: Date): number {
    if (!agent.expiresAt) return ttl;
    const left = Math.floor((Date.parse(agent.expiresAt) - now.getTime()) / 1000);
    return Math.max(1, Math.min(ttl, left));
  }

  private audit(
    action: string,
    outcome: 'success' | 'denied',
    call: CallContext,
    actor: { type: 'user' | 'agent'; id: string } | null,
    reason?: string,
  ): void {
    this.context.audit.append({
      action,
      actor: actor ?? { type: 'anonymous', id: null },
      outcome,
      details: reason ? { reason } : {},
      ip: call.ip ?? null,
    });
  }
}
