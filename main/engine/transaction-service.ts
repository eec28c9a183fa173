import { Signature, Transaction, hexlify } from 'ethers';
import type { AgentRow, SigningKeyRow, TransactionRow } from '../store/store.js';
import { type ChainDefinition, type ChainRegistry, requireChain } from './chain-registry.js';
import { ChainRpc, RpcError } from './chain-rpc.js';
import { type EngineContext, actorOf, callDetails, requireUnlocked } from './engine-context.js';
import { newId } from '../store/ids.js';
import type { AgentPrincipal, CallContext, Principal } from './principal.js';
import { requestHash } from './request-hash.js';
import { parseRequest } from './schemas.js';
import {
  type SecretSigningKey,
  findSecretSigningKey,
  secretSigningKeyAddress,
  signWithSecretKey,
} from './signing-key-secret.js';
import type { DigestSignature, SigningKeyService } from './signing-keys.js';
import { TalonError } from './talon-error.js';
import { formatNative, parseNativeAmount, parseWei } from './transaction-amount.js';
import { type TransactionIntent, decodeCall, intentSummary, intentValue } from './transaction-intent.js';
import {
  type SubmitTransactionRequest,
  simulateTransactionRequestSchema,
  submitTransactionRequestSchema,
} from './transaction-request.js';
import { type GuardedTransaction, approvalReason, checkHardLimits, readGuardrails } from './tx-guardrails.js';

/** 1Claw's TransactionResponse, plus what Talon adds (from, value in major units, receipt). */
export interface TransactionInfo {
  id: string;
  agent_id: string;
  chain: string;
  chain_id: number;
  from: string;
  to: string;
  /** In the chain's major unit, exactly: "0.5". */
  value: string;
  value_wei: string;
  data: string | null;
  nonce: number | null;
  gas_limit: string | null;
  tx_type: 'eip1559' | 'legacy' | null;
  gas_price: string | null;
  max_fee_per_gas: string | null;
  max_priority_fee_per_gas: string | null;
  status: TransactionRow['status'];
  signed_tx?: string | null;
  tx_hash: string | null;
  error_message: string | null;
  /** Why Talon did not send it, when it only signed. */
  note: string | null;
  created_at: string;
  signed_at: string | null;
  broadcast_at: string | null;
  simulation_id: string | null;
  simulation_status: string | null;
  simulation: SimulationInfo | null;
  receipt_status: 'success' | 'reverted' | null;
  block_number: number | null;
  gas_used: string | null;
  approval_id: string | null;
  signing_key_path: string | null;
  tenderly_dashboard_url: null;
}

/** 1Claw's SimulationResponse (Talon simulates with the chain's own eth_call, not Tenderly). */
export interface SimulationInfo {
  simulation_id: string;
  status: 'success' | 'reverted' | 'error' | 'skipped';
  gas_used: number | null;
  gas_estimate_usd: null;
  balance_changes: {
    address: string;
    token: string;
    token_symbol: string;
    before: string | null;
    after: string | null;
    change: string;
  }[];
  error: string | null;
  error_code: string | null;
  error_human_readable: string | null;
  revert_reason: string | null;
  tenderly_dashboard_url: null;
  simulated_at: string;
}

/** What a submit or sign answers: the record, with the HTTP status 1Claw gives it. */
export interface TransactionAnswer {
  statusCode: 200 | 201 | 422;
  body: TransactionInfo;
  /** Answered from the Idempotency-Key store instead of being done again. */
  replayed: boolean;
}

type Operation = 'submit' | 'sign';

/** How long Idempotency-Key answers are kept (1Claw: 24 hours). */
const idempotencyTtlMs = 24 * 60 * 60_000;
/** How long a submit waits for the receipt before answering with status broadcast. */
const receiptWaitMs = 3_000;

/** The signer of one transaction: the agent's token-held key, or a private_key secret (1Claw mode). */
type Signer =
  | { kind: 'token'; address: string; key: SigningKeyRow }
  | { kind: 'secret'; address: string; key: SecretSigningKey };

/**
 * The crypto transaction proxy: an agent with crypto proxy enabled asks Talon to sign (and, with
 * an RPC URL configured for the chain, send) an EVM transaction. The order of checks is the
 * order of what costs least and refuses most: the agent and its flag, the request, the hard
 * guardrails (403 naming the rule), the simulation (422 when it reverts), the human's approval
 * (202 with the decoded intent, unless under the agent's auto-approve threshold), then the daily
 * totals are reserved in the same store transaction that records the intent, the token signs,
 * and Talon broadcasts. Every outcome is audited.
 */
export class TransactionService {
  /** Per sender and chain: signing and sending one at a time, so nonces never collide. */
  private readonly senderQueues = new Map<string, Promise<unknown>>();
  /** Per sender and chain: the next nonce after what Talon broadcast (the node may lag a moment). */
  private readonly nextNonces = new Map<string, number>();
  /** RPC URLs whose chain id was checked against the registry. */
  private readonly checkedRpc = new Set<string>();

  constructor(
    private readonly context: EngineContext,
    private readonly chains: ChainRegistry,
    private readonly signingKeys: SigningKeyService,
  ) {}

