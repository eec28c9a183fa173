import type { Command } from 'commander';
import { type ApprovalPending, type TalonClient, isApprovalPending } from '../../client/index.js';
import { CliError } from '../cli-error.js';
import type { Output } from '../command-output.js';

/** `--approval-id` and `--wait`, on the commands a policy may make wait for a human. */
export function withApprovalOptions(command: Command): Command {
  return command
    .option('--approval-id <id>', 'resubmit with the approval a human gave')
    .option(
      '--wait [seconds]',
      'when a human must approve, wait for the decision (default 300 s), then go on',
    );
}

export interface ApprovalFlags {
  approvalId?: string;
  wait?: string | boolean;
}

/**
 * Runs a call that may answer "a human must approve this first" (202). With `--wait` it waits
 * for the decision and, once approved, runs the call again with the approval. Otherwise it says
 * what to do (the approval is the JSON answer) and exits with approval_required's code, so a
 * script can wait and retry.
 */
export async function throughApproval<T>(
  client: TalonClient,
  flags: ApprovalFlags,
  out: Output,
  call: (approvalId: string | undefined) => Promise<T | ApprovalPending>,
): Promise<T> {
  const first = await call(flags.approvalId);
  if (!isApprovalPending(first)) return first;
  const { approval } = first;
  if (flags.wait === undefined || flags.wait === false) {
    if (out.json) process.stdout.write(`${JSON.stringify(first, null, 2)}\n`);
    throw new CliError(
      'approval_required',
      `A human must approve this first (approval ${approval.id}). Approve it in the Talon app or with: talon approval decide ${approval.id} approve — then run this again with --approval-id ${approval.id} (or use --wait).`,
    );
  }
  const seconds = flags.wait === true ? 300 : Number(flags.wait);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new CliError('invalid_input', '--wait takes a number of seconds.');
  console.error(`Waiting up to ${seconds} s for a human to decide on approval ${approval.id}…`);
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const status = (await client.approvals.get(approval.id)).status;
    if (status === 'approved') break;
    if (status !== 'pending') throw new CliError('forbidden', `Approval ${approval.id} was ${status}.`);
    if (Date.now() >= deadline) {
      throw new CliError('approval_required', `Approval ${approval.id} is still pending after ${seconds} s.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const second = await call(approval.id);
  if (isApprovalPending(second)) {
    throw new CliError('approval_required', `Talon asks for another approval (${second.approval.id}).`);
  }
  return second;
}
