import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseEnvBundle } from '../../main/engine/env-bundle.js';
import { matchesPathGlob } from '../../main/engine/path-glob.js';
import { copyWithClearing } from '../../renderer/src/model/clipboard.js';
import { envRowsProblem, parseEnvRows, serializeEnvRows } from '../../renderer/src/model/env-table.js';
import { mcpClients, mcpConfig } from '../../renderer/src/model/mcp-configs.js';
import { previewGlobMatches } from '../../renderer/src/model/path-glob-preview.js';
import { buildPathTree } from '../../renderer/src/model/path-tree.js';
import { sshFingerprint, sshKeyAlgorithm } from '../../renderer/src/model/ssh-fingerprint.js';

describe('the path tree', () => {
  const secrets = ['stripe/live/key', 'stripe/test/key', 'openai', 'db/password', 'stripe/webhook'].map(
    (path) => ({ path }),
  );

  it('nests folders first, sorted, and filters by any part of the path', () => {
    const tree = buildPathTree(secrets);
    expect(tree.map((node) => `${node.kind}:${node.name}`)).toEqual([
      'folder:db',
      'folder:stripe',
      'secret:openai',
    ]);
    const stripe = tree[1]!;
    expect(stripe.kind === 'folder' && stripe.children.map((node) => node.path)).toEqual([
      'stripe/live',
      'stripe/test',
      'stripe/webhook',
    ]);
    const found = buildPathTree(secrets, 'LIVE');
    expect(JSON.stringify(found)).toContain('stripe/live/key');
    expect(JSON.stringify(found)).not.toContain('stripe/test/key');
    expect(buildPathTree(secrets, 'nothing-like-it')).toEqual([]);
  });
});

describe('the policy pattern preview', () => {
  const segment = fc.stringMatching(/^[a-c*?]{1,3}$/u);
  const pathSegment = fc.stringMatching(/^[a-c]{1,3}$/u);

  it('agrees with the engine on generated patterns and paths', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(segment, fc.constant('**')), { minLength: 1, maxLength: 4 }),
        fc.array(pathSegment, { minLength: 1, maxLength: 5 }),
        (patternSegments, pathSegments) => {
          const pattern = patternSegments.join('/');
          const path = pathSegments.join('/');
          let engine: boolean;
          try {
            engine = matchesPathGlob(pattern, path);
          } catch {
            engine = false; // a pattern the engine refuses matches nothing in the preview
          }
          expect(previewGlobMatches(pattern, path)).toBe(engine);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('handles the documented examples', () => {
    expect(previewGlobMatches('**', 'a/b/c')).toBe(true);
    expect(previewGlobMatches('stripe/*', 'stripe/key')).toBe(true);
    expect(previewGlobMatches('stripe/*', 'stripe/live/key')).toBe(false);
    expect(previewGlobMatches('stripe/**', 'stripe/live/key')).toBe(true);
    expect(previewGlobMatches('a/**b', 'a/b')).toBe(false);
  });
});

describe('the env-bundle table', () => {
  it('writes rows the engine reads back exactly', () => {
    const rows = [
      { key: 'DATABASE_URL', value: 'postgres://u:p@h/db?x=1#frag' },
      { key: 'QUOTED', value: '"already quoted"' },
      { key: 'SPACED', value: '  padded  ' },
      { key: 'EMPTY', value: '' },
    ];
    const text = serializeEnvRows(rows);
    expect(parseEnvBundle(text)).toEqual(rows);
    expect(parseEnvRows(text)).toEqual(rows);
  });

  it('names the row that is wrong and how to fix it, never the value', () => {
    expect(envRowsProblem([{ key: '', value: '' }])).toMatch(/at least one variable/u);
    expect(envRowsProblem([{ key: '1BAD', value: 'secret-value' }])).toMatch(/^Row 1: a name starts with/u);
    expect(
      envRowsProblem([
        { key: 'A', value: 'x' },
        { key: 'A', value: 'y' },
      ]),
    ).toMatch(/Row 2: A appears twice/u);
    expect(envRowsProblem([{ key: 'A', value: 'line\nbreak' }])).toMatch(/one line/u);
    expect(envRowsProblem([{ key: 'A', value: 'x' }])).toBeNull();
    expect(envRowsProblem([{ key: '1BAD', value: 'secret-value' }])).not.toContain('secret-value');
  });
});

describe('the SSH key fingerprint', () => {
  it('matches ssh-keygen for a private key and its public line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'talon-ssh-'));
    try {
      const file = join(dir, 'id');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test@talon', '-f', file]);
      const expected = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], {
        encoding: 'utf8',
      }).split(' ')[1];
      expect(await sshFingerprint(readFileSync(file, 'utf8'))).toBe(expected);
      expect(await sshFingerprint(readFileSync(`${file}.pub`, 'utf8'))).toBe(expected);
      expect(sshKeyAlgorithm(readFileSync(file, 'utf8'))).toBe('ssh-ed25519');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says nothing about what is not an OpenSSH key', async () => {
    expect(await sshFingerprint('hello')).toBeNull();
    expect(
      await sshFingerprint(
        '-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----',
      ),
    ).toBeNull();
  });
});

