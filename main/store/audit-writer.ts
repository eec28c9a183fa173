import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import {
  type FromWriterThread,
  type ToWriterThread,
  type WriterThreadData,
  answeredBatches,
  threadFailed,
  threadReady,
  threadStatus,
} from './audit-writer-thread-protocol.js';
import type { AuditBatch } from './audit-batch.js';
import type { DeferredAuditWriter } from './store.js';

/**
 * How long `settle` waits for the writer thread before it gives the batches back to be written
 * on the caller's connection. Far above a batch's write (milliseconds) and the thread's start
 * (under a second, more on a loaded machine): reaching it means the thread is stuck.
 */
const settleTimeoutMs = 30_000;

/** Batches handed over and not yet answered, at most (of up to 512 entries each). */
const maxBatchesInFlight = 8;

/**
 * The code a new writer thread runs first: it loads the thread's module (the compiled one next to
 * this file, else the TypeScript source through tsx's require hook, since an ESM loader given to a
 * worker is not applied to it on Node 20) and marks the thread failed if that throws, so that a
 * blocked `settle` learns of it at once.
 */
function bootstrapCode(): string {
  const compiled = new URL('./audit-writer-thread.js', import.meta.url);
  const load = existsSync(fileURLToPath(compiled))
    ? `import(${JSON.stringify(compiled.href)}).catch(fail);`
    : `require(${JSON.stringify(createRequire(import.meta.url).resolve('tsx/cjs/api'))}).register();
       require(${JSON.stringify(fileURLToPath(new URL('./audit-writer-thread.ts', import.meta.url)))});`;
  return `const { workerData } = require('node:worker_threads');
    const fail = (error) => {
      Atomics.store(workerData.signals, ${threadStatus}, ${threadFailed});
      Atomics.notify(workerData.signals, ${threadStatus});
      throw error;
    };
    try { ${load} } catch (error) { fail(error); }`;
}

interface Running {
  worker: Worker;
  port: MessagePort;
  signals: Int32Array;
}

/**
 * Writes batches of deferred audit entries on a thread of their own with its own SQLite
 * connection, started at the first batch. Batches are written in the order handed over; one that
 * fails (disk full, busy) is given back through its `onFailed`, and so is every batch in flight
 * when the thread dies. `settle` blocks until every batch handed over is answered: the store
 * calls it before each write transaction of its own, so entries land in the order they happened.
 * If the thread cannot start at all (its script missing or refused), `writeLater` throws from
 * then on and the owner writes its batches on its own connection.
 */
export class AuditWriterThread implements Omit<DeferredAuditWriter, 'writeNow'> {
  private running: Running | undefined;
  /** Set when the thread could not start: batches are then refused and written by their owner. */
  private cannotStart = false;
  private nextBatchNo = 1;
  private readonly inFlight = new Map<number, { batch: AuditBatch; onFailed: (batch: AuditBatch) => void }>();

  /** `onWritten` learns of each batch written (the store drops the cached rows it changed). */
  constructor(
    private readonly file: string,
    private readonly onWritten: (batch: AuditBatch) => void,
  ) {}

  writeLater(batch: AuditBatch, chainKey: Buffer, onFailed: (batch: AuditBatch) => void): void {
    // Reads can come faster than their entries are written: past this many batches the reader
    // waits, so the backlog (and what a crash would lose) stays bounded.
    this.waitUntilInFlightAtMost(maxBatchesInFlight - 1);
    const { port } = this.start();
    const batchNo = this.nextBatchNo;
    this.nextBatchNo += 1;
    this.inFlight.set(batchNo, { batch, onFailed });
    // An exact-size copy: posting a pooled Buffer would copy its whole shared slab along.
    const key = new Uint8Array(chainKey);
    try {
      port.postMessage({ batchNo, batch: batch.data(), chainKey: key } satisfies ToWriterThread);
    } finally {
      key.fill(0);
    }
  }

  settle(): void {
    this.waitUntilInFlightAtMost(0);
  }

  /** Blocks until at most `count` batches are unanswered, or the thread is found gone or stuck. */
  private waitUntilInFlightAtMost(count: number): void {
    const running = this.running;
    if (!running || this.inFlight.size <= count) return;
    const deadline = performance.now() + settleTimeoutMs;
    while (this.inFlight.size > count && this.running === running) {
      if (Atomics.load(running.signals, threadStatus) === threadFailed) {
        this.cannotStart = true;
        this.stop();
        return;
      }
      const seen = Atomics.load(running.signals, answeredBatches);
      for (
        let message = receiveMessageOnPort(running.port);
        message;
        message = receiveMessageOnPort(running.port)
      ) {
        this.answer(message.message as FromWriterThread);
      }
      if (this.inFlight.size <= count) return;
      const left = deadline - performance.now();
      if (left <= 0) {
        this.stop();
        return;
      }
      Atomics.wait(running.signals, answeredBatches, seen, Math.min(left, 50));
    }
  }

  close(): void {
    this.settle();
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    running.port.postMessage({ close: true } satisfies ToWriterThread);
    running.port.close();
  }

  private start(): Running {
    if (this.running) return this.running;
    if (this.cannotStart) throw new Error('The audit writer thread could not start.');
    const { port1, port2 } = new MessageChannel();
    const signals = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(bootstrapCode(), {
      eval: true,
      workerData: { file: this.file, port: port2, signals } satisfies WriterThreadData,
      transferList: [port2],
    });
    const running: Running = { worker, port: port1, signals };
    port1.on('message', (message: FromWriterThread) => this.answer(message));
    port1.unref();
    worker.unref();
    worker.on('error', () => {
      if (Atomics.load(signals, threadStatus) !== threadReady) this.cannotStart = true;
      if (this.running === running) this.stop();
    });
    worker.on('exit', () => {
      if (this.running === running) this.stop();
    });
    this.running = running;
    return running;
  }

  private answer(message: FromWriterThread): void {
    const handed = this.inFlight.get(message.batchNo);
    this.inFlight.delete(message.batchNo);
    if (!handed) return;
    if (message.ok) this.onWritten(handed.batch);
    else handed.onFailed(handed.batch);
  }

  /**
   * The thread is gone or stuck: every batch it has not answered goes back to its owner, to be
   * written on the owner's connection. A stuck thread is terminated first, so that it cannot
   * write them too (one that committed a batch in the instant before would leave it twice).
   */
  private stop(): void {
    const running = this.running;
    this.running = undefined;
    if (running) {
      void running.worker.terminate();
      running.port.close();
    }
    const failed = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const { batch, onFailed } of failed) onFailed(batch);
  }
}
