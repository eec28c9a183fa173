import { TalonClientError } from './talon-client-error.js';
import type { TokenResponse } from './wire-types.js';

/** 1Claw's clients refresh an agent token this long before it expires (REFRESH_BUFFER_MS). */
export const refreshBeforeExpiryMs = 60_000;

export type ExchangeAgentKey = (body: { api_key: string; agent_id?: string }) => Promise<TokenResponse>;

/**
 * The credential the client sends as `Authorization: Bearer`. A token or a personal key
 * (`1ck_…`, which Talon takes as is) is sent unchanged. An agent key (`ocv_…`) is exchanged at
 * `POST /v1/auth/agent-token` and exchanged again 60 s before the token expires (half its
 * lifetime for tokens shorter than two minutes), one exchange at a time however many calls wait.
 */
export class BearerSource {
  private current: { token: string; refreshAt: number; vaultIds?: string[] } | undefined;
  private exchanging: Promise<string> | undefined;
  private fixed: string | undefined;
  private agentKey: { apiKey: string; agentId?: string } | undefined;
  /** The agent id the exchange named, when it was not given. */
  agentId: string | undefined;

  constructor(
    credential: { token?: string; apiKey?: string; agentId?: string },
    private readonly exchange: ExchangeAgentKey,
    private readonly now: () => number,
  ) {
    this.agentId = credential.agentId;
    this.use(credential);
  }

  /** Replaces the credential (after a login or an unlock, say). */
  use(credential: { token?: string; apiKey?: string; agentId?: string }): void {
    this.current = undefined;
    this.agentKey = undefined;
    this.fixed = undefined;
    if (credential.apiKey?.startsWith('ocv_')) {
      this.agentKey = {
        apiKey: credential.apiKey,
        ...(credential.agentId ? { agentId: credential.agentId } : {}),
      };
    } else {
      this.fixed = credential.token ?? credential.apiKey;
    }
  }

  get hasCredential(): boolean {
    return this.fixed !== undefined || this.agentKey !== undefined;
  }

  /** Whether a refused bearer can be replaced by exchanging the agent key again. */
  get canRenew(): boolean {
    return this.agentKey !== undefined;
  }

  /** The vaults the agent's token is bound to, once it was exchanged. */
  get vaultIds(): string[] | undefined {
    return this.current?.vaultIds;
  }

  async bearer(): Promise<string | undefined> {
    if (this.fixed !== undefined) return this.fixed;
    const key = this.agentKey;
    if (key === undefined) return undefined;
    if (this.current && this.now() < this.current.refreshAt) return this.current.token;
    this.exchanging ??= this.exchangeKey(key).finally(() => {
      this.exchanging = undefined;
    });
    return this.exchanging;
  }

  /** Forgets `token` after Talon refused it, so the next call exchanges again; a newer one stays. */
  forget(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  private async exchangeKey(key: { apiKey: string; agentId?: string }): Promise<string> {
    const issuedAt = this.now();
    const response = await this.exchange({
      api_key: key.apiKey,
      ...(key.agentId ? { agent_id: key.agentId } : {}),
    });
    if (typeof response?.access_token !== 'string') {
      throw new TalonClientError(
        502,
        'bad_response',
        'The agent-token exchange answered without an access_token.',
      );
    }
    const lifetimeMs = (response.expires_in ?? 3600) * 1000;
    this.current = {
      token: response.access_token,
      refreshAt: issuedAt + lifetimeMs - Math.min(refreshBeforeExpiryMs, lifetimeMs / 2),
      ...(Array.isArray(response.vault_ids) ? { vaultIds: response.vault_ids } : {}),
    };
    if (response.agent_id) this.agentId ??= response.agent_id;
    return response.access_token;
  }
}