  /** POST /v1/agents/{id}/transactions: sign, and send when the chain has an RPC URL. */
  submit(
    principal: Principal,
    agentId: string,
    body: unknown,
    call: CallContext,
    idempotencyKey?: string,
  ): Promise<TransactionAnswer> {
    return this.idempotent(principal, agentId, 'submit', body, idempotencyKey, () =>
      this.execute(principal, agentId, body, call, 'submit'),
    );
  }

  /** POST /v1/agents/{id}/transactions/sign: sign only, never send. */
  sign(
    principal: Principal,
    agentId: string,
    body: unknown,
    call: CallContext,
    idempotencyKey?: string,
  ): Promise<TransactionAnswer> {
    return this.idempotent(principal, agentId, 'sign', body, idempotencyKey, () =>
      this.execute(principal, agentId, body, call, 'sign'),
    );
  }

  /** POST /v1/agents/{id}/transactions/simulate: eth_call and eth_estimateGas on the chain's RPC. */
  async simulate(
    principal: Principal,
    agentId: string,
    body: unknown,
    call: CallContext,
  ): Promise<SimulationInfo> {
    const { agent, agentPrincipal } = this.requireProxyAgent(principal, agentId, call, 'simulate');
    const request = parseRequest(simulateTransactionRequestSchema, body, 'simulate transaction request');
    const chain = requireChain(request.chain);
    const valueWei = this.parseValue(request.value, chain);
    const signer = await this.signerOf(agentPrincipal, agent, request.signing_key_path ?? null, call);
    const rpc = await this.rpcFor(chain);
    return this.simulation(
      rpc,
      chain,
      {
        from: signer.address,
        to: request.to,
        valueWei,
        data: request.data ?? '0x',
        gasLimit: request.gas_limit ?? null,
      },
      call,
    );
  }

  list(
    principal: Principal,
    agentId: string,
    options: { includeSignedTx?: boolean; limit?: number; offset?: number } = {},
  ): TransactionInfo[] {
    const agent = this.requireReader(principal, agentId);
    const limit = Math.min(Math.max(1, options.limit ?? 100), 1000);
    return this.context.store.transactions
      .listByAgent(agent.id, { limit, offset: options.offset ?? 0 })
      .map((row) => this.info(row, options.includeSignedTx === true));
  }

  /** One transaction; a broadcast one without a receipt yet asks the chain once more. */
  async get(
    principal: Principal,
    agentId: string,
    transactionId: string,
    options: { includeSignedTx?: boolean } = {},
  ): Promise<TransactionInfo> {
    const agent = this.requireReader(principal, agentId);
    let row = this.context.store.transactions.get(transactionId.toLowerCase());
    if (!row || row.agentId !== agent.id) {
      throw new TalonError('not_found', `No transaction ${transactionId} of agent ${agentId}.`);
    }
    if (row.status === 'broadcast' && row.receiptStatus === null && row.txHash) {
      const url = this.chains.rpcUrl(row.chainId);
      if (url) row = await this.recordReceipt(row, new ChainRpc(url, row.chain), 0);
    }
    return this.info(row, options.includeSignedTx === true);
  }

  // ---- the flow -----------------------------------------------------------------------------

