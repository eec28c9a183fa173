import { describe, expect, it } from 'vitest';
import {
  type DeskBackend,
  type DeskIpcEvent,
  createDeskHandlers,
  deskArgumentSchemas,
  deskChannel,
  isAppUrl,
  registerDeskIpc,
} from '../../main/electron/desk-ipc.js';
import { TalonError } from '../../main/engine/index.js';
import { deskMethodNames } from '../../renderer/src/contract/talon-desk.js';

const appOrigin = 'app://talon';
const fromApp: DeskIpcEvent = { senderFrame: { url: 'app://talon/index.html', parent: null } };
const vaultId = '0192f6c1-7a4e-7b3c-9d2e-1f0a2b3c4d5e';

/** A backend that records what reached it; every method answers its own name. */
function recordingBackend() {
  const calls: { method: string; args: unknown[] }[] = [];
  const backend = new Proxy({} as DeskBackend, {
    get:
      (_target, method: string) =>
      (...args: unknown[]) => {
        calls.push({ method, args });
        if (method === 'createVault')
          throw new TalonError('conflict', 'A vault named "work" already exists.');
        if (method === 'deleteVault') throw new Error('disk on fire: /secret/path');
        return { answeredBy: method };
      },
  });
  return { backend, calls };
}

describe('the desktop IPC handler table', () => {
  it('has one schema and one handler per contract method, on its own channel', () => {
    expect(Object.keys(deskArgumentSchemas).sort()).toEqual([...deskMethodNames].sort());
    const handlers = createDeskHandlers({ backend: recordingBackend().backend, appOrigin });
    expect([...handlers.keys()].sort()).toEqual(deskMethodNames.map(deskChannel).sort());
    expect(deskChannel('listVaults')).toBe('talon:listVaults');
  });

  it('dispatches a valid call from the app page to the backend and answers { ok, value }', async () => {
    const { backend, calls } = recordingBackend();
    const handlers = createDeskHandlers({ backend, appOrigin });
    const answer = await handlers.get('talon:listSecrets')!(fromApp, vaultId, { prefix: 'api/' });
    expect(answer).toEqual({ ok: true, value: { answeredBy: 'listSecrets' } });
    expect(calls).toEqual([{ method: 'listSecrets', args: [vaultId, { prefix: 'api/' }] }]);
  });

  it('refuses a sender that is not the app page, before the backend sees anything', async () => {
    const { backend, calls } = recordingBackend();
    const handlers = createDeskHandlers({ backend, appOrigin });
    const strangers: DeskIpcEvent[] = [
      { senderFrame: null },
      { senderFrame: { url: 'https://evil.example/index.html', parent: null } },
      { senderFrame: { url: 'file:///tmp/index.html', parent: null } },
      { senderFrame: { url: 'app://talon.evil/index.html', parent: null } },
      { senderFrame: { url: 'app://talon/index.html', parent: { url: 'app://talon/' } } },
    ];
    for (const event of strangers) {
      const answer = await handlers.get('talon:listVaults')!(event);
      expect(answer).toMatchObject({ ok: false, error: { code: 'forbidden', status: 403 } });
    }
    expect(calls).toEqual([]);
  });

  it('validates every argument list with the shared schemas and says what is wrong', async () => {
    const { backend, calls } = recordingBackend();
    const handlers = createDeskHandlers({ backend, appOrigin });
    const cases: [string, unknown[], RegExp][] = [
      ['talon:listSecrets', ['not-a-uuid', {}], /0: must be a UUID/u],
      ['talon:revealSecret', [vaultId, 'api/key'], /takes 3 arguments, not 2/u],
      ['talon:putSecret', [vaultId, 'api/key', { value: '' }], /value/u],
      ['talon:putSecret', [vaultId, 'api/key', { value: 'x', type: 'spaceship' }], /type: must be one of/u],
      [
        'talon:createPolicy',
        [
          vaultId,
          {
            secret_path_pattern: 'a/**b',
            principal_type: 'agent',
            principal_id: vaultId,
            permissions: ['read'],
          },
        ],
        /\*\*/u,
      ],
      [
        'talon:createPolicy',
        [
          vaultId,
          { secret_path_pattern: '**', principal_type: 'agent', principal_id: vaultId, permissions: [] },
        ],
        /permissions/u,
      ],
      ['talon:createAgent', [{ name: '' }], /name/u],
      ['talon:unlock', [{ pin: 'abc' }], /pin/u],
      ['talon:updateSettings', [{ auto_lock_seconds: 60, evil: true }], /evil|unrecognized|Unrecognized/u],
      ['talon:listVaults', ['extra'], /takes 0 arguments, not 1/u],
      ['talon:fulfilSecretRequest', ['not-a-uuid', 'sk-x'], /0: must be a UUID/u],
      ['talon:fulfilSecretRequest', [vaultId, ''], /1: /u],
      ['talon:fulfilSecretRequest', [vaultId], /takes 2 arguments, not 1/u],
      ['talon:revokePairing', ['not-a-uuid'], /0: must be a UUID/u],
      ['talon:listPairings', [vaultId], /takes 0 arguments, not 1/u],
    ];
    for (const [channel, args, message] of cases) {
      const answer = await handlers.get(channel)!(fromApp, ...args);
      expect(answer.ok, channel).toBe(false);
      if (!answer.ok) {
        expect(answer.error.code).toBe('invalid_input');
        expect(answer.error.message).toMatch(message);
      }
    }
    expect(calls).toEqual([]);
  });

  it('never echoes a secret value it refused', async () => {
    const handlers = createDeskHandlers({ backend: recordingBackend().backend, appOrigin });
    const answer = await handlers.get('talon:putSecret')!(fromApp, vaultId, 'api/key', {
      value: 'sk-live-very-secret',
      max_access_count: -1,
    });
    expect(JSON.stringify(answer)).not.toContain('sk-live-very-secret');
    const refused = await handlers.get('talon:fulfilSecretRequest')!(
      fromApp,
      'not-a-uuid',
      'sk-live-very-secret',
    );
    expect(refused.ok).toBe(false);
    expect(JSON.stringify(refused)).not.toContain('sk-live-very-secret');
  });

  it('passes engine errors through with their code and hides unexpected ones', async () => {
    const failures: string[] = [];
    const handlers = createDeskHandlers({
      backend: recordingBackend().backend,
      appOrigin,
      onUnexpectedError: (method) => failures.push(method),
    });
    expect(await handlers.get('talon:createVault')!(fromApp, { name: 'work' })).toEqual({
      ok: false,
      error: { code: 'conflict', status: 409, message: 'A vault named "work" already exists.', details: {} },
    });
    const hidden = await handlers.get('talon:deleteVault')!(fromApp, vaultId);
    expect(hidden).toMatchObject({ ok: false, error: { code: 'internal', status: 500 } });
    expect(JSON.stringify(hidden)).not.toContain('/secret/path');
    expect(failures).toEqual(['deleteVault']);
  });

  it('registers every channel on ipcMain and removes them again', () => {
    const registered = new Map<string, unknown>();
    const ipcMain = {
      handle: (channel: string, listener: unknown) => registered.set(channel, listener),
      removeHandler: (channel: string) => registered.delete(channel),
    };
    const remove = registerDeskIpc(ipcMain, { backend: recordingBackend().backend, appOrigin });
    expect(registered.size).toBe(deskMethodNames.length);
    remove();
    expect(registered.size).toBe(0);
  });

  it('knows the app origin from look-alikes', () => {
    expect(isAppUrl('app://talon/index.html', appOrigin)).toBe(true);
    expect(isAppUrl('app://talon/assets/x.js?y#z', appOrigin)).toBe(true);
    expect(isAppUrl('app://talon:80/index.html', appOrigin)).toBe(false);
    expect(isAppUrl('http://talon/index.html', appOrigin)).toBe(false);
    expect(isAppUrl('not a url', appOrigin)).toBe(false);
  });
});
