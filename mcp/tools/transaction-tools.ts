import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type {
  SimulationSummary,
  TransactionInput,
  TransactionSummary,
  VaultClientFor,
} from '../vault-client.js';
import { type UnexpectedErrorReport, apiDetail, toolOutcome } from './tool-outcome.js';

/** 1Claw's simulate_transaction fields (later versions' sign_transaction takes them too). */
const transactionFields = {
  to: z.string().describe('Destination address (0x-prefixed)'),
  value: z
    .string()
    .describe("Value in the chain's native unit as a decimal string, e.g. '0.01' for 0.01 ETH"),
  chain: z.string().describe("Chain name (e.g. 'ethereum', 'base', 'sepolia', 'localhost') or chain id"),
  data: z.string().optional().describe('Hex-encoded calldata for contract calls'),
  signing_key_path: z
    .string()
    .optional()
    .describe("Vault path of a private_key secret to sign with (default: the agent's token-held key)"),
  gas_limit: z.number().int().optional().describe('Gas limit (default: estimated, or 21000)'),
};

const submitFields = {
  ...transactionFields,
  nonce: z.number().int().optional().describe('Transaction nonce (default: from the chain)'),
  gas_price: z.string().optional().describe('Gas price in wei, for a legacy transaction'),
  max_fee_per_gas: z.string().optional().describe('EIP-1559 max fee per gas in wei'),
  max_priority_fee_per_gas: z.string().optional().describe('EIP-1559 priority fee per gas in wei'),
};

type Args = { [K in keyof typeof submitFields]?: unknown } & { to: string; value: string; chain: string };

/** The request as `/v1` takes it, without the arguments the agent left out. */
function transactionInput(args: Args, extra: Partial<TransactionInput> = {}): TransactionInput {
  const input: Record<string, unknown> = { to: args.to, value: args.value, chain: args.chain };
  for (const field of Object.keys(submitFields)) {
    const value = (args as Record<string, unknown>)[field];
    if (value !== undefined && !(field in input)) input[field] = value;
  }
  return { ...(input as unknown as TransactionInput), ...extra };
}

/** 1Claw's submit_transaction text, with Talon's note when it only signed. */
function transactionText(tx: TransactionSummary): string {
  const lines = [
    `Transaction ${tx.status.toUpperCase()}`,
    `  ID: ${tx.id}`,
    `  Chain: ${tx.chain} (${tx.chain_id})`,
    ...(tx.from ? [`  From: ${tx.from}`] : []),
    `  To: ${tx.to}`,
    `  Value: ${tx.value_wei} wei${tx.value ? ` (${tx.value})` : ''}`,
  ];
  if (tx.tx_hash) lines.push(`  Tx hash: ${tx.tx_hash}`);
  if (tx.simulation_status) lines.push(`  Simulation: ${tx.simulation_status}`);
  if (tx.receipt_status)
    lines.push(
      `  Receipt: ${tx.receipt_status}${tx.block_number != null ? ` in block ${tx.block_number}` : ''}`,
    );
  // The raw transaction matters when Talon did not send it: the agent may broadcast it itself.
  if (tx.signed_tx && tx.status === 'sign_only') lines.push(`  Signed tx: ${tx.signed_tx}`);
  if (tx.error_message) lines.push(`  Error: ${tx.error_message}`);
  if (tx.note) lines.push(`  Note: ${tx.note}`);
  return lines.join('\n');
}

function simulationText(simulation: SimulationSummary): string {
  const lines = [`Simulation ${simulation.status.toUpperCase()}`];
  if (simulation.gas_used !== null) lines.push(`Gas used: ${simulation.gas_used}`);
  if (simulation.gas_estimate_usd) lines.push(`Gas estimate: $${simulation.gas_estimate_usd}`);
  if (simulation.balance_changes.length > 0) {
    lines.push('Balance changes:');
    for (const change of simulation.balance_changes) {
      lines.push(`  ${change.address}: ${change.change} ${change.token_symbol ?? ''}`.trimEnd());
    }
  }
  if (simulation.error) lines.push(`Error: ${simulation.error_human_readable ?? simulation.error}`);
  if (simulation.revert_reason) lines.push(`Reason: ${simulation.revert_reason}`);
  return lines.join('\n');
}