  private async execute(
    principal: Principal,
    agentId: string,
    body: unknown,
    call: CallContext,
    operation: Operation,
  ): Promise<TransactionAnswer> {
    const { agent, agentPrincipal } = this.requireProxyAgent(principal, agentId, call, operation);
    const request = parseRequest(submitTransactionRequestSchema, body, 'transaction request');
    const chain = requireChain(request.chain);
    const valueWei = this.parseValue(request.value, chain);
    const data = request.data ?? '0x';
    const signer = await this.signerOf(agentPrincipal, agent, request.signing_key_path ?? null, call);
    const guardrails = readGuardrails(agent.guardrailsJson);
    const guarded = (today: { valueWei: bigint; count: number }): GuardedTransaction => ({
      chain: {
        name: chain.name,
        chainId: chain.chainId,
        symbol: chain.nativeCurrency.symbol,
        decimals: chain.nativeCurrency.decimals,
      },
      to: request.to,
      valueWei,
      data,
      today,
    });
    const day = utcDay(call.now);
    try {
      checkHardLimits(guardrails, guarded(this.today(agent.id, chain.chainId, day)));
    } catch (error) {
      if (TalonError.is(error, 'forbidden'))
        this.auditDenied(agentPrincipal, operation, chain, request.to, error, call);
      throw error;
    }

    const rpc = await this.rpcFor(chain);
    const fees = this.requestedFees(request);
    const hash = requestHash('transaction', {
      agent_id: agent.id,
      operation,
      chain_id: chain.chainId,
      from: signer.address,
      to: request.to,
      value_wei: valueWei.toString(),
      data,
      nonce: request.nonce ?? null,
      gas_limit: request.gas_limit?.toString() ?? null,
      gas_price: fees.gasPrice?.toString() ?? null,
      max_fee_per_gas: fees.maxFeePerGas?.toString() ?? null,
      max_priority_fee_per_gas: fees.maxPriorityFeePerGas?.toString() ?? null,
      signing_key_path: request.signing_key_path ?? null,
    });

    const simulateFirst = request.simulate_first === true;
    let simulation: SimulationInfo | null = null;
    if (simulateFirst) {
      simulation = await this.simulation(
        rpc,
        chain,
        { from: signer.address, to: request.to, valueWei, data, gasLimit: request.gas_limit ?? null },
        call,
      );
      if (simulation.status === 'reverted' || simulation.status === 'error') {
        const row = this.newRow(agent, operation, chain, signer, request, valueWei, data, hash, call);
        row.status = 'simulation_failed';
        row.simulationJson = JSON.stringify(simulation);
        row.errorMessage = `Simulation ${simulation.status}: ${simulation.revert_reason ?? simulation.error ?? 'no reason given'}. Nothing was signed.`;
        this.context.store.transaction(() => {
          this.context.store.transactions.insert(row);
          this.audit(agentPrincipal, `transaction.${operation}`, 'denied', row, call, {
            reason: row.errorMessage,
          });
        });
        return { statusCode: 422, body: this.info(row, false), replayed: false };
      }
    }

    // What would fail after a human approved is refused before anyone is asked.
    const gasLimit = await this.gasLimitFor(
      request,
      { from: signer.address, to: request.to, valueWei, data },
      chain,
      rpc,
      simulation,
    );
    if (!rpc && fees.gasPrice === undefined && fees.maxFeePerGas === undefined) throw noFees(chain);
    if (
      fees.maxFeePerGas !== undefined &&
      fees.maxPriorityFeePerGas !== undefined &&
      fees.maxPriorityFeePerGas > fees.maxFeePerGas
    ) {
      throw new TalonError(
        'invalid_input',
        'Invalid transaction request: max_priority_fee_per_gas must not exceed max_fee_per_gas.',
      );
    }

    const needsApproval =
      approvalReason(guardrails, guarded({ valueWei: 0n, count: 0 })) ??
      (signer.kind === 'secret' && signer.key.requireApproval
        ? 'a policy asks a human to approve each use of this key'
        : null);
    let approvalId: string | null = null;
    if (needsApproval) {
      const intent: TransactionIntent = {
        chain: chain.name,
        chain_id: chain.chainId,
        from: signer.address,
        to: request.to,
        value: intentValue(chain, valueWei),
        value_wei: valueWei.toString(),
        data: data === '0x' ? null : data,
        call: await decodeCall(request.to, data, rpc, signer.address),
        simulation: simulation
          ? {
              status: simulation.status,
              gas_used: simulation.gas_used,
              revert_reason: simulation.revert_reason,
            }
          : null,
      };
      const gateCall: CallContext = request.approval_id ? { ...call, approvalId: request.approval_id } : call;
      this.context.approvals.gate(
        agentPrincipal,
        {
          action: 'transaction',
          target: { type: 'agent', id: agent.id },
          summary: intentSummary(agent.name, intent),
          riskTier: chain.isTestnet ? 'medium' : 'high',
          requestHash: hash,
          details: {
            ...intent,
            operation,
            why: needsApproval,
            signing_key: signer.kind === 'token' ? 'token' : `secret ${signer.key.path}`,
          },
        },
        gateCall,
      );
      approvalId = request.approval_id ?? this.consumedApproval(agent.id, hash);
    }

    return this.oneAtATime(`${chain.chainId}:${signer.address}`, () =>
      this.signAndSend(agentPrincipal, agent, operation, chain, signer, request, valueWei, data, hash, rpc, {
        simulation,
        gasLimit,
        approvalId,
        guarded,
        guardrails,
        day,
        call,
      }),
    );
  }

