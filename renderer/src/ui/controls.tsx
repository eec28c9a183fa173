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

const typeGlyphs: Record<SecretType, { glyph: string; label: string }> = {
  api_key: { glyph: '⚿', label: 'API key' },
  password: { glyph: '✱', label: 'Password' },
  private_key: { glyph: '◆', label: 'Private key' },
  certificate: { glyph: '▣', label: 'Certificate' },
  file: { glyph: '▤', label: 'File' },
  note: { glyph: '✎', label: 'Note' },
  ssh_key: { glyph: '⌁', label: 'SSH key' },
  env_bundle: { glyph: '≡', label: 'Env bundle' },
};

export function typeLabel(type: string): string {
  return typeGlyphs[type as SecretType]?.label ?? type;
}

export function TypeIcon({ type }: { type: string }) {
  const known = typeGlyphs[type as SecretType] ?? { glyph: '•', label: type };
  return (
    <span className={`type-icon type-${type}`} title={known.label} aria-label={known.label} role="img">
      {known.glyph}
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
