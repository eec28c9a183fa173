import type { Database } from 'better-sqlite3';
import { statementsByShape } from './statements-by-shape.js';
import type { AuditEventRow, AuditFilter, AuditRepository, NewAuditEvent } from './store.js';

const auditColumns = `seq, id, action, actor_type AS actorType, actor_id AS actorId, vault_id AS vaultId,
  resource_type AS resourceType, resource_id AS resourceId, path, outcome, details_json AS detailsJson,
  ip_address AS ipAddress, created_at AS createdAt, prev_mac AS prevMac, mac`;

/** Each filter field and its condition; a field left out of the filter adds no condition. */
const filterConditions = {
  vaultId: 'vault_id = @vaultId',
  actorType: 'actor_type = @actorType',
  actorId: 'actor_id = @actorId',
  action: 'action = @action',
  outcome: 'outcome = @outcome',
  from: 'created_at >= @from',
  to: 'created_at < @to',
} as const satisfies Record<keyof AuditFilter, string>;

const filterFields = Object.keys(filterConditions) as (keyof AuditFilter)[];

type FilterParameters = Partial<Record<keyof AuditFilter, string>>;

/** Only the fields the filter sets, so the statement binds exactly the parameters it names. */
function filterParameters(filter: AuditFilter): FilterParameters {
  const parameters: FilterParameters = {};
  for (const field of filterFields) {
    const value = filter[field];
    if (value !== undefined) parameters[field] = value;
  }
  return parameters;
}

function whereClause(parameters: FilterParameters): string {
  const conditions = filterFields
    .filter((field) => field in parameters)
    .map((field) => filterConditions[field]);
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

const insertColumns = `INSERT INTO audit_events (id, action, actor_type, actor_id, vault_id, resource_type,
  resource_id, path, outcome, details_json, ip_address, created_at, prev_mac, mac)`;

/** The values of one row of `insertColumns`, in order, for a positional multi-row insert. */
function rowValues(event: NewAuditEvent): unknown[] {
  return [
    event.id,
    event.action,
    event.actorType,
    event.actorId,
    event.vaultId,
    event.resourceType,
    event.resourceId,
    event.path,
    event.outcome,
    event.detailsJson,
    event.ipAddress,
    event.createdAt,
    event.prevMac,
    event.mac,
  ];
}

/** Rows per multi-row insert: one statement's fixed cost (~5 µs here) is shared by this many rows. */
const rowsPerInsert = [64, 16, 4, 1] as const;

export function createAuditRepository(db: Database): AuditRepository {
  const append = db.prepare<NewAuditEvent>(
    `${insertColumns}
     VALUES (@id, @action, @actorType, @actorId, @vaultId, @resourceType, @resourceId,
       @path, @outcome, @detailsJson, @ipAddress, @createdAt, @prevMac, @mac)`,
  );
  const appendRows = new Map(
    rowsPerInsert.map((rows) => [
      rows,
      db.prepare<unknown[]>(
        `${insertColumns} VALUES ${Array.from({ length: rows }, () => `(${'?, '.repeat(13)}?)`).join(', ')}`,
      ),
    ]),
  );
  const last = db.prepare<[], AuditEventRow>(
    `SELECT ${auditColumns} FROM audit_events ORDER BY seq DESC LIMIT 1`,
  );
  const batchAfter = db.prepare<[number, number], AuditEventRow>(
    `SELECT ${auditColumns} FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`,
  );
  const query = statementsByShape<
    FilterParameters,
    FilterParameters & { limit: number; offset: number },
    AuditEventRow
  >(
    db,
    (parameters) =>
      `SELECT ${auditColumns} FROM audit_events ${whereClause(parameters)}
       ORDER BY seq DESC LIMIT @limit OFFSET @offset`,
  );
  const count = statementsByShape<FilterParameters, FilterParameters, { count: number }>(
    db,
    (parameters) => `SELECT count(*) AS count FROM audit_events ${whereClause(parameters)}`,
  );

  return {
    append: (event) => Number(append.run(event).lastInsertRowid),
    appendMany: (events) => {
      let at = 0;
      for (const rows of rowsPerInsert) {
        const statement = appendRows.get(rows)!;
        for (; events.length - at >= rows; at += rows) {
          statement.run(events.slice(at, at + rows).flatMap(rowValues));
        }
      }
    },
    last: () => last.get(),
    *iterate({ afterSeq = 0, batchSize = 1000 } = {}) {
      if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
        throw new RangeError(`Audit batches need a whole, positive size, not ${batchSize}.`);
      }
      let cursor = afterSeq;
      for (;;) {
        const batch = batchAfter.all(cursor, batchSize);
        const lastInBatch = batch.at(-1);
        if (!lastInBatch) return;
        yield batch;
        if (batch.length < batchSize) return;
        cursor = lastInBatch.seq;
      }
    },
    query: ({ limit, offset = 0, ...filter }) => {
      if (!Number.isSafeInteger(limit) || limit < 0 || !Number.isSafeInteger(offset) || offset < 0) {
        throw new RangeError(
          `An audit query needs a whole, non-negative limit and offset, not ${limit}, ${offset}.`,
        );
      }
      const parameters = filterParameters(filter);
      return query(parameters).all({ ...parameters, limit, offset });
    },
    count: (filter) => {
      const parameters = filterParameters(filter);
      return count(parameters).get(parameters)?.count ?? 0;
    },
  };
}
