import { existsSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { TalonClientError } from '../client/index.js';
import { TalonError } from '../engine/talon-error.js';
import { type TalonConfig, type TalonFlags, resolveTalonConfig } from './talon-config.js';
import type { TalonRuntime } from './talon-runtime.js';
import { talonVersion } from './talon-version.js';
import { CliError } from './cli-error.js';
import { withExamples } from './command-output.js';
import { exitCodeFor, exitCodeHelp } from './exit-codes.js';
import { registerCommandGroups } from './command-groups.js';

/**
 * `talon`, the command line. `init` sets up a data folder; `serve` runs Talon headless. Both read
 * the names DESIGN fixes (TALON_DATA_DIR, TALON_HSM_PIN / TALON_HSM_PIN_FILE, TALON_PKCS11_MODULE,
 * TALON_TOKEN_LABEL, TALON_PORT). Messages say where things are, never a key or a PIN.
 */

// Every file Talon writes (database, journal, lock, owner key) is readable by its owner only.
process.umask(0o077);

// `talon … | head` closes stdout early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

/** How the human started Talon, for the examples in messages. */
const serveCommand = process.env.npm_lifecycle_event === 'start' ? 'npm start' : 'talon serve';

/** The configuration; the PIN then leaves the environment, so no child process inherits it. */
function configFrom(flags: TalonFlags): TalonConfig {
  const config = resolveTalonConfig(flags);
  delete process.env.TALON_HSM_PIN;
  return config;
}

function reportSetUp(runtime: TalonRuntime): void {
  if (runtime.created.token) console.log(`Created the embedded SoftHSM2 token in ${runtime.dataDir}.`);
  if (runtime.created.owner) {
    console.log(`Talon is set up in ${runtime.dataDir}.`);
    console.log(
      `The owner's personal API key is in ${runtime.ownerKeyFile} (readable only by you). Use it as ONECLAW_API_KEY:`,
    );
    console.log(`  export ONECLAW_API_KEY="$(cat '${runtime.ownerKeyFile}')"`);
  }
}

async function init(flags: TalonFlags): Promise<void> {
  const config = configFrom(flags);
  if (config.pin === null) {
    throw new TalonError(
      'invalid_input',
      'talon init needs the token PIN: give it in TALON_HSM_PIN (TALON_HSM_PIN=… talon init), or write it to a file only you can read (chmod 600) and give that with --pin-file or TALON_HSM_PIN_FILE.',
    );
  }
  const { openTalon } = await import('./talon-runtime.js');
  const runtime = await openTalon({ ...config, setUpCommand: 'talon init' });
  try {
    reportSetUp(runtime);
    if (!runtime.created.owner) {
      console.log(`Talon is already set up in ${config.dataDir}; nothing was changed.`);
      if (existsSync(runtime.ownerKeyFile)) {
        console.log(`The owner's first personal API key was written to ${runtime.ownerKeyFile} at set-up.`);
      }
    }
  } finally {
    await runtime.close();
  }
}

async function serve(flags: TalonFlags): Promise<void> {
  const config = configFrom(flags);
  // The token, the engine and the server load only once the configuration is known to be good.
  const [{ openTalon, serveTalon }, { pino }] = await Promise.all([
    import('./talon-runtime.js'),
    import('pino'),
  ]);
  // A new folder without a PIN is served anyway, so that the UI (or POST /v1/talon/setup) can set it up.
  const runtime = await openTalon({ ...config, setUpCommand: serveCommand, awaitSetUp: true });
  reportSetUp(runtime);
  const logger = pino({ level: process.env.TALON_LOG_LEVEL || 'info' }, pino.destination(2));
  let serving;
  try {
    serving = await serveTalon(runtime, {
      port: config.port,
      logger,
      rateLimit: { max: config.rateLimitPerMinute },
    });
  } catch (error) {
    await runtime.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new TalonError(
        'conflict',
        `Port ${config.port} is already in use on 127.0.0.1. Give another with TALON_PORT or --port.`,
      );
    }
    throw error;
  }
  const lines = [`Talon is serving on ${serving.url} (data folder ${config.dataDir}).`];
  if (!runtime.engine.lifecycle.isSetUp) {
    lines.push(
      `Talon is not set up yet: open ${serving.url} to choose the token PIN, or stop it and run TALON_HSM_PIN=… ${serveCommand} (or TALON_HSM_PIN_FILE / --pin-file with a file only you can read).`,
    );
  } else if (!runtime.engine.isUnlocked) {
    lines.push(
      `Talon is locked: no token PIN was given. Unlock it by signing in at ${serving.url}, with \`talon unlock\`, or by starting it again with TALON_HSM_PIN=… ${serveCommand} (or TALON_HSM_PIN_FILE / --pin-file pointing at a file only you can read).`,
    );
  }
  console.log(lines.join('\n'));
  // A second signal (a terminal's Ctrl-C reaches `npm start` and Talon both) must not cut the lock short.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: locking Talon and stopping.`);
    serving.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`talon: could not stop cleanly: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

const program = new Command('talon')
  .description(
    "Talon: a secret manager for AI agents whose keys live in a hardware token (1Claw's interface).",
  )
  // Only -V: `--version` after a command is that command's (`talon secret get --version 2`).
  .version(talonVersion(), '-V', 'print the version (also --version, before any command)')
  .option('--json', 'answer in JSON on stdout (errors as JSON on stderr)')
  .option('--url <url>', 'Talon to talk to (default ONECLAW_BASE_URL, else http://127.0.0.1:7417)')
  .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
  .addHelpText(
    'after',
    `\nCredentials: talon login or talon unlock keep a session; or set ONECLAW_API_KEY (1ck_…), ONECLAW_TOKEN,\nor ONECLAW_AGENT_API_KEY (+ ONECLAW_AGENT_ID) for an agent.\n\n${exitCodeHelp}\n`,
  )
  // Usage errors and --help come back as exceptions, so the exit code is decided in one place.
  .exitOverride();

const dataDirHelp = 'data folder (default TALON_DATA_DIR, else ~/.local/share/talon)';
const pinFileHelp =
  'file holding the token PIN, readable only by you (default TALON_HSM_PIN, else TALON_HSM_PIN_FILE)';

withExamples(
  program
    .command('init')
    .description(
      "set up a data folder: the embedded token, its keys, and the owner, whose first API key goes to 'owner-api-key' in the folder",
    )
    .option('--data-dir <dir>', dataDirHelp)
    .option('--pin-file <file>', pinFileHelp)
    .action((flags: TalonFlags) => init(flags)),
  [
    'TALON_HSM_PIN_FILE=~/.talon-pin talon init',
    'talon init --data-dir /srv/talon --pin-file /srv/talon-pin',
  ],
);

withExamples(
  program
    .command('serve')
    .description(
      'run Talon headless: the local API on 127.0.0.1 (setting the folder up first when it is new and a PIN is given)',
    )
    .option('--data-dir <dir>', dataDirHelp)
    .option('--pin-file <file>', pinFileHelp)
    .option('--port <port>', 'port of the local API (default TALON_PORT, else 7417)')
    .action((flags: TalonFlags) => serve(flags)),
  ['talon serve', 'TALON_HSM_PIN_FILE=~/.talon-pin talon serve --port 7500'],
);

/** What failed, and the exit code its Talon error code maps to (see exit-codes.ts). */
function failure(error: unknown): { code: string; status?: number; message: string } {
  if (error instanceof CommanderError)
    return { code: 'usage', message: error.message.replace(/^error: /u, '') };
  if (error instanceof TalonClientError)
    return { code: error.code, status: error.status, message: error.detail };
  if (error instanceof CliError || error instanceof TalonError)
    return { code: error.code, message: error.message };
  return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
}

if (process.argv[2] === '--version') {
  console.log(talonVersion());
  process.exit(0);
}

await registerCommandGroups(program, process.argv.slice(2));

program.parseAsync(process.argv).catch((error: unknown) => {
  if (
    error instanceof CommanderError &&
    ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)
  ) {
    process.exitCode = 0;
    return;
  }
  const { code, status, message } = failure(error);
  // Commander printed its own usage message already.
  if (!(error instanceof CommanderError)) {
    if (process.argv.includes('--json')) {
      console.error(JSON.stringify({ error: { code, message, ...(status ? { status } : {}) } }));
    } else {
      console.error(`talon: ${message}`);
    }
  }
  process.exitCode = exitCodeFor(code);
});
