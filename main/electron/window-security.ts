import type { BrowserWindowConstructorOptions } from 'electron';
import { contentSecurityPolicy } from '../api/content-security-policy.js';

/**
 * What makes the one window hard to turn against its user, as data: the window's options, its
 * Content-Security-Policy and the rules for navigation, new windows and permissions. The shell
 * (electron-main.ts) applies them; tests check them without Electron.
 */

/** The app's pages are served from this origin by a privileged custom protocol, never over HTTP. */
export const appScheme = 'app';
export const appHost = 'talon';
export const appOrigin = `${appScheme}://${appHost}`;
export const appEntryUrl = `${appOrigin}/index.html`;

export { contentSecurityPolicy };

export function mainWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1200,
    height: 800,
    minWidth: 880,
    minHeight: 560,
    title: 'Talon',
    show: false,
    backgroundColor: '#111418',
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools: process.env.TALON_DEVTOOLS === '1',
    },
  };
}

/** Navigation inside the window is allowed only to the app's own entry page (a reload). */
export function mayNavigate(url: string): boolean {
  try {
    const target = new URL(url);
    return `${target.protocol}//${target.host}` === appOrigin;
  } catch {
    return false;
  }
}

/** `window.open` and target=_blank: always denied; https links go to the system browser. */
export function windowOpenDecision(url: string): { action: 'deny'; openExternally: boolean } {
  let external = false;
  try {
    external = new URL(url).protocol === 'https:';
  } catch {
    external = false;
  }
  return { action: 'deny', openExternally: external };
}

/** Camera, microphone, notifications from the page, clipboard reads...: the page needs none. */
export function permissionDecision(_permission: string): boolean {
  return false;
}

/** Headers added to every response the window's session receives. */
export function securityHeaders(): Record<string, string[]> {
  return {
    'Content-Security-Policy': [contentSecurityPolicy],
    'X-Content-Type-Options': ['nosniff'],
    'Referrer-Policy': ['no-referrer'],
    'Cross-Origin-Opener-Policy': ['same-origin'],
  };
}
