import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { VaultClientError } from '../vault-client.js';

/** Called with an error that is not Talon's answer (a bug, a crash below): for the app's log, never the agent. */
export type UnexpectedErrorReport = (error: unknown, tool: string) => void;

/** A tool's own refusal (1Claw's UserError): its text is the tool error the agent reads. */
export class ToolRefusal extends Error {
  constructor(readonly text: string) {
    super(text);
    this.name = 'ToolRefusal';
  }
}

/** How a tool words Talon's refusals: by default the API's own explanation. */
export type FailureText = (error: VaultClientError) => string;

export const apiDetail: FailureText = (error) => error.detail;

/** 1Claw's texts for a secret that is not there, or no longer readable; anything else as Talon explains it. */
export const secretFailure =
  (path: string): FailureText =>
  (error) => {
    if (error.status === 404) return `No secret found at path '${path}'.`;
    if (error.status === 410)
      return `Secret at path '${path}' is expired or has exceeded its maximum access count.`;
    return error.detail;
  };

export const unexpectedErrorText =
  'Talon could not complete this request because of an unexpected error; the Talon app log has the details.';

/**
 * Runs a tool's work and shapes its answer: text on success, a tool error (`isError`) with the
 * text 1Claw's server gives on a refusal. Never a stack trace, and never an unexpected error's
 * message, which the agent has no use for and which could say more than it should.
 */
export async function toolOutcome(
  tool: string,
  work: () => Promise<string>,
  failureText: FailureText,
  report: UnexpectedErrorReport,
): Promise<CallToolResult> {
  try {
    return { content: [{ type: 'text', text: await work() }] };
  } catch (error) {
    if (error instanceof ToolRefusal) return toolError(error.text);
    if (error instanceof VaultClientError) return toolError(failureText(error));
    report(error, tool);
    return toolError(unexpectedErrorText);
  }
}

function toolError(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}
