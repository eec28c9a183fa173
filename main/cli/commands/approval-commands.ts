import type { Command } from 'commander';
import type { Approval } from '../../client/index.js';
import { CliError } from '../cli-error.js';
import { outputOf, when, withExamples } from '../command-output.js';
import { connect, globalFlags } from '../talon-connection.js';

function summaryText(approval: Approval): string {
  const summary = approval.summary;
  if (typeof summary === 'string') return summary;
  if (summary && typeof summary === 'object') {
    const text =
      (summary as { text?: unknown; description?: unknown }).text ??
      (summary as { description?: unknown }).description;
    if (typeof text === 'string') return text;
    return JSON.stringify(summary);
  }
  return '';
}

function showApproval(approval: Approval, out: ReturnType<typeof outputOf>): void {
  out.fields([
    ['id', approval.id],
    ['action', approval.action],
    ['status', approval.status],
    ['risk', approval.risk_tier],
    ['requested by', approval.agent_id ?? (approval as { requester?: unknown }).requester],
    ['summary', summaryText(approval)],
    ['reason', approval.reason],
    ['decided', approval.decided_at ? `${approval.decided_at} by ${approval.decided_by}` : undefined],
    ['decision reason', approval.decision_reason],
    ['expires', approval.expires_at],
    ['created', approval.created_at],
  ]);
}

/** `approval list|get|decide|watch`. */
export function registerApprovalCommands(program: Command): void {
  const approval = program
    .command('approval')
    .description('the approval queue: shares, reads and transactions an agent asked for, waiting for you');

  withExamples(
    approval
      .command('list')
      .alias('ls')
      .description('approvals (default: pending ones)')
      .option('--status <status>', 'pending, approved, rejected, expired or all', 'pending')
      .option('--limit <n>', 'at most this many')
      .action(async (flags: { status: string; limit?: string }, command: Command) => {
        const out = outputOf(command);
        const { client } = connect(globalFlags(command));
        const { approvals } = await client.approvals.list({
          ...(flags.status !== 'all' ? { status: flags.status } : {}),
          ...(flags.limit ? { limit: Number(flags.limit) } : {}),
        });
        out.result({ approvals }, () =>
          out.table(
            ['id', 'action', 'status', 'risk', 'summary', 'created'],
            approvals.map((a) => [
              a.id,
              a.action,
              a.status,
              a.risk_tier,
              summaryText(a).slice(0, 60),
              when(a.created_at),
            ]),
          ),
        );
      }),
    ['talon approval list', 'talon approval list --status all --json'],
  );

  withExamples(
    approval
      .command('get <approval-id>')
      .description('one approval')
      .action(async (id: string, _flags, command: Command) => {
        const out = outputOf(command);
        const found = await connect(globalFlags(command)).client.approvals.get(id);
        out.result(found, () => showApproval(found, out));
      }),
    ['talon approval get 0192f0c4-…'],
  );

  withExamples(
    approval
      .command('decide <approval-id> <decision>')
      .description('approve or reject')
      .option('--reason <text>', 'why (kept in the audit log)')
      .action(async (id: string, decision: string, flags: { reason?: string }, command: Command) => {
        const out = outputOf(command);
        const normalised = decision === 'deny' ? 'reject' : decision;
        if (normalised !== 'approve' && normalised !== 'reject') {
          throw new CliError('invalid_input', 'The decision is approve or reject.');
        }
        const decided = await connect(globalFlags(command)).client.approvals.decide(id, {
          decision: normalised,
          ...(flags.reason ? { reason: flags.reason } : {}),
        });
        out.result(decided, () =>
          console.log(
            `${normalised === 'approve' ? 'Approved' : 'Rejected'} ${id} (${decided?.action ?? 'approval'}).`,
          ),
        );
      }),
    [
      'talon approval decide 0192f0c4-… approve',
      'talon approval decide 0192f0c4-… reject --reason "not this week"',
    ],
  );

  withExamples(
    approval
      .command('watch')
      .description(
        "follow Talon's event stream live: new approvals and decisions (and lock/unlock) as they happen; Ctrl-C stops",
      )
      .option('--all', 'every event, not only approvals')
      .action(async (flags: { all?: boolean }, command: Command) => {
        const out = outputOf(command);
        const { client } = connect(globalFlags(command));
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        if (!out.json) console.error('Watching for approvals (Ctrl-C stops)…');
        try {
          for await (const event of client.events.stream({ signal: controller.signal })) {
            if (!flags.all && !event.type.startsWith('approval.') && !event.type.startsWith('talon.'))
              continue;
            if (out.json) {
              process.stdout.write(`${JSON.stringify({ type: event.type, data: event.data })}\n`);
              continue;
            }
            const data = event.data as { approval?: Approval } & Partial<Approval>;
            const found = data?.approval ?? (data?.id ? (data as Approval) : undefined);
            console.log(
              found
                ? `${new Date().toISOString().slice(11, 19)}  ${event.type}  ${found.id}  ${found.action}  ${found.status}  ${summaryText(found)}`
                : `${new Date().toISOString().slice(11, 19)}  ${event.type}`,
            );
          }
        } catch (error) {
          if (!controller.signal.aborted) throw error;
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      }),
    ['talon approval watch', 'talon approval watch --json | jq .'],
  );
}