  private async signAndSend(
    principal: AgentPrincipal,
    agent: AgentRow,
    operation: Operation,
    chain: ChainDefinition,
    signer: Signer,
    request: SubmitTransactionRequest,
    valueWei: bigint,
    data: string,
    hash: string,
    rpc: ChainRpc | null,
    extra: {
      simulation: SimulationInfo | null;
      gasLimit: bigint;
      approvalId: string | null;
      guarded: (today: { valueWei: bigint; count: number }) => GuardedTransaction;
      guardrails: ReturnType<typeof readGuardrails>;
      day: string;
      call: CallContext;
    },
  ): Promise<TransactionAnswer> {
    const { call, day } = extra;
    const row = this.newRow(agent, operation, chain, signer, request, valueWei, data, hash, call);
    row.approvalId = extra.approvalId;
    if (extra.simulation) row.simulationJson = JSON.stringify(extra.simulation);
    await this.fill(row, request, chain, rpc, extra.gasLimit);

    // Reserve the daily totals with the record, re-checked inside the store transaction. No fsync
    // of its own: nothing leaves Talon before the next commit, which is durable and, in WAL mode,
    // makes this one durable with it; a crash in between loses only a reservation never used.
    this.context.store.transaction(
      () => {
        const today = this.today(agent.id, chain.chainId, day);
        checkHardLimits(extra.guardrails, extra.guarded(today));
        row.countedDay = day;
        this.context.store.transactions.insert(row);
        this.context.store.transactions.setDailyTotal({
          agentId: agent.id,
          chainId: chain.chainId,
          day,
          valueWei: (today.valueWei + valueWei).toString(),
          count: today.count + 1,
        });
      },
      { durable: false },
    );

    const tx = Transaction.from({
      type: row.txType ?? 2,
      chainId: chain.chainId,
      nonce: row.nonce!,
      to: row.toAddress,
      value: valueWei,
      data,
      gasLimit: BigInt(row.gasLimit!),
      ...(row.txType === 0
        ? { gasPrice: BigInt(row.gasPrice!) }
        : {
            maxFeePerGas: BigInt(row.maxFeePerGas!),
            maxPriorityFeePerGas: BigInt(row.maxPriorityFeePerGas!),
          }),
    });
    let signature: DigestSignature;
    try {
      const digest = Buffer.from(tx.unsignedHash.slice(2), 'hex');
      signature =
        signer.kind === 'token'
          ? await this.signingKeys.signDigest(signer.key, digest)
          : await signWithSecretKey(this.context, signer.key, digest);
    } catch (error) {
      this.context.store.transaction(() => {
        this.release(row);
        row.status = 'failed';
        row.errorMessage = 'The token could not sign this transaction; nothing was signed.';
        this.context.store.transactions.update(row);
        this.audit(principal, `transaction.${operation}`, 'error', row, call, { reason: row.errorMessage });
      });
      throw error;
    }
    tx.signature = Signature.from({
      r: hexlify(signature.r),
      s: hexlify(signature.s),
      v: 27 + signature.recoveryId,
    });
    if (tx.from?.toLowerCase() !== signer.address.toLowerCase()) {
      throw new TalonError(
        'internal',
        'The signature does not recover the signing address; nothing was sent.',
      );
    }
    row.signedTx = tx.serialized;
    row.txHash = tx.hash;
    row.signedAt = call.now.toISOString();
    row.status = operation === 'submit' && rpc ? 'signed' : 'sign_only';
    this.context.store.transaction(() => {
      this.context.store.transactions.update(row);
      this.audit(principal, `transaction.${operation}`, 'success', row, call, {
        ...(row.approvalId ? { approval_id: row.approvalId } : {}),
        broadcast: operation === 'submit' && rpc !== null,
      });
    });

    let final = row;
    if (operation === 'submit' && rpc) {
      final = await this.broadcast(principal, row, rpc, call);
    }
    return { statusCode: 201, body: this.info(final, true), replayed: false };
  }

  /** Nonce, gas limit and fees: as asked, else from the chain, else refused with what to give. */
  private async fill(
    row: TransactionRow,
    request: SubmitTransactionRequest,
    chain: ChainDefinition,
    rpc: ChainRpc | null,
    gasLimit: bigint,
  ): Promise<void> {
    const senderKey = `${chain.chainId}:${row.fromAddress}`;
    if (request.nonce !== undefined && request.nonce !== null) row.nonce = request.nonce;
    else if (rpc) {
      const pending = await rpc.pendingNonce(row.fromAddress);
      row.nonce = Math.max(pending, this.nextNonces.get(senderKey) ?? 0);
    } else {
      const highest = this.context.store.transactions.highestNonce(chain.chainId, row.fromAddress);
      row.nonce = highest === undefined ? 0 : highest + 1;
    }

    const fees = this.requestedFees(request);
    if (fees.gasPrice !== undefined) {
      row.txType = 0;
      row.gasPrice = fees.gasPrice.toString();
    } else if (fees.maxFeePerGas !== undefined) {
      row.txType = 2;
      const priority = fees.maxPriorityFeePerGas ?? (rpc ? await rpc.maxPriorityFeePerGas() : 0n);
      if (priority > fees.maxFeePerGas) {
        throw new TalonError(
          'invalid_input',
          'Invalid transaction request: max_priority_fee_per_gas must not exceed max_fee_per_gas.',
        );
      }
      row.maxFeePerGas = fees.maxFeePerGas.toString();
      row.maxPriorityFeePerGas = priority.toString();
    } else if (rpc) {
      const baseFee = chain.eip1559 ? await rpc.baseFeePerGas() : null;
      if (baseFee !== null) {
        const priority = fees.maxPriorityFeePerGas ?? (await rpc.maxPriorityFeePerGas());
        row.txType = 2;
        row.maxPriorityFeePerGas = priority.toString();
        row.maxFeePerGas = (baseFee * 2n + priority).toString();
      } else {
        row.txType = 0;
        row.gasPrice = (await rpc.gasPrice()).toString();
      }
    } else {
      throw noFees(chain);
    }

    row.gasLimit = gasLimit.toString();
  }

