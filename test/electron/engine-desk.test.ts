import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeskIpcEvent, createDeskHandlers } from '../../main/electron/desk-ipc.js';
import { type DeskSettingsStore, EngineDesk, type PinKeeper } from '../../main/electron/engine-desk.js';
import { type TalonRuntime, openTalon } from '../../main/cli/talon-runtime.js';

/**
 * The desktop app's backend over a real engine (a new data folder with its embedded SoftHSM2
 * token), called through the IPC handler table as the window's messages are: first-run set-up,
 * the owner's work, lock, unlock, settings. No Electron: the table is plain functions.
 */
const pin = 'desk-test-pin-7391';
const fromApp: DeskIpcEvent = { senderFrame: { url: 'app://talon/index.html', parent: null } };
let dataDir: string;
let runtime: TalonRuntime;
let desk: EngineDesk;
let call: (method: string, ...args: unknown[]) => Promise<unknown>;
let savedSettings: Record<string, unknown> = {};
let keptPin: string | null = null;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'talon-desk-'));
  runtime = await openTalon({ dataDir, pin: null, awaitSetUp: true });
  const settings: DeskSettingsStore = {
    load: () => savedSettings,
    save: (next) => {
      savedSettings = { ...next };
    },
  };
  const pinKeeper: PinKeeper = {
    available: () => true,
    save: (value) => {
      keptPin = value;
    },
    load: () => keptPin,
    forget: () => {
      keptPin = null;
    },
  };
  desk = new EngineDesk({
    engine: runtime.engine,
    settings,
    pinKeeper,
    connection: { base_url: 'http://127.0.0.1:7417', stdio_command: 'node', stdio_args: ['talon-mcp.mjs'] },
  });
  const handlers = createDeskHandlers({ backend: desk, appOrigin: 'app://talon' });
  call = async (method, ...args) => {
    const answer = await handlers.get(`talon:${method}`)!(fromApp, ...args);
    if (!answer.ok) throw Object.assign(new Error(answer.error.message), answer.error);
    return answer.value;
  };
}, 60_000);

