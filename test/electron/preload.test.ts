import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ipcDesk } from '../../renderer/src/contract/desk-client.js';
import { DeskError, deskEventChannel, deskMethodNames } from '../../renderer/src/contract/talon-desk.js';

/**
 * The preload's side of the contract, without Electron: `electron` is replaced by a recorder of
 * what the preload asks of contextBridge and ipcRenderer. It must expose exactly one function per
 * contract method under `window.talon`, each invoking its own channel with the arguments as given,
 * and an event subscription that can be undone; the renderer's IPC transport turns the answers
 * into values and DeskErrors.
 */
const exposed = new Map<string, Record<string, unknown>>();
const invoked: { channel: string; args: unknown[] }[] = [];
const listeners = new Map<string, ((event: unknown, message: unknown) => void)[]>();

vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, api: Record<string, unknown>) => exposed.set(key, api),
  },
  ipcRenderer: {
    invoke: async (channel: string, ...args: unknown[]) => {
      invoked.push({ channel, args });
      if (channel === 'talon:createVault') {
        return { ok: false, error: { code: 'conflict', status: 409, message: 'A vault named "x" exists.' } };
      }
      return { ok: true, value: { channel } };
    },
    on: (channel: string, listener: (event: unknown, message: unknown) => void) =>
      listeners.set(channel, [...(listeners.get(channel) ?? []), listener]),
    removeListener: (channel: string, listener: (event: unknown, message: unknown) => void) =>
      listeners.set(
        channel,
        (listeners.get(channel) ?? []).filter((entry) => entry !== listener),
      ),
  },
}));

beforeAll(async () => {
  await import('../../preload/talon-preload.js');
});

describe('the preload bridge', () => {
  it('exposes window.talon with one function per contract method and nothing of Electron', () => {
    expect([...exposed.keys()]).toEqual(['talon']);
    const talon = exposed.get('talon')!;
    expect(Object.keys(talon).sort()).toEqual([...deskMethodNames, 'subscribe', 'transport'].sort());
    for (const method of deskMethodNames) expect(typeof talon[method]).toBe('function');
    expect(talon).not.toHaveProperty('ipcRenderer');
    expect(talon).not.toHaveProperty('invoke');
  });

  it('invokes each method on its own channel, and the IPC transport unwraps the answers', async () => {
    const desk = ipcDesk(exposed.get('talon') as never);
    expect(await desk.listSecrets('vault-id', { prefix: 'api/' })).toEqual({ channel: 'talon:listSecrets' });
    expect(invoked.at(-1)).toEqual({ channel: 'talon:listSecrets', args: ['vault-id', { prefix: 'api/' }] });
    const failure = await desk.createVault({ name: 'x' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DeskError);
    expect(failure).toMatchObject({ code: 'conflict', status: 409, message: 'A vault named "x" exists.' });
  });

  it('forwards events to subscribers until they unsubscribe, without the IPC event object', () => {
    const desk = ipcDesk(exposed.get('talon') as never);
    const heard: unknown[] = [];
    const unsubscribe = desk.subscribe((event) => heard.push(event));
    const emit = (message: unknown) =>
      (listeners.get(deskEventChannel) ?? []).forEach((listener) => listener({ sender: 'ipc' }, message));
    emit({ type: 'talon.locked' });
    unsubscribe();
    emit({ type: 'talon.unlocked' });
    expect(heard).toEqual([{ type: 'talon.locked' }]);
  });
});
