import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../main/store/sqlite-store.js';
import type { VaultRow } from '../../main/store/store.js';
import { sampleSecret, sampleVault } from './sample-rows.js';
import { openTemporaryStore } from './temporary-store.js';

const secretCount = 100_000;

/** Median time of `runs` calls, in milliseconds. */
function medianMs(runs: number, fn: () => unknown): number {
  const times = Array.from({ length: runs }, () => {
    const start = performance.now();
    fn();
    return performance.now() - start;
  }).sort((a, b) => a - b);
  return times[Math.floor(runs / 2)] ?? Number.NaN;
}

describe(`listing a vault of ${secretCount.toLocaleString('en')} secrets`, () => {
  let store: SqliteStore;
  let dispose: () => void;
  let vault: VaultRow;
  const pathAt = (i: number) =>
    `service-${String(i % 100).padStart(3, '0')}/key-${String(i).padStart(6, '0')}`;
  beforeAll(() => {
    ({ store, dispose } = openTemporaryStore());
    vault = sampleVault();
    store.vaults.insert(vault);
    store.transaction(() => {
      for (let i = 0; i < secretCount; i += 1)
        store.secrets.insertSecret(sampleSecret(vault.id, { path: pathAt(i) }));
    });
  }, 120_000);
  afterAll(() => dispose());

  it('reads a page from deep in the vault, or a narrow prefix, in a small fraction of a full pass', () => {
    const lastService = store.secrets.listSecrets(vault.id, { prefix: 'service-099/', limit: 2000 });
    expect(lastService).toHaveLength(1000);
    const deepCursor = lastService[500]?.path;

    // A full pass over the vault's rows: what a LIKE or a missing index would cost on every page.
    const fullPass = medianMs(9, () => store.secrets.countSecrets(vault.id));
    const deepPage = medianMs(9, () =>
      store.secrets.listSecrets(vault.id, { after: deepCursor, limit: 100 }),
    );
    const narrowPrefix = medianMs(9, () =>
      store.secrets.listSecrets(vault.id, { prefix: 'service-099/key-0999', limit: 100 }),
    );
    console.log(
      `full pass ${fullPass.toFixed(2)} ms; deep page ${deepPage.toFixed(3)} ms ` +
        `(${(fullPass / deepPage).toFixed(0)}x faster); narrow prefix ${narrowPrefix.toFixed(3)} ms ` +
        `(${(fullPass / narrowPrefix).toFixed(0)}x faster)`,
    );
    expect(deepPage * 10).toBeLessThan(fullPass);
    expect(narrowPrefix * 10).toBeLessThan(fullPass);
  });
});
