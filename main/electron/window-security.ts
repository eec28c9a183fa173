import type { BrowserWindowConstructorOptions } from 'electron';

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

/**
 * The page may load only its own scripts, styles, images and fonts; it may connect nowhere
 * (the engine is reached over IPC), embed nothing and be embedded nowhere. `data:` images are
 * the TOTP enrolment QR code; `blob:` nothing. The same policy goes in a response header (set for
 * every response of the session) and in the page's meta tag (for the browser-mode build).
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

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
