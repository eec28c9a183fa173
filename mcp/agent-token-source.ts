import { type Fetch, callRest } from './rest-call.js';

/** How `talon-mcp` proves it is the agent: its API key (exchanged for JWTs) or a JWT given as is. */
export type AgentCredentials = { agentApiKey: string; agentId?: string } | { agentToken: string };

export interface AgentToken {
  accessToken: string;
  /** The vaults the agent is bound to, from the exchange; undefined for a static token. */
  vaultIds?: string[];
}

interface TokenResponse {
  access_token: string;
  expires_in?: number;
  vault_ids?: string[];
}

/** 1Claw's clients refresh this long before expiry (REFRESH_BUFFER_MS). */
export const refreshBeforeExpiryMs = 60_000;

/**
 * The agent's current access token. With an API key it exchanges the key at
 * `POST /v1/auth/agent-token` and exchanges again 60 s before the token expires (half its
 * lifetime for tokens shorter than two minutes), one exchange at a time however many calls wait
 * for it. A static token is used as given and never refreshed: when it expires, calls fail with
 * Talon's 401 until it is replaced.
 */
export class AgentTokenSource {
  private current: { token: AgentToken; refreshAt: number } | undefined;
  private exchanging: Promise<AgentToken> | undefined;

  constructor(
    private readonly options: {
      baseUrl: string;
      credentials: AgentCredentials;
      fetch: Fetch;
      /** Milliseconds since the epoch; injectable so tests can move time. */
      now: () => number;
    },
  ) {}

  async token(): Promise<AgentToken> {
    const { credentials } = this.options;
    if ('agentToken' in credentials) return { accessToken: credentials.agentToken };
    if (this.current && this.options.now() < this.current.refreshAt) return this.current.token;
    this.exchanging ??= this.exchange(credentials).finally(() => {
      this.exchanging = undefined;
    });
    return this.exchanging;
  }

  /** Whether a refused token can be replaced (an API key can be exchanged again; a static token cannot). */
  get canRenew(): boolean {
    return 'agentApiKey' in this.options.credentials;
  }

  /**
   * Forget `accessToken` after Talon refused it (401), so the next call exchanges the key again.
   * Only that token: one a concurrent call has already replaced stays.
   */
  forget(accessToken: string): void {
    if (this.current?.token.accessToken === accessToken) this.current = undefined;
  }

  private async exchange(credentials: { agentApiKey: string; agentId?: string }): Promise<AgentToken> {
    const issuedAt = this.options.now();
    const response = await callRest<TokenResponse>(this.options.fetch, this.options.baseUrl, {
      method: 'POST',
      path: '/v1/auth/agent-token',
      body: {
        api_key: credentials.agentApiKey,
        ...(credentials.agentId ? { agent_id: credentials.agentId } : {}),
      },
    });
    const lifetimeMs = (response.expires_in ?? 3600) * 1000;
    const token: AgentToken = {
      accessToken: response.access_token,
      ...(Array.isArray(response.vault_ids) ? { vaultIds: response.vault_ids } : {}),
    };
    this.current = {
      token,
      refreshAt: issuedAt + lifetimeMs - Math.min(refreshBeforeExpiryMs, lifetimeMs / 2),
    };
    return token;
  }
}
