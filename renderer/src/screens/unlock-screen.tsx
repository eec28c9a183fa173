import { useState, type FormEvent } from 'react';
import { DeskError } from '../contract/talon-desk.js';
import { useDesk } from '../desk-context.js';
import { ErrorNote, Field } from '../ui/controls.js';

/** Unlock with the token PIN, and the authenticator code when two-step sign-in is on. */
export function UnlockScreen() {
  const { desk, status, setStatus } = useDesk();
  const [pin, setPin] = useState('');
  const [code, setCode] = useState('');
  const [askCode, setAskCode] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const needCode = askCode || status?.mfa_enabled === true;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const next = await desk.unlock({
        pin,
        ...(needCode && code ? { totp_code: code.replace(/\s+/gu, '') } : {}),
      });
      setPin('');
      setCode('');
      setStatus(next);
    } catch (failure) {
      if (failure instanceof DeskError && /totp|code|mfa/iu.test(failure.message) && !needCode)
        setAskCode(true);
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="gate">
      <form className="gate-card" onSubmit={submit} aria-labelledby="unlock-title">
        <img src="./favicon.svg" alt="" width={48} height={48} className="gate-logo" />
        <h1 id="unlock-title">Talon is locked</h1>
        <p className="gate-text">
          {status?.unlocked
            ? 'Sign in with your token PIN to manage your vaults. Agents keep working meanwhile.'
            : 'Enter your token PIN to unlock your vaults. Agents cannot read anything until you do.'}
        </p>
        <Field label="Token PIN">
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="current-password"
              value={pin}
              onChange={(event) => setPin(event.target.value)}
              autoFocus
              required
            />
          )}
        </Field>
        {needCode ? (
          <Field
            label="Authenticator code"
            hint="The 6-digit code from your authenticator app, or a recovery code."
          >
            {(props) => (
              <input
                {...props}
                inputMode="numeric"
                autoComplete="one-time-code"
                value={code}
                onChange={(event) => setCode(event.target.value)}
                required
              />
            )}
          </Field>
        ) : null}
        {error ? <ErrorNote>{error}</ErrorNote> : null}
        <button type="submit" className="button button-primary button-wide" disabled={busy || pin === ''}>
          {busy ? 'Unlocking…' : 'Unlock'}
        </button>
      </form>
    </div>
  );
}
