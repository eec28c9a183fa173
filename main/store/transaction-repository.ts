import type { Database } from 'better-sqlite3';

/**
 * The crypto transaction proxy's tables (migration 0060): agents' signing keys (label, address,
 * public key; the private key is only in the token), the RPC URL the human set per chain, the
 * transactions, their daily totals per agent and chain, and Idempotency-Key answers.
 */

/** Where an agent's signing key came from; either way it lives only in the token. */
export type SigningKeyOrigin = 'generated' | 'imported';

export interface SigningKeyRow {
  agentId: string;
  /** Chain family; one key serves every EVM chain. */
  family: 'evm';
  /** The label of the key pair on the token. */
  keyLabel: string;
  /** EIP-55 address. */
  address: string;
  /** Uncompressed SEC1 point, 65 bytes. */
  publicKey: Buffer;
  origin: SigningKeyOrigin;
  createdAt: string;
}

/** An RPC URL the human configured for a chain; no chain is called without one. */
export interface ChainSettingRow {
  chainId: number;
  rpcUrl: string;
  updatedBy: string;
  updatedAt: string;
}

export type TransactionStatus =
  'pending' | 'signed' | 'sign_only' | 'broadcast' | 'failed' | 'simulation_failed';

export interface TransactionRow {
  id: string;
  agentId: string;
  operation: 'submit' | 'sign';
  chain: string;
  chainId: number;
  fromAddress: string;
  toAddress: string;
  /** Decimal text. */
  valueWei: string;
  /** 0x-hex calldata, `0x` when none. */
  data: string;
  nonce: number | null;
  gasLimit: string | null;
  /** 0 legacy (EIP-155), 2 EIP-1559. */
  txType: number | null;
  gasPrice: string | null;
  maxFeePerGas: string | null;
  maxPriorityFeePerGas: string | null;
  status: TransactionStatus;
  signedTx: string | null;
  txHash: string | null;
  errorMessage: string | null;
  simulationJson: string | null;
  approvalId: string | null;
  /** Hex SHA-256 of the canonical request: what an approval is bound to. */
  requestHash: string;
  signingKeyPath: string | null;
  /** The UTC day whose totals count this transaction, once counted. */
  countedDay: string | null;
  createdAt: string;
  signedAt: string | null;
  broadcastAt: string | null;
  receiptStatus: 'success' | 'reverted' | null;
  blockNumber: number | null;
  gasUsed: string | null;
}

/** What an agent signed on one chain on one UTC day. */
export interface TxDailyTotalRow {
  agentId: string;
  chainId: number;
  /** YYYY-MM-DD, UTC. */
  day: string;
  valueWei: string;
  count: number;
}

/** An Idempotency-Key: in flight until its answer is stored, then that answer until it expires. */
export interface IdempotencyRow {
  agentId: string;
  key: string;
  requestHash: string;
  state: 'in_flight' | 'done';
  statusCode: number | null;
  responseJson: string | null;
  createdAt: string;
  expiresAt: string;
}

export interface SigningKeyRepository {
  insert(key: SigningKeyRow): void;
  get(agentId: string, family: 'evm'): SigningKeyRow | undefined;
  listByAgent(agentId: string): SigningKeyRow[];
  delete(agentId: string, family: 'evm'): boolean;
}

export interface ChainSettingRepository {
  list(): ChainSettingRow[];
  get(chainId: number): ChainSettingRow | undefined;
  /** Inserts or replaces. */
  set(setting: ChainSettingRow): void;
  delete(chainId: number): boolean;
}

export interface TransactionRepository {
  insert(transaction: TransactionRow): void;
  get(id: string): TransactionRow | undefined;
  /** Writes every field but `id`, `agentId`, `operation` and `createdAt`. */
  update(transaction: TransactionRow): boolean;
  /** Newest first. */
  listByAgent(agentId: string, options: { limit: number; offset?: number }): TransactionRow[];
  /** The highest nonce signed from `fromAddress` on the chain (failed and unsigned ones aside). */
  highestNonce(chainId: number, fromAddress: string): number | undefined;
  dailyTotal(agentId: string, chainId: number, day: string): TxDailyTotalRow | undefined;
  /** Inserts or replaces. */
  setDailyTotal(total: TxDailyTotalRow): void;
  getIdempotency(agentId: string, key: string): IdempotencyRow | undefined;
  /** Inserts or replaces. */
  putIdempotency(row: IdempotencyRow): void;
  deleteIdempotency(agentId: string, key: string): boolean;
  /** Removes keys whose `expiresAt` is at or before `now`; returns how many. */
  deleteExpiredIdempotency(now: string): number;
}

