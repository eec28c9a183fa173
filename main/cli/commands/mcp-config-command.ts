import { join } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { withExamples } from '../command-output.js';
import { baseUrlOf, globalFlags } from '../talon-connection.js';
import { repositoryRoot } from '../talon-version.js';

const clients = ['claude-desktop', 'claude-code', 'cursor', 'vscode'] as const;
type McpClient = (typeof clients)[number];

/** Where each client reads its MCP servers from. */
const configFileOf: Record<McpClient, string> = {
  'claude-desktop':
    'claude_desktop_config.json (macOS: ~/Library/Application Support/Claude/, Windows: %APPDATA%\\Claude\\, Linux: ~/.config/Claude/)',
  'claude-code': '.mcp.json in your project (or run the `claude mcp add` line below)',
  cursor: '.cursor/mcp.json in your project, or ~/.cursor/mcp.json',
  vscode: '.vscode/mcp.json in your workspace',
};

interface McpConfigFlags {
  client: string;
  http?: boolean;
  agentId?: string;
  vault?: string;
  name: string;
}

/**
 * The config an MCP client needs to reach Talon: stdio (`talon-mcp`, started by the client) or
 * streamable HTTP (`/mcp` of the running Talon). The agent's key is never printed: the config
 * holds a placeholder to replace.
 */
export function mcpConfig(
  flags: McpConfigFlags,
  baseUrl: string,
): { file: string; config: unknown; command?: string } {
  if (!(clients as readonly string[]).includes(flags.client)) {
    throw new CliError('invalid_input', `--client must be one of ${clients.join(', ')}.`);
  }
  const client = flags.client as McpClient;
  const key = 'ocv_… (the agent API key: talon agent create / rotate-key)';
  const vault = flags.vault ?? '<vault id>';
  if (flags.http) {
    const url = `${baseUrl}/mcp`;
    const headers = { Authorization: `Bearer ${key}`, 'X-Vault-ID': vault };
    const server =
      client === 'claude-desktop'
        ? // Claude Desktop starts commands only: mcp-remote bridges stdio to the HTTP endpoint.
          {
            command: 'npx',
            args: [
              '-y',
              'mcp-remote',
              url,
              '--header',
              'Authorization:${TALON_AUTH}',
              '--header',
              `X-Vault-ID:${vault}`,
            ],
            env: { TALON_AUTH: `Bearer ${key}` },
          }
        : client === 'cursor'
          ? { url, headers }
          : { type: 'http', url, headers };
    const config =
      client === 'vscode' ? { servers: { [flags.name]: server } } : { mcpServers: { [flags.name]: server } };
    return {
      file: configFileOf[client],
      config,
      ...(client === 'claude-code'
        ? {
            command: `claude mcp add --transport http ${flags.name} ${url} --header "Authorization: Bearer <ocv_ key>" --header "X-Vault-ID: ${vault}"`,
          }
        : {}),
    };
  }
  const script = join(repositoryRoot, 'bin', 'talon-mcp.mjs');
  const env: Record<string, string> = {
    ...(flags.agentId ? { ONECLAW_AGENT_ID: flags.agentId } : {}),
    ONECLAW_AGENT_API_KEY: key,
    ...(flags.vault ? { ONECLAW_VAULT_ID: flags.vault } : {}),
    ONECLAW_BASE_URL: baseUrl,
  };
  const server = {
    ...(client === 'vscode' ? { type: 'stdio' } : {}),
    command: process.execPath,
    args: [script],
    env,
  };
  const config =
    client === 'vscode' ? { servers: { [flags.name]: server } } : { mcpServers: { [flags.name]: server } };
  return {
    file: configFileOf[client],
    config,
    ...(client === 'claude-code'
      ? {
          command: `claude mcp add ${flags.name} ${Object.entries(env)
            .map(([name, value]) => `-e ${name}=${name === 'ONECLAW_AGENT_API_KEY' ? '<ocv_ key>' : value}`)
            .join(' ')} -- ${process.execPath} ${script}`,
        }
      : {}),
  };
}

/** `mcp config --client …`. */
export function registerMcpConfigCommand(program: Command): void {
  const mcp = program.command('mcp').description("Talon's MCP server for coding agents");
  withExamples(
    mcp
      .command('config')
      .description('print a ready MCP config for a client (stdio talon-mcp, or --http for the /mcp endpoint)')
      .requiredOption('--client <client>', clients.join(', '))
      .option('--http', 'use the running Talon over streamable HTTP instead of starting talon-mcp')
      .option('--agent-id <id>', 'the agent the config is for')
      .option('-v, --vault <id>', 'the vault the agent works in')
      .option('--name <name>', 'the server name in the config', 'talon')
      .action((flags: McpConfigFlags, command: Command) => {
        const json = globalFlags(command).json === true;
        const result = mcpConfig(flags, baseUrlOf(globalFlags(command)));
        if (json) {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          return;
        }
        console.error(`Put this in ${result.file}, and replace the ocv_… placeholder with the agent's key:`);
        process.stdout.write(`${JSON.stringify(result.config, null, 2)}\n`);
        if (result.command) console.error(`\nOr run:\n  ${result.command}`);
      }),
    [
      'talon mcp config --client claude-desktop --agent-id 0192f0c4-… --vault 0192f0c5-…',
      'talon mcp config --client vscode --http --vault 0192f0c5-…',
      'talon mcp config --client claude-code',
    ],
  );
}
