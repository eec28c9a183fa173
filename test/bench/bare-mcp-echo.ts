// The floor of the MCP layer: an MCP SDK server whose one tool returns a fixed 64-byte string,
// over stdio (run as a child process) or over streamable HTTP (startBareMcpHttp).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

const fixed = 'x'.repeat(64);

function echoServer(): McpServer {
  const server = new McpServer({ name: 'bare-echo', version: '1.0.0' });
  server.registerTool('get_secret', { inputSchema: { path: z.string() } }, () => ({
    content: [{ type: 'text', text: fixed }],
  }));
  return server;
}

/** Stateless streamable HTTP: a fresh server and transport per request, as the SDK's example does. */
export async function startBareMcpHttp(): Promise<{ url: string; close(): Promise<void> }> {
  const http = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown) : undefined;
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      const server = echoServer();
      response.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(request, response, body);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: () => new Promise<void>((resolve) => http.close(() => resolve())),
  };
}

if (process.argv[2] === '--stdio') {
  await echoServer().connect(new StdioServerTransport());
}
