/**
 * A second process for concurrent-writers.test.ts: opens the store, says it is ready, waits for
 * the go signal, then writes `count` versions of one secret, one transaction each, reading the
 * secret before writing as the engine does.
 *
 * Usage: tsx concurrent-version-writer.ts <file> <secret id> <writer> <count> <ready file> <go file>
 */
import fs from 'node:fs';
import { openSqliteStore } from '../../main/store/sqlite-store.js';
import { sampleVersion } from './sample-rows.js';

const [file, secretId, writer, countText, readyFile, goFile] = process.argv.slice(2);
if (!file || !secretId || !writer || !countText || !readyFile || !goFile) {
  throw new Error(
    'usage: concurrent-version-writer <file> <secret id> <writer> <count> <ready file> <go file>',
  );
}

const pause = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number) => Atomics.wait(pause, 0, 0, ms);

const store = openSqliteStore(file);
fs.writeFileSync(readyFile, '');
const giveUpAt = Date.now() + 30_000;
while (!fs.existsSync(goFile)) {
  if (Date.now() > giveUpAt) throw new Error('No go signal within 30 s.');
  sleep(2);
}

for (let i = 0; i < Number(countText); i += 1) {
  store.transaction(() => {
    // Read, then write, as the engine does: a deferred transaction would fail here under contention
    // (its read snapshot goes stale while it waits for the write lock); an immediate one waits.
    if (!store.secrets.getSecretById(secretId)) throw new Error(`No secret ${secretId}.`);
    const version = store.secrets.nextVersion(secretId, new Date().toISOString()) ?? 0;
    store.secrets.insertVersion(sampleVersion(secretId, version, { createdBy: writer }));
  });
  // Leave the lock free a moment, so the two writers interleave rather than run one after the other.
  sleep(2);
}
store.close();
