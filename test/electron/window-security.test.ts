import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  approvalNotification,
  idleLockDue,
  rendererFileFor,
  trayEntries,
  trayTooltip,
} from '../../main/electron/shell-state.js';
import {
  appEntryUrl,
  appOrigin,
  contentSecurityPolicy,
  mainWindowOptions,
  mayNavigate,
  permissionDecision,
  securityHeaders,
  windowOpenDecision,
} from '../../main/electron/window-security.js';

describe('the hardened window', () => {
  it('isolates the page from Node and Electron', () => {
    const options = mainWindowOptions('/app/preload.cjs');
    expect(options.webPreferences).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('has a CSP that allows only its own code and no framing, sent as a header too', () => {
    const directives = new Map(
      contentSecurityPolicy.split('; ').map((directive) => {
        const [name, ...values] = directive.split(' ');
        return [name!, values] as const;
      }),
    );
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(contentSecurityPolicy).not.toMatch(/unsafe-(inline|eval)/u);
    expect(securityHeaders()['Content-Security-Policy']).toEqual([contentSecurityPolicy]);
  });

  it("puts the same policy in the page's meta tag, less frame-ancestors (which a meta tag cannot set)", () => {
    const page = readFileSync(join(import.meta.dirname, '..', '..', 'renderer', 'index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/u.exec(page)?.[1];
    const withoutFrameAncestors = contentSecurityPolicy
      .split('; ')
      .filter((directive) => !directive.startsWith('frame-ancestors'))
      .join('; ');
    expect(meta).toBe(withoutFrameAncestors);
  });

  it('navigates only within the app and opens no window', () => {
    expect(mayNavigate(appEntryUrl)).toBe(true);
    expect(mayNavigate(`${appOrigin}/index.html#/agents`)).toBe(true);
    for (const url of [
      'https://evil.example/',
      'file:///etc/passwd',
      'app://other/index.html',
      'javascript:alert(1)',
    ]) {
      expect(mayNavigate(url), url).toBe(false);
    }
    expect(windowOpenDecision('https://docs.example/')).toEqual({ action: 'deny', openExternally: true });
    expect(windowOpenDecision('file:///etc/passwd')).toEqual({ action: 'deny', openExternally: false });
    expect(windowOpenDecision('javascript:alert(1)')).toEqual({ action: 'deny', openExternally: false });
  });

  it('denies every permission request', () => {
    for (const permission of [
      'media',
      'geolocation',
      'notifications',
      'clipboard-read',
      'openExternal',
      'hid',
    ]) {
      expect(permissionDecision(permission)).toBe(false);
    }
  });
});

describe('the shell state', () => {
  const dist = '/opt/talon/renderer/dist';

  it('serves files of the built renderer and nothing outside it', () => {
    expect(rendererFileFor('app://talon/', dist, appOrigin)).toBe(join(dist, 'index.html'));
    expect(rendererFileFor('app://talon/index.html', dist, appOrigin)).toBe(join(dist, 'index.html'));
    expect(rendererFileFor('app://talon/assets/index-1.js', dist, appOrigin)).toBe(
      join(dist, 'assets/index-1.js'),
    );
    for (const url of [
      'app://talon/../../etc/passwd',
      'app://talon/%2e%2e/%2e%2e/etc/passwd',
      'app://talon/assets/..%2F..%2F..%2Fetc%2Fpasswd',
      'app://talon/%00',
      'app://other/index.html',
      'file:///etc/passwd',
    ]) {
      const file = rendererFileFor(url, dist, appOrigin);
      expect(file === null || file.startsWith(`${dist}/`), url).toBe(true);
    }
  });

  it('shows lock state and pending approvals in the tray', () => {
    expect(
      trayEntries({ setUp: true, unlocked: true, pendingApprovals: 2 }).map((entry) => entry.label),
    ).toEqual(['Open Talon', 'Lock Talon', '2 pending approvals…', '', 'Quit Talon (locks it)']);
    const locked = trayEntries({ setUp: true, unlocked: false, pendingApprovals: 0 });
    expect(locked[1]).toMatchObject({ id: 'unlock', label: 'Unlock Talon…' });
    expect(locked[2]).toMatchObject({ enabled: false });
    expect(trayEntries({ setUp: false, unlocked: false, pendingApprovals: 0 })[1]!.label).toBe(
      'Set up Talon…',
    );
    expect(trayTooltip({ setUp: true, unlocked: true, pendingApprovals: 1 })).toBe(
      'Talon: unlocked, 1 pending approval',
    );
    expect(trayTooltip({ setUp: true, unlocked: false, pendingApprovals: 0 })).toBe('Talon: locked');
  });

  it('notifies a new approval with its summary and where it opens', () => {
    const text = approvalNotification({
      id: 'a1',
      summary: 'Share api-keys/openai with agent builder for 7 days',
      action: 'secret.share',
      requester: { type: 'agent', name: 'builder', id: '0192f6c1-7a4e' },
    });
    expect(text).toEqual({
      title: 'Approval needed: secret.share',
      body: 'builder asks: Share api-keys/openai with agent builder for 7 days',
      route: '/approvals/a1',
    });
    const long = approvalNotification({
      id: 'b',
      summary: 'x'.repeat(500),
      action: 'transaction',
      requester: { type: 'agent', name: null, id: 'abcdef0123' },
    });
    expect(long.body.length).toBeLessThan(220);
    expect(long.body.startsWith('agent abcdef01 asks')).toBe(true);
  });

  it('locks after the idle limit only when unlocked and a limit is set', () => {
    expect(idleLockDue(900, 900, true)).toBe(true);
    expect(idleLockDue(899, 900, true)).toBe(false);
    expect(idleLockDue(5000, 0, true)).toBe(false);
    expect(idleLockDue(5000, 900, false)).toBe(false);
  });
});
