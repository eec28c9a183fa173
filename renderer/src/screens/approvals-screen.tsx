import { useEffect, useRef, useState } from 'react';
import type { ApprovalStatus, DeskApproval } from '../contract/talon-desk.js';
import { useDesk, useLoad } from '../desk-context.js';
import { formatDate, formatRelative } from '../model/format.js';
import { Badge, EmptyState, ErrorNote, Field, Loading, PageHeader, Unavailable } from '../ui/controls.js';

/** The approvals inbox: what an agent asks for, decoded, with approve / reject and a reason; then history. */
export function ApprovalsScreen({ onChange }: { onChange: () => void }) {
  const { desk, status } = useDesk();
  const [filter, setFilter] = useState<ApprovalStatus | 'all'>('pending');
  const available = status?.features.approvals === true;
  const approvals = useLoad(
    () => (available ? desk.listApprovals(filter) : Promise.resolve([])),
    [filter, available],
  );

  useApprovalEvents(approvals.reload);

  if (!available) {
    return (
      <div className="page">
        <PageHeader title="Approvals" />
        <Unavailable what="The approvals inbox" />
      </div>
    );
  }
  return (
    <div className="page">
      <PageHeader
        title="Approvals"
        description="Shares, transactions and reads your agents asked for, waiting for your decision."
      />
      <div className="tabs" role="tablist" aria-label="Approval status">
        {(['pending', 'approved', 'rejected', 'all'] as const).map((option) => (
          <button
            key={option}
            type="button"
            role="tab"
            aria-selected={filter === option}
            className={filter === option ? 'tab active' : 'tab'}
            onClick={() => setFilter(option)}
          >
            {option === 'all' ? 'History' : option[0]!.toUpperCase() + option.slice(1)}
          </button>
        ))}
      </div>
      {approvals.loading && !approvals.data ? <Loading /> : null}
      {approvals.error ? <ErrorNote onRetry={approvals.reload}>{approvals.error}</ErrorNote> : null}
      {approvals.data && approvals.data.length === 0 ? (
        <EmptyState title={filter === 'pending' ? 'Nothing waits for you' : 'No approvals here'}>
          {filter === 'pending'
            ? 'When an agent asks to share a secret, sign a transaction or read a guarded secret, it appears here and Talon notifies you.'
            : 'Decided requests appear here.'}
        </EmptyState>
      ) : null}
      <ul className="approval-list">
        {(approvals.data ?? []).map((approval) => (
          <ApprovalCard
            key={approval.id}
            approval={approval}
            onDecided={() => {
              approvals.reload();
              onChange();
            }}
          />
        ))}
      </ul>
    </div>
  );
}

function useApprovalEvents(reload: () => void) {
  const { desk } = useDesk();
  const latest = useRef(reload);
  latest.current = reload;
  useEffect(
    () =>
      desk.subscribe((event) => {
        if (event.type === 'approval.created' || event.type === 'approval.decided') latest.current();
      }),
    [desk],
  );
}

function detailEntries(approval: DeskApproval): [string, string][] {
  return Object.entries(approval.details ?? {})
    .filter(([, value]) => value !== null && value !== undefined && value !== '')
    .map(([key, value]) => [
      key.replace(/_/gu, ' '),
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : JSON.stringify(value),
    ]);
}

