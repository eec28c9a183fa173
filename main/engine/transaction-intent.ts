import { Interface, MaxUint256, formatUnits, getAddress } from 'ethers';
import type { ChainDefinition } from './chain-registry.js';
import type { ChainRpc } from './chain-rpc.js';
import { formatNative } from './transaction-amount.js';

/** A contract call Talon recognises, decoded for the human who approves it. */
export type DecodedCall =
  | {
      kind: 'erc20.transfer' | 'erc20.approve' | 'erc20.transferFrom';
      token: string;
      token_symbol: string | null;
      token_decimals: number | null;
      /** transfer / transferFrom: the recipient; approve: the spender. */
      counterparty: string;
      owner?: string;
      amount_raw: string;
      /** In the token's units when its decimals are known; "unlimited" for approve(max). */
      amount: string | null;
    }
  | { kind: 'contract_call'; selector: string; data_bytes: number };

/** What a human reads before approving a transaction. */
export interface TransactionIntent {
  chain: string;
  chain_id: number;
  from: string;
  to: string;
  /** The native value in the chain's major unit and symbol, e.g. "0.5 ETH". */
  value: string;
  value_wei: string;
  /** Raw calldata when Talon does not recognise the call; null for a plain transfer. */
  data: string | null;
  call: DecodedCall | null;
  simulation: { status: string; gas_used: number | null; revert_reason: string | null } | null;
}

const erc20 = new Interface([
  'function transfer(address to, uint256 amount)',
  'function approve(address spender, uint256 amount)',
  'function transferFrom(address from, address to, uint256 amount)',
  'function symbol() view returns (string)',
  'function decimals() view returns (uint8)',
]);

/** Decode a known ERC-20 call; token symbol and decimals are asked of the chain when there is an RPC. */
export async function decodeCall(
  to: string,
  data: string,
  rpc: ChainRpc | null,
  from: string,
): Promise<DecodedCall | null> {
  if (data === '0x') return null;
  let parsed;
  try {
    parsed = erc20.parseTransaction({ data });
  } catch {
    parsed = null;
  }
  if (!parsed || !['transfer', 'approve', 'transferFrom'].includes(parsed.name)) {
    return { kind: 'contract_call', selector: data.slice(0, 10), data_bytes: (data.length - 2) / 2 };
  }
  let symbol: string | null = null;
  let decimals: number | null = null;
  if (rpc) {
    const ask = async (name: 'symbol' | 'decimals') => {
      try {
        const result = await rpc.call({ from, to, value: 0n, data: erc20.encodeFunctionData(name, []) });
        return erc20.decodeFunctionResult(name, result)[0] as unknown;
      } catch {
        return null;
      }
    };
    const [s, d] = await Promise.all([ask('symbol'), ask('decimals')]);
    symbol = typeof s === 'string' ? s.slice(0, 32) : null;
    decimals = typeof d === 'bigint' && d <= 77n ? Number(d) : null;
  }
  const args = parsed.args;
  const amount = args[args.length - 1] as bigint;
  const shown =
    parsed.name === 'approve' && amount === MaxUint256
      ? 'unlimited'
      : decimals !== null
        ? formatUnits(amount, decimals)
        : null;
  const base = {
    token: getAddress(to),
    token_symbol: symbol,
    token_decimals: decimals,
    amount_raw: amount.toString(),
    amount: shown,
  };
  if (parsed.name === 'transferFrom') {
    return {
      kind: 'erc20.transferFrom',
      ...base,
      owner: getAddress(args[0] as string),
      counterparty: getAddress(args[1] as string),
    };
  }
  return {
    kind: parsed.name === 'transfer' ? 'erc20.transfer' : 'erc20.approve',
    ...base,
    counterparty: getAddress(args[0] as string),
  };
}

/** One line for the approval prompt: who wants to do what, where. */
export function intentSummary(agentName: string, intent: TransactionIntent): string {
  const call = intent.call;
  const where = `on ${intent.chain}`;
  if (call && call.kind !== 'contract_call') {
    const amount = call.amount
      ? `${call.amount} ${call.token_symbol ?? 'tokens'}`
      : `${call.amount_raw} base units of`;
    const token = `token ${call.token}`;
    if (call.kind === 'erc20.approve') {
      return `Agent ${agentName} wants to allow ${call.counterparty} to spend ${amount} (${token}) ${where}`;
    }
    return `Agent ${agentName} wants to transfer ${amount} (${token}) to ${call.counterparty} ${where}`;
  }
  if (call)
    return `Agent ${agentName} wants to call contract ${intent.to} (${call.selector}) with ${intent.value} ${where}`;
  return `Agent ${agentName} wants to send ${intent.value} to ${intent.to} ${where}`;
}

export function intentValue(chain: ChainDefinition, wei: bigint): string {
  return `${formatNative(wei, chain.nativeCurrency.decimals)} ${chain.nativeCurrency.symbol}`;
}
