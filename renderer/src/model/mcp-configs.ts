/**
 * Ready-to-paste MCP client configurations for a new agent: Claude Desktop, Claude Code, Cursor
 * and VS Code, each for the stdio server (`talon-mcp`, which talks to Talon over /v1) and for
 * Talon's streamable HTTP endpoint (`/mcp`). Built from what the create dialog knows: the agent's
 * id and key (shown once), its vault and where Talon runs.
 */
export type McpClient = 'claude-desktop' | 'claude-code' | 'cursor' | 'vscode';
export type McpTransport = 'stdio' | 'http';

export const mcpClients: readonly { id: McpClient; label: string; file: string }[] = [
  { id: 'claude-desktop', label: 'Claude Desktop', file: 'claude_desktop_config.json' },
  { id: 'claude-code', label: 'Claude Code', file: 'terminal command' },
  { id: 'cursor', label: 'Cursor', file: '.cursor/mcp.json' },
  { id: 'vscode', label: 'VS Code', file: '.vscode/mcp.json' },
];

export interface McpConnection {
  agentId: string;
  apiKey: string;
  vaultId: string | null;
  /** Talon's base URL, e.g. http://127.0.0.1:7417. */
  baseUrl: string;
  /** How to start talon-mcp: a command and its arguments. */
  stdioCommand: string;
  stdioArgs: readonly string[];
}

const json = (value: unknown) => JSON.stringify(value, null, 2);
const shellQuote = (text: string) =>
  /^[\w@%+=:,./-]+$/u.test(text) ? text : `'${text.replace(/'/gu, `'\\''`)}'`;

export function mcpConfig(client: McpClient, transport: McpTransport, connection: McpConnection): string {
  const env: Record<string, string> = {
    ONECLAW_AGENT_ID: connection.agentId,
    ONECLAW_AGENT_API_KEY: connection.apiKey,
    ...(connection.vaultId ? { ONECLAW_VAULT_ID: connection.vaultId } : {}),
    ONECLAW_BASE_URL: connection.baseUrl,
  };
  const mcpUrl = `${connection.baseUrl}/mcp`;
  const headers: Record<string, string> = {
    Authorization: `Bearer ${connection.apiKey}`,
    ...(connection.vaultId ? { 'X-Vault-ID': connection.vaultId } : {}),
  };
  const stdio = { command: connection.stdioCommand, args: [...connection.stdioArgs], env };

  switch (client) {
    case 'claude-desktop':
      return transport === 'stdio'
        ? json({ mcpServers: { talon: stdio } })
        : json({
            mcpServers: {
              talon: {
                command: 'npx',
                args: [
                  '-y',
                  'mcp-remote',
                  mcpUrl,
                  ...Object.entries(headers).flatMap(([name, value]) => ['--header', `${name}: ${value}`]),
                ],
              },
            },
          });
    case 'claude-code':
      return transport === 'stdio'
        ? [
            'claude mcp add talon',
            ...Object.entries(env).map(([name, value]) => `  --env ${name}=${shellQuote(value)}`),
            `  -- ${[connection.stdioCommand, ...connection.stdioArgs].map(shellQuote).join(' ')}`,
          ].join(' \\\n')
        : [
            `claude mcp add --transport http talon ${mcpUrl}`,
            ...Object.entries(headers).map(
              ([name, value]) => `  --header ${shellQuote(`${name}: ${value}`)}`,
            ),
          ].join(' \\\n');
    case 'cursor':
      return transport === 'stdio'
        ? json({ mcpServers: { talon: stdio } })
        : json({ mcpServers: { talon: { url: mcpUrl, headers } } });
    case 'vscode':
      return transport === 'stdio'
        ? json({ servers: { talon: { type: 'stdio', ...stdio } } })
        : json({ servers: { talon: { type: 'http', url: mcpUrl, headers } } });
  }
}
