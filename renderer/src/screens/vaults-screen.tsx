import { useMemo, useState, type FormEvent } from 'react';
import type { DeskSecretMetadata, DeskVault } from '../contract/talon-desk.js';
import { useDesk, useLoad } from '../desk-context.js';
import { buildPathTree, type TreeNode } from '../model/path-tree.js';
import {
  Badge,
  Dialog,
  EmptyState,
  ErrorNote,
  Field,
  Loading,
  PageHeader,
  TypeIcon,
} from '../ui/controls.js';
import { SecretDetail } from './secret-detail.js';
import { SecretEditor } from './secret-editor.js';

/** Vaults on the left, the selected vault's secrets as a searchable path tree, the selected secret on the right. */
export function VaultsScreen() {
  const { desk } = useDesk();
  const vaults = useLoad(() => desk.listVaults(), []);
  const [vaultId, setVaultId] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const selected = vaults.data?.find((vault) => vault.id === vaultId) ?? vaults.data?.[0] ?? null;

  return (
    <div className="page">
      <PageHeader
        title="Vaults & secrets"
        description="Each vault is encrypted under its own key, wrapped by your token."
        actions={
          <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
            New vault
          </button>
        }
      />
      {vaults.loading && !vaults.data ? <Loading /> : null}
      {vaults.error ? <ErrorNote onRetry={vaults.reload}>{vaults.error}</ErrorNote> : null}
      {vaults.data && vaults.data.length === 0 ? (
        <EmptyState
          title="No vaults yet"
          action={
            <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
              Create your first vault
            </button>
          }
        >
          A vault holds secrets your agents may use. Create one, add a secret, then give an agent a policy for
          it.
        </EmptyState>
      ) : null}
      {vaults.data && selected ? (
        <div className="vault-layout">
          <nav className="vault-list" aria-label="Vaults">
            <ul>
              {vaults.data.map((vault) => (
                <li key={vault.id}>
                  <button
                    type="button"
                    className={vault.id === selected.id ? 'vault-item active' : 'vault-item'}
                    aria-current={vault.id === selected.id ? 'true' : undefined}
                    onClick={() => setVaultId(vault.id)}
                  >
                    <span className="vault-name">{vault.name}</span>
                    <span className="muted small">
                      {vault.secret_count} secret{vault.secret_count === 1 ? '' : 's'}
                      {vault.strict_mode ? ' · strict' : ''}
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          </nav>
          <VaultSecrets key={selected.id} vault={selected} onCountChanged={vaults.reload} />
        </div>
      ) : null}
      {creating ? (
        <CreateVaultDialog
          onClose={() => setCreating(false)}
          onCreated={(vault) => {
            setCreating(false);
            setVaultId(vault.id);
            vaults.reload();
          }}
        />
      ) : null}
    </div>
  );
}

function CreateVaultDialog({
  onClose,
  onCreated,
}: {
  onClose: () => void;
  onCreated: (vault: DeskVault) => void;
}) {
  const { desk } = useDesk();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [strict, setStrict] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      onCreated(await desk.createVault({ name, description: description || null, strict_mode: strict }));
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  }

  return (
    <Dialog title="New vault" onClose={onClose}>
      <form onSubmit={submit} className="form-grid">
        <Field label="Name" hint='For example "work" or "side-project".'>
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
        <label className="checkbox">
          <input type="checkbox" checked={strict} onChange={(event) => setStrict(event.target.checked)} />
          Strict mode: unwrap every secret's key in the token on each read (slower, nothing kept in memory)
        </label>
        {error ? <ErrorNote>{error}</ErrorNote> : null}
        <div className="dialog-actions">
          <button type="button" className="button button-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary">
            Create vault
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function VaultSecrets({ vault, onCountChanged }: { vault: DeskVault; onCountChanged: () => void }) {
  const { desk } = useDesk();
  const [search, setSearch] = useState('');
  const [showDeleted, setShowDeleted] = useState(false);
  const [selectedPath, setSelectedPath] = useState<string | null>(null);
  const [editor, setEditor] = useState<'new' | 'version' | null>(null);
  const secrets = useLoad(
    () => desk.listSecrets(vault.id, { include_deleted: showDeleted }),
    [vault.id, showDeleted],
  );
  const tree = useMemo(() => buildPathTree(secrets.data ?? [], search), [secrets.data, search]);
  const selected = secrets.data?.find((secret) => secret.path === selectedPath) ?? null;

  const changed = () => {
    secrets.reload();
    onCountChanged();
  };

  return (
    <div className="vault-body">
      <section className="secret-column" aria-label={`Secrets of ${vault.name}`}>
        <div className="toolbar">
          <label className="visually-hidden" htmlFor="secret-search">
            Search secrets
          </label>
          <input
            id="secret-search"
            type="search"
            placeholder="Search paths…"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
          />
          <button type="button" className="button button-primary" onClick={() => setEditor('new')}>
            New secret
          </button>
        </div>
        <label className="checkbox small">
          <input
            type="checkbox"
            checked={showDeleted}
            onChange={(event) => setShowDeleted(event.target.checked)}
          />
          Show deleted
        </label>
        {secrets.error ? <ErrorNote onRetry={secrets.reload}>{secrets.error}</ErrorNote> : null}
        {secrets.data && secrets.data.length === 0 ? (
          <EmptyState title="This vault is empty">
            Add a secret with <strong>New secret</strong>: an API key, a password, an env bundle, an SSH key
            or a file.
          </EmptyState>
        ) : null}
        {secrets.data && secrets.data.length > 0 && tree.length === 0 ? (
          <EmptyState title="Nothing matches">
            No path contains “{search}”. Clear the search to see every secret.
          </EmptyState>
        ) : null}
        <ul className="tree" aria-label="Secret paths">
          {tree.map((node) => (
            <TreeItem
              key={node.path}
              node={node}
              depth={0}
              selected={selectedPath}
              onSelect={setSelectedPath}
            />
          ))}
        </ul>
      </section>
      <div className="detail-column">
        {selected ? (
          <SecretDetail
            vaultId={vault.id}
            secret={selected}
            onEdit={() => setEditor('version')}
            onChanged={changed}
          />
        ) : (
          <EmptyState title="No secret selected">
            Pick a secret in the tree to see its details, reveal or copy it.
          </EmptyState>
        )}
      </div>
      {editor ? (
        <SecretEditor
          vaultId={vault.id}
          existing={editor === 'version' && selected ? selected : undefined}
          onClose={() => setEditor(null)}
          onSaved={(path) => {
            setEditor(null);
            setSelectedPath(path);
            changed();
          }}
        />
      ) : null}
    </div>
  );
}

function TreeItem({
  node,
  depth,
  selected,
  onSelect,
}: {
  node: TreeNode<DeskSecretMetadata>;
  depth: number;
  selected: string | null;
  onSelect: (path: string) => void;
}) {
  const [open, setOpen] = useState(true);
  if (node.kind === 'folder') {
    return (
      <li>
        <button
          type="button"
          aria-expanded={open}
          className="tree-row tree-folder"
          style={{ paddingLeft: `${depth * 14 + 8}px` }}
          onClick={() => setOpen(!open)}
        >
          <span aria-hidden="true">{open ? '▾' : '▸'}</span> {node.name}
        </button>
        {open ? (
          <ul>
            {node.children.map((child) => (
              <TreeItem
                key={child.path}
                node={child}
                depth={depth + 1}
                selected={selected}
                onSelect={onSelect}
              />
            ))}
          </ul>
        ) : null}
      </li>
    );
  }
  const secret = node.item;
  return (
    <li>
      <button
        type="button"
        className={`tree-row${selected === node.path ? ' selected' : ''}${secret.deleted_at ? ' deleted' : ''}`}
        style={{ paddingLeft: `${depth * 14 + 8}px` }}
        onClick={() => onSelect(node.path)}
        aria-current={selected === node.path ? 'true' : undefined}
        data-path={node.path}
      >
        <TypeIcon type={secret.type} />
        <span className="tree-name">{node.name}</span>
        {secret.deleted_at ? <Badge tone="bad">deleted</Badge> : null}
      </button>
    </li>
  );
}
