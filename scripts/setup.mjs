#!/usr/bin/env node
// The idempotent set-up step that `npm start`, `npm test` and `npm run bench` run first.
// Plain JavaScript on purpose: it runs before node_modules exists.
//
//   node scripts/setup.mjs --run    system packages to run Talon, then npm dependencies
//   node scripts/setup.mjs --test   the same plus what the tests need (Chromium, Xvfb)
//
// When everything is in place it only stats a few files and exits (well under a second).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const forTests = process.argv.includes('--test');

/** What Talon needs from the system, each found by a file it installs. */
const systemNeeds = [
  {
    apt: 'softhsm2',
    brew: 'softhsm',
    file: '/usr/lib/softhsm/libsofthsm2.so',
    why: 'the embedded PKCS#11 token',
  },
  { apt: 'build-essential', file: '/usr/bin/make', why: 'compiling better-sqlite3 and pkcs11js' },
  { apt: 'python3', file: '/usr/bin/python3', why: 'node-gyp' },
  ...(forTests
    ? [
        { apt: 'chromium', file: '/usr/bin/chromium', why: 'end-to-end tests of the UI' },
        { apt: 'xvfb', file: '/usr/bin/xvfb-run', why: 'headed browser and Electron tests' },
        { apt: 'opensc', file: '/usr/bin/pkcs11-tool', why: 'token inspection in tests' },
        { apt: 'openssl', file: '/usr/bin/openssl', why: 'the test CA of the http_request tests' },
        { apt: 'openssh-client', file: '/usr/bin/ssh-keygen', why: 'SSH key fingerprints in the UI tests' },
      ]
    : []),
];

function say(message) {
  process.stderr.write(`talon setup: ${message}\n`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  return result.status === 0;
}

function installSystemPackages() {
  const missing = systemNeeds.filter((need) => !existsSync(need.file));
  if (missing.length === 0) return;
  const names = missing.map((need) => need.apt);
  const list = missing.map((need) => `  ${need.apt} (${need.why})`).join('\n');
  if (process.platform === 'darwin') {
    const brew = missing.filter((need) => need.brew).map((need) => need.brew);
    if (brew.length > 0) {
      say(`missing system packages:\n${list}\nInstall them with:\n  brew install ${brew.join(' ')}`);
      process.exit(1);
    }
    return;
  }
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) {
    say(
      `missing system packages:\n${list}\nInstall them with your system's package manager, then run this again.`,
    );
    process.exit(1);
  }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasSudo = !isRoot && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${names.join(' ')}`;
  if (!isRoot && !hasSudo) {
    say(`missing system packages:\n${list}\nInstall them with:\n  sudo sh -c '${command}'`);
    process.exit(1);
  }
  say(`installing system packages: ${names.join(', ')}`);
  const aptGet = (...args) =>
    isRoot ? run('apt-get', args, { env: aptEnv }) : run('sudo', ['-n', 'apt-get', ...args], { env: aptEnv });
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const ok = aptGet('update', '-qq') && aptGet('install', '-y', '-qq', '--no-install-recommends', ...names);
  if (!ok) {
    say(`apt-get failed. Run it yourself:\n  sudo sh -c '${command}'`);
    process.exit(1);
  }
}

/** node_modules is current when the stamp written after the last install matches the lock file. */
function installNodeModules() {
  const lock = join(root, 'package-lock.json');
  const stamp = join(root, 'node_modules', '.talon-install-stamp');
  const lockHash = createHash('sha256').update(readFileSync(lock)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === lockHash) return;
  say(
    'installing npm dependencies (npm ci; better-sqlite3 and pkcs11js compile from source, about two minutes)',
  );
  const env = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' };
  if (!run('npm', ['ci', '--no-audit', '--no-fund'], { env })) {
    say('npm ci failed; see the output above.');
    process.exit(1);
  }
  fetchElectronBinary();
  writeFileSync(stamp, `${lockHash}\n`);
}

/** Best effort: on a machine with internet this makes `npm start` open the desktop window. */
function fetchElectronBinary() {
  const installer = join(root, 'node_modules', 'electron', 'install.js');
  if (!existsSync(installer)) return;
  const result = spawnSync(process.execPath, [installer], {
    cwd: dirname(installer),
    stdio: 'ignore',
    timeout: 120_000,
  });
  if (result.status !== 0) {
    say('the Electron binary could not be downloaded; Talon will run headless with its UI in the browser.');
  }
}

installSystemPackages();
installNodeModules();
