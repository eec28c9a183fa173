import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  BrowserWindow,
  Menu,
  Notification,
  Tray,
  app,
  ipcMain,
  nativeImage,
  net,
  powerMonitor,
  protocol,
  safeStorage,
  session,
  shell,
} from 'electron';
import { pino } from 'pino';
import { deskEventChannel, type DeskEvent } from '../../renderer/src/contract/talon-desk.js';
import { resolveTalonConfig } from '../cli/talon-config.js';
import { openTalon, serveTalon, type ServingTalon } from '../cli/talon-runtime.js';
import { registerDeskIpc } from './desk-ipc.js';
import { type DeskSettingsStore, EngineDesk, type PinKeeper } from './engine-desk.js';
import {
  approvalNotification,
  idleLockDue,
  lockingPowerEvents,
  rendererFileFor,
  trayEntries,
  trayTooltip,
} from './shell-state.js';
import {
  appEntryUrl,
  appOrigin,
  appScheme,
  mainWindowOptions,
  mayNavigate,
  permissionDecision,
  securityHeaders,
  windowOpenDecision,
} from './window-security.js';

/**
 * The desktop app's main process: the composition root that hosts the engine (and the local API,
 * for agents), the one hardened window, the tray, notifications and auto-lock. The window reaches
 * the engine only through the IPC table (desk-ipc.ts); it is served from the privileged `app://`
 * protocol, never over HTTP. Built by `npm run build` into dist/main/electron/electron-main.js.
 */

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Packaged: resources next to the compiled main; from a clone: the repository's build outputs. */
const rendererDist = existsSync(join(repositoryRoot, 'renderer', 'dist'))
  ? join(repositoryRoot, 'renderer', 'dist')
  : join(repositoryRoot, '..', 'renderer', 'dist');
const preloadPath = join(repositoryRoot, 'dist', 'electron', 'talon-preload.cjs');
const iconPath = join(repositoryRoot, 'build', 'icon.png');

protocol.registerSchemesAsPrivileged([
  { scheme: appScheme, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

function jsonFileSettings(file: string): DeskSettingsStore {
  return {
    load() {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as ReturnType<DeskSettingsStore['load']>;
      } catch {
        return {};
      }
    },
    save(settings) {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, JSON.stringify(settings, null, 2), { mode: 0o600 });
    },
  };
}

/** The PIN sealed by the OS keychain (safeStorage); the file holds only ciphertext. */
function keychainPin(file: string): PinKeeper {
  return {
    available: () => safeStorage.isEncryptionAvailable(),
    save(pin) {
      if (!safeStorage.isEncryptionAvailable()) return;
      writeFileSync(file, safeStorage.encryptString(pin), { mode: 0o600 });
    },
    load() {
      try {
        return safeStorage.decryptString(readFileSync(file));
      } catch {
        return null;
      }
    },
    forget() {
      rmSync(file, { force: true });
    },
  };
}

function hardenSessions(): void {
  const defaults = session.defaultSession;
  defaults.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(permissionDecision(permission)),
  );
  defaults.setPermissionCheckHandler((_contents, permission) => permissionDecision(permission));
  defaults.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, ...securityHeaders() } });
  });
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!mayNavigate(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!mayNavigate(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      const decision = windowOpenDecision(url);
      if (decision.openExternally) void shell.openExternal(url);
      return { action: decision.action };
    });
  });
  protocol.handle(appScheme, async (request) => {
    const file = rendererFileFor(request.url, rendererDist, appOrigin);
    if (!file || !existsSync(file)) return new Response('Not found', { status: 404 });
    return net.fetch(pathToFileURL(file).toString());
  });
}

