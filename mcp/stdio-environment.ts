import type { HttpVaultClientOptions } from './http-vault-client.js';

export const defaultTalonUrl = 'http://127.0.0.1:7417';

export const credentialsHint = `talon-mcp needs an agent's credentials. Set one of:
  ONECLAW_AGENT_ID + ONECLAW_AGENT_API_KEY   the agent's id and its ocv_ key (tokens refresh by themselves)
  ONECLAW_AGENT_API_KEY                      the agent's ocv_ key alone (its id is learnt from the key)
  ONECLAW_AGENT_TOKEN + ONECLAW_VAULT_ID     a static agent JWT (it expires and is not refreshed)
and as needed:
  ONECLAW_VAULT_ID   the vault to use (optional when the agent is bound to exactly one vault)
  ONECLAW_BASE_URL   Talon's local API (alias TALON_URL), default ${defaultTalonUrl}
Register an agent and get its key in the Talon app, or with the talon CLI.`;

export type StdioSetup = { ok: true; client: HttpVaultClientOptions } | { ok: false; message: string };

/**
 * The stdio server's configuration, from the same environment variables 1Claw's MCP server
 * reads (and Talon's TALON_URL). A setup that cannot work is refused before anything starts,
 * with a message for stderr that says which variables to set.
 */
export function readStdioEnvironment(env: Record<string, string | undefined>): StdioSetup {
  const value = (name: string) => {
    const text = env[name]?.trim();
    return text ? text : undefined;
  };
  const baseUrl = value('ONECLAW_BASE_URL') ?? value('TALON_URL') ?? defaultTalonUrl;
  if (!isHttpUrl(baseUrl)) {
    return {
      ok: false,
      message: `ONECLAW_BASE_URL (or TALON_URL) must be an http(s) URL such as ${defaultTalonUrl}; it is "${baseUrl}".`,
    };
  }
  const vaultId = value('ONECLAW_VAULT_ID');
  const agentApiKey = value('ONECLAW_AGENT_API_KEY');
  const agentToken = value('ONECLAW_AGENT_TOKEN');
  const agentId = value('ONECLAW_AGENT_ID');

  if (agentApiKey) {
    if (!agentApiKey.startsWith('ocv_')) {
      return {
        ok: false,
        message: `ONECLAW_AGENT_API_KEY must be an agent key (it starts with ocv_)${
          agentApiKey.startsWith('1ck_') ? '; 1ck_ keys are personal keys of people, not of agents' : ''
        }.\n\n${credentialsHint}`,
      };
    }
    return {
      ok: true,
      client: {
        baseUrl,
        credentials: { agentApiKey, ...(agentId ? { agentId } : {}) },
        ...(vaultId ? { vaultId } : {}),
      },
    };
  }
  if (agentToken) {
    if (!vaultId) {
      return {
        ok: false,
        message: `ONECLAW_VAULT_ID is required when using ONECLAW_AGENT_TOKEN (static JWT).\n\n${credentialsHint}`,
      };
    }
    return { ok: true, client: { baseUrl, credentials: { agentToken }, vaultId } };
  }
  return { ok: false, message: credentialsHint };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
