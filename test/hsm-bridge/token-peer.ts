// A second process on the same embedded token folder, driven by two-processes.test.ts over stdio.
import { createInterface } from 'node:readline';
import { KeyStore, useEmbeddedSoftHsm } from '../../hsm-bridge/index.js';

const [dataDir, tokenLabel, pin] = process.argv.slice(2) as [string, string, string];
useEmbeddedSoftHsm(dataDir);
const keyStore = KeyStore.open({ tokenLabel, sessions: 1 });
await keyStore.login(pin);

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const [command, argument = ''] = line.split(' ');
  let answer: string;
  if (command === 'wrap') answer = (await keyStore.wrapDataKey(Buffer.from(argument, 'hex'))).toString('hex');
  else if (command === 'unwrap')
    answer = (await keyStore.unwrapDataKey(Buffer.from(argument, 'hex'))).toString('hex');
  else if (command === 'generate') answer = (await keyStore.generateEcKeyPair(argument)).address;
  else if (command === 'destroy') answer = String(await keyStore.destroyKey(argument));
  else break;
  process.stdout.write(`${answer}\n`);
}
keyStore.close();
