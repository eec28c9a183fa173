import { useState, type FormEvent } from 'react';
import { useDesk } from '../desk-context.js';
import { ErrorNote, Field, Unavailable } from '../ui/controls.js';

/** First run: choose the token PIN that protects Talon's keys. Two-step sign-in is offered after. */
export function SetupScreen() {
  const { desk, status, setStatus } = useDesk();
  const [pin, setPin] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const mismatch =
    confirmation !== '' && pin !== confirmation ? 'The two PINs differ; type the same PIN twice.' : null;
  const tooShort = pin !== '' && pin.length < 8 ? 'Use at least 8 characters; a passphrase works.' : null;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (pin.length < 8 || pin !== confirmation) {
      setError(tooShort ?? mismatch ?? 'Choose a PIN of at least 8 characters and type it twice.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const next = await desk.setup({ pin, pin_confirmation: confirmation });
      setPin('');
      setConfirmation('');
      setStatus(next);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  }

  if (status && !status.features.setup) {
    return (
      <div className="gate">
        <div className="gate-card">
          <Unavailable what="Set-up from the app" />
          <p className="field-hint">Set Talon up from a terminal instead: TALON_HSM_PIN=… talon init.</p>
        </div>
      </div>
    );
  }

  return (
    <div className="gate">
      <form className="gate-card" onSubmit={submit} aria-labelledby="setup-title">
        <img src="./favicon.svg" alt="" width={48} height={48} className="gate-logo" />
        <h1 id="setup-title">Set up Talon</h1>
        <p className="gate-text">
          Talon keeps its keys in a hardware token
          {status?.token ? ` (${status.token.model || status.token.label})` : ''}. Choose the PIN that unlocks
          it. Nobody can recover a forgotten PIN, so keep it somewhere safe.
        </p>
        <Field label="Token PIN" hint="At least 8 characters, not a run such as 12345678." error={tooShort}>
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="new-password"
              value={pin}
              onChange={(event) => setPin(event.target.value)}
              autoFocus
              required
            />
          )}
        </Field>
        <Field label="Type the PIN again" error={mismatch}>
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="new-password"
              value={confirmation}
              onChange={(event) => setConfirmation(event.target.value)}
              required
            />
          )}
        </Field>
        {error ? <ErrorNote>{error}</ErrorNote> : null}
        <button type="submit" className="button button-primary button-wide" disabled={busy}>
          {busy ? 'Creating the token keys…' : 'Create my vault'}
        </button>
        <p className="field-hint">You can turn on two-step sign-in (TOTP) in Settings afterwards.</p>
      </form>
    </div>
  );
}
