import { useMemo, useState, type FormEvent } from 'react';
import {
  type CreatePolicyInput,
  type DeskSimulation,
  type Permission,
  permissions,
} from '../contract/talon-desk.js';
import { useDesk, useLoad } from '../desk-context.js';
import { formatDate } from '../model/format.js';
import { previewGlobMatches } from '../model/path-glob-preview.js';
import { Badge, EmptyState, ErrorNote, Field, Loading, PageHeader, TypeIcon } from '../ui/controls.js';

/**
 * Policies of a vault: the list, an editor that shows live which secrets its pattern matches, and
 * the simulator that asks the engine "may this agent do this on that path now?" with its reason.
 */
export function PoliciesScreen() {
  const { desk } = useDesk();
  const vaults = useLoad(() => desk.listVaults(), []);
  const [vaultId, setVaultId] = useState('');
  const vault = vaults.data?.find((entry) => entry.id === vaultId) ?? vaults.data?.[0];

  return (
    <div className="page">
      <PageHeader
        title="Policies"
        description="Who may read, write, delete or use which paths. No matching policy means no access."
      />
      {vaults.error ? <ErrorNote onRetry={vaults.reload}>{vaults.error}</ErrorNote> : null}
      {vaults.loading && !vaults.data ? <Loading /> : null}
      {vaults.data && vaults.data.length === 0 ? (
        <EmptyState title="No vaults yet">
          Create a vault under Vaults & secrets first; policies belong to a vault.
        </EmptyState>
      ) : null}
      {vault ? (
        <>
          <div className="toolbar">
            <label htmlFor="policy-vault">Vault</label>
            <select id="policy-vault" value={vault.id} onChange={(event) => setVaultId(event.target.value)}>
              {vaults.data!.map((entry) => (
                <option key={entry.id} value={entry.id}>
                  {entry.name}
                </option>
              ))}
            </select>
          </div>
          <VaultPolicies key={vault.id} vaultId={vault.id} />
        </>
      ) : null}
    </div>
  );
}

