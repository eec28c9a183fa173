import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodes } from '../../main/cli/exit-codes.js';
import { jsonOf, runTalonWith } from './cli-runner.js';
import { type ServingProcess, cleanEnvironment, cliPin, startServe } from './talon-process.js';

/**
 * The `talon` commands as real child processes against a real `talon serve`: --json shapes, exit
 * codes, values never taken from argv without a warning, completion scripts that parse.
 */
const scratch = mkdtempSync(join(tmpdir(), 'talon-commands-'));
const dataDir = join(scratch, 'data');
let serving: ServingProcess;
let ownerKey: string;

/** The owner, with a config folder of its own. */
const asOwner = (extra: Record<string, string> = {}) =>
  cleanEnvironment({
    ONECLAW_BASE_URL: serving.url,
    ONECLAW_API_KEY: ownerKey,
    TALON_CONFIG_DIR: join(scratch, 'owner-config'),
    TALON_DATA_DIR: join(scratch, 'elsewhere'),
    ...extra,
  });
const talon = (args: string[], env = asOwner(), input?: string) => runTalonWith(args, env, input);

beforeAll(async () => {
  serving = await startServe(['--data-dir', dataDir], cleanEnvironment({ TALON_HSM_PIN: cliPin }), 60_000);
  ownerKey = readFileSync(join(dataDir, 'owner-api-key'), 'utf8').trim();
  const created = await talon(['vault', 'create', 'cli-vault', '--json']);
  expect(created.code, created.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await serving?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe.concurrent('talon against a running Talon', { timeout: 600_000 }, () => {
  it('vaults: list, get by name, link as the default', async () => {
    const list = await talon(['vault', 'list', '--json']);
    expect(list.code).toBe(0);
    const { vaults } = jsonOf<{ vaults: { id: string; name: string }[] }>(list);
    const vault = vaults.find((v) => v.name === 'cli-vault')!;
    expect(vault.id).toMatch(/^[0-9a-f-]{36}$/u);
    const got = jsonOf(await talon(['vault', 'get', 'cli-vault', '--json']));
    expect(got).toMatchObject({ id: vault.id, name: 'cli-vault', created_by_type: 'user' });
    const table = await talon(['vault', 'list']);
    expect(table.stdout).toContain('cli-vault');
    expect(table.stdout).toMatch(/┌/u);

    const env = asOwner({ TALON_CONFIG_DIR: join(scratch, 'link-config') });
    expect((await talon(['vault', 'link', 'cli-vault'], env)).code).toBe(0);
    const settings = JSON.parse(readFileSync(join(scratch, 'link-config', 'cli.json'), 'utf8'));
    expect(settings.linked_vault).toMatchObject({ id: vault.id, name: 'cli-vault' });
    expect((await talon(['vault', 'delete', 'cli-vault'], env)).code).toBe(exitCodes.invalid_input);
  });

  it('secrets: set from stdin and file, warn on argv, get, rotate, versions, describe, rollback, delete, restore', async () => {
    const v = ['--vault', 'cli-vault'];
    const fromStdin = await talon(
      ['secret', 'set', 'api-keys/stripe', '--stdin', '-t', 'api_key', ...v, '--json'],
      asOwner(),
      'sk_live_stdin\n',
    );
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(jsonOf(fromStdin)).toMatchObject({ path: 'api-keys/stripe', type: 'api_key', version: 1 });
    expect(fromStdin.stderr).toBe('');
    expect(fromStdin.stdout).not.toContain('sk_live_stdin');

    const file = join(scratch, 'cert.pem');
    writeFileSync(file, '-----BEGIN CERTIFICATE-----\nabc\n');
    expect(
      (await talon(['secret', 'set', 'certs/server', '--file', file, '-t', 'certificate', ...v])).code,
    ).toBe(0);

    const fromArgv = await talon(['secret', 'set', 'db/password', 'hunter2-argv', ...v]);
    expect(fromArgv.code).toBe(0);
    expect(fromArgv.stderr).toMatch(/warning: the value was given on the command line/u);
    expect(fromArgv.stderr).not.toContain('hunter2-argv');

    const quiet = await talon(['secret', 'get', 'api-keys/stripe', '--quiet', ...v]);
    expect(quiet.stdout).toBe('sk_live_stdin\n');
    const got = jsonOf(await talon(['secret', 'get', 'certs/server', ...v, '--json']));
    expect(got).toMatchObject({
      path: 'certs/server',
      type: 'certificate',
      value: '-----BEGIN CERTIFICATE-----\nabc\n',
    });

    const rotated = jsonOf(
      await talon([
        'secret',
        'rotate',
        'db/password',
        '--generate',
        '--length',
        '40',
        '--charset',
        'alphanumeric',
        ...v,
        '--json',
      ]),
    );
    expect(rotated).toMatchObject({ path: 'db/password', version: 2 });
    expect((await talon(['secret', 'get', 'db/password', '-q', ...v])).stdout).toMatch(
      /^[A-Za-z0-9]{40}\n$/u,
    );
    expect((await talon(['secret', 'get', 'db/password', '-q', '--version', '1', ...v])).stdout).toBe(
      'hunter2-argv\n',
    );

    const { versions } = jsonOf<{ versions: { version: number }[] }>(
      await talon(['secret', 'versions', 'db/password', ...v, '--json']),
    );
    expect(versions.map((x) => x.version).sort()).toEqual([1, 2]);
    expect(jsonOf(await talon(['secret', 'describe', 'db/password', ...v, '--json']))).toMatchObject({
      version: 2,
    });
    expect(jsonOf(await talon(['secret', 'rollback', 'db/password', '1', ...v, '--json']))).toMatchObject({
      version: 3,
    });
    expect((await talon(['secret', 'get', 'db/password', '-q', ...v])).stdout).toBe('hunter2-argv\n');

    expect((await talon(['secret', 'delete', 'db/password', ...v])).code).toBe(0);
    const gone = await talon(['secret', 'get', 'db/password', ...v, '--json']);
    expect([exitCodes.not_found, exitCodes.gone]).toContain(gone.code);
    expect(gone.stdout).toBe('');
    expect(JSON.parse(gone.stderr).error).toMatchObject({
      code: expect.any(String),
      message: expect.any(String),
    });
    expect((await talon(['secret', 'restore', 'db/password', ...v])).code).toBe(0);

    const listed = jsonOf<{ secrets: { path: string }[] }>(await talon(['secret', 'list', ...v, '--json']));
    expect(listed.secrets.map((s) => s.path)).toEqual(
      expect.arrayContaining(['api-keys/stripe', 'certs/server', 'db/password']),
    );
    expect(JSON.stringify(listed)).not.toContain('sk_live_stdin');
  });

  it('agents and policies: create, grant by name, the simulator, the agent acting with its own key', async () => {
    const created = jsonOf(await talon(['agent', 'create', 'cli-bot', '--json']));
    expect(created.api_key).toMatch(/^ocv_/u);
    const agentId: string = created.agent.id;
    const policy = jsonOf(
      await talon([
        'policy',
        'create',
        '--vault',
        'cli-vault',
        '--agent',
        'cli-bot',
        '--path',
        'shared/**',
        '--permissions',
        'read',
        '--json',
      ]),
    );
    expect(policy).toMatchObject({ principal_type: 'agent', principal_id: agentId, permissions: ['read'] });
    const allowed = jsonOf(
      await talon([
        'policy',
        'test',
        '--vault',
        'cli-vault',
        '--agent',
        'cli-bot',
        '--path',
        'shared/x',
        '--permission',
        'read',
        '--json',
      ]),
    );
    expect(allowed).toMatchObject({ allowed: true, policy_id: policy.id });
    const refused = jsonOf(
      await talon([
        'policy',
        'test',
        '--vault',
        'cli-vault',
        '--principal-type',
        'agent',
        '--principal-id',
        agentId,
        '--path',
        'other/x',
        '--permission',
        'read',
        '--json',
      ]),
    );
    expect(refused).toMatchObject({ allowed: false, policy_id: null });

    await talon(
      ['secret', 'set', 'shared/token', '--stdin', '--vault', 'cli-vault'],
      asOwner(),
      'shared-value',
    );
    await talon(
      ['secret', 'set', 'private/token', '--stdin', '--vault', 'cli-vault'],
      asOwner(),
      'private-value',
    );
    const asAgent = cleanEnvironment({
      ONECLAW_BASE_URL: serving.url,
      ONECLAW_AGENT_API_KEY: created.api_key,
      ONECLAW_AGENT_ID: agentId,
      TALON_CONFIG_DIR: join(scratch, 'agent-config'),
    });
    const vaultId = jsonOf(await talon(['vault', 'get', 'cli-vault', '--json'])).id;
    expect((await talon(['secret', 'get', 'shared/token', '-q', '--vault', vaultId], asAgent)).stdout).toBe(
      'shared-value\n',
    );
    const denied = await talon(['secret', 'get', 'private/token', '--vault', vaultId], asAgent);
    expect(denied.code).toBe(exitCodes.forbidden);
    expect(denied.stdout).toBe('');

    const { agents } = jsonOf(await talon(['agent', 'list', '--json']));
    expect(agents.map((a: { id: string }) => a.id)).toContain(agentId);
    expect(jsonOf(await talon(['agent', 'update', 'cli-bot', '--token-ttl', '600', '--json']))).toMatchObject(
      { token_ttl_seconds: 600 },
    );
    const token = await talon(['agent', 'token', '--quiet'], asAgent);
    expect(token.stdout.trim().split('.')).toHaveLength(3);
    const rotated = jsonOf(await talon(['agent', 'rotate-key', 'cli-bot', '--json']));
    expect(rotated.api_key).toMatch(/^ocv_/u);
    expect((await talon(['vault', 'list'], asAgent)).code).toBe(exitCodes.unauthenticated);
    expect((await talon(['policy', 'list', '--vault', 'cli-vault', '--json'])).code).toBe(0);
    expect((await talon(['policy', 'delete', policy.id, '--vault', 'cli-vault'])).code).toBe(0);
    expect((await talon(['agent', 'delete', 'cli-bot'])).code).toBe(0);
  });

  it('import: dry run, prefix, conflicts refused then overwritten; env push and pull', async () => {
    const dotenv = join(scratch, 'app.env');
    writeFileSync(
      dotenv,
      '# app\nDATABASE_URL="postgres://db/app"\nexport API-KEY=ignored\n'.replace('API-KEY', 'API_KEY'),
    );
    const dry = jsonOf(
      await talon(['import', dotenv, '--vault', 'cli-vault', '--prefix', 'app/', '--dry-run', '--json']),
    );
    expect(dry).toMatchObject({
      dry_run: true,
      plan: [
        { name: 'DATABASE_URL', path: 'app/DATABASE_URL', action: 'create' },
        { name: 'API_KEY', action: 'create' },
      ],
    });
    const listedBefore = jsonOf(
      await talon(['secret', 'list', '--vault', 'cli-vault', '--prefix', 'app/', '--json']),
    );
    expect(listedBefore.secrets).toEqual([]);

    expect((await talon(['import', dotenv, '--vault', 'cli-vault', '--prefix', 'app/'])).code).toBe(0);
    const again = await talon(['import', dotenv, '--vault', 'cli-vault', '--prefix', 'app/']);
    expect(again.code).toBe(exitCodes.conflict);
    expect(again.stderr).toMatch(/exist already/u);
    const skipped = jsonOf(
      await talon([
        'import',
        dotenv,
        '--vault',
        'cli-vault',
        '--prefix',
        'app/',
        '--on-conflict',
        'skip',
        '--json',
      ]),
    );
    expect(skipped.plan.map((p: { action: string }) => p.action)).toEqual(['skip', 'skip']);
    const overwritten = jsonOf(
      await talon([
        'import',
        dotenv,
        '--vault',
        'cli-vault',
        '--prefix',
        'app/',
        '--on-conflict',
        'overwrite',
        '--json',
      ]),
    );
    expect(overwritten.plan.map((p: { action: string }) => p.action)).toEqual(['overwrite', 'overwrite']);

    const pulled = await talon([
      'env',
      'pull',
      '--vault',
      'cli-vault',
      '--prefix',
      'app/',
      '--format',
      'json',
    ]);
    expect(JSON.parse(pulled.stdout)).toEqual({ DATABASE_URL: 'postgres://db/app', API_KEY: 'ignored' });

    const bundle = join(scratch, 'bundle.env');
    writeFileSync(bundle, 'ONE=1\nTWO="2 2"\n');
    expect(
      jsonOf(await talon(['env', 'push', bundle, '--vault', 'cli-vault', '--path', 'bundles/web', '--json'])),
    ).toMatchObject({
      path: 'bundles/web',
      type: 'env_bundle',
      variables: ['ONE', 'TWO'],
    });
    const out = join(scratch, 'pulled.env');
    expect(
      (await talon(['env', 'pull', '--vault', 'cli-vault', '--prefix', 'bundles/', '-o', out])).code,
    ).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('ONE="1"\nTWO="2 2"\n');
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it('audit: list, verify and export', async () => {
    // The tests of this file run at once: this one makes entries of its own (with the beforeAll's
    // vault.create, at least three) instead of counting on the others' being there yet.
    for (const name of ['audit-a', 'audit-b']) {
      expect((await talon(['vault', 'create', name, '--json'])).code).toBe(0);
    }
    const list = jsonOf(await talon(['audit', 'list', '--limit', '3', '--json']));
    expect(list.events).toHaveLength(3);
    expect(list.count).toBeGreaterThanOrEqual(3);
    expect(jsonOf(await talon(['audit', 'verify', '--json']))).toMatchObject({ valid: true });
    const csv = await talon(['audit', 'export', '--format', 'csv', '--action', 'vault.create']);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^id,seq,created_at,action,/u);
    expect(lines.slice(1).every((line) => line.includes('vault.create'))).toBe(true);
  });

  it('exit codes: no credential, a wrong key, an unreachable Talon, bad usage', async () => {
    const none = await talon(
      ['vault', 'list'],
      cleanEnvironment({
        ONECLAW_BASE_URL: serving.url,
        TALON_CONFIG_DIR: join(scratch, 'none'),
        TALON_DATA_DIR: join(scratch, 'none'),
      }),
    );
    expect(none.code).toBe(exitCodes.unauthenticated);
    expect(none.stderr).toMatch(/talon login/u);
    const wrong = await talon(['vault', 'list', '--json'], asOwner({ ONECLAW_API_KEY: '1ck_wrong' }));
    expect(wrong.code).toBe(exitCodes.unauthenticated);
    expect(JSON.parse(wrong.stderr).error).toMatchObject({ code: 'unauthenticated', status: 401 });
    const away = await talon(['vault', 'list', '--url', 'http://127.0.0.1:1']);
    expect(away.code).toBe(exitCodes.talon_unreachable);
    expect((await talon(['vault', 'frobnicate'])).code).toBe(exitCodes.usage);
    expect((await talon(['secret', 'rotate', 'x', '--length', '3'])).code).toBe(exitCodes.invalid_input);
    const help = await talon(['secret', 'set', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:/u);
    expect((await talon(['backup', join(scratch, 'while-serving'), '--data-dir', dataDir])).code).toBe(
      exitCodes.conflict,
    );
  });

  it('status, mcp config and completion', async () => {
    const status = jsonOf(await talon(['status', '--json']));
    expect(status).toMatchObject({ url: serving.url, unlocked: true, credential: 'ONECLAW_API_KEY' });

    const vscode = jsonOf(await talon(['mcp', 'config', '--client', 'vscode', '--vault', 'v-1', '--json']));
    expect(vscode.config.servers.talon).toMatchObject({
      type: 'stdio',
      env: { ONECLAW_VAULT_ID: 'v-1', ONECLAW_BASE_URL: serving.url },
    });
    const http = jsonOf(
      await talon(['mcp', 'config', '--client', 'cursor', '--http', '--vault', 'v-1', '--json']),
    );
    expect(http.config.mcpServers.talon).toMatchObject({
      url: `${serving.url}/mcp`,
      headers: { 'X-Vault-ID': 'v-1' },
    });
    const desktop = await talon(['mcp', 'config', '--client', 'claude-desktop']);
    expect(JSON.parse(desktop.stdout).mcpServers.talon.args[0]).toMatch(/bin\/talon-mcp\.mjs$/u);

    const bash = await talon(['completion', 'bash']);
    const script = join(scratch, 'talon.bash');
    writeFileSync(script, bash.stdout);
    execFileSync('bash', ['-n', script]);
    const complete = (words: string[]) =>
      execFileSync(
        'bash',
        [
          '-c',
          `source '${script}'; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _talon_complete; echo "\${COMPREPLY[*]}"`,
        ],
        {
          encoding: 'utf8',
        },
      ).trim();
    expect(complete(['talon', 'sec'])).toBe('secret');
    expect(complete(['talon', 'secret', 'ro']).split(' ')).toEqual(['rotate', 'rollback']);
    expect(complete(['talon', 'secret', 'rotate', '--gen'])).toBe('--generate');
    expect((await talon(['completion', 'zsh'])).stdout).toMatch(/^#compdef talon/u);
    const fish = (await talon(['completion', 'fish'])).stdout;
    expect(fish).toMatch(/complete -c talon -n '__fish_seen_subcommand_from secret' -a rotate/u);
    expect((await talon(['completion', 'tcsh'])).code).toBe(exitCodes.invalid_input);
  });
});
