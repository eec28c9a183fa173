import { isAbsolute, join, normalize, relative, sep } from 'node:path';

/**
 * The desktop shell's decisions that need no Electron, kept here so they are tested without it:
 * which file of the built renderer a request of the app's protocol serves, what the tray menu
 * shows, what a notification for a new approval says, and when idle time locks Talon.
 */

/** The file under `distDir` that `requestUrl` (app://talon/...) names, or null to refuse it. */
export function rendererFileFor(requestUrl: string, distDir: string, appOrigin: string): string | null {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return null;
  }
  if (`${url.protocol}//${url.host}` !== appOrigin) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0')) return null;
  const wanted = pathname === '/' || pathname === '' ? 'index.html' : pathname.replace(/^\/+/u, '');
  const file = normalize(join(distDir, wanted));
  const inside = relative(distDir, file);
  if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) return null;
  return file;
}

export interface TrayState {
  setUp: boolean;
  unlocked: boolean;
  pendingApprovals: number;
}

export interface TrayEntry {
  id: 'open' | 'lock' | 'unlock' | 'approvals' | 'quit' | 'separator';
  label: string;
  enabled: boolean;
}

export function trayEntries(state: TrayState): TrayEntry[] {
  const pending = state.pendingApprovals;
  return [
    { id: 'open', label: 'Open Talon', enabled: true },
    state.unlocked
      ? { id: 'lock', label: 'Lock Talon', enabled: true }
      : { id: 'unlock', label: state.setUp ? 'Unlock Talon…' : 'Set up Talon…', enabled: true },
    {
      id: 'approvals',
      label:
        pending === 0 ? 'No pending approvals' : `${pending} pending approval${pending === 1 ? '' : 's'}…`,
      enabled: state.unlocked && pending > 0,
    },
    { id: 'separator', label: '', enabled: false },
    { id: 'quit', label: 'Quit Talon (locks it)', enabled: true },
  ];
}

export function trayTooltip(state: TrayState): string {
  if (!state.setUp) return 'Talon: not set up';
  if (!state.unlocked) return 'Talon: locked';
  return state.pendingApprovals > 0
    ? `Talon: unlocked, ${state.pendingApprovals} pending approval${state.pendingApprovals === 1 ? '' : 's'}`
    : 'Talon: unlocked';
}

/** A native notification's text for a new approval: its summary and who asks; never a value. */
export function approvalNotification(approval: {
  id: string;
  summary: string;
  action: string;
  requester: { type: string; name: string | null; id: string };
}): { title: string; body: string; route: string } {
  const who = approval.requester.name ?? `${approval.requester.type} ${approval.requester.id.slice(0, 8)}`;
  const summary = approval.summary.length > 180 ? `${approval.summary.slice(0, 177)}…` : approval.summary;
  return {
    title: `Approval needed: ${approval.action}`,
    body: `${who} asks: ${summary}`,
    route: `/approvals/${approval.id}`,
  };
}

/** Lock when the system has been idle at least the chosen time (0 = never) while Talon is unlocked. */
export function idleLockDue(idleSeconds: number, autoLockSeconds: number, unlocked: boolean): boolean {
  return unlocked && autoLockSeconds > 0 && idleSeconds >= autoLockSeconds;
}

/** Power events that lock Talon at once. */
export const lockingPowerEvents = ['suspend', 'lock-screen'] as const;
