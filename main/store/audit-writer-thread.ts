// The audit writer thread: writes batches of deferred audit entries (reads' entries and access
// counts) on its own connection, so the thread that answers requests never waits on their commits.
// Started by audit-writer.ts; see there.
import { workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { createAuditRepository } from './audit-repository.js';
import {
  type FromWriterThread,
  type ToWriterThread,
  type WriterThreadData,
  answeredBatches,
  threadFailed,
  threadReady,
  threadStatus,
} from './audit-writer-thread-protocol.js';
import { writeDeferredAudit } from './deferred-audit.js';
import { RowCache } from './row-cache.js';
import { createSecretRepository } from './secret-repository.js';

const { file, port, signals } = workerData as WriterThreadData;

function signal(index: number, value: number): void {
  Atomics.store(signals, index, value);
  Atomics.notify(signals, index);
}

function open() {
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    // Reads' bookkeeping: a crash of Talon loses nothing committed, a power cut may lose the last
    // batches (as the store's `durable: false`), and neither corrupts the file.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    return {
      db,
      repositories: {
        audit: createAuditRepository(db),
        secrets: createSecretRepository(db, new RowCache(db)),
      },
    };
  } catch (error) {
    db.close();
    signal(threadStatus, threadFailed);
    throw error;
  }
}

const { db, repositories } = open();
signal(threadStatus, threadReady);

port.on('message', (message: ToWriterThread) => {
  if ('close' in message) {
    port.close();
    db.close();
    return;
  }
  const { batchNo, batch, chainKey } = message;
  const key = Buffer.from(chainKey.buffer, chainKey.byteOffset, chainKey.byteLength);
  let answer: FromWriterThread;
  try {
    db.transaction(() => writeDeferredAudit(repositories, batch, key)).immediate();
    answer = { batchNo, ok: true };
  } catch (error) {
    answer = { batchNo, ok: false, reason: error instanceof Error ? error.message : String(error) };
  } finally {
    key.fill(0);
  }
  port.postMessage(answer);
  Atomics.add(signals, answeredBatches, 1);
  Atomics.notify(signals, answeredBatches);
});
