import QRCode from 'qrcode';
import { useEffect, useState, type FormEvent } from 'react';
import type { DeskMfaEnrolment, DeskSettings } from '../contract/talon-desk.js';
import { useDesk, useLoad } from '../desk-context.js';
import { Badge, ErrorNote, Field, Loading, PageHeader, Unavailable } from '../ui/controls.js';

/** Two-step sign-in (TOTP with a QR code, recovery codes), auto-lock, and the token's facts. */
const autoLockChoices = [
  { seconds: 60, label: '1 minute' },
  { seconds: 300, label: '5 minutes' },
  { seconds: 900, label: '15 minutes' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 0, label: 'Never' },
];

export function SettingsScreen({ onSettings }: { onSettings: (settings: DeskSettings) => void }) {
  const { desk, run, status } = useDesk();
  const settings = useLoad(() => desk.getSettings(), []);
  const vaults = useLoad(() => desk.listVaults(), []);

  async function save(change: Partial<Pick<DeskSettings, 'auto_lock_seconds' | 'remember_pin'>>) {
    const saved = await run(() => desk.updateSettings(change), 'Settings saved.');
    if (saved) {
      settings.setData(saved);
      onSettings(saved);
    }
  }

  return (
    <div className="page">
      <PageHeader title="Settings" />
      <div className="settings-grid">
        <section className="card" aria-labelledby="mfa-title">
          <h2 id="mfa-title">Two-step sign-in</h2>
          {status?.features.mfa ? <MfaSettings /> : <Unavailable what="Two-step sign-in" />}
        </section>

        <section className="card" aria-labelledby="lock-title">
          <h2 id="lock-title">Locking</h2>
          {settings.loading && !settings.data ? <Loading /> : null}
          {settings.data ? (
            <>
              <Field
                label="Lock after inactivity"
                hint={
                  settings.data.remember_pin_available
                    ? 'Talon also locks when the computer sleeps or its screen locks.'
                    : 'Counted in this browser tab. Talon itself also locks after its own idle time (TALON_AUTO_LOCK_MINUTES).'
                }
              >
                {(props) => (
                  <select
                    {...props}
                    value={settings.data!.auto_lock_seconds}
                    onChange={(event) => void save({ auto_lock_seconds: Number(event.target.value) })}
                  >
                    {autoLockChoices.map((choice) => (
                      <option key={choice.seconds} value={choice.seconds}>
                        {choice.label}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <label className="checkbox">
                <input
                  type="checkbox"
                  disabled={!settings.data.remember_pin_available}
                  checked={settings.data.remember_pin}
                  onChange={(event) => void save({ remember_pin: event.target.checked })}
                />
                Remember the PIN in the system keychain
              </label>
              <p className="field-hint">
                {settings.data.remember_pin_available
                  ? 'Off by default. When on, Talon unlocks without asking after a restart; anyone using your account could too.'
                  : 'Only in the desktop app, where the system keychain is reachable.'}
              </p>
            </>
          ) : null}
        </section>

        <section className="card" aria-labelledby="token-title">
          <h2 id="token-title">Token</h2>
          {status?.token ? (
            <dl className="facts">
              <dt>Label</dt>
              <dd>{status.token.label}</dd>
              <dt>Maker and model</dt>
              <dd>
                {status.token.manufacturer} {status.token.model}
              </dd>
              <dt>Serial</dt>
              <dd className="mono">{status.token.serial}</dd>
              {status.token.wrap_mechanisms ? (
                <>
                  <dt>Key wrapping</dt>
                  <dd className="mono small">
                    {status.token.wrap_mechanisms.length > 0
                      ? status.token.wrap_mechanisms
                          .map((mechanism, index) => (index === 0 ? `${mechanism} (preferred)` : mechanism))
                          .join(', ')
                      : 'not probed yet (unlock Talon)'}
                  </dd>
                </>
              ) : null}
              {status.token.mechanisms ? (
                <>
                  <dt>Mechanisms</dt>
                  <dd className="small">
                    <details>
                      <summary>{status.token.mechanisms.length} the token lists</summary>
                      <span className="mono">{status.token.mechanisms.join(', ')}</span>
                    </details>
                  </dd>
                </>
              ) : null}
            </dl>
          ) : (
            <ErrorNote>The token does not answer. Check that it is connected, then restart Talon.</ErrorNote>
          )}
          <h3>Vault key modes</h3>
          {vaults.data && vaults.data.length === 0 ? <p className="small muted">No vaults yet.</p> : null}
          <ul className="plain-list">
            {(vaults.data ?? []).map((vault) => (
              <li key={vault.id}>
                {vault.name}{' '}
                {vault.strict_mode ? (
                  <Badge tone="info">strict: unwrapped in the token on each read</Badge>
                ) : (
                  <Badge>session: key held while unlocked</Badge>
                )}
              </li>
            ))}
          </ul>
          {status?.connection ? (
            <p className="small muted">
              Agents reach this Talon at <span className="mono">{status.connection.base_url}</span>.
            </p>
          ) : null}
        </section>
      </div>
    </div>
  );
}

function MfaSettings() {
  const { desk, run, refreshStatus } = useDesk();
  const mfa = useLoad(() => desk.mfaStatus(), []);
  const [enrolment, setEnrolment] = useState<DeskMfaEnrolment | null>(null);
  const [qr, setQr] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [recovery, setRecovery] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!enrolment) {
      setQr(null);
      return;
    }
    if (enrolment.qr_code?.startsWith('data:image/')) {
      setQr(enrolment.qr_code);
      return;
    }
    void QRCode.toDataURL(enrolment.otpauth_uri, { margin: 1, width: 200 }).then(setQr, () => setQr(null));
  }, [enrolment]);

  async function begin() {
    const started = await run(() => desk.mfaBegin());
    if (started) {
      setEnrolment(started);
      setRecovery(null);
    }
  }

  async function confirm(event: FormEvent) {
    event.preventDefault();
    try {
      const done = await desk.mfaConfirm(code.replace(/\s+/gu, ''));
      setRecovery(done.recovery_codes);
      setEnrolment(null);
      setCode('');
      setError(null);
      mfa.reload();
      void refreshStatus();
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  }

  async function disable(event: FormEvent) {
    event.preventDefault();
    const done = await run(
      () => desk.mfaDisable(code.replace(/\s+/gu, '')).then(() => true),
      'Two-step sign-in is off.',
    );
    if (done) {
      setCode('');
      mfa.reload();
      void refreshStatus();
    }
  }

  if (mfa.error) return <ErrorNote onRetry={mfa.reload}>{mfa.error}</ErrorNote>;
  if (!mfa.data) return <Loading />;

  if (recovery) {
    return (
      <div>
        <p className="callout callout-good">Two-step sign-in is on.</p>
        <p>
          Save these recovery codes somewhere safe. Each works once, instead of a code, if you lose your
          authenticator. Talon will not show them again.
        </p>
        <ul className="recovery-codes mono" data-testid="recovery-codes">
          {recovery.map((entry) => (
            <li key={entry}>{entry}</li>
          ))}
        </ul>
        <button type="button" className="button button-primary" onClick={() => setRecovery(null)}>
          I saved them
        </button>
      </div>
    );
  }

  if (enrolment) {
    return (
      <form onSubmit={confirm} className="form-grid">
        <p>
          Scan the code with an authenticator app (1Password, Google Authenticator, Aegis…), then type the 6
          digits it shows.
        </p>
        {qr ? (
          <img
            src={qr}
            alt="QR code to add Talon to an authenticator app"
            width={200}
            height={200}
            className="qr"
          />
        ) : null}
        <details>
          <summary>Can't scan? Type this key instead</summary>
          <p className="mono" data-testid="totp-secret">
            {enrolment.secret}
          </p>
        </details>
        <Field label="Code from the app">
          {(props) => (
            <input
              {...props}
              inputMode="numeric"
              autoComplete="one-time-code"
              value={code}
              onChange={(event) => setCode(event.target.value)}
              autoFocus
            />
          )}
        </Field>
        {error ? <ErrorNote>{error}</ErrorNote> : null}
        <div className="row">
          <button type="submit" className="button button-primary">
            Turn on
          </button>
          <button type="button" className="button button-secondary" onClick={() => setEnrolment(null)}>
            Cancel
          </button>
        </div>
      </form>
    );
  }

  if (mfa.data.enabled) {
    return (
      <form onSubmit={disable} className="form-grid">
        <p>
          <Badge tone="good">On</Badge> Unlocking asks for a code from your authenticator app.
          {mfa.data.recovery_codes_remaining !== undefined
            ? ` ${mfa.data.recovery_codes_remaining} recovery codes left.`
            : ''}
        </p>
        <Field label="Code to turn it off">
          {(props) => (
            <input
              {...props}
              inputMode="numeric"
              value={code}
              onChange={(event) => setCode(event.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="button button-danger">
          Turn off two-step sign-in
        </button>
      </form>
    );
  }

  return (
    <div>
      <p>
        <Badge>Off</Badge> Add a second step to unlocking: a 6-digit code from an authenticator app.
      </p>
      <button type="button" className="button button-primary" onClick={() => void begin()}>
        Set up two-step sign-in
      </button>
    </div>
  );
}
