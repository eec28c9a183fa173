import type { Store } from '../store/store.js';
import { type CallContext, type Principal } from './principal.js';
import { TalonError } from './talon-error.js';
import type { EngineContext } from './engine-context.js';
import { recordSuccess, requireUnlocked } from './engine-context.js';

/** An EVM chain Talon can sign for. */
export interface ChainDefinition {
  /** 1Claw's name, used in requests (`"chain": "base"`). */
  name: string;
  displayName: string;
  chainId: number;
  nativeCurrency: { name: string; symbol: string; decimals: number };
  isTestnet: boolean;
  explorerUrl: string | null;
  /** Whether the chain takes EIP-1559 (type 2) transactions; with an RPC URL the latest block decides. */
  eip1559: boolean;
  /** Other names a request may use. */
  aliases?: string[];
}

const ether = { name: 'Ether', symbol: 'ETH', decimals: 18 };
const evm = (
  name: string,
  displayName: string,
  chainId: number,
  symbol: string,
  explorerUrl: string | null,
  extra: Partial<ChainDefinition> = {},
): ChainDefinition => ({
  name,
  displayName,
  chainId,
  nativeCurrency: symbol === 'ETH' ? ether : { name: symbol, symbol, decimals: 18 },
  isTestnet: false,
  explorerUrl,
  eip1559: true,
  ...extra,
});

/**
 * The EVM chains 1Claw lists (its docs' 28 mainnets and 2 testnets) and a local development
 * chain (Hardhat's and Anvil's id 31337). No chain is ever called unless the human configured an
 * RPC URL for it.
 */
export const chainDefinitions: readonly ChainDefinition[] = [
  evm('ethereum', 'Ethereum', 1, 'ETH', 'https://etherscan.io', { aliases: ['mainnet', 'eth'] }),
  evm('optimism', 'OP Mainnet', 10, 'ETH', 'https://optimistic.etherscan.io', { aliases: ['op'] }),
  evm('cronos', 'Cronos', 25, 'CRO', 'https://cronoscan.com'),
  evm('bsc', 'BNB Smart Chain', 56, 'BNB', 'https://bscscan.com', { aliases: ['bnb', 'binance'] }),
  evm('gnosis', 'Gnosis', 100, 'xDAI', 'https://gnosisscan.io'),
  evm('polygon', 'Polygon', 137, 'POL', 'https://polygonscan.com', { aliases: ['matic'] }),
  evm('sonic', 'Sonic', 146, 'S', 'https://sonicscan.org'),
  evm('fantom', 'Fantom', 250, 'FTM', 'https://ftmscan.com'),
  evm('zksync', 'zkSync Era', 324, 'ETH', 'https://explorer.zksync.io', { aliases: ['zksync-era'] }),
  evm('worldchain', 'World Chain', 480, 'ETH', 'https://worldscan.org', { aliases: ['world-chain'] }),
  evm('metis', 'Metis', 1088, 'METIS', 'https://andromeda-explorer.metis.io'),
  evm('polygon-zkevm', 'Polygon zkEVM', 1101, 'ETH', 'https://zkevm.polygonscan.com'),
  evm('moonbeam', 'Moonbeam', 1284, 'GLMR', 'https://moonscan.io'),
  evm('sei', 'Sei', 1329, 'SEI', 'https://seitrace.com'),
  evm('mantle', 'Mantle', 5000, 'MNT', 'https://mantlescan.xyz'),
  evm('kaia', 'Kaia', 8217, 'KAIA', 'https://kaiascan.io'),
  evm('base', 'Base', 8453, 'ETH', 'https://basescan.org'),
  evm('mode', 'Mode', 34443, 'ETH', 'https://modescan.io'),
  evm('arbitrum', 'Arbitrum One', 42161, 'ETH', 'https://arbiscan.io', { aliases: ['arbitrum-one', 'arb'] }),
  evm('arbitrum-nova', 'Arbitrum Nova', 42170, 'ETH', 'https://nova.arbiscan.io'),
  evm('celo', 'Celo', 42220, 'CELO', 'https://celoscan.io'),
  evm('avalanche', 'Avalanche C-Chain', 43114, 'AVAX', 'https://snowtrace.io', { aliases: ['avax'] }),
  evm('linea', 'Linea', 59144, 'ETH', 'https://lineascan.build'),
  evm('berachain', 'Berachain', 80094, 'BERA', 'https://berascan.com'),
  evm('blast', 'Blast', 81457, 'ETH', 'https://blastscan.io'),
  evm('taiko', 'Taiko', 167000, 'ETH', 'https://taikoscan.io'),
  evm('scroll', 'Scroll', 534352, 'ETH', 'https://scrollscan.com'),
  evm('zora', 'Zora', 7777777, 'ETH', 'https://explorer.zora.energy'),
  evm('sepolia', 'Sepolia', 11155111, 'ETH', 'https://sepolia.etherscan.io', { isTestnet: true }),
  evm('base-sepolia', 'Base Sepolia', 84532, 'ETH', 'https://sepolia.basescan.org', { isTestnet: true }),
  evm('localhost', 'Local development chain', 31337, 'ETH', null, {
    isTestnet: true,
    aliases: ['hardhat', 'anvil', 'local'],
  }),
];

