#!/usr/bin/env node
// `npm start`, after the set-up step: build what is stale (the renderer, and for Electron the
// preload and the main process), then open the desktop app when an Electron binary is installed;
// otherwise run Talon headless (`talon serve`) with the same UI in browser mode and print its URL.
// Either way a new data folder leads to set-up in the UI. TALON_DATA_DIR, TALON_PORT and
// TALON_HSM_PIN / TALON_HSM_PIN_FILE work as for `talon serve`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { buildDeskIfStale, root } from './desk-build.mjs';

/** The Electron binary, found as require('electron') would, but without its download on a miss. */
function electronBinary() {
  try {
    const packageDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
    const pathFile = join(packageDir, 'path.txt');
    if (!existsSync(pathFile)) return null;
    const binary = join(
      process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(packageDir, 'dist'),
      readFileSync(pathFile, 'utf8').trim(),
    );
    return existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((latest, entry) => Math.max(latest, newest(join(path, entry))), 0);
}

/** The main process is compiled by `npm run build` (tsc) when a source is newer than its output. */
function buildMainIfStale() {
  const output = join(root, 'dist', 'main', 'electron', 'electron-main.js');
  const sources = Math.max(
    ...['main', 'hsm-bridge', 'mcp', join('renderer', 'src', 'contract')].map((dir) =>
      newest(join(root, dir)),
    ),
  );
  if (existsSync(output) && statSync(output).mtimeMs >= sources) return;
  const result = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (result.status !== 0)
    throw new Error('Building the main process failed (npm run build); see the errors above.');
}

function forward(child) {
  // Talon locks itself and seals its audit log when told to stop: pass the signal on and wait.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
}

const electron = electronBinary();
const built = buildDeskIfStale({ preload: electron !== null });
if (built.length > 0) console.log(`Built ${built.join(' and ')}.`);

if (electron) {
  buildMainIfStale();
  console.log('Opening the Talon desktop app.');
  forward(
    spawn(electron, [join(root, 'dist', 'main', 'electron', 'electron-main.js')], {
      stdio: 'inherit',
      env: { ...process.env, npm_lifecycle_event: 'start' },
    }),
  );
} else {
  console.log('No Electron binary is installed here: starting Talon headless, with its UI in your browser.');
  const talon = spawn(process.execPath, [join(root, 'bin', 'talon.mjs'), 'serve', ...process.argv.slice(2)], {
    stdio: ['inherit', 'pipe', 'inherit'],
    env: { ...process.env, npm_lifecycle_event: 'start' },
  });
  let announced = false;
  talon.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    const match = /serving on (http:\/\/\S+?)[ )]/u.exec(chunk.toString('utf8'));
    if (match && !announced) {
      announced = true;
      console.log(
        `\n  Open ${match[1]}/ in your browser to use Talon (set it up on the first run, else sign in with your PIN).\n`,
      );
    }
  });
  forward(talon);
}
