/**
 * A child process for the interrupted set-up tests: opens Talon on a data folder with a PIN and,
 * when told, stops the first set-up at one step, by throwing there or by killing itself with
 * SIGKILL (a crash, or the power cut, that no `finally` sees). Prints one JSON line on success.
 *
 * Usage: node --import tsx setup-step-runner.ts <dataDir> <pin> [<step> throw|kill]
 */
import { readFileSync } from 'node:fs';
import { type TalonSetUpStep, openTalon } from '../../main/cli/talon-runtime.js';

const [dataDir, pin, stopAt, how] = process.argv.slice(2) as [string, string, TalonSetUpStep?, string?];

const runtime = await openTalon({
  dataDir,
  pin,
  autoLockMinutes: 0,
  onSetUpProgress: (step) => {
    if (step !== stopAt) return;
    if (how === 'kill') process.kill(process.pid, 'SIGKILL');
    throw new Error(`interrupted at ${step}`);
  },
});
try {
  const engine = runtime.engine;
  const owner = await engine.auth.authenticate(readFileSync(runtime.ownerKeyFile, 'utf8').trim(), {
    now: runtime.now(),
  });
  const audit = engine.verifyAudit(owner);
  const setUp = engine.queryAudit(owner, { action: 'talon.setup' }).events[0];
  console.log(
    JSON.stringify({
      created: runtime.created,
      owner: owner.type,
      auditOk: audit.ok,
      restarted: setUp?.details.restarted_unfinished_set_up === true,
    }),
  );
} finally {
  await runtime.close();
}