describe('the MCP configurations', () => {
  const connection = {
    agentId: '0192f6c1-7a4e-7b3c-9d2e-1f0a2b3c4d5e',
    apiKey: 'ocv_abc123',
    vaultId: '0192f6c1-0000-7b3c-9d2e-1f0a2b3c4d5e',
    baseUrl: 'http://127.0.0.1:7417',
    stdioCommand: 'node',
    stdioArgs: ['/home/me/talon/bin/talon-mcp.mjs'],
  };

  it('are valid JSON with the credentials where each client reads them', () => {
    for (const client of mcpClients.filter((entry) => entry.id !== 'claude-code')) {
      for (const transport of ['stdio', 'http'] as const) {
        const parsed = JSON.parse(mcpConfig(client.id, transport, connection)) as Record<
          string,
          Record<string, unknown>
        >;
        const server = (parsed.mcpServers ?? parsed.servers)!.talon as Record<string, unknown>;
        expect(JSON.stringify(server)).toContain('ocv_abc123');
        if (transport === 'stdio') {
          expect(server.env).toMatchObject({
            ONECLAW_AGENT_ID: connection.agentId,
            ONECLAW_VAULT_ID: connection.vaultId,
          });
        }
      }
    }
    expect(JSON.parse(mcpConfig('vscode', 'http', connection))).toEqual({
      servers: {
        talon: {
          type: 'http',
          url: 'http://127.0.0.1:7417/mcp',
          headers: { Authorization: 'Bearer ocv_abc123', 'X-Vault-ID': connection.vaultId },
        },
      },
    });
  });

  it('gives Claude Code a command line', () => {
    expect(mcpConfig('claude-code', 'stdio', connection)).toMatch(/^claude mcp add talon/u);
    expect(mcpConfig('claude-code', 'stdio', connection)).toContain(
      '-- node /home/me/talon/bin/talon-mcp.mjs',
    );
    expect(mcpConfig('claude-code', 'http', connection)).toContain(
      '--transport http talon http://127.0.0.1:7417/mcp',
    );
  });
});

describe('copying with clipboard clearing', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('clears the clipboard after 30 seconds unless something else was copied', async () => {
    vi.useFakeTimers();
    let content = '';
    const clipboard = {
      writeText: async (text: string) => {
        content = text;
      },
      readText: async () => content,
    };
    await copyWithClearing('sk-123', clipboard);
    expect(content).toBe('sk-123');
    await vi.advanceTimersByTimeAsync(29_000);
    expect(content).toBe('sk-123');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(content).toBe('');

    await copyWithClearing('sk-456', clipboard);
    content = 'something the user copied later';
    await vi.advanceTimersByTimeAsync(30_000);
    expect(content).toBe('something the user copied later');
  });
});
