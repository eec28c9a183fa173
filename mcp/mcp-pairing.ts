import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { talonConfigDir } from '../main/cli/talon-config.js';
import type { Fetch } from './rest-call.js';
import { type VaultClient, VaultClientError } from './vault-client.js';

/**
 * Credential-free MCP configurations: `talon-mcp --agent <name>` with no ONECLAW_* key. The first
 * time, once the MCP client has said who it is, talon-mcp asks Talon to pair
 * (`POST /v1/mcp/pairings`, no credential), tells the person on stderr to approve it in Talon,
 * polls `POST /v1/mcp/pairings/{id}/claim` with a random claim secret only it knows, and keeps
 * the agent key it receives in `<Talon config folder>/pairings/<name>.json` (mode 0600, folder
 * 0700; TALON_CONFIG_DIR, else XDG_CONFIG_HOME/talon or ~/.config/talon). Later runs reuse the
 * file; a key Talon refuses (the pairing was revoked) is forgotten and pairing starts again.
 */

export interface SavedPairing {
  base_url: string;
  agent_id: string;
  agent_name: string;
  client_name: string;
  api_key: string;
  pairing_id: string;
  paired_at: string;
}

export interface PairingOptions {
  baseUrl: string;
  agentName: string;
  env: NodeJS.ProcessEnv;
  fetch: Fetch;
  /** Where messages for the person go (stderr). */
  say: (line: string) => void;
  pollMs?: number;
}

export function pairingFile(agentName: string, env: NodeJS.ProcessEnv): string {
  return join(talonConfigDir(env), 'pairings', `${encodeURIComponent(agentName)}.json`);
}

/** The saved pairing for this agent and Talon, if there is one only this user can read. */
export function readPairing(
  agentName: string,
  baseUrl: string,
  env: NodeJS.ProcessEnv,
): SavedPairing | undefined {
  const file = pairingFile(agentName, env);
  try {
    if ((statSync(file).mode & 0o077) !== 0) return undefined;
    const saved = JSON.parse(readFileSync(file, 'utf8')) as SavedPairing;
    return saved.base_url === baseUrl && typeof saved.api_key === 'string' ? saved : undefined;
  } catch {
    return undefined;
  }
}

function writePairing(saved: SavedPairing, env: NodeJS.ProcessEnv): string {
  const file = pairingFile(saved.agent_name, env);
  mkdirSync(join(talonConfigDir(env), 'pairings'), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
  return file;
}

export function forgetPairing(agentName: string, env: NodeJS.ProcessEnv): void {
  rmSync(pairingFile(agentName, env), { force: true });
}

/** Whether Talon still takes the saved key; unreachable counts as yes (the calls will say). */
export async function pairingStillValid(saved: SavedPairing, fetchImpl: Fetch): Promise<boolean> {
  try {
    const response = await fetchImpl(`${saved.base_url}/v1/auth/agent-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ api_key: saved.api_key }),
    });
    return response.status !== 401;
  } catch {
    return true;
  }
}

/** Ask to be paired and wait for the human; resolves with the saved pairing, or rejects saying why not. */
export async function pairWithTalon(clientName: string, options: PairingOptions): Promise<SavedPairing> {
  const { baseUrl, agentName, say } = options;
  const body = {
    agent_name: agentName,
    client_name: clientName,
    claim_secret: randomBytes(32).toString('base64url'),
  };
  const post = async (path: string) => {
    const response = await options.fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      body: (await response.json().catch(() => ({}))) as Record<string, unknown>,
    };
  };
  const asked = await post('/v1/mcp/pairings');
  if (asked.status !== 202 || typeof asked.body.approval_id !== 'string') {
    throw new Error(
      `Talon at ${baseUrl} refused to pair: ${String(asked.body.detail ?? `HTTP ${asked.status}`)}`,
    );
  }
  const approvalId = asked.body.approval_id;
  say(
    `talon-mcp: asked Talon to pair MCP client '${clientName}' as agent '${agentName}'. Approve it in the Talon app, or run: talon approval decide ${approvalId} approve`,
  );
  const started = Date.now();
  let lastReminder = started;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
    const claimed = await post(`/v1/mcp/pairings/${encodeURIComponent(approvalId)}/claim`);
    if (claimed.status === 201) {
      const answer = claimed.body as {
        agent_id: string;
        agent_name: string;
        api_key: string;
        pairing: { id: string };
      };
      const saved: SavedPairing = {
        base_url: baseUrl,
        agent_id: answer.agent_id,
        agent_name: agentName,
        client_name: clientName,
        api_key: answer.api_key,
        pairing_id: answer.pairing.id,
        paired_at: new Date().toISOString(),
      };
      const file = writePairing(saved, options.env);
      say(
        `talon-mcp: paired as agent '${answer.agent_name}' (${answer.agent_id}); the key is kept in ${file}.`,
      );
      return saved;
    }
    if (claimed.status === 202) {
      if (Date.now() - lastReminder >= 30_000) {
        lastReminder = Date.now();
        say(`talon-mcp: still waiting for the pairing (approval ${approvalId}) to be approved in Talon…`);
      }
      continue;
    }
    const why =
      claimed.status === 403
        ? 'the pairing was rejected in Talon'
        : claimed.status === 410
          ? 'the pairing request expired before anyone approved it'
          : String(claimed.body.detail ?? `HTTP ${claimed.status}`);
    throw new Error(`talon-mcp: ${why}. Restart talon-mcp to ask again.`);
  }
}

/**
 * A VaultClient for the tools while pairing may still be under way: calls before it completes
 * fail at once with a tool error saying what to approve (an MCP client would time out waiting).
 */
export function pairedClient(pairing: Promise<VaultClient>, waitingText: () => string): VaultClient {
  let ready: VaultClient | undefined;
  let failure: Error | undefined;
  pairing.then(
    (client) => (ready = client),
    (error: unknown) => (failure = error instanceof Error ? error : new Error(String(error))),
  );
  const current = (): VaultClient => {
    if (ready) return ready;
    if (failure) throw new VaultClientError(403, 'pairing_failed', failure.message);
    throw new VaultClientError(403, 'pairing_pending', waitingText());
  };
  return new Proxy({} as VaultClient, {
    get(_target, property) {
      if (property === 'then') return undefined;
      return (...args: unknown[]) => {
        if (property === 'withApproval')
          return (current().withApproval as (...a: unknown[]) => VaultClient)(...args);
        try {
          const client = current() as unknown as Record<string | symbol, (...a: unknown[]) => unknown>;
          return Promise.resolve(client[property]!.apply(client, args));
        } catch (error) {
          return Promise.reject(error);
        }
      };
    },
  });
}