function VaultPolicies({ vaultId }: { vaultId: string }) {
  const { desk, run } = useDesk();
  const policies = useLoad(() => desk.listPolicies(vaultId), [vaultId]);
  const agents = useLoad(() => desk.listAgents(), []);
  const secrets = useLoad(() => desk.listSecrets(vaultId, {}), [vaultId]);
  const agentName = (id: string) => agents.data?.find((agent) => agent.id === id)?.name ?? id.slice(0, 8);

  async function revoke(policyId: string) {
    if (!window.confirm('Revoke this policy? Access it grants ends at once.')) return;
    const done = await run(() => desk.deletePolicy(vaultId, policyId).then(() => true), 'Policy revoked.');
    if (done) policies.reload();
  }

  return (
    <div className="policy-layout">
      <section aria-labelledby="policy-list-title">
        <h2 id="policy-list-title">Policies</h2>
        {policies.error ? <ErrorNote onRetry={policies.reload}>{policies.error}</ErrorNote> : null}
        {policies.data && policies.data.length === 0 ? (
          <EmptyState title="No policies in this vault">
            Only you can reach its secrets. Add a policy to let an agent in.
          </EmptyState>
        ) : null}
        {policies.data && policies.data.length > 0 ? (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Who</th>
                <th scope="col">Paths</th>
                <th scope="col">May</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {policies.data.map((policy) => (
                <tr key={policy.id}>
                  <td>
                    {policy.principal_type === 'agent'
                      ? agentName(policy.principal_id)
                      : `user ${policy.principal_id.slice(0, 8)}`}
                  </td>
                  <td className="mono">{policy.secret_path_pattern}</td>
                  <td>
                    <Badge tone={policy.effect === 'deny' ? 'bad' : 'good'}>{policy.effect}</Badge>{' '}
                    {policy.permissions.join(', ')}
                    {policy.require_approval ? <Badge tone="warn">approval</Badge> : null}
                    {policy.conditions ? <Badge tone="info">conditions</Badge> : null}
                  </td>
                  <td>{policy.expires_at ? formatDate(policy.expires_at) : 'Never'}</td>
                  <td className="actions-cell">
                    <button
                      type="button"
                      className="button button-small button-danger"
                      onClick={() => void revoke(policy.id)}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
      <PolicyEditor
        vaultId={vaultId}
        agents={agents.data ?? []}
        secrets={secrets.data ?? []}
        onCreated={() => policies.reload()}
      />
      <Simulator vaultId={vaultId} agents={agents.data ?? []} />
    </div>
  );
}

function PolicyEditor({
  vaultId,
  agents,
  secrets,
  onCreated,
}: {
  vaultId: string;
  agents: { id: string; name: string }[];
  secrets: { path: string; type: string }[];
  onCreated: () => void;
}) {
  const { desk } = useDesk();
  const [agentId, setAgentId] = useState('');
  const [pattern, setPattern] = useState('**');
  const [granted, setGranted] = useState<Permission[]>(['read']);
  const [effect, setEffect] = useState<'allow' | 'deny'>('allow');
  const [requireApproval, setRequireApproval] = useState(false);
  const [expires, setExpires] = useState('');
  const [ipAllowlist, setIpAllowlist] = useState('');
  const [after, setAfter] = useState('');
  const [before, setBefore] = useState('');
  const [error, setError] = useState<string | null>(null);
  const matches = useMemo(
    () => secrets.filter((secret) => previewGlobMatches(pattern, secret.path)),
    [secrets, pattern],
  );

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!agentId) {
      setError('Choose the agent this policy is for.');
      return;
    }
    if (granted.length === 0) {
      setError('Tick at least one permission.');
      return;
    }
    const conditions: Record<string, unknown> = {};
    const ips = ipAllowlist.split(/[\s,]+/u).filter(Boolean);
    if (ips.length > 0) conditions.ip_allowlist = ips;
    if (after || before) {
      conditions.time_window = {
        ...(after ? { after } : {}),
        ...(before ? { before } : {}),
        timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
      };
    }
    const body: CreatePolicyInput = {
      secret_path_pattern: pattern,
      principal_type: 'agent',
      principal_id: agentId,
      permissions: granted,
      effect,
      require_approval: requireApproval,
      ...(Object.keys(conditions).length > 0 ? { conditions } : {}),
      ...(expires ? { expires_at: new Date(expires).toISOString() } : {}),
    };
    try {
      await desk.createPolicy(vaultId, body);
      setError(null);
      onCreated();
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  }

  return (
    <section className="card" aria-labelledby="policy-editor-title">
      <h2 id="policy-editor-title">New policy</h2>
      <form onSubmit={submit} className="form-grid">
        <Field label="Agent">
          {(props) => (
            <select {...props} value={agentId} onChange={(event) => setAgentId(event.target.value)}>
              <option value="">Choose an agent…</option>
              {agents.map((agent) => (
                <option key={agent.id} value={agent.id}>
                  {agent.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          label="Path pattern"
          hint='"*" matches within one folder, "**" any depth: "stripe/**", "api-keys/*".'
        >
          {(props) => (
            <input
              {...props}
              className="mono"
              value={pattern}
              spellCheck={false}
              onChange={(event) => setPattern(event.target.value)}
            />
          )}
        </Field>
        <div className="match-preview" aria-live="polite">
          <p className="small">
            {matches.length === 0
              ? 'Matches no secret in this vault yet (it will match new ones that fit).'
              : `Matches ${matches.length} secret${matches.length === 1 ? '' : 's'} now:`}
          </p>
          <ul>
            {matches.slice(0, 8).map((secret) => (
              <li key={secret.path} className="mono small">
                <TypeIcon type={secret.type} /> {secret.path}
              </li>
            ))}
            {matches.length > 8 ? <li className="small muted">and {matches.length - 8} more</li> : null}
          </ul>
        </div>
        <fieldset className="checks">
          <legend>Permissions</legend>
          {permissions.map((permission) => (
            <label key={permission} className="checkbox">
              <input
                type="checkbox"
                checked={granted.includes(permission)}
                onChange={(event) =>
                  setGranted((all) =>
                    event.target.checked ? [...all, permission] : all.filter((p) => p !== permission),
                  )
                }
              />
              {permission}
            </label>
          ))}
        </fieldset>
        <div className="row">
          <Field label="Effect">
            {(props) => (
              <select
                {...props}
                value={effect}
                onChange={(event) => setEffect(event.target.value as 'allow' | 'deny')}
              >
                <option value="allow">Allow</option>
                <option value="deny">Deny (wins over allow)</option>
              </select>
            )}
          </Field>
          <Field label="Expires" hint="Optional.">
            {(props) => (
              <input
                {...props}
                type="datetime-local"
                value={expires}
                onChange={(event) => setExpires(event.target.value)}
              />
            )}
          </Field>
        </div>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={requireApproval}
            onChange={(event) => setRequireApproval(event.target.checked)}
          />
          Require my approval for each use
        </label>
        <details>
          <summary>Conditions</summary>
          <Field
            label="Allowed addresses"
            hint="IP addresses or CIDR ranges, separated by spaces. Empty = any."
          >
            {(props) => (
              <input
                {...props}
                className="mono"
                value={ipAllowlist}
                onChange={(event) => setIpAllowlist(event.target.value)}
              />
            )}
          </Field>
          <div className="row">
            <Field label="From (HH:MM)">
              {(props) => (
                <input
                  {...props}
                  type="time"
                  value={after}
                  onChange={(event) => setAfter(event.target.value)}
                />
              )}
            </Field>
            <Field label="Until (HH:MM)">
              {(props) => (
                <input
                  {...props}
                  type="time"
                  value={before}
                  onChange={(event) => setBefore(event.target.value)}
                />
              )}
            </Field>
          </div>
        </details>
        {error ? <ErrorNote>{error}</ErrorNote> : null}
        <button type="submit" className="button button-primary">
          Add policy
        </button>
      </form>
    </section>
  );
}

function Simulator({ vaultId, agents }: { vaultId: string; agents: { id: string; name: string }[] }) {
  const { desk } = useDesk();
  const [agentId, setAgentId] = useState('');
  const [path, setPath] = useState('');
  const [permission, setPermission] = useState<Permission>('read');
  const [result, setResult] = useState<DeskSimulation | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!agentId || !path) {
      setError('Choose an agent and type a path.');
      return;
    }
    try {
      setResult(
        await desk.simulatePolicy(vaultId, {
          principal_type: 'agent',
          principal_id: agentId,
          path,
          permission,
        }),
      );
      setError(null);
    } catch (failure) {
      setResult(null);
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  }

  return (
    <section className="card" aria-labelledby="simulator-title">
      <h2 id="simulator-title">Simulator</h2>
      <p className="small muted">
        Asks the engine, without reading anything, whether an agent may do this now.
      </p>
      <form onSubmit={submit} className="form-grid">
        <div className="row">
          <Field label="Agent">
            {(props) => (
              <select {...props} value={agentId} onChange={(event) => setAgentId(event.target.value)}>
                <option value="">Choose…</option>
                {agents.map((agent) => (
                  <option key={agent.id} value={agent.id}>
                    {agent.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Permission">
            {(props) => (
              <select
                {...props}
                value={permission}
                onChange={(event) => setPermission(event.target.value as Permission)}
              >
                {permissions.map((option) => (
                  <option key={option}>{option}</option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <Field label="Secret path">
          {(props) => (
            <input
              {...props}
              className="mono"
              value={path}
              onChange={(event) => setPath(event.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="button">
          Simulate
        </button>
      </form>
      {error ? <ErrorNote>{error}</ErrorNote> : null}
      {result ? (
        <div
          className={`callout ${result.allowed ? 'callout-good' : 'callout-bad'}`}
          role="status"
          data-testid="simulation"
        >
          <strong>
            {result.allowed
              ? result.require_approval
                ? 'Allowed, with your approval'
                : 'Allowed'
              : 'Denied'}
          </strong>
          <p>{result.reason}</p>
        </div>
      ) : null}
    </section>
  );
}
