import type { MessagePort } from 'node:worker_threads';
import type { AuditBatchData } from './audit-batch.js';

/** What the audit writer thread is started with. */
export interface WriterThreadData {
  file: string;
  port: MessagePort;
  /** Int32Array over a SharedArrayBuffer, for the owner's blocking wait: see the indices below. */
  signals: Int32Array;
}

/** `signals[answeredBatches]`: how many batches the thread has answered. */
export const answeredBatches = 0;
/** `signals[threadStatus]`: 0 while starting, `threadReady` once it can write, `threadFailed` if it could not start. */
export const threadStatus = 1;
export const threadReady = 1;
export const threadFailed = -1;

export type ToWriterThread =
  { batchNo: number; batch: AuditBatchData; chainKey: Uint8Array } | { close: true };
/** Whether the batch was written; a batch not written is given back to its owner whole. */
export type FromWriterThread = { batchNo: number; ok: boolean };
