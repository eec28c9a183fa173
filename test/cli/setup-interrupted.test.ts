import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Finished, cleanEnvironment, repositoryRoot } from './talon-process.js';

/**
 * First set-up cut short at every step, by a throw and by SIGKILL, then run again with the same
 * PIN: it completes (or restarts cleanly), the owner's key works, the audit chain verifies, and a
 * third run changes nothing. Each run is its own process: SoftHSM2 reads its configuration once
 * per process, and a SIGKILL is only honest in a process of its own.
 */
const runner = join(repositoryRoot, 'test', 'cli', 'setup-step-runner.ts');
const scratch = mkdtempSync(join(tmpdir(), 'talon-setup-'));
const pin = 'setup-test-pin-3141';

const steps = [
  'token-initialised',
  'user-pin-set',
  'keys-created',
  'so-pin-sealed',
  'token-ready',
  'owner-created',
] as const;

function run(args: string[]): Promise<Finished & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', runner, ...args], {
      env: cleanEnvironment(),
      cwd: repositoryRoot,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Every step is killed (the honest crash); a throw, which runs every `finally`, at the first and last.
const cases = [
  ...steps.map((step) => ({ step, how: 'kill' as const })),
  { step: 'token-initialised' as const, how: 'throw' as const },
  { step: 'owner-created' as const, how: 'throw' as const },
];

describe('a set-up interrupted at each step', () => {
  it('a finished token without an owner, given another PIN, is made again: nothing depended on it', async () => {
    const dataDir = join(scratch, 'other-pin');
    expect((await run([dataDir, pin, 'token-ready', 'kill'])).signal).toBe('SIGKILL');
    const other = await run([dataDir, 'another-pin-2718']);
    expect(other.stderr).toBe('');
    expect(JSON.parse(other.stdout)).toMatchObject({
      created: { owner: true },
      auditOk: true,
      restarted: true,
    });
    // The first PIN is gone with the first token.
    const old = await run([dataDir, pin]);
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/PIN is wrong/u);
  }, 120_000);

  for (const { step, how } of cases) {
    it(`${how} at ${step}, then the same set-up again completes it`, async () => {
      const dataDir = join(scratch, `${how}-${step}`);
      const interrupted = await run([dataDir, pin, step, how]);
      if (how === 'kill') expect(interrupted.signal).toBe('SIGKILL');
      else {
        expect(interrupted.code).toBe(1);
        expect(interrupted.stderr).toContain(`interrupted at ${step}`);
      }
      expect(interrupted.stdout + interrupted.stderr).not.toContain(pin);

      const again = await run([dataDir, pin]);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
      const result = JSON.parse(again.stdout) as {
        created: { owner: boolean };
        owner: string;
        auditOk: boolean;
      };
      // Past `owner-created` the set-up had committed: the run after it only unlocks.
      const finished = step === 'owner-created';
      expect(result).toMatchObject({ created: { owner: !finished }, owner: 'user', auditOk: true });
      // One token in the folder: a half-made one was removed, not left beside the new one.
      expect(readdirSync(join(dataDir, 'softhsm2', 'tokens'))).toHaveLength(1);

      if (step === 'token-initialised' && how === 'kill') {
        const third = await run([dataDir, pin]);
        expect(third.code).toBe(0);
        expect(JSON.parse(third.stdout)).toMatchObject({
          created: { token: false, owner: false },
          auditOk: true,
        });
      }
    }, 120_000);
  }
});
