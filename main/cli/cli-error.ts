import { exitCodeFor } from './exit-codes.js';

/** A failure of the CLI itself (not of a `/v1` call), with the Talon error code it exits with. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }

  get exitCode(): number {
    return exitCodeFor(this.code);
  }
}
