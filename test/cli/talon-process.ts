import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Runs `talon` (bin/talon.mjs, as npm's bin would) or another script of the repository as a child process. */
export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const talonBin = join(repositoryRoot, 'bin', 'talon.mjs');

export const cliPin = 'cli-test-pin-2718';

/** The environment without any TALON_ or ONECLAW_ setting of the machine running the tests. */
export function cleanEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(TALON_|ONECLAW_|SOFTHSM2_CONF$|npm_)/u.test(name)) env[name] = value;
  }
  return { ...env, TALON_LOG_LEVEL: 'warn', ...extra };
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env, cwd: repositoryRoot });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export const runTalon = (args: string[], env: NodeJS.ProcessEnv) => runScript(talonBin, args, env);

export interface ServingProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Sends `signal` and resolves with the exit code and all output. */
  stop(signal?: NodeJS.Signals): Promise<Finished>;
}

/** Starts `talon serve --port 0` and waits for the line that gives its URL. */
export function startServe(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<ServingProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [talonBin, 'serve', '--port', '0', ...args], {
      env,
      cwd: repositoryRoot,
    });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<Finished>((done) =>
      child.on('close', (code) => done({ code, stdout, stderr })),
    );
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`talon serve did not start in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const match = /serving on (http:\/\/127\.0\.0\.1:\d+)/u.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1]!,
          output: () => stdout + stderr,
          stop(signal = 'SIGTERM') {
            child.kill(signal);
            return exited;
          },
        });
      }
    });
    void exited.then((finished) => {
      clearTimeout(timer);
      reject(new Error(`talon serve exited with ${finished.code}:\n${finished.stdout}\n${finished.stderr}`));
    });
  });
}
