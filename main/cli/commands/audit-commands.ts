import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import type { AuditEvent, AuditQuery } from '../../client/index.js';
import { CliError } from '../cli-error.js';
import { outputOf, when, withExamples } from '../command-output.js';
import { connect, globalFlags, resolveVault } from '../talon-connection.js';

interface FilterFlags {
  vault?: string;
  action?: string;
  actor?: string;
  outcome?: string;
  from?: string;
  to?: string;
}

function withFilters(command: Command): Command {
  return command
    .option('-v, --vault <vault>', 'only this vault (id or name)')
    .option('--action <action>', 'only this action, e.g. secret.read')
    .option('--actor <id>', 'only this user or agent id')
    .option('--outcome <outcome>', 'success, denied or error')
    .option('--from <iso>', 'from this time')
    .option('--to <iso>', 'until this time');
}

async function filterOf(command: Command, flags: FilterFlags): Promise<AuditQuery> {
  const connection = connect(globalFlags(command));
  if (flags.outcome && !['success', 'denied', 'error'].includes(flags.outcome)) {
    throw new CliError('invalid_input', '--outcome must be success, denied or error.');
  }
  return {
    ...(flags.vault ? { vault_id: await resolveVault(connection, flags.vault) } : {}),
    ...(flags.action ? { action: flags.action } : {}),
    ...(flags.actor ? { actor_id: flags.actor } : {}),
    ...(flags.outcome ? { outcome: flags.outcome as AuditQuery['outcome'] } : {}),
    ...(flags.from ? { from: flags.from } : {}),
    ...(flags.to ? { to: flags.to } : {}),
  };
}

function csvCell(value: unknown): string {
  const text =
    value === null || value === undefined
      ? ''
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  return /[",\n\r]/u.test(text) ? `"${text.replace(/"/gu, '""')}"` : text;
}

const csvColumns = [
  'id',
  'seq',
  'created_at',
  'action',
  'outcome',
  'actor_type',
  'actor_id',
  'vault_id',
  'resource_type',
  'resource_id',
  'path',
  'ip_address',
  'details',
] as const;

/** `audit list|verify|export`. */
export function registerAuditCommands(program: Command): void {
  const audit = program
    .command('audit')
    .description('the audit log: every access, change, denial and approval, chained so tampering shows');

  withExamples(
    withFilters(audit.command('list').alias('ls').description('entries, newest first'))
      .option('--limit <n>', 'at most this many (default 50, up to 1000)', '50')
      .option('--offset <n>', 'skip this many', '0')
      .action(async (flags: FilterFlags & { limit: string; offset: string }, command: Command) => {
        const out = outputOf(command);
        const filter = await filterOf(command, flags);
        const result = await connect(globalFlags(command)).client.audit.query({
          ...filter,
          limit: Number(flags.limit),
          offset: Number(flags.offset),
        });
        out.result(result, () => {
          out.table(
            ['time', 'action', 'outcome', 'actor', 'path'],
            result.events.map((e) => [
              when(e.created_at),
              e.action,
              e.outcome,
              `${e.actor_type} ${e.actor_id ?? ''}`.trim(),
              e.path,
            ]),
          );
          console.log(`${result.events.length} of ${result.count}`);
        });
      }),
    ['talon audit list', 'talon audit list --action secret.read --outcome denied --limit 20'],
  );

  withExamples(
    audit
      .command('verify')
      .description('check the chain of every entry: exits 12 when an entry was changed, removed or reordered')
      .action(async (_flags, command: Command) => {
        const out = outputOf(command);
        const result = await connect(globalFlags(command)).client.audit.verify();
        out.result(result, () =>
          console.log(
            result.valid
              ? `The audit chain is intact (${result.checked} entries checked).`
              : `The audit chain is BROKEN at entry ${result.broken_at}: ${result.reason}`,
          ),
        );
        if (!result.valid)
          throw new CliError('integrity', `The audit chain is broken at entry ${result.broken_at}.`);
      }),
    ['talon audit verify'],
  );

  withExamples(
    withFilters(
      audit.command('export').description('every matching entry (newest first) as JSON lines, JSON or CSV'),
    )
      .option('-f, --format <format>', 'ndjson, json or csv', 'ndjson')
      .option('-o, --output <file>', 'write to a file (default stdout)')
      .action(async (flags: FilterFlags & { format: string; output?: string }, command: Command) => {
        // --json with no --format asks for one JSON document.
        if (globalFlags(command).json && command.getOptionValueSource('format') === 'default')
          flags.format = 'json';
        if (!['ndjson', 'json', 'csv'].includes(flags.format))
          throw new CliError('invalid_input', '--format must be ndjson, json or csv.');
        const filter = await filterOf(command, flags);
        const { client } = connect(globalFlags(command));
        const sink = flags.output ? createWriteStream(flags.output, { mode: 0o600 }) : process.stdout;
        const write = (text: string) =>
          new Promise<void>((done) => (sink.write(text) ? done() : sink.once('drain', () => done())));
        const all: AuditEvent[] = [];
        let written = 0;
        if (flags.format === 'csv') await write(`${csvColumns.join(',')}\n`);
        for (let offset = 0; ;) {
          const page = await client.audit.query({ ...filter, limit: 1000, offset });
          for (const event of page.events) {
            if (flags.format === 'ndjson') await write(`${JSON.stringify(event)}\n`);
            else if (flags.format === 'csv')
              await write(`${csvColumns.map((c) => csvCell(event[c])).join(',')}\n`);
            else all.push(event);
          }
          written += page.events.length;
          offset += page.events.length;
          if (page.events.length === 0 || offset >= page.count) break;
        }
        if (flags.format === 'json')
          await write(`${JSON.stringify({ events: all, count: all.length }, null, 2)}\n`);
        if (flags.output) {
          await new Promise<void>((done) => (sink as ReturnType<typeof createWriteStream>).end(done));
          console.error(`Exported ${written} entries to ${flags.output}.`);
        }
      }),
    [
      'talon audit export -o audit.ndjson',
      'talon audit export --format csv --from 2026-11-01T00:00:00Z > november.csv',
    ],
  );
}
