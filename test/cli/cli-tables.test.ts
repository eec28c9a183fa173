import { describe, expect, it } from 'vitest';
import { mcpConfig } from '../../main/cli/commands/mcp-config-command.js';
import {
  environmentVariableName,
  formatEnvironment,
  secretsAsEnvironment,
} from '../../main/cli/env-variables.js';
import { exitCodeFor, exitCodes } from '../../main/cli/exit-codes.js';
import { talonErrorStatus } from '../../main/engine/talon-error.js';

/** The CLI's tables and pure rules, without a process: exit codes, MCP configs, env names. */
describe('exit codes', () => {
  it('every Talon error code has its own exit code, and success alone is 0', () => {
    for (const code of Object.keys(talonErrorStatus)) {
      expect(Object.keys(exitCodes)).toContain(code);
      expect(exitCodeFor(code)).toBeGreaterThan(0);
    }
    expect(exitCodeFor('something_new')).toBe(1);
    expect(exitCodeFor('ok')).toBe(0);
  });
});

describe('mcp config', () => {
  const base = 'http://127.0.0.1:7417';
  it('stdio configs start talon-mcp with the agent variables, never a key', () => {
    for (const client of ['claude-desktop', 'claude-code', 'cursor', 'vscode']) {
      const { config, file } = mcpConfig({ client, name: 'talon', agentId: 'a-1', vault: 'v-1' }, base);
      const server = (config as { mcpServers?: Record<string, unknown>; servers?: Record<string, unknown> })[
        client === 'vscode' ? 'servers' : 'mcpServers'
      ]!.talon as { command: string; args: string[]; env: Record<string, string> };
      expect(server.args[0]).toMatch(/bin\/talon-mcp\.mjs$/u);
      expect(server.env).toMatchObject({
        ONECLAW_AGENT_ID: 'a-1',
        ONECLAW_VAULT_ID: 'v-1',
        ONECLAW_BASE_URL: base,
      });
      expect(server.env.ONECLAW_AGENT_API_KEY).toMatch(/^ocv_…/u);
      expect(file.length).toBeGreaterThan(5);
    }
  });

  it('HTTP configs point at /mcp with the bearer and vault headers', () => {
    const cursor = mcpConfig({ client: 'cursor', name: 'talon', http: true, vault: 'v-1' }, base)
      .config as never;
    expect(cursor).toEqual({
      mcpServers: {
        talon: {
          url: `${base}/mcp`,
          headers: { Authorization: expect.stringMatching(/^Bearer ocv_/u), 'X-Vault-ID': 'v-1' },
        },
      },
    });
    const code = mcpConfig({ client: 'claude-code', name: 'talon', http: true }, base);
    expect(code.command).toMatch(/^claude mcp add --transport http talon http:\/\/127\.0\.0\.1:7417\/mcp/u);
    const desktop = mcpConfig({ client: 'claude-desktop', name: 'talon', http: true, vault: 'v-1' }, base)
      .config as {
      mcpServers: { talon: { args: string[] } };
    };
    expect(desktop.mcpServers.talon.args).toContain(`${base}/mcp`);
    expect(() => mcpConfig({ client: 'emacs', name: 'talon' }, base)).toThrow(/--client must be one of/u);
  });
});

describe('env variable names', () => {
  it("follow 1Claw's rule: path less prefix, / and - as _, upper case; bundles line by line", () => {
    expect(environmentVariableName('api-keys/stripe-live')).toBe('API_KEYS_STRIPE_LIVE');
    expect(environmentVariableName('app/db/url', 'app/')).toBe('DB_URL');
    const variables = secretsAsEnvironment(
      [
        { path: 'app/token', type: 'api_key', value: 't' },
        { path: 'app/cert', type: 'certificate', value: 'not a variable' },
        { path: 'app/env', type: 'env_bundle', value: 'A=1\n# c\nB="x y"\n' },
      ],
      'app/',
    );
    expect(Object.fromEntries(variables)).toEqual({ TOKEN: 't', A: '1', B: 'x y' });
    expect(formatEnvironment(new Map([['Q', `it's "quoted"`]]), 'shell')).toBe(
      `export Q='it'\\''s "quoted"'\n`,
    );
    expect(formatEnvironment(new Map([['Q', 'a"b\nc']]), 'dotenv')).toBe('Q="a\\"b\\nc"\n');
  });
});
