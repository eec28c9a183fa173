import { useState, type FormEvent } from 'react';
import type { DeskSecretMetadata, ShareRecipientType } from '../contract/talon-desk.js';
import { useDesk, useLoad } from '../desk-context.js';
import { Dialog, ErrorNote, Field } from '../ui/controls.js';

/** Share one secret with an agent, a person or anyone with the link; expiry and read limit required. */
export function ShareDialog({ secret, onClose }: { secret: DeskSecretMetadata; onClose: () => void }) {
  const { desk, run } = useDesk();
  const agents = useLoad(() => desk.listAgents(), []);
  const [recipientType, setRecipientType] = useState<ShareRecipientType>('agent');
  const [recipientId, setRecipientId] = useState('');
  const [days, setDays] = useState('7');
  const [maxReads, setMaxReads] = useState('5');
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if ((recipientType === 'agent' || recipientType === 'user') && !recipientId) {
      setError('Choose who receives the share.');
      return;
    }
    const share = await run(
      () =>
        desk.createShare(secret.id, {
          recipient_type: recipientType,
          ...(recipientType === 'agent' || recipientType === 'user' ? { recipient_id: recipientId } : {}),
          expires_at: new Date(Date.now() + Number(days) * 86_400_000).toISOString(),
          max_access_count: Number(maxReads),
        }),
      'Share created. The recipient must accept it before using it.',
    );
    if (share) onClose();
  }

  return (
    <Dialog title={`Share ${secret.path}`} onClose={onClose}>
      <form onSubmit={submit} className="form-grid">
        <Field label="Share with">
          {(props) => (
            <select
              {...props}
              value={recipientType}
              onChange={(event) => setRecipientType(event.target.value as ShareRecipientType)}
            >
              <option value="agent">An agent</option>
              <option value="user">A person (user id)</option>
              <option value="anyone_with_link">Anyone with the link</option>
            </select>
          )}
        </Field>
        {recipientType === 'agent' ? (
          <Field label="Agent">
            {(props) => (
              <select {...props} value={recipientId} onChange={(event) => setRecipientId(event.target.value)}>
                <option value="">Choose an agent…</option>
                {(agents.data ?? []).map((agent) => (
                  <option key={agent.id} value={agent.id}>
                    {agent.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : recipientType === 'user' ? (
          <Field label="User id">
            {(props) => (
              <input
                {...props}
                value={recipientId}
                onChange={(event) => setRecipientId(event.target.value.trim())}
              />
            )}
          </Field>
        ) : null}
        <div className="row">
          <Field label="Expires after (days)">
            {(props) => (
              <input
                {...props}
                type="number"
                min={1}
                max={365}
                value={days}
                onChange={(event) => setDays(event.target.value)}
              />
            )}
          </Field>
          <Field label="Max reads">
            {(props) => (
              <input
                {...props}
                type="number"
                min={1}
                max={1000}
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
          <button type="submit" className="button button-primary">
            Create share
          </button>
        </div>
      </form>
    </Dialog>
  );
}
