import { pino } from 'pino';
import { resolveTalonConfig } from '../../main/cli/talon-config.js';
import { openTalon, serveTalon } from '../../main/cli/talon-runtime.js';

/**
 * What `talon serve` runs, composed from the same runtime functions, but opening a new data folder
 * to wait for set-up through the UI (`awaitSetUp`) instead of refusing without a PIN. The
 * end-to-end fixture uses it only while `talon serve` itself refuses a new folder without a PIN.
 * Prints the same "serving on <url>" line and locks Talon on SIGTERM.
 */
const dataDir = process.argv[process.argv.indexOf('--data-dir') + 1];
if (!dataDir) throw new Error('usage: serve-awaiting-set-up --data-dir <folder>');
const config = resolveTalonConfig({ dataDir, port: '0' });
const runtime = await openTalon({ ...config, pin: null, awaitSetUp: true });
const serving = await serveTalon(runtime, {
  port: 0,
  logger: pino({ level: process.env.TALON_LOG_LEVEL || 'warn' }, pino.destination(2)),
});
console.log(`Talon is serving on ${serving.url} (data folder ${dataDir}).`);
process.on('SIGTERM', () => {
  void serving.stop().then(() => process.exit(0));
});