  /**
   * The gas limit: as asked, else the chain's estimate (with headroom for contract calls), else
   * 21000 for a plain transfer. Decided before a human is asked, so no one approves a call the
   * chain already says will revert.
   */
  private async gasLimitFor(
    request: SubmitTransactionRequest,
    tx: { from: string; to: string; valueWei: bigint; data: string },
    chain: ChainDefinition,
    rpc: ChainRpc | null,
    simulation: SimulationInfo | null,
  ): Promise<bigint> {
    if (request.gas_limit !== undefined && request.gas_limit !== null) return request.gas_limit;
    if (!rpc) {
      if (tx.data === '0x') return 21_000n;
      throw new TalonError(
        'invalid_input',
        `No RPC URL is configured for ${chain.name}, so Talon cannot estimate gas for a contract call: give gas_limit.`,
      );
    }
    if (simulation?.gas_used) return gasWithHeadroom(BigInt(simulation.gas_used), tx.data);
    try {
      const estimate = await rpc.estimateGas({ from: tx.from, to: tx.to, value: tx.valueWei, data: tx.data });
      return gasWithHeadroom(estimate, tx.data);
    } catch (error) {
      if (!(error instanceof RpcError)) throw error;
      throw new TalonError(
        'unprocessable',
        `The chain cannot estimate gas for this transaction: it would revert (${error.revertReason}). Nothing was signed; fix the call, or give gas_limit to sign it anyway.`,
      );
    }
  }

  private async broadcast(
    principal: AgentPrincipal,
    row: TransactionRow,
    rpc: ChainRpc,
    call: CallContext,
  ): Promise<TransactionRow> {
    try {
      await rpc.sendRawTransaction(row.signedTx!);
    } catch (error) {
      // Some nodes (Hardhat's automine) mine a reverting transaction and still answer an error;
      // others say "already known". The chain's own record decides.
      const mined = error instanceof RpcError ? await rpc.receipt(row.txHash!).catch(() => null) : null;
      if (mined) return this.broadcastDone(principal, row, rpc, call);
      if (!(error instanceof RpcError)) {
        row.status = 'failed';
        row.errorMessage =
          error instanceof TalonError ? error.message : 'The chain did not accept the transaction.';
      } else {
        row.status = 'failed';
        row.errorMessage = `The chain refused the transaction: ${error.message.slice(0, 300)}`;
      }
      this.context.store.transaction(() => {
        this.context.store.transactions.update(row);
        this.audit(principal, 'transaction.broadcast', 'error', row, call, { reason: row.errorMessage });
      });
      return row;
    }
    return this.broadcastDone(principal, row, rpc, call);
  }

  private async broadcastDone(
    principal: AgentPrincipal,
    row: TransactionRow,
    rpc: ChainRpc,
    call: CallContext,
  ): Promise<TransactionRow> {
    this.nextNonces.set(`${row.chainId}:${row.fromAddress}`, row.nonce! + 1);
    row.status = 'broadcast';
    row.broadcastAt = call.now.toISOString();
    this.context.store.transaction(() => {
      this.context.store.transactions.update(row);
      this.audit(principal, 'transaction.broadcast', 'success', row, call, {});
    });
    return this.recordReceipt(row, rpc, receiptWaitMs);
  }

  /** Asks for the receipt (for up to `waitMs`) and records its status when there is one. */
  private async recordReceipt(row: TransactionRow, rpc: ChainRpc, waitMs: number): Promise<TransactionRow> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      let receipt;
      try {
        receipt = await rpc.receipt(row.txHash!);
      } catch {
        return row; // the node is away; the next GET asks again
      }
      if (receipt) {
        const updated: TransactionRow = {
          ...row,
          receiptStatus: receipt.status,
          blockNumber: receipt.blockNumber,
          gasUsed: receipt.gasUsed.toString(),
          ...(receipt.status === 'reverted'
            ? { status: 'failed' as const, errorMessage: 'The transaction was mined but reverted on chain.' }
            : {}),
        };
        this.context.store.transactions.update(updated);
        return updated;
      }
      if (Date.now() >= deadline) return row;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async simulation(
    rpc: ChainRpc | null,
    chain: ChainDefinition,
    tx: { from: string; to: string; valueWei: bigint; data: string; gasLimit: bigint | null },
    call: CallContext,
  ): Promise<SimulationInfo> {
    const base: SimulationInfo = {
      simulation_id: newId(),
      status: 'success',
      gas_used: null,
      gas_estimate_usd: null,
      balance_changes: [],
      error: null,
      error_code: null,
      error_human_readable: null,
      revert_reason: null,
      tenderly_dashboard_url: null,
      simulated_at: call.now.toISOString(),
    };
    if (!rpc) {
      return {
        ...base,
        status: 'skipped',
        error: `No RPC URL is configured for ${chain.name}; a human can set one with PUT /v1/chains/${chain.name}.`,
        error_code: 'no_rpc',
        error_human_readable: `Talon cannot simulate on ${chain.name} without an RPC URL.`,
      };
    }
    const request = {
      from: tx.from,
      to: tx.to,
      value: tx.valueWei,
      data: tx.data,
      ...(tx.gasLimit !== null ? { gas: tx.gasLimit } : {}),
    };
    try {
      await rpc.call(request);
      const gas = await rpc.estimateGas(request);
      const symbol = chain.nativeCurrency.symbol;
      const changes: SimulationInfo['balance_changes'] = [];
      if (tx.valueWei > 0n) {
        const [fromBefore, toBefore] = await Promise.all([rpc.balance(tx.from), rpc.balance(tx.to)]);
        const shown = (wei: bigint) => formatNative(wei, chain.nativeCurrency.decimals);
        changes.push(
          {
            address: tx.from,
            token: 'native',
            token_symbol: symbol,
            before: shown(fromBefore),
            after: shown(fromBefore - tx.valueWei),
            change: `-${shown(tx.valueWei)}`,
          },
          {
            address: tx.to,
            token: 'native',
            token_symbol: symbol,
            before: shown(toBefore),
            after: shown(toBefore + tx.valueWei),
            change: `+${shown(tx.valueWei)}`,
          },
        );
      }
      return { ...base, gas_used: Number(gas), balance_changes: changes };
    } catch (error) {
      if (!(error instanceof RpcError)) throw error;
      if (!error.isRevert) {
        return {
          ...base,
          status: 'error',
          error: error.message.slice(0, 300),
          error_code: String(error.code ?? 'rpc_error'),
          error_human_readable: `The node refused the simulation: ${error.message.slice(0, 200)}`,
        };
      }
      const reason = error.revertReason;
      return {
        ...base,
        status: 'reverted',
        error: error.message.slice(0, 300),
        error_code: 'execution_reverted',
        error_human_readable: `The transaction would revert: ${reason}`,
        revert_reason: reason,
      };
    }
  }

