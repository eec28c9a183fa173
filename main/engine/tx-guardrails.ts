import { getAddress, isAddress } from 'ethers';
import { z } from 'zod';
import { findChain } from './chain-registry.js';
import { TalonError } from './talon-error.js';
import { formatNative, parseNativeAmount } from './transaction-amount.js';

/**
 * An agent's transaction guardrails, with 1Claw's names, and Talon's auto-approve threshold.
 * Hard limits refuse (403, naming the rule); under them, a transaction above the threshold waits
 * for a human's approval. Amounts are in the chain's major unit (ETH), as decimal strings.
 */
export interface TxGuardrails {
  /** Only these recipients (EIP-55); absent: any. */
  tx_to_allowlist?: string[];
  /** Largest value of one transaction. */
  tx_max_value?: string;
  /** Largest total value signed per UTC day, per chain. */
  tx_daily_limit?: string;
  /** Only these chains (names from the registry); absent: any. */
  tx_allowed_chains?: string[];
  /** Most transactions signed per UTC day, per chain. */
  tx_max_per_day?: number;
  /**
   * Talon's addition: transactions moving at most this much, with no contract call, are signed
   * without asking; absent (the default), every transaction waits for a human.
   */
  tx_auto_approve_max_value?: string;
}

export const guardrailNames = [
  'tx_to_allowlist',
  'tx_max_value',
  'tx_daily_limit',
  'tx_allowed_chains',
  'tx_max_per_day',
  'tx_auto_approve_max_value',
] as const;

