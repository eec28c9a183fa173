import { useState, type FormEvent } from 'react';
import type { DeskAgent, DeskPairing } from '../contract/talon-desk.js';
import { useDesk, useLoad } from '../desk-context.js';
import { copyWithClearing } from '../model/clipboard.js';
import { formatDate, formatRelative } from '../model/format.js';
import { type McpClient, type McpTransport, mcpClients, mcpConfig } from '../model/mcp-configs.js';
import { Badge, Dialog, EmptyState, ErrorNote, Field, Loading, PageHeader } from '../ui/controls.js';

/** Agents: create (key shown once, with MCP configurations), rotate the key, crypto proxy, deactivate. */
export function AgentsScreen() {
  const { desk, run } = useDesk();
  const agents = useLoad(() => desk.listAgents(), []);
  const vaults = useLoad(() => desk.listVaults(), []);
  const [creating, setCreating] = useState(false);
  const [shownKey, setShownKey] = useState<{ agent: DeskAgent; apiKey: string; rotated: boolean } | null>(
    null,
  );

  async function rotate(agent: DeskAgent) {
    if (!window.confirm(`Rotate the key of ${agent.name}? The current key stops working at once.`)) return;
    const rotated = await run(() => desk.rotateAgentKey(agent.id));
    if (rotated) setShownKey({ agent, apiKey: rotated.api_key, rotated: true });
  }

  async function toggleProxy(agent: DeskAgent) {
    const enabling = !agent.crypto_proxy_enabled;
    if (
      enabling &&
      !window.confirm(
        `Turn on the crypto proxy for ${agent.name}? It may then ask for transactions to be signed, and it can no longer read private_key or ssh_key secrets, whatever its policies say.`,
      )
    )
      return;
    const done = await run(
      () => desk.updateAgent(agent.id, { crypto_proxy_enabled: enabling }),
      enabling ? 'Crypto proxy on.' : 'Crypto proxy off.',
    );
    if (done) agents.reload();
  }

  async function deactivate(agent: DeskAgent) {
    if (!window.confirm(`Deactivate ${agent.name}? Its key and tokens stop working at once.`)) return;
    const done = await run(
      () => desk.deactivateAgent(agent.id).then(() => true),
      `${agent.name} is deactivated.`,
    );
    if (done) agents.reload();
  }

  async function reactivate(agent: DeskAgent) {
    const done = await run(
      () => desk.updateAgent(agent.id, { is_active: true }),
      `${agent.name} is active again.`,
    );
    if (done) agents.reload();
  }

  const vaultName = (id: string) => vaults.data?.find((vault) => vault.id === id)?.name ?? id.slice(0, 8);

  return (
    <div className="page">
      <PageHeader
        title="Agents"
        description="Programs that reach your vaults over MCP or the API, each with its own key and policies."
        actions={
          <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
            New agent
          </button>
        }
      />
      {agents.loading && !agents.data ? <Loading /> : null}
      {agents.error ? <ErrorNote onRetry={agents.reload}>{agents.error}</ErrorNote> : null}
      {agents.data && agents.data.length === 0 ? (
        <EmptyState
          title="No agents yet"
          action={
            <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
              Register an agent
            </button>
          }
        >
          Register the coding agent you use (Claude Code, Cursor…) to get its key and a ready-made MCP
          configuration.
        </EmptyState>
      ) : null}
      {agents.data && agents.data.length > 0 ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Vaults</th>
              <th scope="col">Crypto proxy</th>
              <th scope="col">Last active</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {agents.data.map((agent) => (
              <tr key={agent.id} data-agent={agent.name}>
                <td>
                  <strong>{agent.name}</strong>
                  <div className="mono small muted">{agent.id}</div>
                </td>
                <td>
                  {agent.is_active ? (
                    <Badge tone="good">Active</Badge>
                  ) : (
                    <Badge tone="bad">Deactivated</Badge>
                  )}
                </td>
                <td>
                  {agent.vault_ids.length === 0
                    ? 'Any its policies open'
                    : agent.vault_ids.map(vaultName).join(', ')}
                </td>
                <td>
                  <label className="switch">
                    <input
                      type="checkbox"
                      role="switch"
                      checked={agent.crypto_proxy_enabled}
                      onChange={() => void toggleProxy(agent)}
                      aria-label={`Crypto proxy for ${agent.name}`}
                    />
                    <span>{agent.crypto_proxy_enabled ? 'On' : 'Off'}</span>
                  </label>
                </td>
                <td>{formatRelative(agent.last_active_at)}</td>
                <td className="actions-cell">
                  <button type="button" className="button button-small" onClick={() => void rotate(agent)}>
                    Rotate key
                  </button>
                  {agent.is_active ? (
                    <button
                      type="button"
                      className="button button-small button-danger"
                      onClick={() => void deactivate(agent)}
                    >
                      Deactivate
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="button button-small"
                      onClick={() => void reactivate(agent)}
                    >
                      Reactivate
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <PairedClients />
      {creating ? (
        <CreateAgentDialog
          vaults={vaults.data ?? []}
          onClose={() => setCreating(false)}
          onCreated={(agent, apiKey) => {
            setCreating(false);
            setShownKey({ agent, apiKey, rotated: false });
            agents.reload();
          }}
        />
      ) : null}
      {shownKey ? <KeyDialog {...shownKey} onClose={() => setShownKey(null)} /> : null}
    </div>
  );
}

/**
 * MCP clients paired with `talon-mcp --agent <name>` (each holds its own key of the agent). Revoking
 * one stops that client at once; the agent and its other keys stay. Requests to pair wait in the
 * approvals inbox.
 */
function PairedClients() {
  const { desk, run } = useDesk();
  const pairings = useLoad(() => desk.listPairings(), []);

  async function revoke(pairing: DeskPairing) {
    if (
      !window.confirm(
        `Revoke the pairing of ${pairing.client_name} (agent ${pairing.agent_name})? That client stops working at once and must pair again.`,
      )
    )
      return;
    const done = await run(
      () => desk.revokePairing(pairing.id).then(() => true),
      `${pairing.client_name} is no longer paired.`,
    );
    if (done) pairings.reload();
  }

  return (
    <section aria-labelledby="pairings-title">
      <h2 id="pairings-title">Paired MCP clients</h2>
      {pairings.loading && !pairings.data ? <Loading /> : null}
      {pairings.error ? <ErrorNote onRetry={pairings.reload}>{pairings.error}</ErrorNote> : null}
      {pairings.data && pairings.data.length === 0 ? (
        <EmptyState title="No paired MCP clients">
          Run <span className="mono">talon-mcp --agent &lt;name&gt;</span> in a coding agent's MCP
          configuration; its request to pair appears in Approvals.
        </EmptyState>
      ) : null}
      {pairings.data && pairings.data.length > 0 ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Client</th>
              <th scope="col">Agent</th>
              <th scope="col">Paired</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {pairings.data.map((pairing) => (
              <tr key={pairing.id} data-pairing={pairing.client_name}>
                <td>
                  <strong>{pairing.client_name}</strong>
                  <div className="mono small muted">{pairing.key_prefix}…</div>
                </td>
                <td>{pairing.agent_name}</td>
                <td>{formatDate(pairing.created_at)}</td>
                <td>{formatRelative(pairing.last_used_at)}</td>
                <td className="actions-cell">
                  {pairing.revoked_at ? (
                    <Badge tone="bad">Revoked {formatRelative(pairing.revoked_at)}</Badge>
                  ) : (
                    <button
                      type="button"
                      className="button button-small button-danger"
                      onClick={() => void revoke(pairing)}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function CreateAgentDialog({
  vaults,
  onClose,
  onCreated,
}: {
  vaults: { id: string; name: string }[];
  onClose: () => void;
  onCreated: (agent: DeskAgent, apiKey: string) => void;
}) {
  const { desk } = useDesk();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [vaultId, setVaultId] = useState('');
  const [proxy, setProxy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      const created = await desk.createAgent({
        name,
        description: description || null,
        vault_ids: vaultId ? [vaultId] : [],
        crypto_proxy_enabled: proxy,
      });
      onCreated(created.agent, created.api_key);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  }

  return (
    <Dialog title="New agent" onClose={onClose}>
      <form onSubmit={submit} className="form-grid">
        <Field label="Name" hint='For example "claude-code-laptop".'>
          {(props) => (
            <input
              {...props}
              value={name}
              onChange={(event) => setName(event.target.value)}
              autoFocus
              required
            />
          )}
        </Field>
        <Field label="Description">
          {(props) => (
            <input {...props} value={description} onChange={(event) => setDescription(event.target.value)} />
          )}
        </Field>
        <Field
          label="Bind to vault"
          hint="A bound agent can reach only that vault, whatever else its policies say."
        >
          {(props) => (
            <select {...props} value={vaultId} onChange={(event) => setVaultId(event.target.value)}>
              <option value="">Not bound (its policies decide)</option>
              {vaults.map((vault) => (
                <option key={vault.id} value={vault.id}>
                  {vault.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <label className="checkbox">
          <input type="checkbox" checked={proxy} onChange={(event) => setProxy(event.target.checked)} />
          Crypto proxy: may request signed transactions; never reads private keys or SSH keys
        </label>
        {error ? <ErrorNote>{error}</ErrorNote> : null}
        <div className="dialog-actions">
          <button type="button" className="button button-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary">
            Create agent
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The key, shown once, with configurations for common MCP clients. Closing forgets it. */
function KeyDialog({
  agent,
  apiKey,
  rotated,
  onClose,
}: {
  agent: DeskAgent;
  apiKey: string;
  rotated: boolean;
  onClose: () => void;
}) {
  const { status, run } = useDesk();
  const [client, setClient] = useState<McpClient>('claude-code');
  const [transport, setTransport] = useState<McpTransport>('stdio');
  const connection = status?.connection ?? {
    base_url: 'http://127.0.0.1:7417',
    stdio_command: 'talon-mcp',
    stdio_args: [],
  };
  const config = mcpConfig(client, transport, {
    agentId: agent.id,
    apiKey,
    vaultId: agent.vault_ids[0] ?? null,
    baseUrl: connection.base_url,
    stdioCommand: connection.stdio_command,
    stdioArgs: connection.stdio_args,
  });
  const file = mcpClients.find((entry) => entry.id === client)?.file;

  return (
    <Dialog title={rotated ? `New key for ${agent.name}` : `${agent.name} is ready`} onClose={onClose} wide>
      <p className="callout callout-warn">
        This is the only time Talon shows this key. Copy it or a configuration below now; Talon keeps only a
        hash of it.
      </p>
      <Field label="Agent API key">
        {(props) => (
          <div className="copy-row">
            <input {...props} className="mono" readOnly value={apiKey} data-testid="agent-api-key" />
            <button
              type="button"
              className="button"
              onClick={() =>
                void run(
                  () => copyWithClearing(apiKey),
                  'Key copied; the clipboard is cleared in 30 seconds.',
                )
              }
            >
              Copy
            </button>
          </div>
        )}
      </Field>
      <p className="mono small muted">Agent id: {agent.id}</p>
      <div className="tabs" role="tablist" aria-label="MCP client">
        {mcpClients.map((entry) => (
          <button
            key={entry.id}
            type="button"
            role="tab"
            aria-selected={client === entry.id}
            className={client === entry.id ? 'tab active' : 'tab'}
            onClick={() => setClient(entry.id)}
          >
            {entry.label}
          </button>
        ))}
      </div>
      <div className="row">
        <label className="checkbox">
          <input
            type="radio"
            name="transport"
            checked={transport === 'stdio'}
            onChange={() => setTransport('stdio')}
          />
          stdio (talon-mcp)
        </label>
        <label className="checkbox">
          <input
            type="radio"
            name="transport"
            checked={transport === 'http'}
            onChange={() => setTransport('http')}
          />
          HTTP ({connection.base_url}/mcp)
        </label>
      </div>
      <p className="small muted">
        {file === 'terminal command' ? 'Run this in a terminal:' : `Add this to ${file}:`}
      </p>
      <pre className="code-block" data-testid="mcp-config">
        {config}
      </pre>
      <div className="dialog-actions">
        <button
          type="button"
          className="button"
          onClick={() =>
            void run(
              () => copyWithClearing(config),
              'Configuration copied; the clipboard is cleared in 30 seconds.',
            )
          }
        >
          Copy configuration
        </button>
        <button type="button" className="button button-primary" onClick={onClose}>
          Done, I saved it
        </button>
      </div>
    </Dialog>
  );
}
