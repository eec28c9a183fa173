import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodes } from '../../main/cli/exit-codes.js';
import { jsonOf, runTalonWith } from './cli-runner.js';
import {
  type ServingProcess,
  cleanEnvironment,
  cliPin,
  repositoryRoot,
  startServe,
  talonBin,
} from './talon-process.js';

/**
 * The human side of `talon` against a real `talon serve`: approvals (a gated read that exits 10,
 * `approval decide`, `--approval-id`, `approval watch` live), shares, and sessions (`login`,
 * `logout`, `lock`, `unlock` with a PIN file).
 */
const scratch = mkdtempSync(join(tmpdir(), 'talon-people-'));
const dataDir = join(scratch, 'data');
let serving: ServingProcess;
let ownerKey: string;
let vaultId: string;
let agent: { id: string; key: string };

const env = (extra: Record<string, string> = {}) =>
  cleanEnvironment({
    ONECLAW_BASE_URL: serving.url,
    TALON_CONFIG_DIR: join(scratch, 'config'),
    TALON_DATA_DIR: join(scratch, 'elsewhere'),
    ...extra,
  });
const asOwner = (extra: Record<string, string> = {}) => env({ ONECLAW_API_KEY: ownerKey, ...extra });
const asAgent = () =>
  env({ ONECLAW_AGENT_API_KEY: agent.key, ONECLAW_AGENT_ID: agent.id, ONECLAW_VAULT_ID: vaultId });
const talon = (args: string[], environment = asOwner(), input?: string) =>
  runTalonWith(args, environment, input);

