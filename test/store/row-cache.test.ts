import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { otherConnectionsSeenWithinMs } from '../../main/store/row-cache.js';
import { type SqliteStore, openSqliteStore } from '../../main/store/sqlite-store.js';
import {
  sampleAgent,
  sampleApiKey,
  samplePolicy,
  sampleSecret,
  sampleVault,
  sampleVersion,
} from './sample-rows.js';
import { makeTemporaryFolder } from './temporary-store.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = path.resolve(here, '../../node_modules/.bin/tsx');
const writerScript = path.join(here, 'concurrent-version-writer.ts');

/** Long enough for the cache to read `data_version` again. */
const pastStaleness = () => new Promise((resolve) => setTimeout(resolve, otherConnectionsSeenWithinMs + 2));

let cleanup: () => void = () => {};
afterEach(() => cleanup());

/** Two connections on one database file, as Talon and an offline tool (or a second process) would have. */
function twoConnections(): { owner: SqliteStore; other: SqliteStore; file: string; folder: string } {
  const temporary = makeTemporaryFolder();
  const file = path.join(temporary.folder, 'talon.db');
  const owner = openSqliteStore(file);
  const other = openSqliteStore(file);
  cleanup = () => {
    other.close();
    owner.close();
    temporary.remove();
  };
  return { owner, other, file, folder: temporary.folder };
}