const signingKeyColumns = `agent_id AS agentId, family, key_label AS keyLabel, address,
  public_key AS publicKey, origin, created_at AS createdAt`;

export function createSigningKeyRepository(db: Database): SigningKeyRepository {
  const insert = db.prepare<SigningKeyRow>(
    `INSERT INTO agent_signing_keys (agent_id, family, key_label, address, public_key, origin, created_at)
     VALUES (@agentId, @family, @keyLabel, @address, @publicKey, @origin, @createdAt)`,
  );
  const get = db.prepare<[string, string], SigningKeyRow>(
    `SELECT ${signingKeyColumns} FROM agent_signing_keys WHERE agent_id = ? AND family = ?`,
  );
  const list = db.prepare<[string], SigningKeyRow>(
    `SELECT ${signingKeyColumns} FROM agent_signing_keys WHERE agent_id = ? ORDER BY family`,
  );
  const remove = db.prepare<[string, string]>(
    `DELETE FROM agent_signing_keys WHERE agent_id = ? AND family = ?`,
  );
  return {
    insert: (key) => void insert.run(key),
    get: (agentId, family) => get.get(agentId, family),
    listByAgent: (agentId) => list.all(agentId),
    delete: (agentId, family) => remove.run(agentId, family).changes > 0,
  };
}

export function createChainSettingRepository(db: Database): ChainSettingRepository {
  const columns = `chain_id AS chainId, rpc_url AS rpcUrl, updated_by AS updatedBy, updated_at AS updatedAt`;
  const list = db.prepare<[], ChainSettingRow>(`SELECT ${columns} FROM chain_settings ORDER BY chain_id`);
  const get = db.prepare<[number], ChainSettingRow>(
    `SELECT ${columns} FROM chain_settings WHERE chain_id = ?`,
  );
  const set = db.prepare<ChainSettingRow>(
    `INSERT INTO chain_settings (chain_id, rpc_url, updated_by, updated_at)
     VALUES (@chainId, @rpcUrl, @updatedBy, @updatedAt)
     ON CONFLICT (chain_id) DO UPDATE SET rpc_url = excluded.rpc_url, updated_by = excluded.updated_by,
       updated_at = excluded.updated_at`,
  );
  const remove = db.prepare<[number]>(`DELETE FROM chain_settings WHERE chain_id = ?`);
  return {
    list: () => list.all(),
    get: (chainId) => get.get(chainId),
    set: (setting) => void set.run(setting),
    delete: (chainId) => remove.run(chainId).changes > 0,
  };
}

const transactionColumns = `id, agent_id AS agentId, operation, chain, chain_id AS chainId,
  from_address AS fromAddress, to_address AS toAddress, value_wei AS valueWei, data, nonce,
  gas_limit AS gasLimit, tx_type AS txType, gas_price AS gasPrice, max_fee_per_gas AS maxFeePerGas,
  max_priority_fee_per_gas AS maxPriorityFeePerGas, status, signed_tx AS signedTx, tx_hash AS txHash,
  error_message AS errorMessage, simulation_json AS simulationJson, approval_id AS approvalId,
  request_hash AS requestHash, signing_key_path AS signingKeyPath, counted_day AS countedDay,
  created_at AS createdAt, signed_at AS signedAt, broadcast_at AS broadcastAt,
  receipt_status AS receiptStatus, block_number AS blockNumber, gas_used AS gasUsed`;

const idempotencyColumns = `agent_id AS agentId, key, request_hash AS requestHash, state,
  status_code AS statusCode, response_json AS responseJson, created_at AS createdAt, expires_at AS expiresAt`;

