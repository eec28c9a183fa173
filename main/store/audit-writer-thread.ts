// The audit writer thread: writes batches of deferred audit entries (reads' entries and access
// counts) on its own connection, so the thread that answers requests never waits on their commits.
// Started by audit-writer.ts; see there.
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { AuditBatch } from './audit-batch.js';
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

/** Batches written in one transaction at most, when several are waiting. */
const maxBatchesPerCommit = 8;

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

type BatchMessage = Extract<ToWriterThread, { batchNo: number }>;

/**
 * Writes the batch and those already queued behind it in one transaction (a commit costs
 * about as much as a few hundred rows), then answers each. A close queued behind them is
 * carried out after.
 */
function write(first: BatchMessage): void {
  const batches = [first];
  let closing = false;
  for (let next = receiveMessageOnPort(port); next; next = receiveMessageOnPort(port)) {
    const message = next.message as ToWriterThread;
    if ('close' in message) {
      closing = true;
      break;
    }
    batches.push(message);
    if (batches.length >= maxBatchesPerCommit) break;
  }
  const keys = batches.map(({ chainKey }) =>
    Buffer.from(chainKey.buffer, chainKey.byteOffset, chainKey.byteLength),
  );
  let ok = true;
  try {
    db.transaction(() => {
      batches.forEach(({ batch }, index) =>
        writeDeferredAudit(repositories, AuditBatch.from(batch), keys[index]!),
      );
    }).immediate();
  } catch {
    ok = false; // the owner writes them again later, on its own connection or through this thread
  } finally {
    for (const key of keys) key.fill(0);
  }
  for (const { batchNo } of batches) {
    port.postMessage({ batchNo, ok } satisfies FromWriterThread);
    Atomics.add(signals, answeredBatches, 1);
  }
  Atomics.notify(signals, answeredBatches);
  if (closing) close();
}

function close(): void {
  port.close();
  db.close();
}

port.on('message', (message: ToWriterThread) => {
  if ('close' in message) close();
  else write(message);
});
