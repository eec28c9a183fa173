#!/usr/bin/env node
// `npm start`, after the set-up step: open the desktop app where an Electron binary exists,
// else run Talon headless with its UI in the browser. Neither is built yet: the foundation
// (the PKCS#11 key store) is, and `npm test` / `npm run bench` exercise it.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const hasElectron = existsSync(join(root, 'node_modules', 'electron', 'dist'));
process.stdout.write(
  [
    'Talon: the set-up is complete (SoftHSM2 and npm dependencies are in place).',
    hasElectron
      ? 'An Electron binary is present.'
      : 'No Electron binary is present: Talon will run headless.',
    'The app itself is not built yet: the vault engine, local API, MCP server and desktop UI land in later issues.',
    'What works today: the hardware-token layer. Try `npm test` and `npm run bench`.',
    '',
  ].join('\n'),
);
