import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exitCodes } from '../../main/cli/exit-codes.js';
import { cleanEnvironment, cliPin, runTalon, startServe } from './talon-process.js';

/**
 * `talon init` and `talon serve` as real child processes, each on its own data folder (and so its
 * own SoftHSM2 token). The groups are independent and run concurrently.
 */
const scratch = mkdtempSync(join(tmpdir(), 'talon-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const folder = (name: string) => join(scratch, name);
const mode = (path: string) => statSync(path).mode & 0o777;

async function getJson(url: string, credential?: string) {
  const response = await fetch(url, credential ? { headers: { authorization: `Bearer ${credential}` } } : {});
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe.concurrent('talon', { timeout: 60_000 }, () => {
  it('init needs a PIN, and then sets the folder up once, the owner key in a 0600 file', async () => {
    const dataDir = folder('init');
    const noPin = await runTalon(['init', '--data-dir', dataDir], cleanEnvironment());
    expect(noPin.code).toBe(exitCodes.invalid_input);
    expect(noPin.stderr).toMatch(/talon init needs the token PIN/u);
    expect(noPin.stderr).toMatch(/TALON_HSM_PIN/u);
    expect(existsSync(dataDir)).toBe(false);

    const first = await runTalon(
      ['init', '--data-dir', dataDir],
      cleanEnvironment({ TALON_HSM_PIN: cliPin }),
    );
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const keyFile = join(dataDir, 'owner-api-key');
    expect(first.stdout).toContain(`The owner's personal API key is in ${keyFile}`);
    const key = readFileSync(keyFile, 'utf8').trim();
    expect(key).toMatch(/^1ck_[A-Za-z0-9_-]{43}$/u);
    expect(first.stdout + first.stderr).not.toContain(key);
    expect(first.stdout + first.stderr).not.toContain(cliPin);
    expect(mode(keyFile)).toBe(0o600);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, 'talon.db'))).toBe(0o600);
    expect(existsSync(join(dataDir, 'talon.lock'))).toBe(false);

    const second = await runTalon(
      ['init', '--data-dir', dataDir],
      cleanEnvironment({ TALON_HSM_PIN: cliPin }),
    );
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/already set up/u);
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(key);

    const wrongPin = await runTalon(
      ['init', '--data-dir', dataDir],
      cleanEnvironment({ TALON_HSM_PIN: 'not-the-pin' }),
    );
    expect(wrongPin.code).toBe(exitCodes.unauthenticated);
    expect(wrongPin.stderr).toMatch(/PIN is wrong/u);
  });

  it('refuses a PIN file other users can read, and a port that is not one', async () => {
    const dataDir = folder('pin-file');
    const pinFile = join(scratch, 'shared-pin');
    writeFileSync(pinFile, `${cliPin}\n`);
    chmodSync(pinFile, 0o644);
    const byFlag = await runTalon(['init', '--data-dir', dataDir, '--pin-file', pinFile], cleanEnvironment());
    expect(byFlag.code).toBe(exitCodes.forbidden);
    expect(byFlag.stderr).toContain(`The PIN file ${pinFile} can be read by other users (mode 0644)`);
    expect(byFlag.stderr).toContain(`chmod 600 '${pinFile}'`);
    chmodSync(pinFile, 0o640);
    const byEnvironment = await runTalon(
      ['serve', '--data-dir', dataDir],
      cleanEnvironment({ TALON_HSM_PIN_FILE: pinFile }),
    );
    expect(byEnvironment.code).toBe(exitCodes.forbidden);
    expect(byEnvironment.stderr).toMatch(/can be read by other users \(mode 0640\)/u);
    const badPort = await runTalon(['serve', '--data-dir', dataDir, '--port', '99999'], cleanEnvironment());
    expect(badPort.code).toBe(exitCodes.invalid_input);
    expect(badPort.stderr).toContain("--port must be a port number from 0 to 65535, not '99999'");
    const badEnvironmentPort = await runTalon(
      ['serve', '--data-dir', dataDir],
      cleanEnvironment({ TALON_PORT: 'http' }),
    );
    expect(badEnvironmentPort.stderr).toContain(
      "TALON_PORT must be a port number from 0 to 65535, not 'http'",
    );
    expect(existsSync(dataDir)).toBe(false);
  });

  it('serve sets a new folder up from a private PIN file, refuses a second serve, and stops cleanly', async () => {
    const dataDir = folder('serve');
    const pinFile = join(scratch, 'private-pin');
    writeFileSync(pinFile, `${cliPin}\n`, { mode: 0o600 });
    const serving = await startServe(['--data-dir', dataDir, '--pin-file', pinFile], cleanEnvironment());
    try {
      expect(serving.output()).toMatch(/Talon is set up in/u);
      expect(await getJson(`${serving.url}/v1/health`)).toMatchObject({
        status: 200,
        body: { locked: false },
      });
      const key = readFileSync(join(dataDir, 'owner-api-key'), 'utf8').trim();
      expect(await getJson(`${serving.url}/v1/vaults`, key)).toEqual({ status: 200, body: { vaults: [] } });
      expect(readFileSync(join(dataDir, 'talon.lock'), 'utf8').trim()).toBe(String(serving.child.pid));

      const second = await runTalon(
        ['serve', '--data-dir', dataDir, '--port', '0'],
        cleanEnvironment({ TALON_HSM_PIN: cliPin }),
      );
      expect(second.code).toBe(exitCodes.conflict);
      expect(second.stderr).toContain(
        `Another Talon (process ${serving.child.pid}) is using the data folder ${dataDir}`,
      );
      // The first one still answers.
      expect((await getJson(`${serving.url}/v1/health`)).status).toBe(200);
    } finally {
      const stopped = await serving.stop('SIGTERM');
      expect(stopped.code).toBe(0);
      expect(stopped.stdout).toMatch(/SIGTERM: locking Talon and stopping/u);
    }
    expect(existsSync(join(dataDir, 'talon.lock'))).toBe(false);

    // Without a PIN it starts locked and says how to unlock; the audit chain survived the restart.
    const locked = await startServe(['--data-dir', dataDir], cleanEnvironment());
    try {
      expect(locked.output()).toMatch(/Talon is locked: no token PIN was given/u);
      expect(await getJson(`${locked.url}/v1/health`)).toMatchObject({ body: { locked: true } });
      const key = readFileSync(join(dataDir, 'owner-api-key'), 'utf8').trim();
      expect(await getJson(`${locked.url}/v1/vaults`, key)).toMatchObject({
        status: 423,
        body: { code: 'locked' },
      });
    } finally {
      expect((await locked.stop('SIGINT')).code).toBe(0);
    }
    const unlocked = await startServe(['--data-dir', dataDir], cleanEnvironment({ TALON_HSM_PIN: cliPin }));
    try {
      const key = readFileSync(join(dataDir, 'owner-api-key'), 'utf8').trim();
      const verified = await getJson(`${unlocked.url}/v1/audit/verify`, key);
      expect(verified).toMatchObject({ status: 200, body: { valid: true } });
      expect(verified.body.checked).toBeGreaterThanOrEqual(3); // talon.setup and talon.lock before the restart, talon.unlock after
    } finally {
      expect((await unlocked.stop()).code).toBe(0);
    }
  });

  it('serve on a new folder without a PIN waits for set-up over the API, then serves unlocked', async () => {
    const dataDir = folder('awaiting-set-up');
    const serving = await startServe(['--data-dir', dataDir], cleanEnvironment());
    try {
      expect(serving.output()).toContain(
        `Talon is not set up yet: open ${serving.url} to choose the token PIN`,
      );
      expect(await getJson(`${serving.url}/v1/talon/status`)).toMatchObject({
        status: 200,
        body: { set_up: false, unlocked: false },
      });
      const setUp = await fetch(`${serving.url}/v1/talon/setup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pin: cliPin, pin_confirmation: cliPin }),
      });
      expect(setUp.status).toBe(201);
      expect(await getJson(`${serving.url}/v1/talon/status`)).toMatchObject({
        body: { set_up: true, unlocked: true },
      });
      const key = readFileSync(join(dataDir, 'owner-api-key'), 'utf8').trim();
      expect(await getJson(`${serving.url}/v1/vaults`, key)).toMatchObject({ status: 200 });
    } finally {
      expect((await serving.stop()).code).toBe(0);
    }
  });
});
