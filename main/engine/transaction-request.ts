import { getAddress, isAddress } from 'ethers';
import { z } from 'zod';

/**
 * 1Claw's SubmitTransactionRequest / SimulateTransactionRequest, EVM fields. `value` and the fee
 * fields stay text here: the service checks them against the chain (its decimals and symbol) so
 * that every refusal can name the unit. Non-EVM fields are dropped; modes Talon does not have are
 * refused rather than ignored.
 */
const expecting =
  (constraint: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is required' : `must be ${constraint}`;

const address = z
  .string({ error: expecting('a 0x address of 40 hex digits') })
  .trim()
  .refine((raw) => isAddress(raw), {
    message: 'must be a 0x address of 40 hex digits (with a valid EIP-55 checksum if mixed case)',
  })
  .transform((raw) => getAddress(raw));

const wei = z.union([z.string(), z.int().min(0)], {
  error: expecting('a whole number of wei as a decimal string, such as "2000000000"'),
});

export const transactionRequestFields = {
  to: address,
  value: z.unknown(),
  chain: z.union([z.string().min(1).max(64), z.int().min(1)], {
    error: expecting('a chain name such as "base" or a chain id such as 8453 (see GET /v1/chains)'),
  }),
  data: z
    .string({ error: expecting('0x-prefixed hex calldata') })
    .regex(/^0x([0-9a-fA-F]{2})*$/u, { message: 'must be 0x-prefixed hex calldata with whole bytes' })
    .max(262_146, { message: 'must be at most 128 KiB of calldata' })
    .transform((hex) => hex.toLowerCase())
    .nullish(),
  signing_key_path: z
    .string({ error: expecting('a secret path such as "keys/base-signer"') })
    .min(1)
    .max(512)
    .nullish(),
  gas_limit: z
    .union([z.int().min(21_000).max(100_000_000), z.string().regex(/^\d{5,9}$/u)], {
      error: expecting('a whole number of gas from 21000 to 100000000'),
    })
    .transform((raw) => BigInt(raw))
    .nullish(),
};

export const simulateTransactionRequestSchema = z.object(transactionRequestFields, {
  error: 'must be a JSON object',
});
export type SimulateTransactionRequest = z.output<typeof simulateTransactionRequestSchema>;

export const submitTransactionRequestSchema = z.object(
  {
    ...transactionRequestFields,
    nonce: z
      .int({ error: expecting('a whole number, 0 or more') })
      .min(0)
      .max(2 ** 53 - 1)
      .nullish(),
    gas_price: wei.nullish(),
    max_fee_per_gas: wei.nullish(),
    max_priority_fee_per_gas: wei.nullish(),
    simulate_first: z.boolean({ error: expecting('true or false') }).nullish(),
    approval_id: z
      .guid({ error: expecting('the UUID of an approval') })
      .transform((id) => id.toLowerCase())
      .nullish(),
    mode: z
      .literal('eoa', {
        error: 'must be "eoa": Talon signs from the agent\'s own address (no smart accounts)',
      })
      .nullish(),
    gasless: z
      .literal(false, { error: 'must be false: Talon has no gas sponsor; the agent pays its own gas' })
      .nullish(),
  },
  { error: 'must be a JSON object' },
);
export type SubmitTransactionRequest = z.output<typeof submitTransactionRequestSchema>;
