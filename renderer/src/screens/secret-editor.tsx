import { useEffect, useState, type FormEvent } from 'react';
import { type PutSecretInput, type SecretType, secretTypes } from '../contract/talon-desk.js';
import { useDesk } from '../desk-context.js';
import { type EnvRow, envRowsProblem, parseEnvRows, serializeEnvRows } from '../model/env-table.js';
import { sshFingerprint, sshKeyAlgorithm } from '../model/ssh-fingerprint.js';
import { Dialog, ErrorNote, Field, typeLabel } from '../ui/controls.js';

/**
 * Create a secret, or write a new version of one, with an editor per type: a key/value table for
 * env bundles, a file picker for files, a key box with its fingerprint for SSH keys, a masked
 * field for keys and passwords. An existing value is loaded only when asked ("Load current value").
 */
const maxValueBytes = 256 * 1024;

export function SecretEditor({
  vaultId,
  existing,
  onClose,
  onSaved,
}: {
  vaultId: string;
  existing?: { path: string; type: string; expires_at: string | null; max_access_count: number };
  onClose: () => void;
  onSaved: (path: string) => void;
}) {
  const { desk, run } = useDesk();
  const [path, setPath] = useState(existing?.path ?? '');
  const [type, setType] = useState<SecretType>((existing?.type as SecretType) ?? 'api_key');
  const [value, setValue] = useState('');
  const [rows, setRows] = useState<EnvRow[]>([{ key: '', value: '' }]);
  const [fileName, setFileName] = useState<string | null>(null);
  const [expires, setExpires] = useState(existing?.expires_at ? existing.expires_at.slice(0, 16) : '');
  const [maxReads, setMaxReads] = useState(
    existing?.max_access_count ? String(existing.max_access_count) : '',
  );
  const [showValue, setShowValue] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [fingerprint, setFingerprint] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    if (type !== 'ssh_key' || value.trim() === '') {
      setFingerprint(null);
      return;
    }
    void sshFingerprint(value).then((print) => {
      if (current) setFingerprint(print);
    });
    return () => {
      current = false;
    };
  }, [type, value]);

  async function loadCurrent() {
    if (!existing) return;
    const secret = await run(() => desk.revealSecret(vaultId, existing.path, null));
    if (!secret) return;
    if (type === 'env_bundle') {
      const parsed = parseEnvRows(secret.value);
      setRows(parsed.length > 0 ? parsed : [{ key: '', value: '' }]);
    } else {
      setValue(secret.value);
    }
  }

  function readFile(file: File) {
    if (file.size > maxValueBytes) {
      setError(`${file.name} is ${Math.ceil(file.size / 1024)} KiB; a secret holds at most 256 KiB.`);
      return;
    }
    const reader = new FileReader();
    reader.onload = () => {
      setValue(String(reader.result ?? ''));
      setFileName(file.name);
      setError(null);
    };
    reader.onerror = () => setError(`Could not read ${file.name}; pick the file again.`);
    reader.readAsText(file);
  }

  function problem(): string | null {
    if (!existing && path.trim() === '') return 'Give the secret a path, such as "api-keys/openai".';
    if (type === 'env_bundle') return envRowsProblem(rows);
    if (value === '') return type === 'file' ? 'Choose a file to store.' : 'Enter the value to store.';
    if (new Blob([value]).size > maxValueBytes)
      return 'The value is larger than 256 KiB; store a smaller one.';
    if (maxReads !== '' && !/^\d+$/u.test(maxReads))
      return 'Max reads must be a whole number (0 or empty = unlimited).';
    return null;
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const found = problem();
    if (found) {
      setError(found);
      return;
    }
    const body: PutSecretInput = {
      type,
      value: type === 'env_bundle' ? serializeEnvRows(rows) : value,
      expires_at: expires === '' ? null : new Date(expires).toISOString(),
      max_access_count: maxReads === '' ? 0 : Number(maxReads),
      ...(type === 'file' && fileName ? { metadata: { filename: fileName } } : {}),
      // The fingerprint is public: kept beside the key so the details show it without a read.
      ...(type === 'ssh_key' && fingerprint
        ? { metadata: { fingerprint, algorithm: sshKeyAlgorithm(value) ?? 'ssh' } }
        : {}),
    };
    setBusy(true);
    setError(null);
    try {
      const saved = await desk.putSecret(vaultId, existing?.path ?? path.trim(), body);
      setValue('');
      setRows([{ key: '', value: '' }]);
      onSaved(saved.path);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  }

  const updateRow = (index: number, change: Partial<EnvRow>) =>
    setRows((all) => all.map((row, i) => (i === index ? { ...row, ...change } : row)));

  return (
    <Dialog title={existing ? `New version of ${existing.path}` : 'New secret'} onClose={onClose} wide>
      <form onSubmit={submit} className="form-grid">
        {!existing ? (
          <Field label="Path" hint='Folders are separated by "/", e.g. "stripe/live/api-key".'>
            {(props) => (
              <input
                {...props}
                value={path}
                onChange={(event) => setPath(event.target.value)}
                autoFocus
                required
                spellCheck={false}
              />
            )}
          </Field>
        ) : null}
        <Field label="Type">
          {(props) => (
            <select {...props} value={type} onChange={(event) => setType(event.target.value as SecretType)}>
              {secretTypes.map((option) => (
                <option key={option} value={option}>
                  {typeLabel(option)}
                </option>
              ))}
            </select>
          )}
        </Field>

        {type === 'env_bundle' ? (
          <fieldset className="env-table">
            <legend>Variables</legend>
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Value</th>
                  <th scope="col">
                    <span className="visually-hidden">Remove</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row, index) => (
                  <tr key={index}>
                    <td>
                      <input
                        aria-label={`Name ${index + 1}`}
                        value={row.key}
                        spellCheck={false}
                        placeholder="DATABASE_URL"
                        onChange={(event) => updateRow(index, { key: event.target.value })}
                      />
                    </td>
                    <td>
                      <input
                        aria-label={`Value ${index + 1}`}
                        type={showValue ? 'text' : 'password'}
                        autoComplete="off"
                        value={row.value}
                        onChange={(event) => updateRow(index, { value: event.target.value })}
                      />
                    </td>
                    <td>
                      <button
                        type="button"
                        className="icon-button"
                        aria-label={`Remove variable ${index + 1}`}
                        onClick={() =>
                          setRows((all) =>
                            all.length > 1 ? all.filter((_, i) => i !== index) : [{ key: '', value: '' }],
                          )
                        }
                      >
                        ×
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <button
              type="button"
              className="button button-small"
              onClick={() => setRows((all) => [...all, { key: '', value: '' }])}
            >
              Add variable
            </button>
          </fieldset>
        ) : type === 'file' ? (
          <Field
            label="File"
            hint={
              fileName
                ? `${fileName} is ready to store (text files up to 256 KiB).`
                : 'Text files up to 256 KiB: certificates, .env files, configs.'
            }
          >
            {(props) => (
              <input
                {...props}
                type="file"
                onChange={(event) => {
                  const file = event.target.files?.[0];
                  if (file) readFile(file);
                }}
              />
            )}
          </Field>
        ) : type === 'ssh_key' || type === 'private_key' || type === 'certificate' || type === 'note' ? (
          <Field
            label={type === 'ssh_key' ? 'SSH key' : typeLabel(type)}
            hint={
              type === 'ssh_key'
                ? fingerprint
                  ? `${sshKeyAlgorithm(value) ?? 'Key'} · ${fingerprint}`
                  : 'Paste an OpenSSH private or public key; its fingerprint appears here.'
                : undefined
            }
          >
            {(props) => (
              <textarea
                {...props}
                className={showValue || type === 'note' ? 'mono' : 'mono masked'}
                rows={type === 'note' ? 5 : 8}
                value={value}
                spellCheck={false}
                autoComplete="off"
                onChange={(event) => setValue(event.target.value)}
              />
            )}
          </Field>
        ) : (
          <Field label="Value">
            {(props) => (
              <input
                {...props}
                type={showValue ? 'text' : 'password'}
                autoComplete="off"
                spellCheck={false}
                value={value}
                onChange={(event) => setValue(event.target.value)}
              />
            )}
          </Field>
        )}

        <div className="row">
          {type !== 'file' && type !== 'note' ? (
            <label className="checkbox">
              <input
                type="checkbox"
                checked={showValue}
                onChange={(event) => setShowValue(event.target.checked)}
              />
              Show what I type
            </label>
          ) : null}
          {existing ? (
            <button type="button" className="button button-small" onClick={() => void loadCurrent()}>
              Load current value
            </button>
          ) : null}
        </div>

        <div className="row">
          <Field label="Expires" hint="Optional. After this time reads answer 410.">
            {(props) => (
              <input
                {...props}
                type="datetime-local"
                value={expires}
                onChange={(event) => setExpires(event.target.value)}
              />
            )}
          </Field>
          <Field label="Max reads" hint="Optional. 0 or empty = unlimited.">
            {(props) => (
              <input
                {...props}
                inputMode="numeric"
                value={maxReads}
                onChange={(event) => setMaxReads(event.target.value)}
              />
            )}
          </Field>
        </div>

        {error ? <ErrorNote>{error}</ErrorNote> : null}
        <div className="dialog-actions">
          <button type="button" className="button button-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Saving…' : existing ? 'Save new version' : 'Save secret'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