const expecting =
  (constraint: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is required' : `must be ${constraint}`;

const amount = z
  .string({ error: expecting('a decimal string such as "0.5" (ETH)') })
  .superRefine((raw, ctx) => {
    try {
      parseNativeAmount(raw, 'the amount');
    } catch (error) {
      if (!TalonError.is(error)) throw error;
      ctx.addIssue({
        code: 'custom',
        message: error.message.replace(/^the amount /u, '').replace(/\.$/u, ''),
      });
    }
  });

const address = z
  .string({ error: expecting('a 0x address') })
  .refine((raw) => isAddress(raw), {
    message: 'must hold 0x addresses of 40 hex digits (EIP-55 checksum if mixed case)',
  })
  .transform((raw) => getAddress(raw));

const chainName = z
  .union([z.string(), z.int()], { error: expecting('a chain name or id') })
  .transform((raw, ctx) => {
    const chain = findChain(raw);
    if (!chain) {
      ctx.addIssue({
        code: 'custom',
        message: `has an unknown chain '${String(raw).slice(0, 40)}' (see GET /v1/chains)`,
      });
      return z.NEVER;
    }
    return chain.name;
  });

/** The guardrail fields of agent create/update requests; `null` clears one. */
export const txGuardrailFields = {
  tx_to_allowlist: z
    .array(address, { error: expecting('a list of 0x addresses') })
    .max(1000)
    .nullish(),
  tx_max_value: amount.nullish(),
  /** 1Claw's deprecated alias of tx_max_value. */
  tx_max_value_eth: amount.nullish(),
  tx_daily_limit: amount.nullish(),
  /** 1Claw's deprecated alias of tx_daily_limit. */
  tx_daily_limit_eth: amount.nullish(),
  tx_allowed_chains: z
    .array(chainName, { error: expecting('a list of chain names or ids') })
    .max(100)
    .nullish(),
  tx_max_per_day: z
    .int({ error: expecting('a whole number from 0 to 1000000') })
    .min(0)
    .max(1_000_000)
    .nullish(),
  tx_auto_approve_max_value: amount.nullish(),
};

type GuardrailRequest = {
  [K in keyof typeof txGuardrailFields]?: z.output<(typeof txGuardrailFields)[K]>;
};

export function readGuardrails(json: string | null): TxGuardrails {
  if (!json) return {};
  const parsed = JSON.parse(json) as TxGuardrails;
  return parsed && typeof parsed === 'object' ? parsed : {};
}

/** The guardrails after a create or update request: absent fields keep their value, `null` clears. */
export function mergeGuardrails(current: TxGuardrails, request: GuardrailRequest): TxGuardrails {
  const aliased = (name: string, value: unknown, alias: unknown): unknown => {
    if (value !== undefined && alias !== undefined && value !== alias) {
      throw new TalonError(
        'invalid_input',
        `Invalid agent request: ${name} and ${name}_eth disagree (they are two names for one setting); send only one.`,
      );
    }
    return value !== undefined ? value : alias;
  };
  const wanted: Record<string, unknown> = {
    tx_to_allowlist: request.tx_to_allowlist,
    tx_max_value: aliased('tx_max_value', request.tx_max_value, request.tx_max_value_eth),
    tx_daily_limit: aliased('tx_daily_limit', request.tx_daily_limit, request.tx_daily_limit_eth),
    tx_allowed_chains: request.tx_allowed_chains,
    tx_max_per_day: request.tx_max_per_day,
    tx_auto_approve_max_value: request.tx_auto_approve_max_value,
  };
  const next: Record<string, unknown> = { ...current };
  for (const name of guardrailNames) {
    const value = wanted[name];
    if (value === undefined) continue;
    if (value === null) delete next[name];
    else next[name] = value;
  }
  return next as TxGuardrails;
}

/** The guardrail fields of AgentResponse: every name present, `null` when unset. */
export function guardrailInfo(guardrails: TxGuardrails) {
  return {
    tx_to_allowlist: guardrails.tx_to_allowlist ?? null,
    tx_max_value: guardrails.tx_max_value ?? null,
    tx_daily_limit: guardrails.tx_daily_limit ?? null,
    tx_allowed_chains: guardrails.tx_allowed_chains ?? null,
    tx_max_per_day: guardrails.tx_max_per_day ?? null,
    tx_auto_approve_max_value: guardrails.tx_auto_approve_max_value ?? null,
  };
}

export interface GuardedTransaction {
  chain: { name: string; chainId: number; symbol: string; decimals: number };
  to: string;
  valueWei: bigint;
  data: string;
  /** What this agent already signed on this chain today. */
  today: { valueWei: bigint; count: number };
}

function refuse(rule: string, message: string): never {
  throw new TalonError('forbidden', `Guardrail ${rule}: ${message}`, { details: { rule } });
}

/** Throws forbidden, naming the rule, when the transaction breaks a hard limit. */
export function checkHardLimits(guardrails: TxGuardrails, tx: GuardedTransaction): void {
  const { symbol, decimals } = tx.chain;
  const shown = (wei: bigint) => `${formatNative(wei, decimals)} ${symbol}`;
  if (guardrails.tx_allowed_chains && !guardrails.tx_allowed_chains.includes(tx.chain.name)) {
    refuse(
      'tx_allowed_chains',
      `this agent may only transact on ${guardrails.tx_allowed_chains.join(', ') || 'no chain'}, not ${tx.chain.name}.`,
    );
  }
  if (
    guardrails.tx_to_allowlist &&
    !guardrails.tx_to_allowlist.some((allowed) => allowed.toLowerCase() === tx.to.toLowerCase())
  ) {
    refuse('tx_to_allowlist', `${tx.to} is not on this agent's list of allowed recipients.`);
  }
  if (guardrails.tx_max_value !== undefined) {
    const max = parseNativeAmount(guardrails.tx_max_value, 'tx_max_value', decimals, symbol);
    if (tx.valueWei > max) {
      refuse(
        'tx_max_value',
        `${shown(tx.valueWei)} is more than this agent's limit of ${shown(max)} per transaction.`,
      );
    }
  }
  if (guardrails.tx_daily_limit !== undefined) {
    const limit = parseNativeAmount(guardrails.tx_daily_limit, 'tx_daily_limit', decimals, symbol);
    if (tx.today.valueWei + tx.valueWei > limit) {
      refuse(
        'tx_daily_limit',
        `${shown(tx.valueWei)} on top of the ${shown(tx.today.valueWei)} signed today on ${tx.chain.name} exceeds the daily limit of ${shown(limit)}; it resets at 00:00 UTC.`,
      );
    }
  }
  if (guardrails.tx_max_per_day !== undefined && tx.today.count + 1 > guardrails.tx_max_per_day) {
    refuse(
      'tx_max_per_day',
      `this agent already signed ${tx.today.count} transaction(s) on ${tx.chain.name} today, its limit is ${guardrails.tx_max_per_day}; it resets at 00:00 UTC.`,
    );
  }
}

/** Why a human must approve this transaction, or null when it is within the auto-approve threshold. */
export function approvalReason(guardrails: TxGuardrails, tx: GuardedTransaction): string | null {
  const threshold = guardrails.tx_auto_approve_max_value;
  if (threshold === undefined)
    return 'the agent has no auto-approve threshold, so every transaction needs a human';
  if (tx.data !== '0x') return 'it calls a contract, which is never approved automatically';
  const max = parseNativeAmount(threshold, 'tx_auto_approve_max_value', tx.chain.decimals, tx.chain.symbol);
  if (tx.valueWei > max) {
    return `${formatNative(tx.valueWei, tx.chain.decimals)} ${tx.chain.symbol} is above the auto-approve threshold of ${threshold} ${tx.chain.symbol}`;
  }
  return null;
}
