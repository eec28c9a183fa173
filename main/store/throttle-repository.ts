import type { Database } from 'better-sqlite3';
import type { AuthFailureRow, LockedAuditEventRow, ThrottleRepository } from './store.js';

export function createThrottleRepository(db: Database): ThrottleRepository {
  const get = db.prepare<[string], AuthFailureRow>(
    `SELECT subject, failures, last_failure_at AS lastFailureAt FROM auth_failures WHERE subject = ?`,
  );
  const recordFailure = db
    .prepare<[string, string], number>(
      `INSERT INTO auth_failures (subject, failures, last_failure_at) VALUES (?, 1, ?)
     ON CONFLICT (subject) DO UPDATE SET failures = failures + 1, last_failure_at = excluded.last_failure_at
     RETURNING failures`,
    )
    .pluck();
  const clear = db.prepare<[string]>(`DELETE FROM auth_failures WHERE subject = ?`);
  const queue = db.prepare<Omit<LockedAuditEventRow, 'seq'>>(
    `INSERT INTO locked_audit_events (action, outcome, details_json, ip_address, created_at)
     VALUES (@action, @outcome, @detailsJson, @ipAddress, @createdAt)`,
  );
  const queued = db.prepare<[], LockedAuditEventRow>(
    `SELECT seq, action, outcome, details_json AS detailsJson, ip_address AS ipAddress, created_at AS createdAt
     FROM locked_audit_events ORDER BY seq`,
  );
  const removeQueued = db.prepare<[number]>(`DELETE FROM locked_audit_events WHERE seq <= ?`);

  return {
    get: (subject) => get.get(subject),
    recordFailure: (subject, at) => recordFailure.get(subject, at) ?? 1,
    clear: (subject) => clear.run(subject).changes > 0,
    queueLockedEvent: (event) => void queue.run(event),
    lockedEvents: () => queued.all(),
    removeLockedEvents: (upToSeq) => removeQueued.run(upToSeq).changes,
  };
}
