import { createRequire } from 'node:module';
import type TableType from 'cli-table3';
import type { Command } from 'commander';

/**
 * What a command prints: with `--json` the answer as JSON on stdout (one document, stable field
 * names: the `/v1` shapes), otherwise text and tables for people. Messages about what happened
 * go to stderr in JSON mode, so stdout stays parseable.
 */
export interface Output {
  json: boolean;
  /** The answer: JSON, or what `human` prints. */
  result(value: unknown, human: () => void): void;
  /** A line for people (stderr under --json). */
  note(text: string): void;
  table(head: string[], rows: (string | number | boolean | null | undefined)[][]): void;
  /** Key/value lines. */
  fields(entries: [string, unknown][]): void;
}

export function outputOf(command: Command): Output {
  const json = command.optsWithGlobals<{ json?: boolean }>().json === true;
  return {
    json,
    result(value, human) {
      if (json) process.stdout.write(`${JSON.stringify(value ?? null, null, 2)}\n`);
      else human();
    },
    note(text) {
      if (json) console.error(text);
      else console.log(text);
    },
    table(head, rows) {
      if (rows.length === 0) {
        console.log('(none)');
        return;
      }
      // Loaded when a table is printed, not by every command.
      const Table = createRequire(import.meta.url)('cli-table3') as typeof TableType;
      const table = new Table({ head, style: { head: [], border: [] } });
      for (const row of rows)
        table.push(row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))));
      console.log(table.toString());
    },
    fields(entries) {
      const width = Math.max(...entries.map(([key]) => key.length));
      for (const [key, value] of entries) {
        if (value === undefined) continue;
        const text = value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
        console.log(`${`${key}:`.padEnd(width + 2)}${text}`);
      }
    },
  };
}

/** `Examples:` after a command's help. */
export function withExamples(command: Command, examples: string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${examples.map((line) => `  $ ${line}`).join('\n')}\n`);
}

/** A short date for tables: `2026-11-29 04:21`. */
export function when(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').slice(0, 16) : '';
}