beforeAll(async () => {
  serving = await startServe(['--data-dir', dataDir], cleanEnvironment({ TALON_HSM_PIN: cliPin }), 60_000);
  ownerKey = readFileSync(join(dataDir, 'owner-api-key'), 'utf8').trim();
  vaultId = jsonOf(await talon(['vault', 'create', 'people', '--json'])).id;
  await talon(
    ['secret', 'set', 'gated/key', '--stdin', '--vault', vaultId, '-t', 'api_key'],
    asOwner(),
    'gated-value',
  );
  await talon(
    ['secret', 'set', 'plain/key', '--stdin', '--vault', vaultId, '-t', 'api_key'],
    asOwner(),
    'plain-value',
  );
  const created = jsonOf(await talon(['agent', 'create', 'people-bot', '--json']));
  agent = { id: created.agent.id, key: created.api_key };
  const policy = await talon([
    'policy',
    'create',
    '--vault',
    vaultId,
    '--agent',
    'people-bot',
    '--path',
    'gated/**',
    '--permissions',
    'read',
    '--require-approval',
  ]);
  expect(policy.code, policy.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await serving?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('talon for people', { timeout: 300_000 }, () => {
  it('a gated read exits 10 with the approval; watch sees it; decide approves; --approval-id reads', async () => {
    const watcher = spawn(process.execPath, [talonBin, 'approval', 'watch', '--json'], {
      env: asOwner(),
      cwd: repositoryRoot,
    });
    let watched = '';
    watcher.stdout.on('data', (chunk: Buffer) => (watched += chunk.toString('utf8')));
    try {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const gated = await talon(['secret', 'get', 'gated/key', '--json'], asAgent());
      expect(gated.code).toBe(exitCodes.approval_required);
      const pending = jsonOf(gated);
      expect(pending).toMatchObject({
        approval_required: true,
        approval: { action: 'secret.read', status: 'pending' },
      });
      expect(gated.stdout).not.toContain('gated-value');
      const approvalId: string = pending.approval.id;

      const { approvals } = jsonOf(await talon(['approval', 'list', '--json']));
      expect(approvals.map((a: { id: string }) => a.id)).toContain(approvalId);
      expect(jsonOf(await talon(['approval', 'get', approvalId, '--json']))).toMatchObject({
        id: approvalId,
        status: 'pending',
      });
      const decided = jsonOf(
        await talon(['approval', 'decide', approvalId, 'approve', '--reason', 'fine', '--json']),
      );
      expect(decided).toMatchObject({ id: approvalId, status: 'approved' });

      const read = await talon(['secret', 'get', 'gated/key', '-q', '--approval-id', approvalId], asAgent());
      expect(read.code, read.stderr).toBe(0);
      expect(read.stdout).toBe('gated-value\n');
      expect((await talon(['approval', 'decide', approvalId, 'maybe'])).code).toBe(exitCodes.invalid_input);

      for (let waited = 0; waited < 20_000 && !watched.includes('approval.decided'); waited += 250) {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const events = watched
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string; data: { id: string } });
      expect(events.map((e) => [e.type, e.data.id])).toEqual(
        expect.arrayContaining([
          ['approval.created', approvalId],
          ['approval.decided', approvalId],
        ]),
      );
    } finally {
      watcher.kill('SIGINT');
    }
  });

  it('shares: a link, and a share to an agent that it accepts; list and revoke', async () => {
    const link = jsonOf(
      await talon([
        'share',
        'create',
        'plain/key',
        '--vault',
        vaultId,
        '--link',
        '--expires',
        '1h',
        '--max-access',
        '2',
        '--json',
      ]),
    );
    expect(link).toMatchObject({ recipient_type: 'anyone_with_link', max_access_count: 2 });
    const toAgent = jsonOf(
      await talon(['share', 'create', 'plain/key', '--vault', vaultId, '--to', 'agent:people-bot', '--json']),
    );
    expect(toAgent).toMatchObject({ recipient_type: 'agent', recipient_id: agent.id });
    const inbound = jsonOf(await talon(['share', 'list', '--inbound', '--json'], asAgent()));
    expect(inbound.shares.map((s: { id: string }) => s.id)).toContain(toAgent.id);
    expect((await talon(['share', 'accept', toAgent.id], asAgent())).code).toBe(0);
    expect((await talon(['share', 'revoke', link.id])).code).toBe(0);
    const outbound = jsonOf(await talon(['share', 'list', '--json']));
    expect(outbound.shares.map((s: { id: string }) => s.id)).toEqual(
      expect.arrayContaining([link.id, toAgent.id]),
    );
    expect((await talon(['share', 'create', 'plain/key', '--vault', vaultId])).code).toBe(
      exitCodes.invalid_input,
    );
  });

  it('login with a personal key keeps a 0600 session; logout ends it; lock and unlock with a PIN file', async () => {
    const mine = env({ TALON_CONFIG_DIR: join(scratch, 'session-config') });
    expect((await talon(['vault', 'list'], mine)).code).toBe(exitCodes.unauthenticated);
    expect((await talon(['login', '--api-key-stdin'], mine, 'not-a-key')).code).toBe(exitCodes.invalid_input);
    const login = await talon(['login', '--api-key-stdin', '--json'], mine, `${ownerKey}\n`);
    expect(login.code, login.stderr).toBe(0);
    const sessionFile = jsonOf(login).session_file;
    expect(statSync(sessionFile).mode & 0o777).toBe(0o600);
    expect((await talon(['vault', 'list'], mine)).code).toBe(0);
    expect(jsonOf(await talon(['status', '--json'], mine))).toMatchObject({
      credential: 'session',
      set_up: true,
    });
    expect((await talon(['logout'], mine)).code).toBe(0);
    expect(existsSync(sessionFile)).toBe(false);
    expect((await talon(['vault', 'list'], mine)).code).toBe(exitCodes.unauthenticated);
    const wrongPassword = await talon(
      ['login', '--email', 'owner@localhost', '--password-stdin'],
      mine,
      'wrong',
    );
    expect(wrongPassword.code).toBe(exitCodes.unauthenticated);

    expect(jsonOf(await talon(['lock', '--json']))).toEqual({ locked: true });
    expect(jsonOf(await talon(['status', '--json']))).toMatchObject({ unlocked: false });
    expect((await talon(['vault', 'list'])).code).toBe(exitCodes.locked);
    const pinFile = join(scratch, 'pin');
    writeFileSync(pinFile, `${cliPin}\n`);
    chmodSync(pinFile, 0o600);
    const unlocked = await talon(['unlock', '--pin-file', pinFile, '--json'], mine);
    expect(unlocked.code, unlocked.stderr).toBe(0);
    expect(unlocked.stdout + unlocked.stderr).not.toContain(cliPin);
    expect(jsonOf(unlocked)).toMatchObject({ unlocked: true });
    // The owner's session from unlock works without any key.
    expect((await talon(['vault', 'list', '--json'], mine)).code).toBe(0);
    expect(jsonOf(await talon(['status', '--json'], mine))).toMatchObject({
      unlocked: true,
      credential: 'session',
    });
  });
});
