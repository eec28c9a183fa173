#!/usr/bin/env node
// `npm start`, after the set-up step: run Talon headless (`talon serve`) on TALON_DATA_DIR (default
// ~/.local/share/talon), with the PIN from TALON_HSM_PIN or TALON_HSM_PIN_FILE. A new data folder
// is set up first when a PIN is given; without one, `talon serve` says how to give it. The desktop
// app comes later.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const talon = spawn(process.execPath, [join(root, 'bin', 'talon.mjs'), 'serve', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, npm_lifecycle_event: 'start' },
});

// Talon locks itself and seals its audit log when told to stop: pass the signal on and wait.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => talon.kill(signal));
}
talon.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