  // ---- pieces ---------------------------------------------------------------------------------

  private requireProxyAgent(
    principal: Principal,
    agentId: string,
    call: CallContext,
    operation: string,
  ): { agent: AgentRow; agentPrincipal: AgentPrincipal } {
    requireUnlocked(this.context);
    const id = agentId.toLowerCase();
    if (principal.type !== 'agent') {
      throw new TalonError(
        'forbidden',
        'Transactions are asked for by the agent itself, with its own credential; a human approves them in the approval queue.',
      );
    }
    if (principal.id !== id) {
      throw new TalonError('forbidden', 'An agent can only sign transactions with its own key.');
    }
    const agent = this.context.store.agents.get(id);
    if (!agent) throw new TalonError('not_found', `No agent with id ${agentId}.`);
    if (!agent.cryptoProxyEnabled) {
      this.context.audit.append({
        action: `transaction.${operation}`,
        actor: actorOf(principal),
        outcome: 'denied',
        resourceType: 'agent',
        resourceId: agent.id,
        details: { reason: 'crypto proxy is not enabled', ...callDetails(call) },
        ip: call.ip ?? null,
      });
      throw new TalonError(
        'forbidden',
        'This agent does not have the crypto proxy enabled (crypto_proxy_enabled / intents_api_enabled); a human can turn it on in the agent settings.',
      );
    }
    return { agent, agentPrincipal: principal };
  }

  /** A human, or the agent itself, may read an agent's transactions. */
  private requireReader(principal: Principal, agentId: string): AgentRow {
    requireUnlocked(this.context);
    const id = agentId.toLowerCase();
    if (principal.type === 'agent' && principal.id !== id) {
      throw new TalonError('forbidden', 'An agent can only read its own transactions.');
    }
    const agent = this.context.store.agents.get(id);
    if (!agent) throw new TalonError('not_found', `No agent with id ${agentId}. List agents to find its id.`);
    return agent;
  }

  private async signerOf(
    principal: AgentPrincipal,
    agent: AgentRow,
    signingKeyPath: string | null,
    call: CallContext,
  ): Promise<Signer> {
    if (signingKeyPath === null) {
      const key = await this.signingKeys.ensure(agent.id, principal, call);
      return { kind: 'token', address: key.address, key };
    }
    const found = findSecretSigningKey(this.context, principal, signingKeyPath, call);
    const address = await secretSigningKeyAddress(this.context, found);
    return { kind: 'secret', address, key: { ...found, address } };
  }

  private parseValue(raw: unknown, chain: ChainDefinition): bigint {
    try {
      return parseNativeAmount(raw, 'value', chain.nativeCurrency.decimals, chain.nativeCurrency.symbol);
    } catch (error) {
      if (TalonError.is(error, 'invalid_input')) {
        throw new TalonError('invalid_input', `Invalid transaction request: ${error.message}`, {
          details: { issues: [{ field: 'value', message: error.message }] },
        });
      }
      throw error;
    }
  }

  private requestedFees(request: SubmitTransactionRequest): {
    gasPrice?: bigint;
    maxFeePerGas?: bigint;
    maxPriorityFeePerGas?: bigint;
  } {
    const fee = (raw: unknown, field: string) => {
      if (raw === undefined || raw === null) return undefined;
      try {
        return parseWei(raw, field);
      } catch (error) {
        if (TalonError.is(error))
          throw new TalonError('invalid_input', `Invalid transaction request: ${error.message}`);
        throw error;
      }
    };
    const gasPrice = fee(request.gas_price, 'gas_price');
    const maxFeePerGas = fee(request.max_fee_per_gas, 'max_fee_per_gas');
    const maxPriorityFeePerGas = fee(request.max_priority_fee_per_gas, 'max_priority_fee_per_gas');
    if (gasPrice !== undefined && (maxFeePerGas !== undefined || maxPriorityFeePerGas !== undefined)) {
      throw new TalonError(
        'invalid_input',
        'Invalid transaction request: give gas_price (legacy) or max_fee_per_gas / max_priority_fee_per_gas (EIP-1559), not both.',
      );
    }
    return {
      ...(gasPrice !== undefined ? { gasPrice } : {}),
      ...(maxFeePerGas !== undefined ? { maxFeePerGas } : {}),
      ...(maxPriorityFeePerGas !== undefined ? { maxPriorityFeePerGas } : {}),
    };
  }