async function start(): Promise<void> {
  await app.whenReady();
  hardenSessions();

  const config = resolveTalonConfig({});
  const logger = pino({ level: process.env.TALON_LOG_LEVEL || 'info' }, pino.destination(2));
  const runtime = await openTalon({ ...config, pin: null, awaitSetUp: true });
  let serving: ServingTalon | null = null;
  try {
    serving = await serveTalon(runtime, { port: config.port, logger });
  } catch (error) {
    // Agents then cannot reach this Talon, but the human can still use it.
    logger.error({ err: (error as Error).message }, 'the local API could not start');
  }
  const userData = app.getPath('userData');
  const desk = new EngineDesk({
    engine: runtime.engine,
    settings: jsonFileSettings(join(userData, 'desk-settings.json')),
    pinKeeper: keychainPin(join(userData, 'remembered-pin.bin')),
    connection: serving
      ? {
          base_url: serving.url,
          stdio_command: 'node',
          stdio_args: [join(repositoryRoot, 'bin', 'talon-mcp.mjs')],
        }
      : null,
  });
  runtime.engine.lifecycle.setAutoLockMinutes(Math.ceil(desk.settings().auto_lock_seconds / 60));
  registerDeskIpc(ipcMain, {
    backend: desk,
    appOrigin,
    onUnexpectedError: (method, error) =>
      logger.error({ method, err: (error as Error).message }, 'desktop call failed'),
  });

  let window: BrowserWindow | null = null;
  const send = (event: DeskEvent) => window?.webContents.send(deskEventChannel, event);
  const showWindow = (route?: string) => {
    if (!window) window = createWindow();
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
    if (route) send({ type: 'navigate', to: route });
  };
  const createWindow = () => {
    const created = new BrowserWindow({
      ...mainWindowOptions(preloadPath),
      ...(existsSync(iconPath) ? { icon: iconPath } : {}),
    });
    created.once('ready-to-show', () => created.show());
    created.on('closed', () => {
      window = null;
    });
    void created.loadURL(appEntryUrl);
    return created;
  };

  // Tray: lock state and pending approvals at a glance.
  const tray = new Tray(
    existsSync(iconPath) ? nativeImage.createFromPath(iconPath) : nativeImage.createEmpty(),
  );
  let pending = 0;
  const lockNow = async (reason: 'request' | 'idle') => {
    desk.signOut();
    await runtime.engine.lifecycle
      .lock(null, { now: new Date(), via: 'desktop' }, reason)
      .catch(() => undefined);
  };
  const refreshTray = () => {
    const status = runtime.engine.lifecycle.status();
    if (status.unlocked && desk.signedIn) {
      void desk
        .listApprovals('pending')
        .then((list) => {
          pending = list.length;
        })
        .catch(() => undefined);
    } else if (!status.unlocked) {
      pending = 0;
    }
    const state = { setUp: status.set_up, unlocked: status.unlocked, pendingApprovals: pending };
    tray.setToolTip(trayTooltip(state));
    tray.setContextMenu(
      Menu.buildFromTemplate(
        trayEntries(state).map((entry) =>
          entry.id === 'separator'
            ? { type: 'separator' as const }
            : {
                label: entry.label,
                enabled: entry.enabled,
                click: () => {
                  if (entry.id === 'open' || entry.id === 'unlock') showWindow();
                  else if (entry.id === 'approvals') showWindow('/approvals');
                  else if (entry.id === 'lock') void lockNow('request').then(refreshTray);
                  else if (entry.id === 'quit') app.quit();
                },
              },
        ),
      ),
    );
  };

  // A notification for every new approval; clicking it opens the inbox on that approval.
  runtime.engine.events.subscribe((event) => {
    if (event.type === 'approval.created') {
      send({ type: 'approval.created', approval: event.approval });
      if (Notification.isSupported()) {
        const text = approvalNotification(event.approval);
        const notification = new Notification({ title: text.title, body: text.body, silent: false });
        notification.on('click', () => showWindow(text.route));
        notification.show();
      }
    } else if (event.type === 'approval.decided' || event.type === 'approval.expired') {
      send({ type: 'approval.decided', approval: event.approval });
    } else if (event.type === 'talon.locked') {
      desk.signOut();
      send({ type: 'talon.locked' });
    } else if (event.type === 'talon.unlocked') {
      send({ type: 'talon.unlocked' });
    }
    refreshTray();
  });

  // Auto-lock: sleep and screen lock at once; system idle time past the chosen limit.
  for (const name of lockingPowerEvents) {
    powerMonitor.on(name as 'suspend', () => void lockNow('idle'));
  }
  const idleWatch = setInterval(() => {
    const limit = desk.settings().auto_lock_seconds;
    if (idleLockDue(powerMonitor.getSystemIdleTime(), limit, runtime.engine.isUnlocked)) void lockNow('idle');
  }, 15_000);

  await desk.unlockWithRememberedPin();
  refreshTray();
  showWindow();

  app.on('second-instance', () => showWindow());
  app.on('activate', () => showWindow());
  app.on('window-all-closed', () => {
    // Talon keeps serving its agents from the tray; Quit in the tray stops it.
  });
  let stopping = false;
  app.on('before-quit', (event) => {
    if (stopping) return;
    stopping = true;
    event.preventDefault();
    clearInterval(idleWatch);
    tray.destroy();
    const stop = serving ? serving.stop() : runtime.close();
    void stop.finally(() => app.exit(0));
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  start().catch((error: unknown) => {
    console.error(`Talon could not start: ${(error as Error).message}`);
    app.exit(1);
  });
}
