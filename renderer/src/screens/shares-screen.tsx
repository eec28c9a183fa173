import { useState } from 'react';
import type { DeskShare, DeskSharedSecret } from '../contract/talon-desk.js';
import { useDesk, useLoad } from '../desk-context.js';
import { formatDate } from '../model/format.js';
import { Badge, Dialog, EmptyState, ErrorNote, Loading, PageHeader, Unavailable } from '../ui/controls.js';

/** Shares you made (revoke) and shares made to you (accept or decline). */
export function SharesScreen() {
  const { desk, run, status } = useDesk();
  const [direction, setDirection] = useState<'outbound' | 'inbound'>('outbound');
  const [opened, setOpened] = useState<DeskSharedSecret | null>(null);
  const available = status?.features.shares === true;
  const shares = useLoad(
    () => (available ? desk.listShares(direction) : Promise.resolve([])),
    [direction, available],
  );

  if (!available) {
    return (
      <div className="page">
        <PageHeader title="Shares" />
        <Unavailable what="Sharing" />
      </div>
    );
  }

  async function act(share: DeskShare, action: 'revoke' | 'accept' | 'decline') {
    const call =
      action === 'revoke'
        ? desk.revokeShare(share.id)
        : action === 'accept'
          ? desk.acceptShare(share.id)
          : desk.declineShare(share.id);
    const done = await run(
      () => call.then(() => true),
      `Share ${action === 'revoke' ? 'revoked' : `${action}ed`}.`,
    );
    if (done) shares.reload();
  }

  async function open(share: DeskShare) {
    const secret = await run(() => desk.accessShare(share.id));
    if (secret) {
      setOpened(secret);
      shares.reload();
    }
  }

  return (
    <div className="page">
      <PageHeader title="Shares" description="One secret, one recipient, with an expiry and a read limit." />
      <div className="tabs" role="tablist" aria-label="Direction">
        {(['outbound', 'inbound'] as const).map((option) => (
          <button
            key={option}
            type="button"
            role="tab"
            aria-selected={direction === option}
            className={direction === option ? 'tab active' : 'tab'}
            onClick={() => setDirection(option)}
          >
            {option === 'outbound' ? 'Shared by me' : 'Shared with me'}
          </button>
        ))}
      </div>
      {shares.loading && !shares.data ? <Loading /> : null}
      {shares.error ? <ErrorNote onRetry={shares.reload}>{shares.error}</ErrorNote> : null}
      {shares.data && shares.data.length === 0 ? (
        <EmptyState
          title={direction === 'outbound' ? 'You have not shared anything' : 'Nothing was shared with you'}
        >
          {direction === 'outbound'
            ? 'Open a secret under Vaults & secrets and choose Share to give one agent or person time-limited access.'
            : 'Shares others (or your agents) make to you appear here for you to accept.'}
        </EmptyState>
      ) : null}
      {shares.data && shares.data.length > 0 ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Secret</th>
              <th scope="col">Recipient</th>
              <th scope="col">Reads</th>
              <th scope="col">Expires</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shares.data.map((share) => (
              <tr key={share.id}>
                <td className="mono">{share.secret_path ?? share.secret_id ?? '—'}</td>
                <td>
                  {share.recipient_type}
                  {share.recipient_id ? (
                    <span className="mono small muted"> {String(share.recipient_id).slice(0, 8)}</span>
                  ) : null}
                </td>
                <td>
                  {share.access_count ?? 0}
                  {share.max_access_count ? ` of ${share.max_access_count}` : ''}
                </td>
                <td>{formatDate(share.expires_at ?? null)}</td>
                <td>
                  {share.is_expired ? (
                    <Badge tone="warn">expired</Badge>
                  ) : share.is_accepted ? (
                    <Badge tone="good">accepted</Badge>
                  ) : (
                    <Badge tone="info">{share.status ?? 'waiting'}</Badge>
                  )}
                </td>
                <td className="actions-cell">
                  {direction === 'outbound' ? (
                    <button
                      type="button"
                      className="button button-small button-danger"
                      onClick={() => void act(share, 'revoke')}
                    >
                      Revoke
                    </button>
                  ) : !share.is_accepted ? (
                    <>
                      <button
                        type="button"
                        className="button button-small button-primary"
                        onClick={() => void act(share, 'accept')}
                      >
                        Accept
                      </button>
                      <button
                        type="button"
                        className="button button-small"
                        onClick={() => void act(share, 'decline')}
                      >
                        Decline
                      </button>
                    </>
                  ) : (
                    <button type="button" className="button button-small" onClick={() => void open(share)}>
                      Open
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {opened ? (
        <Dialog title={opened.path} onClose={() => setOpened(null)}>
          <p className="small muted">
            Read {opened.access_count}
            {opened.max_access_count ? ` of ${opened.max_access_count}` : ''} times. Closing this forgets the
            value.
          </p>
          <pre className="code-block" data-testid="shared-value">
            {opened.value}
          </pre>
        </Dialog>
      ) : null}
    </div>
  );
}