function ApprovalCard({ approval, onDecided }: { approval: DeskApproval; onDecided: () => void }) {
  const { desk, run } = useDesk();
  const [reason, setReason] = useState('');
  const pending = approval.status === 'pending';
  const secretRequest = approval.action === 'secret.request';
  const tone =
    approval.status === 'approved'
      ? 'good'
      : approval.status === 'rejected'
        ? 'bad'
        : pending
          ? 'warn'
          : 'neutral';

  async function decide(decision: 'approve' | 'reject') {
    const done = await run(
      () => desk.decideApproval(approval.id, { decision, ...(reason ? { reason } : {}) }),
      decision === 'approve' ? 'Approved.' : 'Rejected.',
    );
    if (done) onDecided();
  }

  return (
    <li className="card approval" data-approval={approval.id}>
      <header className="approval-header">
        <div>
          <h3>{approval.summary || approval.action.replace(/[._]/gu, ' ')}</h3>
          <p className="muted small">
            <span className="mono">{approval.action}</span> · asked {formatRelative(approval.created_at)} by{' '}
            {approval.requester.type} {approval.requester.name ?? approval.requester.id.slice(0, 8)}
            {approval.requester.client ? ` (${approval.requester.client})` : ''}
            {approval.expires_at ? ` · expires ${formatDate(approval.expires_at)}` : ''}
          </p>
        </div>
        <div>
          {approval.risk_tier !== undefined ? (
            <Badge tone={approval.risk_tier === 'high' ? 'bad' : 'info'}>
              risk {String(approval.risk_tier)}
            </Badge>
          ) : null}{' '}
          <Badge tone={tone}>{approval.status}</Badge>
        </div>
      </header>
      <dl className="facts">
        {secretRequest ? (
          <>
            <div className="fact">
              <dt>Path</dt>
              <dd className="mono">{String(approval.details.path ?? '')}</dd>
            </div>
            <div className="fact">
              <dt>Type</dt>
              <dd className="mono">{String(approval.details.type ?? 'api_key')}</dd>
            </div>
            <div className="fact">
              <dt>Agent</dt>
              <dd>{approval.requester.name ?? approval.requester.id}</dd>
            </div>
          </>
        ) : null}
        {(secretRequest ? [] : detailEntries(approval)).map(([key, value]) => (
          <div key={key} className="fact">
            <dt>{key}</dt>
            <dd className="mono">{value}</dd>
          </div>
        ))}
        {approval.reason ? (
          <div className="fact">
            <dt>Agent's reason</dt>
            <dd>{approval.reason}</dd>
          </div>
        ) : null}
        {approval.decision_reason ? (
          <div className="fact">
            <dt>Your reason</dt>
            <dd>{approval.decision_reason}</dd>
          </div>
        ) : null}
      </dl>
      {pending && secretRequest ? (
        <SecretRequestAnswer
          approval={approval}
          onDecided={onDecided}
          onReject={() => void decide('reject')}
        />
      ) : null}
      {pending && !secretRequest ? (
        <div className="approval-actions">
          <Field label="Reason (optional)">
            {(props) => (
              <input {...props} value={reason} onChange={(event) => setReason(event.target.value)} />
            )}
          </Field>
          <button type="button" className="button button-primary" onClick={() => void decide('approve')}>
            Approve
          </button>
          <button type="button" className="button button-danger" onClick={() => void decide('reject')}>
            Reject
          </button>
        </div>
      ) : null}
    </li>
  );
}

/**
 * An agent's request_secret: the human types the value and Talon stores it at the requested path.
 * The value lives in the input only until it is submitted; it is cleared whatever the outcome.
 */
function SecretRequestAnswer({
  approval,
  onDecided,
  onReject,
}: {
  approval: DeskApproval;
  onDecided: () => void;
  onReject: () => void;
}) {
  const { desk, run } = useDesk();
  const [value, setValue] = useState('');
  const [showValue, setShowValue] = useState(false);

  async function store() {
    const submitted = value;
    setValue('');
    setShowValue(false);
    const done = await run(() => desk.fulfilSecretRequest(approval.id, submitted), 'Secret stored.');
    if (done) onDecided();
  }

  return (
    <form
      className="approval-actions"
      onSubmit={(event) => {
        event.preventDefault();
        if (value !== '') void store();
      }}
    >
      <Field label="Secret value">
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
      <label className="checkbox">
        <input type="checkbox" checked={showValue} onChange={(event) => setShowValue(event.target.checked)} />
        Show what I type
      </label>
      <button type="submit" className="button button-primary" disabled={value === ''}>
        Store secret
      </button>
      <button type="button" className="button button-danger" onClick={onReject}>
        Reject
      </button>
    </form>
  );
}
