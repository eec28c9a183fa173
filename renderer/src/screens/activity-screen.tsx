import { useState } from 'react';
import type { AuditFilter } from '../contract/talon-desk.js';
import { useDesk, useLoad } from '../desk-context.js';
import { formatDate } from '../model/format.js';
import { Badge, EmptyState, ErrorNote, Loading, PageHeader } from '../ui/controls.js';

/** The audit log with filters, and whether its HMAC chain checks out. */
const pageSize = 50;

export function ActivityScreen() {
  const { desk } = useDesk();
  const vaults = useLoad(() => desk.listVaults(), []);
  const [filter, setFilter] = useState<AuditFilter>({});
  const [page, setPage] = useState(0);
  const events = useLoad(
    () => desk.queryAudit({ ...filter, limit: pageSize, offset: page * pageSize }),
    [filter, page],
  );
  const verification = useLoad(() => desk.verifyAudit(), []);

  const update = (change: Partial<AuditFilter>) => {
    setPage(0);
    setFilter((current) => {
      const next: AuditFilter = { ...current, ...change };
      for (const key of Object.keys(next) as (keyof AuditFilter)[])
        if (next[key] === '' || next[key] === undefined) delete next[key];
      return next;
    });
  };

  return (
    <div className="page">
      <PageHeader
        title="Activity"
        description="Every read, change, denial and approval, chained so that tampering shows."
      />
      <div className="verify-line" role="status">
        {verification.loading ? (
          'Checking the audit chain…'
        ) : verification.error ? (
          <ErrorNote onRetry={verification.reload}>{verification.error}</ErrorNote>
        ) : verification.data?.valid ? (
          <>
            <Badge tone="good">Chain intact</Badge> {verification.data.checked} entries verified with the
            token's key.
          </>
        ) : (
          <>
            <Badge tone="bad">Chain broken</Badge> at entry {String(verification.data?.broken_at ?? '?')}:{' '}
            {verification.data?.reason}. Restore the database from a backup and investigate who had access to
            the data folder.
          </>
        )}{' '}
        <button type="button" className="button button-small" onClick={verification.reload}>
          Verify again
        </button>
      </div>
      <form className="filters" onSubmit={(event) => event.preventDefault()} aria-label="Filters">
        <label>
          Vault
          <select
            value={filter.vault_id ?? ''}
            onChange={(event) => update({ vault_id: event.target.value || undefined })}
          >
            <option value="">All</option>
            {(vaults.data ?? []).map((vault) => (
              <option key={vault.id} value={vault.id}>
                {vault.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Action
          <input
            placeholder="secret.read"
            value={filter.action ?? ''}
            onChange={(event) => update({ action: event.target.value })}
          />
        </label>
        <label>
          Outcome
          <select
            value={filter.outcome ?? ''}
            onChange={(event) =>
              update({ outcome: (event.target.value || undefined) as AuditFilter['outcome'] })
            }
          >
            <option value="">Any</option>
            <option value="success">Success</option>
            <option value="denied">Denied</option>
            <option value="error">Error</option>
          </select>
        </label>
        <label>
          Actor id
          <input
            value={filter.actor_id ?? ''}
            onChange={(event) => update({ actor_id: event.target.value })}
          />
        </label>
      </form>
      {events.loading && !events.data ? <Loading /> : null}
      {events.error ? <ErrorNote onRetry={events.reload}>{events.error}</ErrorNote> : null}
      {events.data && events.data.events.length === 0 ? (
        <EmptyState title="No entries match">Clear a filter to see more of the log.</EmptyState>
      ) : null}
      {events.data && events.data.events.length > 0 ? (
        <>
          <table className="table audit-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Who</th>
                <th scope="col">Path</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {events.data.events.map((event) => (
                <tr key={event.id}>
                  <td className="small">{formatDate(event.created_at)}</td>
                  <td className="mono small">{event.action}</td>
                  <td className="small">
                    {event.actor_type} <span className="mono muted">{event.actor_id?.slice(0, 8) ?? ''}</span>
                  </td>
                  <td className="mono small">{event.path ?? '—'}</td>
                  <td>
                    <Badge
                      tone={
                        event.outcome === 'success' ? 'good' : event.outcome === 'denied' ? 'warn' : 'bad'
                      }
                    >
                      {event.outcome}
                    </Badge>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="pager">
            <button
              type="button"
              className="button button-small"
              disabled={page === 0}
              onClick={() => setPage(page - 1)}
            >
              Newer
            </button>
            <span className="small muted">
              {page * pageSize + 1}–{page * pageSize + events.data.events.length} of {events.data.count}
            </span>
            <button
              type="button"
              className="button button-small"
              disabled={(page + 1) * pageSize >= events.data.count}
              onClick={() => setPage(page + 1)}
            >
              Older
            </button>
          </div>
        </>
      ) : null}
    </div>
  );
}