const byName = new Map<string, ChainDefinition>();
const byId = new Map<number, ChainDefinition>();
for (const chain of chainDefinitions) {
  byId.set(chain.chainId, chain);
  for (const name of [chain.name, ...(chain.aliases ?? [])]) byName.set(name, chain);
}

/** The chain a request names, by name, alias or chain id (as a number or decimal string); undefined when unknown. */
export function findChain(identifier: string | number): ChainDefinition | undefined {
  if (typeof identifier === 'number') return byId.get(identifier);
  const text = identifier.trim().toLowerCase();
  if (/^\d{1,12}$/u.test(text)) return byId.get(Number(text));
  return byName.get(text);
}

export function requireChain(identifier: string | number): ChainDefinition {
  const chain = findChain(identifier);
  if (!chain) {
    throw new TalonError(
      'invalid_input',
      `Unknown chain '${String(identifier).slice(0, 64)}'. Use a name or chain id from GET /v1/chains, such as ${chainDefinitions
        .slice(0, 4)
        .map((c) => `${c.name} (${c.chainId})`)
        .join(', ')} or localhost (31337).`,
    );
  }
  return chain;
}

/** 1Claw's ChainResponse, plus whether an RPC URL is configured. */
export interface ChainInfo {
  id: string;
  name: string;
  display_name: string;
  chain_id: number;
  /** Shown to people only: a provider URL often embeds an API key. */
  rpc_url: string | null;
  rpc_configured: boolean;
  ws_url: null;
  explorer_url: string | null;
  native_currency: { name: string; symbol: string; decimals: number };
  is_testnet: boolean;
  is_enabled: boolean;
  supports_eip1559: boolean;
  created_at: string | null;
  updated_at: string | null;
}

/**
 * The chains registry: the fixed list above, with the RPC URL the human configured for each
 * (in the store, so it survives restarts). Without one, Talon signs for the chain but never sends.
 */
export class ChainRegistry {
  constructor(private readonly context: EngineContext) {}

  list(principal: Principal): ChainInfo[] {
    requireUnlocked(this.context);
    const settings = new Map(this.context.store.chainSettings.list().map((s) => [s.chainId, s]));
    return chainDefinitions.map((chain) => chainInfo(chain, settings.get(chain.chainId), principal));
  }

  get(principal: Principal, identifier: string): ChainInfo {
    requireUnlocked(this.context);
    const chain = requireChain(identifier);
    return chainInfo(chain, this.context.store.chainSettings.get(chain.chainId), principal);
  }

  /** The configured RPC URL of a chain, or null (then Talon signs only). */
  rpcUrl(chainId: number): string | null {
    return rpcUrlOf(this.context.store, chainId);
  }

  /** Set (or with `rpc_url: null`, remove) the RPC URL of a chain. People only. */
  setRpcUrl(principal: Principal, identifier: string, body: unknown, call: CallContext): ChainInfo {
    requireUnlocked(this.context);
    if (principal.type !== 'user') {
      throw new TalonError('forbidden', 'Only a human can choose which RPC endpoints Talon talks to.');
    }
    const chain = requireChain(identifier);
    const rpcUrl = parseRpcUrl(body);
    this.context.store.transaction(() => {
      if (rpcUrl === null) this.context.store.chainSettings.delete(chain.chainId);
      else {
        this.context.store.chainSettings.set({
          chainId: chain.chainId,
          rpcUrl,
          updatedBy: principal.id,
          updatedAt: this.context.options.now().toISOString(),
        });
      }
      recordSuccess(this.context, principal, call, {
        action: rpcUrl === null ? 'chain.rpc.remove' : 'chain.rpc.set',
        resourceType: 'chain',
        resourceId: String(chain.chainId),
        // The host only: a provider URL's path often holds an API key.
        details: { chain: chain.name, ...(rpcUrl ? { rpc_host: new URL(rpcUrl).host } : {}) },
      });
    });
    return this.get(principal, chain.name);
  }
}

export function rpcUrlOf(store: Store, chainId: number): string | null {
  return store.chainSettings.get(chainId)?.rpcUrl ?? null;
}

function parseRpcUrl(body: unknown): string | null {
  const raw = (body as { rpc_url?: unknown } | null)?.rpc_url;
  if (raw === null) return null;
  if (typeof raw !== 'string' || raw.length > 2048) {
    throw new TalonError(
      'invalid_input',
      'Invalid chain settings: rpc_url must be an http(s) URL of at most 2048 characters, or null to remove it.',
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TalonError(
      'invalid_input',
      'Invalid chain settings: rpc_url is not a URL, e.g. http://127.0.0.1:8545.',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TalonError('invalid_input', 'Invalid chain settings: rpc_url must use http or https.');
  }
  return url.toString();
}

function chainInfo(
  chain: ChainDefinition,
  setting: { rpcUrl: string; updatedAt: string } | undefined,
  principal: Principal,
): ChainInfo {
  return {
    id: String(chain.chainId),
    name: chain.name,
    display_name: chain.displayName,
    chain_id: chain.chainId,
    rpc_url: setting && principal.type === 'user' ? setting.rpcUrl : null,
    rpc_configured: setting !== undefined,
    ws_url: null,
    explorer_url: chain.explorerUrl,
    native_currency: chain.nativeCurrency,
    is_testnet: chain.isTestnet,
    is_enabled: true,
    supports_eip1559: chain.eip1559,
    created_at: null,
    updated_at: setting?.updatedAt ?? null,
  };
}