describe('the row cache of the SQLite store', () => {
  it("sees its own writes at once, and another connection's writes on the next lookup", async () => {
    const { owner, other } = twoConnections();
    const vault = sampleVault();
    owner.vaults.insert(vault);
    const secret = sampleSecret(vault.id);
    owner.secrets.insertSecret(secret);
    owner.secrets.insertVersion(sampleVersion(secret.id, 1));
    owner.secrets.setCurrentVersion(secret.id, 1, secret.updatedAt);
    // Warm: each row read twice, so the second read comes from memory.
    for (let i = 0; i < 2; i += 1) {
      expect(owner.vaults.get(vault.id)?.strictMode).toBe(false);
      expect(owner.secrets.getSecretByPath(vault.id, secret.path)?.currentVersion).toBe(1);
      expect(owner.secrets.getVersion(secret.id, 1)?.disabledAt).toBeNull();
    }

    // Own writes, outside and inside transactions.
    owner.vaults.update({ id: vault.id, name: 'renamed', description: 'mine' });
    expect(owner.vaults.get(vault.id)?.name).toBe('renamed');
    expect(owner.secrets.incrementAccessCount(secret.id)).toBe(1);
    expect(owner.secrets.getSecretByPath(vault.id, secret.path)?.accessCount).toBe(1);
    expect(owner.secrets.addAccessCount(secret.id, 5)).toBe(6);
    expect(owner.secrets.getSecretById(secret.id)?.accessCount).toBe(6);
    owner.transaction(() => owner.secrets.disableVersion(secret.id, 1, '2026-02-01T00:00:00.000Z'));
    expect(owner.secrets.getVersion(secret.id, 1)?.disabledAt).toBe('2026-02-01T00:00:00.000Z');

    // Another connection's writes.
    other.vaults.setStrictMode(vault.id, true);
    other.secrets.softDelete(secret.id, '2026-03-01T00:00:00.000Z');
    await pastStaleness();
    expect(owner.vaults.get(vault.id)?.strictMode).toBe(true);
    expect(owner.secrets.getSecretByPath(vault.id, secret.path)?.deletedAt).toBe('2026-03-01T00:00:00.000Z');
    // ... and a purge there: the cached path no longer leads to a row.
    other.secrets.purge(secret.id);
    await pastStaleness();
    expect(owner.secrets.getSecretByPath(vault.id, secret.path)).toBeUndefined();
    expect(owner.secrets.getVersion(secret.id, 1)).toBeUndefined();
  });

  it('forgets what a rolled-back transaction wrote, and keeps rows shared but frozen', () => {
    const { owner } = twoConnections();
    const vault = sampleVault();
    owner.vaults.insert(vault);
    const secret = sampleSecret(vault.id);
    owner.secrets.insertSecret(secret);
    expect(owner.secrets.getSecretById(secret.id)?.accessCount).toBe(0);
    expect(() =>
      owner.transaction(() => {
        owner.secrets.incrementAccessCount(secret.id);
        expect(owner.secrets.getSecretById(secret.id)?.accessCount).toBe(1);
        throw new Error('roll back');
      }),
    ).toThrow('roll back');
    const row = owner.secrets.getSecretById(secret.id)!;
    expect(row.accessCount).toBe(0);
    expect(Object.isFrozen(row)).toBe(true);
    expect(() => {
      (row as { accessCount: number }).accessCount = 99;
    }).toThrow(TypeError);
    expect(owner.secrets.getSecretById(secret.id)?.accessCount).toBe(0);
  });

  it('drops cascaded rows: a deleted vault takes its cached secrets and policies along', () => {
    const { owner } = twoConnections();
    const vault = sampleVault();
    owner.vaults.insert(vault);
    const secret = sampleSecret(vault.id);
    owner.secrets.insertSecret(secret);
    const agent = sampleAgent();
    owner.agents.insert(agent);
    owner.policies.insert(samplePolicy(vault.id, { principalType: 'agent', principalId: agent.id }));
    expect(owner.secrets.getSecretByPath(vault.id, secret.path)).toBeDefined();
    expect(owner.policies.listForPrincipal(vault.id, 'agent', agent.id)).toHaveLength(1);
    owner.vaults.delete(vault.id);
    expect(owner.vaults.get(vault.id)).toBeUndefined();
    expect(owner.secrets.getSecretByPath(vault.id, secret.path)).toBeUndefined();
    expect(owner.secrets.getSecretById(secret.id)).toBeUndefined();
    expect(owner.policies.listForPrincipal(vault.id, 'agent', agent.id)).toEqual([]);
  });

  it('sees a key revoked, an agent deactivated and a policy removed by another connection', async () => {
    const { owner, other } = twoConnections();
    const vault = sampleVault();
    owner.vaults.insert(vault);
    const agent = sampleAgent();
    owner.agents.insert(agent);
    const key = sampleApiKey({ principalType: 'agent', principalId: agent.id });
    owner.apiKeys.insert(key);
    const policy = samplePolicy(vault.id, { principalType: 'agent', principalId: agent.id });
    owner.policies.insert(policy);
    for (let i = 0; i < 2; i += 1) {
      expect(owner.apiKeys.findByHash(key.keyHash)?.revokedAt).toBeNull();
      expect(owner.agents.get(agent.id)?.isActive).toBe(true);
      expect(owner.policies.listForPrincipal(vault.id, 'agent', agent.id)).toHaveLength(1);
    }
    other.apiKeys.revoke(key.id, '2026-04-01T00:00:00.000Z');
    other.agents.update({ ...agent, isActive: false });
    other.policies.delete(policy.id);
    await pastStaleness();
    expect(owner.apiKeys.findByHash(key.keyHash)?.revokedAt).toBe('2026-04-01T00:00:00.000Z');
    expect(owner.agents.get(agent.id)?.isActive).toBe(false);
    expect(owner.policies.listForPrincipal(vault.id, 'agent', agent.id)).toEqual([]);
  });

  it('with a warm cache, writers in two other processes still get versions 1..200, and the owner sees the last', async () => {
    const { owner, file, folder } = twoConnections();
    const vault = sampleVault();
    const secret = sampleSecret(vault.id);
    owner.vaults.insert(vault);
    owner.secrets.insertSecret(secret);
    expect(owner.secrets.getSecretById(secret.id)?.currentVersion).toBe(0);
    expect(owner.secrets.getSecretByPath(vault.id, secret.path)?.currentVersion).toBe(0);

    const goFile = path.join(folder, 'go');
    const writers = ['writer-a', 'writer-b'];
    const readyFiles = writers.map((writer) => path.join(folder, `${writer}.ready`));
    const finished = writers.map(
      (writer, i) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(tsx, [writerScript, file, secret.id, writer, '100', readyFiles[i]!, goFile], {
            stdio: ['ignore', 'ignore', 'pipe'],
          });
          let stderr = '';
          child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          child.on('error', reject);
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${writer}: ${stderr}`))));
        }),
    );
    const deadline = Date.now() + 20_000;
    while (!readyFiles.every((ready) => fs.existsSync(ready)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    fs.writeFileSync(goFile, '');
    // The owner keeps reading while they write: its cache must never hide their versions for long.
    let reads = 0;
    const settled = Promise.all(finished);
    let done = false;
    void settled.finally(() => (done = true));
    while (!done) {
      expect(owner.secrets.getSecretById(secret.id)!.currentVersion).toBeLessThanOrEqual(200);
      reads += 1;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await settled;
    await pastStaleness();
    expect(reads).toBeGreaterThan(0);
    expect(owner.secrets.getSecretById(secret.id)?.currentVersion).toBe(200);
    expect(owner.secrets.getSecretByPath(vault.id, secret.path)?.currentVersion).toBe(200);
    expect(owner.secrets.listVersions(secret.id).map((row) => row.version)).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
  });
});
