import { useEffect, useState } from 'react';
import type { DeskSecretMetadata, DeskSecretValue } from '../contract/talon-desk.js';
import { useDesk, useLoad } from '../desk-context.js';
import { copyWithClearing } from '../model/clipboard.js';
import { accessCount, formatDate, formatRelative } from '../model/format.js';
import { Badge, ErrorNote, TypeIcon, typeLabel } from '../ui/controls.js';
import { ShareDialog } from './share-dialog.js';

/**
 * One secret: its metadata, the value on demand (hidden again after 30 s or on "Hide": a hidden
 * value is not in the page at all), copy with clipboard clearing, version history with rollback,
 * delete and restore, and sharing.
 */
const revealMs = 30_000;

export function SecretDetail({
  vaultId,
  secret,
  onEdit,
  onChanged,
}: {
  vaultId: string;
  secret: DeskSecretMetadata;
  onEdit: () => void;
  onChanged: () => void;
}) {
  const { desk, run, notify, status } = useDesk();
  const [revealed, setRevealed] = useState<DeskSecretValue | null>(null);
  const [sharing, setSharing] = useState(false);
  const deleted = secret.deleted_at !== null;
  const versions = useLoad(
    () => desk.listVersions(vaultId, secret.path),
    [vaultId, secret.path, secret.version],
  );

  useEffect(() => {
    setRevealed(null);
  }, [vaultId, secret.path]);
  useEffect(() => {
    if (!revealed) return;
    const timer = setTimeout(() => setRevealed(null), revealMs);
    return () => clearTimeout(timer);
  }, [revealed]);

  async function reveal() {
    const value = await run(() => desk.revealSecret(vaultId, secret.path, null));
    if (value) setRevealed(value);
    onChanged();
  }

  async function copy() {
    const value = await run(() => desk.revealSecret(vaultId, secret.path, null));
    if (!value) return;
    await run(() => copyWithClearing(value.value), 'Copied. The clipboard is cleared in 30 seconds.');
    onChanged();
  }

  async function rollback(version: number) {
    const done = await run(
      () => desk.rollbackSecret(vaultId, secret.path, version),
      `Rolled back to version ${version}.`,
    );
    if (done) {
      versions.reload();
      onChanged();
    }
  }

  async function remove() {
    if (!window.confirm(`Delete ${secret.path}? You can restore it from "Show deleted".`)) return;
    const done = await run(
      () => desk.deleteSecret(vaultId, secret.path).then(() => true),
      `Deleted ${secret.path}.`,
    );
    if (done) onChanged();
  }

  async function restore() {
    const done = await run(() => desk.restoreSecret(vaultId, secret.path), `Restored ${secret.path}.`);
    if (done) onChanged();
  }

  async function purge() {
    if (!window.confirm(`Erase ${secret.path} for good? Every version is destroyed; this cannot be undone.`))
      return;
    const done = await run(
      () => desk.purgeSecret(vaultId, secret.path).then(() => true),
      `Erased ${secret.path}.`,
    );
    if (done) onChanged();
  }

  const expired = secret.expires_at !== null && new Date(secret.expires_at).getTime() <= Date.now();
  const spent = secret.max_access_count > 0 && secret.access_count >= secret.max_access_count;

  return (
    <section className="detail" aria-labelledby="secret-title">
      <header className="detail-header">
        <TypeIcon type={secret.type} />
        <div>
          <h2 id="secret-title" className="mono">
            {secret.path}
          </h2>
          <p className="muted">
            {typeLabel(secret.type)} · version {secret.version} · updated {formatRelative(secret.updated_at)}
          </p>
        </div>
        <div className="detail-badges">
          {deleted ? <Badge tone="bad">Deleted</Badge> : null}
          {expired ? <Badge tone="warn">Expired</Badge> : null}
          {spent ? <Badge tone="warn">Reads used up</Badge> : null}
        </div>
      </header>

      {deleted ? (
        <div className="detail-actions">
          <button type="button" className="button button-primary" onClick={() => void restore()}>
            Restore
          </button>
          <button type="button" className="button button-danger" onClick={() => void purge()}>
            Erase for good
          </button>
        </div>
      ) : (
        <>
          <div className="value-box" aria-live="polite">
            {revealed ? (
              <pre className="mono value-text" data-testid="revealed-value">
                {revealed.value}
              </pre>
            ) : (
              <span className="value-hidden" aria-label="Value hidden">
                ••••••••••••
              </span>
            )}
          </div>
          <div className="detail-actions">
            {revealed ? (
              <button type="button" className="button" onClick={() => setRevealed(null)}>
                Hide
              </button>
            ) : (
              <button type="button" className="button" onClick={() => void reveal()}>
                Reveal
              </button>
            )}
            <button type="button" className="button" onClick={() => void copy()}>
              Copy
            </button>
            <button type="button" className="button" onClick={onEdit}>
              New version
            </button>
            <button
              type="button"
              className="button"
              onClick={() =>
                status?.features.shares
                  ? setSharing(true)
                  : notify('info', 'Sharing is not available in this build of Talon.')
              }
            >
              Share
            </button>
            <button type="button" className="button button-danger" onClick={() => void remove()}>
              Delete
            </button>
          </div>
        </>
      )}

      <dl className="facts">
        <dt>Reads</dt>
        <dd>{accessCount(secret.access_count, secret.max_access_count)}</dd>
        <dt>Expires</dt>
        <dd>{secret.expires_at ? formatDate(secret.expires_at) : 'Never'}</dd>
        <dt>Created</dt>
        <dd>{formatDate(secret.created_at)}</dd>
        {typeof secret.metadata.fingerprint === 'string' ? (
          <>
            <dt>Fingerprint</dt>
            <dd className="mono small">
              {String(secret.metadata.algorithm ?? '')} {secret.metadata.fingerprint}
            </dd>
          </>
        ) : null}
        {typeof secret.metadata.filename === 'string' ? (
          <>
            <dt>File name</dt>
            <dd>{secret.metadata.filename}</dd>
          </>
        ) : null}
      </dl>

      <h3>Version history</h3>
      {versions.error ? <ErrorNote onRetry={versions.reload}>{versions.error}</ErrorNote> : null}
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Created</th>
            <th scope="col">By</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(versions.data ?? [])
            .slice()
            .reverse()
            .map((version) => (
              <tr key={version.version}>
                <td>
                  v{version.version} {version.is_current ? <Badge tone="good">current</Badge> : null}
                  {version.is_disabled ? <Badge tone="warn">disabled</Badge> : null}
                </td>
                <td>{formatDate(version.created_at)}</td>
                <td className="mono small">{version.created_by}</td>
                <td className="actions-cell">
                  {!version.is_current && !version.is_disabled && !deleted ? (
                    <button
                      type="button"
                      className="button button-small"
                      onClick={() => void rollback(version.version)}
                    >
                      Roll back to v{version.version}
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
        </tbody>
      </table>
      {sharing ? <ShareDialog secret={secret} onClose={() => setSharing(false)} /> : null}
    </section>
  );
}