  /** The chain's RPC client, when the human configured a URL; its chain id is checked once. */
  private async rpcFor(chain: ChainDefinition): Promise<ChainRpc | null> {
    const url = this.chains.rpcUrl(chain.chainId);
    if (!url) return null;
    const rpc = new ChainRpc(url, chain.name);
    const checked = `${chain.chainId}|${url}`;
    if (!this.checkedRpc.has(checked)) {
      const served = await rpc.chainId();
      if (served !== chain.chainId) {
        throw new TalonError(
          'unprocessable',
          `The RPC URL configured for ${chain.name} serves chain id ${served}, not ${chain.chainId}; a human must fix it (PUT /v1/chains/${chain.name}). Nothing was signed.`,
        );
      }
      this.checkedRpc.add(checked);
    }
    return rpc;
  }

  private today(agentId: string, chainId: number, day: string): { valueWei: bigint; count: number } {
    const total = this.context.store.transactions.dailyTotal(agentId, chainId, day);
    return total ? { valueWei: BigInt(total.valueWei), count: total.count } : { valueWei: 0n, count: 0 };
  }

  /** Give back a reservation that was never signed (inside a store transaction). */
  private release(row: TransactionRow): void {
    if (!row.countedDay) return;
    const total = this.context.store.transactions.dailyTotal(row.agentId, row.chainId, row.countedDay);
    if (total) {
      const value = BigInt(total.valueWei) - BigInt(row.valueWei);
      this.context.store.transactions.setDailyTotal({
        ...total,
        valueWei: (value < 0n ? 0n : value).toString(),
        count: Math.max(0, total.count - 1),
      });
    }
    row.countedDay = null;
  }

  private newRow(
    agent: AgentRow,
    operation: Operation,
    chain: ChainDefinition,
    signer: Signer,
    request: SubmitTransactionRequest,
    valueWei: bigint,
    data: string,
    hash: string,
    call: CallContext,
  ): TransactionRow {
    return {
      id: newId(),
      agentId: agent.id,
      operation,
      chain: chain.name,
      chainId: chain.chainId,
      fromAddress: signer.address,
      toAddress: request.to,
      valueWei: valueWei.toString(),
      data,
      nonce: null,
      gasLimit: null,
      txType: null,
      gasPrice: null,
      maxFeePerGas: null,
      maxPriorityFeePerGas: null,
      status: 'pending',
      signedTx: null,
      txHash: null,
      errorMessage: null,
      simulationJson: null,
      approvalId: null,
      requestHash: hash,
      signingKeyPath: signer.kind === 'secret' ? signer.key.path : null,
      countedDay: null,
      createdAt: call.now.toISOString(),
      signedAt: null,
      broadcastAt: null,
      receiptStatus: null,
      blockNumber: null,
      gasUsed: null,
    };
  }

  private info(row: TransactionRow, includeSignedTx: boolean): TransactionInfo {
    const chain = requireChain(row.chainId);
    const simulation = row.simulationJson ? (JSON.parse(row.simulationJson) as SimulationInfo) : null;
    let note: string | null = null;
    if (row.status === 'sign_only') {
      note =
        row.operation === 'sign'
          ? 'Signed only, as asked (POST …/transactions/sign); Talon did not send it.'
          : `Signed only: no RPC URL is configured for ${row.chain}, so Talon did not send it. Broadcast signed_tx yourself, or have a human set the chain's RPC URL (PUT /v1/chains/${row.chain}).`;
    }
    return {
      id: row.id,
      agent_id: row.agentId,
      chain: row.chain,
      chain_id: row.chainId,
      from: row.fromAddress,
      to: row.toAddress,
      value: formatNative(BigInt(row.valueWei), chain.nativeCurrency.decimals),
      value_wei: row.valueWei,
      data: row.data === '0x' ? null : row.data,
      nonce: row.nonce,
      gas_limit: row.gasLimit,
      tx_type: row.txType === null ? null : row.txType === 0 ? 'legacy' : 'eip1559',
      gas_price: row.gasPrice,
      max_fee_per_gas: row.maxFeePerGas,
      max_priority_fee_per_gas: row.maxPriorityFeePerGas,
      status: row.status,
      ...(includeSignedTx ? { signed_tx: row.signedTx } : {}),
      tx_hash: row.txHash,
      error_message: row.errorMessage,
      note,
      created_at: row.createdAt,
      signed_at: row.signedAt,
      broadcast_at: row.broadcastAt,
      simulation_id: simulation?.simulation_id ?? null,
      simulation_status: simulation?.status ?? null,
      simulation,
      receipt_status: row.receiptStatus,
      block_number: row.blockNumber,
      gas_used: row.gasUsed,
      approval_id: row.approvalId,
      signing_key_path: row.signingKeyPath,
      tenderly_dashboard_url: null,
    };
  }

