import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApi, startTestApi } from '../fixtures/test-api-server.js';
import { type Finished, cleanEnvironment, repositoryRoot, talonBin } from './talon-process.js';

/**
 * `talon run` as a real child process against a real API: the secrets an agent may only `use`
 * reach the command's environment, never its output (as themselves or encoded), signals and exit
 * codes pass through.
 */

let api: TestApi;
let vaultId: string;
let agentKey: string;
let home: string;

const stripe = 'sk_live_51HxStripeSecretValue';
const github = 'ghp_GithubTokenValue_0123456789';
const bundleToken = 'tok_bundle_value_abcdef';

beforeAll(async () => {
  api = await startTestApi();
  const { engine, owner } = api.t;
  const call = api.t.call();
  vaultId = (await engine.vaults.create(owner, { name: 'run-vault' }, call)).id;
  await engine.secrets.put(owner, vaultId, 'api-keys/stripe', { type: 'api_key', value: stripe }, call);
  await engine.secrets.put(owner, vaultId, 'api-keys/github-token', { type: 'api_key', value: github }, call);
  await engine.secrets.put(
    owner,
    vaultId,
    'config/prod',
    { type: 'env_bundle', value: `BUNDLE_TOKEN=${bundleToken}\nPLAIN=ok\n` },
    call,
  );
  await engine.secrets.put(
    owner,
    vaultId,
    'other/db',
    { type: 'password', value: 'db-password-value' },
    call,
  );
  const agent = engine.agents.create(owner, { name: 'runner' }, call);
  agentKey = agent.api_key;
  for (const pattern of ['api-keys/**', 'config/prod']) {
    engine.policies.create(
      owner,
      vaultId,
      {
        secret_path_pattern: pattern,
        principal_type: 'agent',
        principal_id: agent.agent.id,
        permissions: ['use'],
      },
      call,
    );
  }
  home = mkdtempSync(join(tmpdir(), 'talon-run-home-'));
}, 60_000);

afterAll(async () => {
  await api?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

function environment(): NodeJS.ProcessEnv {
  return cleanEnvironment({
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    ONECLAW_BASE_URL: api.url,
    ONECLAW_AGENT_API_KEY: agentKey,
    ONECLAW_VAULT_ID: vaultId,
  });
}

function start(args: string[]): { child: ChildProcess; finished: Promise<Finished> } {
  const child = spawn(process.execPath, [talonBin, 'run', ...args], {
    env: environment(),
    cwd: repositoryRoot,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const finished = new Promise<Finished>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, finished };
}

const run = (args: string[]) => start(args).finished;

describe('talon run', () => {
  it('injects the secrets an agent may use and masks them, encoded too, split across writes', async () => {
    const script = `
      const env = process.env;
      const b64 = (s) => Buffer.from(s).toString('base64');
      process.stdout.write('names ' + ['STRIPE', 'GITHUB_TOKEN', 'BUNDLE_TOKEN', 'PLAIN', 'DB', 'OTHER_DB'].filter((k) => k in env).sort().join(',') + '\\n');
      process.stdout.write('raw ' + env.STRIPE + '\\n');
      process.stdout.write('half ' + env.GITHUB_TOKEN.slice(0, 9));
      setTimeout(() => {
        process.stdout.write(env.GITHUB_TOKEN.slice(9) + ' end\\n');
        process.stderr.write('b64 ' + b64(env.STRIPE) + ' url ' + encodeURIComponent(env.BUNDLE_TOKEN + '/x') + '\\n');
        process.stdout.write('basic ' + b64('user:' + env.STRIPE) + '\\n');
        process.stdout.write('plain ' + env.PLAIN + '\\n');
        process.stdout.write('credential ' + (env.ONECLAW_AGENT_API_KEY ? 'leaked' : 'absent') + '\\n');
      }, 50);
    `;
    const result = await run([
      '--prefix',
      'api-keys/',
      '--env-bundle',
      'config/prod',
      '--',
      process.execPath,
      '-e',
      script,
    ]);
    expect(result.stderr).not.toMatch(/talon: /u);
    expect(result.code).toBe(0);
    const output = result.stdout + result.stderr;
    expect(result.stdout).toContain('names BUNDLE_TOKEN,GITHUB_TOKEN,PLAIN,STRIPE\n');
    expect(result.stdout).toContain('raw ***\n');
    expect(result.stdout).toContain('half *** end\n');
    expect(result.stdout).toMatch(/basic [A-Za-z0-9+/]*\*\*\*/u);
    expect(result.stdout).toContain('plain ok\n');
    expect(result.stdout).toContain('credential absent\n');
    expect(result.stderr).toContain('b64 *** url ***%2Fx');
    for (const value of [stripe, github, bundleToken]) {
      expect(output).not.toContain(value);
      expect(output).not.toContain(Buffer.from(value).toString('base64').slice(0, 16));
    }
    const audit = api.t.engine.queryAudit(api.t.owner, { action: 'secret.use' });
    expect(audit.events.map((e) => e.path).sort()).toEqual(
      expect.arrayContaining(['api-keys/github-token', 'api-keys/stripe', 'config/prod']),
    );
  }, 60_000);

  it('passes the exit code through', async () => {
    const result = await run(['--prefix', 'api-keys/', '--', process.execPath, '-e', 'process.exit(37)']);
    expect(result.code).toBe(37);
  }, 60_000);

  it('passes SIGTERM to the command, and exits 128 + 15 when it dies of it', async () => {
    const { child, finished } = start([
      '--prefix',
      'api-keys/',
      '--',
      process.execPath,
      '-e',
      "process.stdout.write('ready\\n'); setInterval(() => {}, 1000);",
    ]);
    await waitForOutput(child, 'ready');
    child.kill('SIGTERM');
    const result = await finished;
    expect(result.code).toBe(143);
  }, 60_000);

  it('lets the command handle SIGTERM and keeps its exit code', async () => {
    const { child, finished } = start([
      '--prefix',
      'api-keys/',
      '--',
      process.execPath,
      '-e',
      "process.on('SIGTERM', () => { console.log('got SIGTERM with ' + process.env.STRIPE); process.exit(5); }); console.log('ready'); setInterval(() => {}, 1000);",
    ]);
    await waitForOutput(child, 'ready');
    child.kill('SIGTERM');
    const result = await finished;
    expect(result.code).toBe(5);
    expect(result.stdout).toContain('got SIGTERM with ***');
  }, 60_000);

  it('refuses a secret the agent may not use, without running the command', async () => {
    const result = await run([
      '--env-bundle',
      'other/db',
      '--',
      process.execPath,
      '-e',
      "console.log('ran')",
    ]);
    expect(result.code).toBe(4);
    expect(result.stdout).not.toContain('ran');
    expect(result.stderr).toMatch(/Access denied/u);
  }, 60_000);
});

function waitForOutput(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no '${text}' in time; saw: ${seen}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
