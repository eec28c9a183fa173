// What `npm start` and the end-to-end tests build before they run the desktop UI: the renderer
// (vite build into renderer/dist) and the Electron preload bundle, each only when a source file is
// newer than its output. Returns what it rebuilt.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function newestIn(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    newest = Math.max(newest, newestIn(join(path, entry)));
  }
  return newest;
}

function oldestOutput(file) {
  return existsSync(file) ? statSync(file).mtimeMs : 0;
}

function vite(args) {
  const result = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', ...args],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (result.status !== 0) throw new Error(`vite build ${args.join(' ')} failed (exit ${result.status}).`);
}

export function buildDeskIfStale({ preload = false } = {}) {
  const built = [];
  const rendererSources = Math.max(newestIn(join(root, 'renderer')), newestIn(join(root, 'vite.config.ts')));
  if (rendererSources > oldestOutput(join(root, 'renderer', 'dist', 'index.html'))) {
    vite([]);
    built.push('renderer');
  }
  if (preload) {
    const preloadSources = Math.max(
      newestIn(join(root, 'preload')),
      newestIn(join(root, 'renderer', 'src', 'contract')),
      newestIn(join(root, 'vite.preload.config.ts')),
    );
    if (preloadSources > oldestOutput(join(root, 'dist', 'electron', 'talon-preload.cjs'))) {
      vite(['--config', 'vite.preload.config.ts']);
      built.push('preload');
    }
  }
  return built;
}
