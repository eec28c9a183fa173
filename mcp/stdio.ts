import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { HttpVaultClient } from './http-vault-client.js';
import { readStdioEnvironment } from './stdio-environment.js';
import { createTalonMcpServer } from './talon-tools.js';

/**
 * `talon-mcp`: the stdio MCP server an MCP client starts as a child process. It forwards every
 * tool call to the running Talon app over its local `/v1` API, as the agent named by the
 * ONECLAW_* variables. Stdout carries protocol messages and nothing else; diagnostics go to
 * stderr.
 */
const setup = readStdioEnvironment(process.env);
if (!setup.ok) {
  process.stderr.write(`${setup.message}\n`);
  process.exitCode = 1;
} else {
  const server = createTalonMcpServer(new HttpVaultClient(setup.client), {
    reportUnexpectedError: (error, tool) => {
      process.stderr.write(`talon-mcp: unexpected error in ${tool}: ${describe(error)}\n`);
    },
  });
  const transport = new StdioServerTransport();
  // The client closing our stdin ends the session; so does a transport that gave up on its input.
  transport.onclose = () => process.exit(0);
  process.stdin.once('end', () => void server.close());
  await server.connect(transport);
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
