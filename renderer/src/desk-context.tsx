import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { DeskError, type DeskStatus, type TalonDesk } from './contract/talon-desk.js';

/**
 * What every screen gets: the contract (`desk`), Talon's status, a way to refresh it, and the
 * toasts that report outcomes. A 401 or 423 from any call means the session ended: the status is
 * refreshed, which brings the unlock screen back.
 */
export interface Toast {
  id: number;
  kind: 'success' | 'error' | 'info';
  text: string;
}

interface DeskContextValue {
  desk: TalonDesk;
  status: DeskStatus | null;
  refreshStatus(): Promise<void>;
  setStatus(status: DeskStatus): void;
  toasts: Toast[];
  notify(kind: Toast['kind'], text: string): void;
  dismiss(id: number): void;
  /** Runs a call, reporting its error as a toast; resolves to undefined on failure. */
  run<T>(work: () => Promise<T>, success?: string): Promise<T | undefined>;
}

const DeskContext = createContext<DeskContextValue | null>(null);

export function DeskProvider({ desk, children }: { desk: TalonDesk; children: ReactNode }) {
  const [status, setStatus] = useState<DeskStatus | null>(null);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);

  const refreshStatus = useCallback(async () => {
    try {
      setStatus(await desk.status());
    } catch (error) {
      setStatus(null);
      const message = error instanceof Error ? error.message : String(error);
      setToasts((all) => [...all, { id: nextId.current++, kind: 'error', text: message }]);
    }
  }, [desk]);

  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((toast) => toast.id !== id)), []);

  const notify = useCallback(
    (kind: Toast['kind'], text: string) => {
      const id = nextId.current++;
      setToasts((all) => [...all.slice(-3), { id, kind, text }]);
      setTimeout(() => dismiss(id), kind === 'error' ? 9000 : 4000);
    },
    [dismiss],
  );

  const run = useCallback(
    async <T,>(work: () => Promise<T>, success?: string): Promise<T | undefined> => {
      try {
        const value = await work();
        if (success) notify('success', success);
        return value;
      } catch (error) {
        if (error instanceof DeskError && (error.status === 401 || error.status === 423)) {
          await refreshStatus();
        }
        notify('error', error instanceof Error ? error.message : String(error));
        return undefined;
      }
    },
    [notify, refreshStatus],
  );

  useEffect(() => {
    void refreshStatus();
  }, [refreshStatus]);

  return (
    <DeskContext.Provider value={{ desk, status, refreshStatus, setStatus, toasts, notify, dismiss, run }}>
      {children}
    </DeskContext.Provider>
  );
}

export function useDesk(): DeskContextValue {
  const value = useContext(DeskContext);
  if (!value) throw new Error('useDesk outside DeskProvider');
  return value;
}

/** Loads data with the desk, reloading when `deps` change; errors become a message to show. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [version, setVersion] = useState(0);
  const { refreshStatus } = useDesk();
  useEffect(() => {
    let current = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!current) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (failure: unknown) => {
        if (!current) return;
        setError(failure instanceof Error ? failure.message : String(failure));
        setLoading(false);
        if (failure instanceof DeskError && (failure.status === 401 || failure.status === 423))
          void refreshStatus();
      },
    );
    return () => {
      current = false;
    };
  }, [...deps, version]);
  return { data, error, loading, reload: () => setVersion((v) => v + 1), setData };
}
