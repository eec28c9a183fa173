import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { report } from './reliability-report.js';
import { integrityCheck, storeDigest } from './store-digest.js';
import { type ChildTalon, startChildTalon } from './talon-child.js';

/**
 * Disk full while writing: `talon serve` on a small tmpfs (mounted for the test; we run as root),
 * filled up while it takes writes. Talon must answer with a clear error (507 storage_full), stay
 * up, keep everything it had acknowledged, pass `PRAGMA integrity_check`, verify its audit chain,
 * and write again once there is room. Where mounting is not allowed the scenario says so and is
 * skipped (a store opened with SQLite's `max_page_count` is the fallback, in the engine's tests).
 */

const mountPoint = mkdtempSync(join(tmpdir(), 'talon-disk-full-'));
let mounted = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m,mode=0700', 'tmpfs', mountPoint], { stdio: 'pipe' });
  mounted = true;
} catch {
  mounted = false;
}

let talon: ChildTalon;
let vaultId: string;

beforeAll(async () => {
  if (!mounted) return;
  talon = await startChildTalon({ parentDir: mountPoint });
  await talon.start();
  const vault = await talon.request('POST', '/v1/vaults', { json: { name: 'disk-full' } });
  vaultId = vault.body.id as string;
}, 120_000);

afterAll(async () => {
  await talon?.cleanup();
  if (mounted) execFileSync('umount', ['-l', mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

const freeBytes = () => {
  const stats = statfsSync(mountPoint);
  return stats.bavail * stats.bsize;
};

describe.runIf(mounted)('disk full', () => {
  it('answers a clear error when the disk fills, keeps the store intact, and writes again once there is room', async () => {
    const acknowledged = new Map<string, string>();
    for (let i = 0; i < 5; i += 1) {
      const value = `before-full-${i}-${'v'.repeat(1000)}`;
      const put = await talon.request('PUT', `/v1/vaults/${vaultId}/secrets/full/before-${i}`, {
        json: { value },
      });
      expect(put.status).toBe(201);
      acknowledged.set(`full/before-${i}`, value);
    }
    // Leave a little room, then write values of 200 KB until the disk says no.
    const filler = join(mountPoint, 'filler');
    writeFileSync(filler, Buffer.alloc(Math.max(0, freeBytes() - 600_000)));
    const freeBeforeWrites = freeBytes();
    const refusals: { status: number; code: string; detail: string }[] = [];
    let written = 0;
    for (let i = 0; i < 40 && refusals.length < 5; i += 1) {
      const value = `while-full-${i}-${'x'.repeat(200_000)}`;
      const path = `full/big-${i}`;
      const put = await talon.request('PUT', `/v1/vaults/${vaultId}/secrets/${path}`, { json: { value } });
      if (put.status === 201) {
        acknowledged.set(path, value);
        written += 1;
        continue;
      }
      refusals.push({ status: put.status, code: put.body?.code, detail: put.body?.detail });
    }
    expect(refusals.length).toBeGreaterThan(0);
    for (const refusal of refusals) {
      expect(refusal).toMatchObject({ status: 507, code: 'storage_full' });
      expect(refusal.detail).toMatch(/disk|space|full/iu);
    }
    // Reads and the audit check still work on a full disk; nothing half-written shows.
    const health = await talon.request('GET', '/v1/health', { credential: null });
    expect(health.status).toBe(200);
    for (const [path, value] of acknowledged) {
      const read = await talon.request('GET', `/v1/vaults/${vaultId}/secrets/${path}`);
      expect({ path, status: read.status, same: read.body?.value === value }).toEqual({
        path,
        status: 200,
        same: true,
      });
    }
    const listed = await talon.request('GET', `/v1/vaults/${vaultId}/secrets?limit=1000`);
    expect((listed.body.secrets as { path: string }[]).map((s) => s.path).sort()).toEqual(
      [...acknowledged.keys()].sort(),
    );
    expect(integrityCheck(talon.databaseFile)).toBe('ok');
    const digestWhileFull = storeDigest(talon.databaseFile);

    // Room again: the same Talon writes, and the chain verifies across the episode.
    rmSync(filler);
    const after = await talon.request('PUT', `/v1/vaults/${vaultId}/secrets/full/after`, {
      json: { value: 'written-after-room-came-back' },
    });
    expect(after.status).toBe(201);
    expect(storeDigest(talon.databaseFile)).not.toEqual(digestWhileFull);
    expect((await talon.request('GET', '/v1/audit/verify')).body).toMatchObject({ valid: true });
    await talon.stop();
    expect(integrityCheck(talon.databaseFile)).toBe('ok');
    expect(talon.output()).not.toMatch(/unexpected error/u);
    report('disk-full', {
      method: 'tmpfs of 6 MiB mounted for the test (mount -t tmpfs)',
      free_bytes_when_writes_began: freeBeforeWrites,
      writes_of_200kb_acknowledged: written,
      refusals: refusals.length,
      refusal: `${refusals[0]?.status} ${refusals[0]?.code}: ${refusals[0]?.detail}`,
      acknowledged_values_checked: acknowledged.size,
      integrity_check: 'ok',
      wrote_again_after_room: true,
    });
  }, 180_000);
});

describe.skipIf(mounted)('disk full (no mount allowed here)', () => {
  it('is skipped: this machine does not allow mounting a small tmpfs', () => {
    report('disk-full', { method: 'skipped: mount -t tmpfs is not permitted here' });
  });
});
