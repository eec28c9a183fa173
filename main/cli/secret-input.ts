import { readFileSync } from 'node:fs';
import { CliError } from './cli-error.js';

/** Everything on stdin, as text; one trailing newline dropped (what `echo` and here-strings add). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/u, '');
}

/** Asks on the terminal without echoing what is typed. */
export async function promptHidden(message: string): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new CliError('invalid_input', `${message}: no terminal to ask on. Give it with --stdin or --file.`);
  }
  const { default: password } = await import('@inquirer/password');
  return password({ message, mask: false }, { output: process.stderr });
}

export interface ValueSources {
  /** The value given as an argument: it lands in shell history, so `talon` warns. */
  argument?: string | undefined;
  stdin?: boolean;
  file?: string;
}

/**
 * A secret value from `--stdin`, `--file` or a hidden prompt; from argv only with a warning,
 * since the shell keeps it in its history and other users may see it in the process list.
 */
export async function readSecretValue(sources: ValueSources, what: string): Promise<string> {
  const given = [sources.argument !== undefined, sources.stdin === true, sources.file !== undefined].filter(
    Boolean,
  );
  if (given.length > 1) {
    throw new CliError(
      'invalid_input',
      `Give the ${what} one way only: as an argument, with --stdin or with --file.`,
    );
  }
  let value: string;
  if (sources.argument !== undefined) {
    console.error(
      `talon: warning: the ${what} was given on the command line, so your shell history (and, while this runs, the process list) holds it. Prefer --stdin, --file or the prompt.`,
    );
    value = sources.argument;
  } else if (sources.stdin) {
    value = await readStdin();
  } else if (sources.file !== undefined) {
    try {
      value = readFileSync(sources.file, 'utf8');
    } catch {
      throw new CliError('invalid_input', `Cannot read the file ${sources.file}.`);
    }
  } else {
    value = await promptHidden(`The ${what} (input hidden)`);
  }
  if (value === '') throw new CliError('invalid_input', `The ${what} is empty.`);
  return value;
}
