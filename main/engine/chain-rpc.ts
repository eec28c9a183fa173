import { AbiCoder, dataSlice } from 'ethers';
import { TalonError } from './talon-error.js';

/** A JSON-RPC error answer of a node, e.g. a revert in eth_call or eth_estimateGas. */
export class RpcError extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
    readonly data: string | undefined,
  ) {
    super(message);
    this.name = 'RpcError';
  }

  /** Whether the node says the call reverted (rather than, say, a malformed request). */
  get isRevert(): boolean {
    return /revert/iu.test(this.message) || (this.data !== undefined && this.data.length > 2);
  }

  /** The revert reason: Error(string), Panic(uint256), or the node's own words. */
  get revertReason(): string {
    const data = this.data;
    if (data && data.startsWith('0x08c379a0')) {
      try {
        return String(AbiCoder.defaultAbiCoder().decode(['string'], dataSlice(data, 4))[0]);
      } catch {
        // fall through to the message
      }
    }
    if (data && data.startsWith('0x4e487b71')) {
      try {
        return `panic 0x${(AbiCoder.defaultAbiCoder().decode(['uint256'], dataSlice(data, 4))[0] as bigint).toString(16)}`;
      } catch {
        // fall through
      }
    }
    const quoted = /reverted with reason string '([^']*)'/u.exec(this.message);
    if (quoted) return quoted[1]!;
    if (data && data.length > 2) return `custom error ${data.slice(0, 10)}`;
    return this.message.slice(0, 200);
  }
}

export interface RpcCallRequest {
  from: string;
  to: string;
  value: bigint;
  data: string;
  gas?: bigint;
}

export interface RpcReceipt {
  status: 'success' | 'reverted';
  blockNumber: number;
  gasUsed: bigint;
}

const toQuantity = (value: bigint | number): string => `0x${value.toString(16)}`;

/**
 * The few Ethereum JSON-RPC calls Talon makes, over fetch, to the URL the human configured. No
 * caching (ethers' provider answers identical requests from a short cache, which hides a nonce
 * that just moved), a timeout on every call, and errors that name the chain.
 */
export class ChainRpc {
  private nextId = 1;

  constructor(
    private readonly url: string,
    private readonly chainName: string,
    private readonly timeoutMs = 15_000,
  ) {}

  async request<T>(method: string, params: unknown[]): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method, params }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new TalonError(
        'bad_gateway',
        `The RPC endpoint configured for ${this.chainName} did not answer ${method} (${cause}). Check that the node runs, or change its URL with PUT /v1/chains/${this.chainName}.`,
      );
    }
    let body: { result?: T; error?: { code?: number; message?: string; data?: unknown } };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new TalonError(
        'bad_gateway',
        `The RPC endpoint configured for ${this.chainName} answered ${method} with HTTP ${response.status} and no JSON-RPC body.`,
      );
    }
    if (body.error) {
      const data = body.error.data;
      const hex =
        typeof data === 'string'
          ? data
          : data && typeof data === 'object' && typeof (data as { data?: unknown }).data === 'string'
            ? (data as { data: string }).data
            : undefined;
      throw new RpcError(body.error.message ?? `JSON-RPC error ${body.error.code}`, body.error.code, hex);
    }
    return body.result as T;
  }

  async chainId(): Promise<number> {
    return Number(await this.request<string>('eth_chainId', []));
  }

  async pendingNonce(address: string): Promise<number> {
    return Number(await this.request<string>('eth_getTransactionCount', [address, 'pending']));
  }

  async balance(address: string): Promise<bigint> {
    return BigInt(await this.request<string>('eth_getBalance', [address, 'latest']));
  }

  async baseFeePerGas(): Promise<bigint | null> {
    const block = await this.request<{ baseFeePerGas?: string } | null>('eth_getBlockByNumber', [
      'latest',
      false,
    ]);
    return block?.baseFeePerGas ? BigInt(block.baseFeePerGas) : null;
  }

  async maxPriorityFeePerGas(): Promise<bigint> {
    try {
      return BigInt(await this.request<string>('eth_maxPriorityFeePerGas', []));
    } catch (error) {
      if (error instanceof RpcError) return 1_000_000_000n; // nodes without the method: 1 gwei
      throw error;
    }
  }

  async gasPrice(): Promise<bigint> {
    return BigInt(await this.request<string>('eth_gasPrice', []));
  }

  private callObject(tx: RpcCallRequest) {
    return {
      from: tx.from,
      to: tx.to,
      value: toQuantity(tx.value),
      data: tx.data,
      ...(tx.gas !== undefined ? { gas: toQuantity(tx.gas) } : {}),
    };
  }

  /** eth_call: throws RpcError when the call reverts. */
  async call(tx: RpcCallRequest): Promise<string> {
    return this.request<string>('eth_call', [this.callObject(tx), 'pending']);
  }

  async estimateGas(tx: RpcCallRequest): Promise<bigint> {
    return BigInt(await this.request<string>('eth_estimateGas', [this.callObject(tx)]));
  }

  async sendRawTransaction(signed: string): Promise<string> {
    return this.request<string>('eth_sendRawTransaction', [signed]);
  }

  async receipt(txHash: string): Promise<RpcReceipt | null> {
    const receipt = await this.request<{ status: string; blockNumber: string; gasUsed: string } | null>(
      'eth_getTransactionReceipt',
      [txHash],
    );
    if (!receipt) return null;
    return {
      status: BigInt(receipt.status) === 1n ? 'success' : 'reverted',
      blockNumber: Number(receipt.blockNumber),
      gasUsed: BigInt(receipt.gasUsed),
    };
  }
}
