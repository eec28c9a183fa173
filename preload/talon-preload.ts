import { contextBridge, ipcRenderer } from 'electron';
import {
  type DeskAnswer,
  type DeskEvent,
  deskChannelPrefix,
  deskEventChannel,
  deskMethodNames,
} from '../renderer/src/contract/talon-desk.js';

/**
 * The preload: exposes `window.talon`, one function per contract method, each an
 * `ipcRenderer.invoke` on its own channel. Nothing else of Electron or Node reaches the page: no
 * `ipcRenderer`, no event objects. Errors come back as `{ ok: false, error }` and are rebuilt in
 * the renderer (desk-client.ts), since an Error does not cross the context bridge intact.
 * Bundled into one CommonJS file (vite.preload.config.ts), as a sandboxed preload must be.
 */

const bridge: Record<string, unknown> = {};
for (const method of deskMethodNames) {
  bridge[method] = (...args: unknown[]): Promise<DeskAnswer<unknown>> =>
    ipcRenderer.invoke(`${deskChannelPrefix}${method}`, ...args) as Promise<DeskAnswer<unknown>>;
}
bridge.subscribe = (listener: (event: DeskEvent) => void): (() => void) => {
  const forward = (_event: unknown, message: DeskEvent) => listener(message);
  ipcRenderer.on(deskEventChannel, forward);
  return () => {
    ipcRenderer.removeListener(deskEventChannel, forward);
  };
};
bridge.transport = 'ipc';

contextBridge.exposeInMainWorld('talon', bridge);
