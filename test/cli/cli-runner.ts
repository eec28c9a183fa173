import { spawn } from 'node:child_process';
import { type Finished, repositoryRoot, talonBin } from './talon-process.js';

/** `talon <args>` as a child process, with `input` written to its stdin (then closed). */
export function runTalonWith(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [talonBin, ...args], { env, cwd: repositoryRoot });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** The JSON a `--json` command printed on stdout. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
export function jsonOf<T = any>(finished: Finished): T {
  try {
    return JSON.parse(finished.stdout) as T;
  } catch {
    throw new Error(`Not JSON (exit ${finished.code}):\n${finished.stdout}\n${finished.stderr}`);
  }
}
