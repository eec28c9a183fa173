import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { HttpVaultClient } from './http-vault-client.js';
import { forgetPairing, pairWithTalon, pairedClient, pairingStillValid, readPairing } from './mcp-pairing.js';
import { defaultTalonUrl, readStdioEnvironment } from './stdio-environment.js';
import { createTalonMcpServer } from './talon-tools.js';
import type { VaultClient } from './vault-client.js';

/**
 * `talon-mcp`: the stdio MCP server an MCP client starts as a child process. It forwards every
 * tool call to the running Talon app over its local `/v1` API, as the agent named by the
 * ONECLAW_* variables. Stdout carries protocol messages and nothing else; diagnostics go to
 * stderr.
 */
const setup = readStdioEnvironment(process.env);
// `--agent <name>` with no key in the environment: pair with Talon instead (mcp-pairing.ts).
const agentName = agentFlag(process.argv.slice(2));
const pairing =
  !setup.ok &&
  agentName &&
  !process.env.ONECLAW_AGENT_API_KEY?.trim() &&
  !process.env.ONECLAW_AGENT_TOKEN?.trim();
if (!setup.ok && !pairing) {
  process.stderr.write(
    `${setup.message}\nOr pair without a key: talon-mcp --agent <name> (a human approves the pairing in Talon once).\n`,
  );
  process.exitCode = 1;
} else {
  const reportUnexpectedError = (error: unknown, tool: string) => {
    process.stderr.write(`talon-mcp: unexpected error in ${tool}: ${describe(error)}\n`);
  };
  let onInitialized: ((clientName: string) => void) | undefined;
  let client: VaultClient;
  let mcpClientName: string | undefined;
  if (setup.ok) {
    client = new HttpVaultClient({ ...setup.client, clientName: () => mcpClientName });
  } else {
    const paired = await pairedVaultClient(agentName!);
    client = paired.client;
    onInitialized = paired.onInitialized;
  }
  const server = createTalonMcpServer(client, { reportUnexpectedError });
  server.server.oninitialized = () => {
    mcpClientName = server.server.getClientVersion()?.name;
    onInitialized?.(mcpClientName ?? 'an MCP client');
  };
  const transport = new StdioServerTransport();
  // The client closing our stdin ends the session; so does a transport that gave up on its input.
  transport.onclose = () => process.exit(0);
  process.stdin.once('end', () => void server.close());
  await server.connect(transport);
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function agentFlag(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (arg === '--agent') return args[i + 1]?.trim() || undefined;
    if (arg.startsWith('--agent=')) return arg.slice('--agent='.length).trim() || undefined;
  }
  return undefined;
}

/** The agent's client from a saved pairing, or one that pairs once the MCP client has named itself. */
async function pairedVaultClient(
  name: string,
): Promise<{ client: VaultClient; onInitialized?: (clientName: string) => void }> {
  const env = process.env;
  const baseUrl = (env.ONECLAW_BASE_URL?.trim() || env.TALON_URL?.trim() || defaultTalonUrl).replace(
    /\/+$/u,
    '',
  );
  const vaultId = env.ONECLAW_VAULT_ID?.trim();
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const clientOf = (saved: { api_key: string; agent_id: string }) =>
    new HttpVaultClient({
      baseUrl,
      credentials: { agentApiKey: saved.api_key, agentId: saved.agent_id },
      ...(vaultId ? { vaultId } : {}),
    });
  const saved = readPairing(name, baseUrl, env);
  if (saved && (await pairingStillValid(saved, fetch))) return { client: clientOf(saved) };
  if (saved) {
    forgetPairing(name, env);
    say(`talon-mcp: Talon no longer accepts the saved pairing of agent '${name}' (revoked?); asking again.`);
  }
  let start: (clientName: string) => void = () => undefined;
  const paired = new Promise<VaultClient>((resolve, reject) => {
    start = (clientName) => {
      pairWithTalon(clientName, { baseUrl, agentName: name, env, fetch, say }).then(
        (pairing) => resolve(clientOf(pairing)),
        (error: unknown) => {
          say(error instanceof Error ? error.message : String(error));
          reject(error);
        },
      );
    };
  });
  paired.catch(() => undefined);
  return {
    client: pairedClient(
      paired,
      () =>
        `This MCP client is not paired with Talon yet: approve the pairing of agent '${name}' in the Talon app (or talon approval list), then try again.`,
    ),
    onInitialized: start,
  };
}
