import { type ApprovalPending, isApprovalPending } from '../../client/index.js';
import { CliError } from '../cli-error.js';
import type { Output } from '../command-output.js';

/**
 * A call a human must approve first answered 202 with the approval: say so (the approval as the
 * JSON answer), and exit with approval_required's code so a script can wait and retry.
 */
export function unlessApprovalPending<T>(value: T | ApprovalPending, out: Output): T {
  if (!isApprovalPending(value)) return value;
  if (out.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  throw new CliError(
    'approval_required',
    `A human must approve this first (approval ${value.approval.id}, ${value.approval.status}). Approve it in the Talon app or with: talon approval decide ${value.approval.id} approve — then run this again.`,
  );
}
