import type { Database, Statement } from 'better-sqlite3';

/**
 * For a query whose SQL depends on which options a request sets (a prefix or none, which audit
 * filters): writes the SQL for the request's shape and prepares each distinct text once, on first
 * use. The shapes are few and fixed by the code, so this never grows past a handful of statements.
 */
export function statementsByShape<Shape, Parameters extends object, Row>(
  db: Database,
  sqlFor: (shape: Shape) => string,
): (shape: Shape) => Statement<[Parameters], Row> {
  const prepared = new Map<string, Statement<[Parameters], Row>>();
  return (shape) => {
    const sql = sqlFor(shape);
    let statement = prepared.get(sql);
    if (!statement) {
      statement = db.prepare<Parameters, Row>(sql);
      prepared.set(sql, statement);
    }
    return statement;
  };
}