afterAll(async () => {
  await runtime?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the desktop backend over the engine', () => {
  it('starts not set up; set-up signs the owner in', async () => {
    expect(await call('status')).toMatchObject({ set_up: false, unlocked: false, signed_in: false });
    await expect(call('listVaults')).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(call('setup', { pin, pin_confirmation: 'something-else-1' })).rejects.toMatchObject({
      code: 'invalid_input',
    });
    const status = await call('setup', { pin, pin_confirmation: pin });
    expect(status).toMatchObject({ set_up: true, unlocked: true, signed_in: true });
    expect((status as { token: { serial: string } }).token.serial).not.toBe('');
    // The owner's settings show the token's mechanisms and the wrap mechanisms the probe found.
    const token = (status as { token: { mechanisms: string[]; wrap_mechanisms: string[] } }).token;
    expect(token.mechanisms).toContain('AES_KEY_GEN');
    expect(token.wrap_mechanisms.length).toBeGreaterThan(0);
  });

  it("does the owner's work through the engine", async () => {
    const vault = (await call('createVault', { name: 'desk' })) as { id: string };
    await call('putSecret', vault.id, 'api/key', { type: 'api_key', value: 'sk-desk' });
    expect(((await call('revealSecret', vault.id, 'api/key', null)) as { value: string }).value).toBe(
      'sk-desk',
    );
    const created = (await call('createAgent', { name: 'desk-agent' })) as {
      agent: { id: string };
      api_key: string;
    };
    expect(created.api_key).toMatch(/^ocv_/u);
    await call('createPolicy', vault.id, {
      secret_path_pattern: 'api/**',
      principal_type: 'agent',
      principal_id: created.agent.id,
      permissions: ['read'],
    });
    expect(
      await call('simulatePolicy', vault.id, {
        principal_type: 'agent',
        principal_id: created.agent.id,
        path: 'api/key',
        permission: 'read',
      }),
    ).toMatchObject({ allowed: true });
    expect(await call('verifyAudit')).toMatchObject({ valid: true });
    expect(await call('listApprovals', 'pending')).toEqual([]);
    expect(await call('mfaStatus')).toMatchObject({ enabled: false });
  });

  it('lock ends the session; a wrong PIN is refused; the right one signs in again', async () => {
    const locked = (await call('lock')) as { unlocked: boolean; signed_in: boolean; token: object | null };
    expect(locked).toMatchObject({ unlocked: false, signed_in: false });
    expect(locked.token ?? {}).not.toHaveProperty('mechanisms');
    await expect(call('listVaults')).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(call('unlock', { pin: 'wrong-pin-000000' })).rejects.toMatchObject({ status: 401 });
    expect(await call('unlock', { pin })).toMatchObject({ unlocked: true, signed_in: true });
    expect(((await call('listVaults')) as unknown[]).length).toBe(1);
  });

  it("stores the value an agent asked for with request_secret, in the owner's name", async () => {
    const { engine } = runtime;
    const vault = (await call('createVault', { name: 'asked' })) as { id: string };
    const asker = (await call('createAgent', { name: 'asker' })) as {
      agent: { id: string };
      api_key: string;
    };
    await call('createPolicy', vault.id, {
      secret_path_pattern: 'api-keys/**',
      principal_type: 'agent',
      principal_id: asker.agent.id,
      permissions: ['use'],
    });
    const agentCall = { now: new Date(), via: 'api' as const };
    const agent = await engine.auth.authenticate(asker.api_key, agentCall);
    let approvalId = '';
    try {
      engine.use.requestSecret(
        agent,
        vault.id,
        { path: 'api-keys/stripe', description: 'refunds' },
        agentCall,
      );
    } catch (error) {
      approvalId = (error as { details: { approval_id: string } }).details.approval_id;
    }
    const pending = (await call('listApprovals', 'pending')) as { id: string; action: string }[];
    expect(pending.find((approval) => approval.id === approvalId)).toMatchObject({
      action: 'secret.request',
    });

    const stored = await call('fulfilSecretRequest', approvalId, 'sk-asked-for');
    expect(stored).toMatchObject({ path: 'api-keys/stripe', type: 'api_key' });
    expect(JSON.stringify(stored)).not.toContain('sk-asked-for');
    expect(((await call('revealSecret', vault.id, 'api-keys/stripe', null)) as { value: string }).value).toBe(
      'sk-asked-for',
    );
    expect(((await call('listApprovals', 'pending')) as { id: string }[]).map((a) => a.id)).not.toContain(
      approvalId,
    );
    await expect(call('fulfilSecretRequest', approvalId, 'sk-again')).rejects.toMatchObject({
      code: 'conflict',
    });
  });

  it('lists and revokes paired MCP clients', async () => {
    const { engine } = runtime;
    const body = { agent_name: 'paired', client_name: 'Claude Code', claim_secret: 'c'.repeat(40) };
    const asked = engine.pairings.request(body, { now: new Date(), via: 'api' });
    await call('decideApproval', asked.approval_id, { decision: 'approve' });
    expect(engine.pairings.claim(asked.approval_id, body, { now: new Date(), via: 'api' })).toMatchObject({
      status: 'paired',
    });
    const [pairing] = (await call('listPairings')) as { id: string; client_name: string; revoked_at: null }[];
    expect(pairing).toMatchObject({ client_name: 'Claude Code', agent_name: 'paired', revoked_at: null });
    expect(await call('revokePairing', pairing!.id)).toBeNull();
    const [revoked] = (await call('listPairings')) as { revoked_at: string | null }[];
    expect(revoked!.revoked_at).not.toBeNull();
    await expect(call('revokePairing', pairing!.id)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('keeps settings, and the PIN in the keychain only when asked to', async () => {
    expect(await call('getSettings')).toEqual({
      auto_lock_seconds: 900,
      remember_pin: false,
      remember_pin_available: true,
    });
    await call('updateSettings', { auto_lock_seconds: 300, remember_pin: true });
    expect(savedSettings).toEqual({ auto_lock_seconds: 300, remember_pin: true });
    expect(runtime.engine.lifecycle.status().auto_lock_minutes).toBe(5);
    expect(keptPin).toBeNull(); // kept at the next unlock, not before
    await call('lock');
    await call('unlock', { pin });
    expect(keptPin).toBe(pin);
    await call('lock');
    expect(await desk.unlockWithRememberedPin()).toBe(true);
    expect(desk.signedIn).toBe(true);
    await call('updateSettings', { remember_pin: false });
    expect(keptPin).toBeNull();
  });
});