const writes = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true };
const reads = { readOnlyHint: true, openWorldHint: false };

/**
 * The transaction tools of 1Claw's MCP server (`simulate_transaction`, `submit_transaction`) and of
 * its later versions (`sign_transaction`, `list_transactions`, `get_transaction`). The agent's key
 * stays in Talon's token; a transaction a human must approve waits for the decision (see
 * approval-tools.ts) and is then sent with it.
 */
export function registerTransactionTools(
  server: McpServer,
  clientFor: VaultClientFor,
  report: UnexpectedErrorReport,
): void {
  server.registerTool(
    'simulate_transaction',
    {
      title: 'Simulate a transaction',
      description:
        'Simulate an EVM transaction against the chain without signing or sending it: reports success or the revert reason, gas used and balance changes. Needs an RPC URL configured for the chain in Talon.',
      inputSchema: transactionFields,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (args, request) =>
      toolOutcome(
        'simulate_transaction',
        async () => simulationText(await clientFor(request).simulateTransaction(transactionInput(args))),
        apiDetail,
        report,
      ),
  );

  server.registerTool(
    'submit_transaction',
    {
      title: 'Submit a transaction',
      description:
        'Sign an EVM transaction with your Talon-held key and broadcast it (when Talon has an RPC URL for the chain; otherwise it is only signed). Simulated first by default. Guardrails set by your human apply, and transactions above your auto-approve threshold wait for their approval.',
      inputSchema: {
        ...submitFields,
        simulate_first: z
          .boolean()
          .default(true)
          .describe('Simulate before signing and refuse when the simulation reverts (default true)'),
      },
      annotations: writes,
    },
    (args, request) =>
      toolOutcome(
        'submit_transaction',
        async () => {
          const input = transactionInput(args, { simulate_first: args.simulate_first });
          // One key per tool call: a retry after an approval wait is the same request.
          return transactionText(await clientFor(request).submitTransaction(input, randomUUID()));
        },
        apiDetail,
        report,
      ),
  );

  server.registerTool(
    'sign_transaction',
    {
      title: 'Sign a transaction',
      description:
        'Sign an EVM transaction with your Talon-held key without sending it; returns the signed raw transaction. Guardrails and approvals apply as for submit_transaction.',
      inputSchema: submitFields,
      annotations: writes,
    },
    (args, request) =>
      toolOutcome(
        'sign_transaction',
        async () =>
          transactionText(await clientFor(request).signTransaction(transactionInput(args), randomUUID())),
        apiDetail,
        report,
      ),
  );

  server.registerTool(
    'list_transactions',
    {
      title: 'List transactions',
      description: 'List the transactions you submitted or signed through Talon, newest first.',
      inputSchema: {},
      annotations: reads,
    },
    (_args, request) =>
      toolOutcome(
        'list_transactions',
        async () => {
          const transactions = await clientFor(request).listTransactions();
          if (transactions.length === 0) return 'No transactions found.';
          const lines = transactions.map(
            (tx) =>
              `- ${tx.id}  ${tx.status}  ${tx.chain} (${tx.chain_id})  to ${tx.to}  ${tx.value_wei} wei${tx.tx_hash ? `  ${tx.tx_hash}` : ''}  (${tx.created_at})`,
          );
          return `Found ${transactions.length} transaction(s):\n${lines.join('\n')}`;
        },
        apiDetail,
        report,
      ),
  );

  server.registerTool(
    'get_transaction',
    {
      title: 'Get a transaction',
      description: 'Get one of your transactions by id, with its status, hash and receipt.',
      inputSchema: {
        transaction_id: z.string().describe('The transaction id'),
        include_signed_tx: z.boolean().optional().describe('Include the signed raw transaction'),
      },
      annotations: reads,
    },
    ({ transaction_id, include_signed_tx }, request) =>
      toolOutcome(
        'get_transaction',
        async () =>
          transactionText(
            await clientFor(request).getTransaction(transaction_id, {
              includeSignedTx: include_signed_tx === true,
            }),
          ),
        apiDetail,
        report,
      ),
  );
}
