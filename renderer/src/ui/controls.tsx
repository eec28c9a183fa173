import { useEffect, useId, useRef, type ReactNode } from 'react';
import type { SecretType } from '../contract/talon-desk.js';

/** The few building blocks every screen uses, so the screens look and behave alike. */

export function Field({
  label,
  hint,
  error,
  children,
}: {
  label: string;
  hint?: ReactNode;
  error?: string | null;
  children: (props: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => ReactNode;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        ...(hint || error ? { 'aria-describedby': hintId } : {}),
        ...(error ? { 'aria-invalid': true } : {}),
      })}
      {error ? (
        <p className="field-error" id={hintId} role="alert">
          {error}
        </p>
      ) : hint ? (
        <p className="field-hint" id={hintId}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}

export function EmptyState({
  title,
  children,
  action,
}: {
  title: string;
  children?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <div className="empty-state">
      <h3>{title}</h3>
      {children ? <p>{children}</p> : null}
      {action}
    </div>
  );
}

export function ErrorNote({ children, onRetry }: { children: ReactNode; onRetry?: () => void }) {
  return (
    <div className="error-note" role="alert">
      <span>{children}</span>
      {onRetry ? (
        <button type="button" className="button button-small" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function Unavailable({ what }: { what: string }) {
  return (
    <EmptyState title={`${what} is not available in this build`}>
      This Talon was built without the engine part behind this screen. Update Talon to a build that includes
      it; everything else keeps working.
    </EmptyState>
  );
}

export function Loading() {
  return (
    <p className="loading" role="status">
      Loading…
    </p>
  );
}

export function Badge({
  tone = 'neutral',
  children,
}: {
  tone?: 'neutral' | 'good' | 'warn' | 'bad' | 'info';
  children: ReactNode;
}) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

/** One outline icon per secret type (24×24, drawn with the text colour). */
const typeIcons: Record<SecretType, { label: string; path: string }> = {
  api_key: {
    label: 'API key',
    path: 'M15 7a4 4 0 1 1-3.9 4.9L4 19v-3h3v-3h3l1.1-1.1A4 4 0 0 1 15 7zm1 3h.01',
  },
  password: { label: 'Password', path: 'M6 11h12v9H6zM8 11V8a4 4 0 0 1 8 0v3M12 15v2' },
  private_key: { label: 'Private key', path: 'M12 3l8 4v5c0 5-3.5 8-8 9-4.5-1-8-4-8-9V7zM12 10v4M10 12h4' },
  certificate: { label: 'Certificate', path: 'M4 5h16v10H4zM8 9h8M8 12h5M14 15l-1 5 3-2 3 2-1-5' },
  file: { label: 'File', path: 'M6 3h8l4 4v14H6zM14 3v4h4M9 13h6M9 17h6' },
  note: { label: 'Note', path: 'M5 4h14v16H5zM8 8h8M8 12h8M8 16h5' },
  ssh_key: { label: 'SSH key', path: 'M3 5h18v14H3zM7 10l3 2-3 2M12 15h5' },
  env_bundle: { label: 'Env bundle', path: 'M4 6h3M10 6h10M4 12h3M10 12h10M4 18h3M10 18h10' },
};

export function typeLabel(type: string): string {
  return typeIcons[type as SecretType]?.label ?? type;
}

export function TypeIcon({ type }: { type: string }) {
  const known = typeIcons[type as SecretType] ?? { label: type, path: 'M12 12h.01' };
  return (
    <span className={`type-icon type-${type}`} title={known.label} aria-label={known.label} role="img">
      <svg viewBox="0 0 24 24" width="15" height="15" aria-hidden="true">
        <path
          d={known.path}
          fill="none"
          stroke="currentColor"
          strokeWidth="1.8"
          strokeLinecap="round"
          strokeLinejoin="round"
        />
      </svg>
    </span>
  );
}

/** A modal dialog: focus moves in on open, Escape closes, focus returns where it was. */
export function Dialog({
  title,
  onClose,
  children,
  wide,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    const before = document.activeElement as HTMLElement | null;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      before?.focus?.();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className={`dialog${wide ? ' dialog-wide' : ''}`}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <header className="dialog-header">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      <div className="dialog-body">{children}</div>
    </dialog>
  );
}

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {description ? <p className="page-description">{description}</p> : null}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </header>
  );
}
