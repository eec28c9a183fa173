import { useCallback, useEffect, useState } from 'react';
import type { DeskApproval } from './contract/talon-desk.js';
import { useDesk } from './desk-context.js';
import { ActivityScreen } from './screens/activity-screen.js';
import { AgentsScreen } from './screens/agents-screen.js';
import { ApprovalsScreen } from './screens/approvals-screen.js';
import { PoliciesScreen } from './screens/policies-screen.js';
import { SettingsScreen } from './screens/settings-screen.js';
import { SetupScreen } from './screens/setup-screen.js';
import { SharesScreen } from './screens/shares-screen.js';
import { UnlockScreen } from './screens/unlock-screen.js';
import { VaultsScreen } from './screens/vaults-screen.js';
import { Loading } from './ui/controls.js';

/**
 * The app: set-up on first run, the unlock screen while locked or signed out, else the shell with
 * its navigation. Screens are addressed by the URL's hash (`#/agents`), which never holds data.
 */
const screens = [
  { id: 'vaults', label: 'Vaults & secrets' },
  { id: 'agents', label: 'Agents' },
  { id: 'policies', label: 'Policies' },
  { id: 'approvals', label: 'Approvals' },
  { id: 'shares', label: 'Shares' },
  { id: 'activity', label: 'Activity' },
  { id: 'settings', label: 'Settings' },
] as const;
type ScreenId = (typeof screens)[number]['id'];

function screenFromHash(): ScreenId {
  const id = window.location.hash.replace(/^#\/?/u, '').split('/')[0];
  return (screens.find((screen) => screen.id === id)?.id ?? 'vaults') as ScreenId;
}

function Toasts() {
  const { toasts, dismiss } = useDesk();
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((toast) => (
        <div
          key={toast.id}
          className={`toast toast-${toast.kind}`}
          role={toast.kind === 'error' ? 'alert' : 'status'}
        >
          <span>{toast.text}</span>
          <button
            type="button"
            className="icon-button"
            aria-label="Dismiss"
            onClick={() => dismiss(toast.id)}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

/** Locks after `seconds` without keyboard, pointer or focus activity (0 = never). */
function useIdleLock(seconds: number, lock: () => void) {
  useEffect(() => {
    if (seconds <= 0) return;
    let timer = setTimeout(lock, seconds * 1000);
    const reset = () => {
      clearTimeout(timer);
      timer = setTimeout(lock, seconds * 1000);
    };
    const events = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'focus'] as const;
    for (const name of events) window.addEventListener(name, reset, { passive: true });
    return () => {
      clearTimeout(timer);
      for (const name of events) window.removeEventListener(name, reset);
    };
  }, [seconds, lock]);
}

function Shell() {
  const { desk, status, setStatus, run, notify } = useDesk();
  const [screen, setScreen] = useState<ScreenId>(screenFromHash());
  const [pending, setPending] = useState(0);
  const [autoLock, setAutoLock] = useState(0);

  useEffect(() => {
    const onHash = () => setScreen(screenFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const lock = useCallback(() => {
    void run(async () => setStatus(await desk.lock()));
  }, [desk, run, setStatus]);

  useEffect(() => {
    void desk.getSettings().then(
      (settings) => setAutoLock(settings.auto_lock_seconds),
      () => undefined,
    );
  }, [desk, screen]);
  useIdleLock(autoLock, lock);

  const approvalsOn = status?.features.approvals === true;
  const countPending = useCallback(async () => {
    if (!approvalsOn) return;
    try {
      setPending((await desk.listApprovals('pending')).length);
    } catch {
      // The count is a hint; the approvals screen reports errors.
    }
  }, [desk, approvalsOn]);

  useEffect(() => {
    void countPending();
    return desk.subscribe((event) => {
      if (event.type === 'navigate') {
        window.location.hash = event.to;
      } else if (event.type === 'talon.locked') {
        void desk.status().then(setStatus, () => undefined);
      } else if (event.type === 'approval.created') {
        notify('info', `New approval request: ${describeApproval(event.approval)}`);
        void countPending();
      } else if (event.type === 'approval.decided') {
        void countPending();
      }
    });
  }, [desk, countPending, notify, setStatus]);

  const go = (id: ScreenId) => {
    window.location.hash = `/${id}`;
    setScreen(id);
  };

  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Talon">
        <div className="brand">
          <img src="./favicon.svg" alt="" width={28} height={28} />
          <span>Talon</span>
        </div>
        <ul>
          {screens.map((item) => (
            <li key={item.id}>
              <a
                href={`#/${item.id}`}
                className={screen === item.id ? 'nav-link active' : 'nav-link'}
                aria-current={screen === item.id ? 'page' : undefined}
                onClick={(event) => {
                  event.preventDefault();
                  go(item.id);
                }}
              >
                {item.label}
                {item.id === 'approvals' && pending > 0 ? (
                  <span className="nav-count" aria-label={`${pending} pending`}>
                    {pending}
                  </span>
                ) : null}
              </a>
            </li>
          ))}
        </ul>
        <div className="sidebar-footer">
          <p className="token-line" title="The token that holds Talon's keys">
            {status?.token
              ? [status.token.model || status.token.label, status.token.serial].filter(Boolean).join(' · ')
              : 'Token'}
          </p>
          <button type="button" className="button button-secondary lock-button" onClick={lock}>
            Lock Talon
          </button>
        </div>
      </nav>
      <main className="content" id="main">
        {screen === 'vaults' ? <VaultsScreen /> : null}
        {screen === 'agents' ? <AgentsScreen /> : null}
        {screen === 'policies' ? <PoliciesScreen /> : null}
        {screen === 'approvals' ? <ApprovalsScreen onChange={countPending} /> : null}
        {screen === 'shares' ? <SharesScreen /> : null}
        {screen === 'activity' ? <ActivityScreen /> : null}
        {screen === 'settings' ? (
          <SettingsScreen onSettings={(s) => setAutoLock(s.auto_lock_seconds)} />
        ) : null}
      </main>
    </div>
  );
}

export function describeApproval(approval: DeskApproval): string {
  return approval.summary || approval.action;
}

export function App() {
  const { status } = useDesk();
  let body;
  if (!status) body = <Loading />;
  else if (!status.set_up) body = <SetupScreen />;
  else if (!status.unlocked || !status.signed_in) body = <UnlockScreen />;
  else body = <Shell />;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      {body}
      <Toasts />
    </>
  );
}
