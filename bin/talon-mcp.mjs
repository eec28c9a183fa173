#!/usr/bin/env node
// talon-mcp: Talon's stdio MCP server (see mcp/stdio.ts). Runs the TypeScript source through tsx,
// registered here so that nothing but MCP messages ever reaches stdout.
// `talon-mcp --agent <name>` with no key in the environment pairs with Talon (mcp/mcp-pairing.ts).
import { register } from 'tsx/esm/api';

register();
await import('../mcp/stdio.ts');
