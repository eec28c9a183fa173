import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HsmError } from '../../hsm-bridge/index.js';
import { createTestToken, testPin, testTokenLabel, type TestToken } from '../fixtures/test-token.js';

let token: TestToken;
let peer: ChildProcessWithoutNullStreams;
let ask: (line: string) => Promise<string>;

beforeAll(async () => {
  token = await createTestToken();
  peer = spawn('node_modules/.bin/tsx', [
    'test/hsm-bridge/token-peer.ts',
    token.dataDir,
    testTokenLabel,
    testPin,
  ]);
  const answers = createInterface({ input: peer.stdout })[Symbol.asyncIterator]();
  ask = async (line) => {
    peer.stdin.write(`${line}\n`);
    const { value, done } = await answers.next();
    if (done) throw new Error('the peer process ended');
    return value as string;
  };
});

afterAll(() => {
  peer.stdin.end();
  token.cleanup();
});

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

it('shares keys with a second process on the same token folder', async () => {
  const { keyStore } = token;
  const dataKey = randomBytes(32);
  const peerBlob = Buffer.from(await ask(`wrap ${dataKey.toString('hex')}`), 'hex');
  expect((await keyStore.unwrapDataKey(peerBlob)).equals(dataKey)).toBe(true);
  const ourBlob = await keyStore.wrapDataKey(dataKey);
  expect(await ask(`unwrap ${ourBlob.toString('hex')}`)).toBe(dataKey.toString('hex'));
});

it('sees a key the other process creates, and finds it gone after the other process deletes it', async () => {
  const { keyStore } = token;
  const address = await ask('generate shared-signer');
  const waited = await until(() => keyStore.hasKey('shared-signer'), 5_000);
  expect(waited).toBeLessThan(5_000);
  expect((await keyStore.ecPublicKey('shared-signer')).address).toBe(address);
  await keyStore.signDigest('shared-signer', randomBytes(32)); // caches the private key handle

  expect(await ask('destroy shared-signer')).toBe('undefined');
  const error = await keyStore
    .signDigest('shared-signer', randomBytes(32))
    .catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(HsmError);
  expect((error as HsmError).kind).toBe('key_not_found');
});
