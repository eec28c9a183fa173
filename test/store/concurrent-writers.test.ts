import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../main/store/sqlite-store.js';
import { sampleSecret, sampleVault } from './sample-rows.js';
import { makeTemporaryFolder } from './temporary-store.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = path.resolve(here, '../../node_modules/.bin/tsx');
const writerScript = path.join(here, 'concurrent-version-writer.ts');

function runWriter(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, [writerScript, ...args], { stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`writer ${args[2]} exited with ${code}: ${stderr}`)),
    );
  });
}

async function waitForFiles(files: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!files.every((file) => fs.existsSync(file))) {
    if (Date.now() > deadline) throw new Error(`Writers not ready after ${timeoutMs} ms.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('concurrent writers in two processes', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  it('get versions 1..400 of one secret, each exactly once', async () => {
    const temporary = makeTemporaryFolder();
    const file = path.join(temporary.folder, 'talon.db');
    const store = openSqliteStore(file);
    cleanup = () => {
      store.close();
      temporary.remove();
    };
    const vault = sampleVault();
    const secret = sampleSecret(vault.id);
    store.vaults.insert(vault);
    store.secrets.insertSecret(secret);

    const goFile = path.join(temporary.folder, 'go');
    const writers = ['writer-a', 'writer-b'];
    const readyFiles = writers.map((writer) => path.join(temporary.folder, `${writer}.ready`));
    const finished = writers.map((writer, i) =>
      runWriter([file, secret.id, writer, '200', readyFiles[i] ?? '', goFile]),
    );
    await Promise.race([waitForFiles(readyFiles, 20_000), Promise.all(finished)]);
    fs.writeFileSync(goFile, '');
    await Promise.all(finished);

    const versions = store.secrets.listVersions(secret.id);
    expect(versions.map((version) => version.version)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(store.secrets.getSecretById(secret.id)?.currentVersion).toBe(400);
    for (const writer of writers) {
      expect(versions.filter((version) => version.createdBy === writer)).toHaveLength(200);
    }
    // How often the writers took turns: 1 would mean one ran entirely after the other.
    const turns = versions.filter(
      (version, i) => i > 0 && version.createdBy !== versions[i - 1]?.createdBy,
    ).length;
    console.log(`two writers took turns ${turns} times over 400 versions`);
    expect(turns).toBeGreaterThan(1);
  }, 60_000);
});