export function createTransactionRepository(db: Database): TransactionRepository {
  const insert = db.prepare<TransactionRow>(
    `INSERT INTO transactions (id, agent_id, operation, chain, chain_id, from_address, to_address,
       value_wei, data, nonce, gas_limit, tx_type, gas_price, max_fee_per_gas, max_priority_fee_per_gas,
       status, signed_tx, tx_hash, error_message, simulation_json, approval_id, request_hash,
       signing_key_path, counted_day, created_at, signed_at, broadcast_at, receipt_status, block_number,
       gas_used)
     VALUES (@id, @agentId, @operation, @chain, @chainId, @fromAddress, @toAddress, @valueWei, @data,
       @nonce, @gasLimit, @txType, @gasPrice, @maxFeePerGas, @maxPriorityFeePerGas, @status, @signedTx,
       @txHash, @errorMessage, @simulationJson, @approvalId, @requestHash, @signingKeyPath, @countedDay,
       @createdAt, @signedAt, @broadcastAt, @receiptStatus, @blockNumber, @gasUsed)`,
  );
  const get = db.prepare<[string], TransactionRow>(
    `SELECT ${transactionColumns} FROM transactions WHERE id = ?`,
  );
  const update = db.prepare<TransactionRow>(
    `UPDATE transactions SET chain = @chain, chain_id = @chainId, from_address = @fromAddress,
       to_address = @toAddress, value_wei = @valueWei, data = @data, nonce = @nonce, gas_limit = @gasLimit,
       tx_type = @txType, gas_price = @gasPrice, max_fee_per_gas = @maxFeePerGas,
       max_priority_fee_per_gas = @maxPriorityFeePerGas, status = @status, signed_tx = @signedTx,
       tx_hash = @txHash, error_message = @errorMessage, simulation_json = @simulationJson,
       approval_id = @approvalId, request_hash = @requestHash, signing_key_path = @signingKeyPath,
       counted_day = @countedDay, signed_at = @signedAt, broadcast_at = @broadcastAt,
       receipt_status = @receiptStatus, block_number = @blockNumber, gas_used = @gasUsed
     WHERE id = @id`,
  );
  const listByAgent = db.prepare<[string, number, number], TransactionRow>(
    `SELECT ${transactionColumns} FROM transactions WHERE agent_id = ?
     ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
  );
  const highestNonce = db
    .prepare<[number, string], number | null>(
      `SELECT MAX(nonce) FROM transactions WHERE chain_id = ? AND from_address = ?
       AND status IN ('signed', 'sign_only', 'broadcast')`,
    )
    .pluck();
  const dailyTotal = db.prepare<[string, number, string], TxDailyTotalRow>(
    `SELECT agent_id AS agentId, chain_id AS chainId, day, value_wei AS valueWei, count
     FROM tx_daily_totals WHERE agent_id = ? AND chain_id = ? AND day = ?`,
  );
  const setDailyTotal = db.prepare<TxDailyTotalRow>(
    `INSERT INTO tx_daily_totals (agent_id, chain_id, day, value_wei, count)
     VALUES (@agentId, @chainId, @day, @valueWei, @count)
     ON CONFLICT (agent_id, chain_id, day) DO UPDATE SET value_wei = excluded.value_wei, count = excluded.count`,
  );
  const getIdempotency = db.prepare<[string, string], IdempotencyRow>(
    `SELECT ${idempotencyColumns} FROM idempotency_keys WHERE agent_id = ? AND key = ?`,
  );
  const putIdempotency = db.prepare<IdempotencyRow>(
    `INSERT OR REPLACE INTO idempotency_keys (agent_id, key, request_hash, state, status_code,
       response_json, created_at, expires_at)
     VALUES (@agentId, @key, @requestHash, @state, @statusCode, @responseJson, @createdAt, @expiresAt)`,
  );
  const deleteIdempotency = db.prepare<[string, string]>(
    `DELETE FROM idempotency_keys WHERE agent_id = ? AND key = ?`,
  );
  const deleteExpired = db.prepare<[string]>(`DELETE FROM idempotency_keys WHERE expires_at <= ?`);

  return {
    insert: (transaction) => void insert.run(transaction),
    get: (id) => get.get(id),
    update: (transaction) => update.run(transaction).changes > 0,
    listByAgent: (agentId, { limit, offset = 0 }) => listByAgent.all(agentId, limit, offset),
    highestNonce: (chainId, fromAddress) => highestNonce.get(chainId, fromAddress) ?? undefined,
    dailyTotal: (agentId, chainId, day) => dailyTotal.get(agentId, chainId, day),
    setDailyTotal: (total) => void setDailyTotal.run(total),
    getIdempotency: (agentId, key) => getIdempotency.get(agentId, key),
    putIdempotency: (row) => void putIdempotency.run(row),
    deleteIdempotency: (agentId, key) => deleteIdempotency.run(agentId, key).changes > 0,
    deleteExpiredIdempotency: (now) => deleteExpired.run(now).changes,
  };
}