  private audit(
    principal: AgentPrincipal,
    action: string,
    outcome: 'success' | 'denied' | 'error',
    row: TransactionRow,
    call: CallContext,
    details: Record<string, unknown>,
  ): void {
    this.context.audit.append({
      action,
      actor: actorOf(principal),
      outcome,
      resourceType: 'transaction',
      resourceId: row.id,
      details: {
        chain: row.chain,
        chain_id: row.chainId,
        from: row.fromAddress,
        to: row.toAddress,
        value_wei: row.valueWei,
        status: row.status,
        ...(row.txHash ? { tx_hash: row.txHash } : {}),
        ...details,
        ...callDetails(call),
      },
      ip: call.ip ?? null,
    });
  }

  private auditDenied(
    principal: AgentPrincipal,
    operation: Operation,
    chain: ChainDefinition,
    to: string,
    error: TalonError,
    call: CallContext,
  ): void {
    this.context.audit.append({
      action: `transaction.${operation}`,
      actor: actorOf(principal),
      outcome: 'denied',
      resourceType: 'agent',
      resourceId: principal.id,
      details: {
        chain: chain.name,
        to,
        rule: error.details.rule,
        reason: error.message,
        ...callDetails(call),
      },
      ip: call.ip ?? null,
    });
  }

  /** The approval the gate just used for this request (it may pick an approved one by itself). */
  private consumedApproval(agentId: string, hash: string): string | null {
    const used = this.context.store.approvals
      .list({ requesterType: 'agent', requesterId: agentId, limit: 50 })
      .filter((row) => row.requestHash === hash && row.usedAt !== null)
      .sort((a, b) => (a.usedAt! < b.usedAt! ? 1 : -1));
    return used[0]?.id ?? null;
  }

  /** Runs `work` after every earlier work of the same sender on the same chain. */
  private oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.senderQueues.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.senderQueues.set(key, settled);
    void settled.then(() => {
      if (this.senderQueues.get(key) === settled) this.senderQueues.delete(key);
    });
    return next;
  }

  /**
   * Idempotency-Key: the same key with the same body answers what the first call answered
   * (200 with the stored record, for 24 hours); a different body is refused (422); a call still
   * running answers 409. Refusals and approval waits are not stored, so a retry runs again.
   */
  private async idempotent(
    principal: Principal,
    agentId: string,
    operation: Operation,
    body: unknown,
    key: string | undefined,
    work: () => Promise<TransactionAnswer>,
  ): Promise<TransactionAnswer> {
    if (key === undefined) return work();
    requireUnlocked(this.context);
    if (key.length === 0 || key.length > 255 || /[^\x21-\x7e]/u.test(key)) {
      throw new TalonError(
        'invalid_input',
        'Idempotency-Key must be 1 to 255 visible ASCII characters, such as a UUID.',
      );
    }
    const owner = `${principal.type}:${principal.id}:${agentId.toLowerCase()}`;
    const bodyHash = requestHash('idempotency', { operation, body: body ?? null });
    const now = this.context.options.now();
    const replay = this.context.store.transaction(() => {
      this.context.store.transactions.deleteExpiredIdempotency(now.toISOString());
      const existing = this.context.store.transactions.getIdempotency(owner, key);
      if (existing) {
        if (existing.requestHash !== bodyHash) {
          throw new TalonError(
            'unprocessable',
            'This Idempotency-Key was used with a different request in the last 24 hours; use a new key for a new request.',
          );
        }
        if (existing.state === 'in_flight') {
          throw new TalonError(
            'conflict',
            'A request with this Idempotency-Key is still being processed; wait for its answer and retry.',
          );
        }
        return existing;
      }
      this.context.store.transactions.putIdempotency({
        agentId: owner,
        key,
        requestHash: bodyHash,
        state: 'in_flight',
        statusCode: null,
        responseJson: null,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + idempotencyTtlMs).toISOString(),
      });
      return undefined;
    });
    if (replay) {
      const statusCode = replay.statusCode === 422 ? 422 : 200;
      return { statusCode, body: JSON.parse(replay.responseJson!) as TransactionInfo, replayed: true };
    }
    let answer: TransactionAnswer;
    try {
      answer = await work();
    } catch (error) {
      this.context.store.transaction(() => this.context.store.transactions.deleteIdempotency(owner, key));
      throw error;
    }
    this.context.store.transaction(() =>
      this.context.store.transactions.putIdempotency({
        agentId: owner,
        key,
        requestHash: bodyHash,
        state: 'done',
        statusCode: answer.statusCode,
        responseJson: JSON.stringify(answer.body),
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + idempotencyTtlMs).toISOString(),
      }),
    );
    return answer;
  }
}

function noFees(chain: ChainDefinition): TalonError {
  return new TalonError(
    'invalid_input',
    `No RPC URL is configured for ${chain.name}, so Talon cannot look up fees: give max_fee_per_gas and max_priority_fee_per_gas (EIP-1559) or gas_price (legacy), in wei, or have a human set the chain's RPC URL (PUT /v1/chains/${chain.name}).`,
  );
}

function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** A contract call gets 20% over the estimate (state may move before it is mined); a transfer its exact 21000. */
function gasWithHeadroom(estimate: bigint, data: string): bigint {
  return data === '0x' ? estimate : (estimate * 12n) / 10n;
}
