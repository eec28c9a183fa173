import { HsmError } from '../../hsm-bridge/index.js';
import type { SigningKeyRow } from '../store/store.js';
import { type EngineContext, recordSuccess, requireUnlocked } from './engine-context.js';
import type { CallContext, Principal } from './principal.js';
import { TalonError } from './talon-error.js';
import { hsmToTalonError } from './value-barrier.js';

/** 1Claw's signing-key listing entry; never the key itself. */
export interface SigningKeyInfo {
  chain: 'evm';
  address: string;
  /** Uncompressed SEC1 public key, 0x-hex. */
  public_key: string;
  origin: 'generated' | 'imported';
  /** Talon never offers export of a token-held key. */
  exportable: false;
  created_at: string;
}

export interface DigestSignature {
  r: Buffer;
  s: Buffer;
  recoveryId: 0 | 1;
  address: string;
}

/** The token label of an agent's EVM key pair. */
export function signingKeyLabel(agentId: string): string {
  return `talon-agent-${agentId}-evm`;
}

const curveOrder = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');

/**
 * Agents' signing keys: one secp256k1 key pair per agent for every EVM chain, generated in the
 * token (or imported into it by a human with a funded wallet), used through CKM_ECDSA. The
 * private key is never in Talon's memory once in the token, and there is no export.
 */
export class SigningKeyService {
  private readonly provisioning = new Map<string, Promise<SigningKeyRow>>();

  constructor(private readonly context: EngineContext) {}

  /** The agent's key, generated in the token on first use. */
  async ensure(agentId: string, principal: Principal, call: CallContext): Promise<SigningKeyRow> {
    const existing = this.context.store.signingKeys.get(agentId, 'evm');
    if (existing) return existing;
    let pending = this.provisioning.get(agentId);
    if (!pending) {
      pending = this.generate(agentId, principal, call).finally(() => this.provisioning.delete(agentId));
      this.provisioning.set(agentId, pending);
    }
    return pending;
  }

  /** POST /v1/agents/{id}/signing-keys: the agent's key, generated if it has none (its owner or the agent itself). */
  async provision(principal: Principal, agentId: string, call: CallContext): Promise<SigningKeyInfo> {
    const agent = this.requireAgentAccess(principal, agentId);
    return keyInfo(await this.ensure(agent, principal, call));
  }

  list(principal: Principal, agentId: string): SigningKeyInfo[] {
    const agent = this.requireAgentAccess(principal, agentId);
    return this.context.store.signingKeys.listByAgent(agent).map(keyInfo);
  }

  /** The agent's address, when it has a key (shown to the human in the agent's record). */
  address(agentId: string): string | null {
    return this.context.store.signingKeys.get(agentId, 'evm')?.address ?? null;
  }

  /**
   * Put a human's existing wallet key into the token as the agent's key. Refused when the agent
   * already has one (its funds would be stranded) and on tokens that do not take private keys.
   */
  async import(
    principal: Principal,
    agentId: string,
    body: unknown,
    call: CallContext,
  ): Promise<SigningKeyInfo> {
    requireUnlocked(this.context);
    if (principal.type !== 'user') {
      throw new TalonError('forbidden', 'Only a human can import a signing key into the token.');
    }
    const agent = this.requireAgentAccess(principal, agentId);
    const raw = (body as { private_key?: unknown } | null)?.private_key;
    if (typeof raw !== 'string' || !/^(0x)?[0-9a-fA-F]{64}$/u.test(raw.trim())) {
      throw new TalonError(
        'invalid_input',
        'Invalid signing key import: private_key must be 32 bytes as 64 hex digits (with or without 0x).',
      );
    }
    const key = Buffer.from(raw.trim().replace(/^0x/u, ''), 'hex');
    try {
      const scalar = BigInt(`0x${key.toString('hex')}`);
      if (scalar === 0n || scalar >= curveOrder) {
        throw new TalonError(
          'invalid_input',
          'Invalid signing key import: private_key is not a valid secp256k1 key.',
        );
      }
      if (this.context.store.signingKeys.get(agent, 'evm')) {
        throw new TalonError(
          'conflict',
          'This agent already has a signing key in the token; Talon never replaces one (its funds would be stranded). Register another agent for the imported wallet.',
        );
      }
      const label = signingKeyLabel(agent);
      let publicKey;
      try {
        publicKey = await this.context.keyStore.importEcPrivateKey(label, key);
      } catch (error) {
        if (error instanceof HsmError && error.kind === 'mechanism_unsupported') {
          throw new TalonError(
            'unprocessable',
            `${error.message} Talon keeps a generated key for this agent instead.`,
          );
        }
        if (error instanceof HsmError && error.kind === 'key_exists') {
          throw new TalonError('conflict', 'This agent already has a signing key in the token.');
        }
        throw hsmToTalonError(error);
      }
      const row: SigningKeyRow = {
        agentId: agent,
        family: 'evm',
        keyLabel: label,
        address: publicKey.address,
        publicKey: publicKey.publicKey,
        origin: 'imported',
        createdAt: this.context.options.now().toISOString(),
      };
      this.context.store.transaction(() => {
        this.context.store.signingKeys.insert(row);
        recordSuccess(this.context, principal, call, {
          action: 'signing_key.import',
          resourceType: 'agent',
          resourceId: agent,
          details: { address: row.address },
        });
      });
      return keyInfo(row);
    } finally {
      key.fill(0);
    }
  }

  /** Export is never offered: the answer explains why. */
  export(principal: Principal, agentId: string): never {
    this.requireAgentAccess(principal, agentId);
    throw new TalonError(
      'forbidden',
      'Talon never exports a signing key: it lives in the token and cannot be read, not even by Talon. Move funds out with a transaction instead.',
    );
  }

  /** Sign a 32-byte digest with the agent's token-held key. */
  async signDigest(key: SigningKeyRow, digest: Buffer): Promise<DigestSignature> {
    try {
      const signature = await this.context.keyStore.signDigest(key.keyLabel, digest);
      return { r: signature.r, s: signature.s, recoveryId: signature.recoveryId, address: key.address };
    } catch (error) {
      throw hsmToTalonError(error);
    }
  }

  private async generate(agentId: string, principal: Principal, call: CallContext): Promise<SigningKeyRow> {
    const label = signingKeyLabel(agentId);
    let publicKey;
    try {
      publicKey = await this.context.keyStore.generateEcKeyPair(label);
    } catch (error) {
      // Made by another process on the same token in the meantime: use it.
      if (error instanceof HsmError && error.kind === 'key_exists')
        publicKey = await this.context.keyStore.ecPublicKey(label);
      else throw hsmToTalonError(error);
    }
    const row: SigningKeyRow = {
      agentId,
      family: 'evm',
      keyLabel: label,
      address: publicKey.address,
      publicKey: publicKey.publicKey,
      origin: 'generated',
      createdAt: this.context.options.now().toISOString(),
    };
    return this.context.store.transaction(() => {
      const stored = this.context.store.signingKeys.get(agentId, 'evm');
      if (stored) return stored;
      this.context.store.signingKeys.insert(row);
      recordSuccess(this.context, principal, call, {
        action: 'signing_key.generate',
        resourceType: 'agent',
        resourceId: agentId,
        details: { address: row.address },
      });
      return row;
    });
  }

  /** The agent id, if the principal is that agent or a human; throws otherwise. */
  private requireAgentAccess(principal: Principal, agentId: string): string {
    requireUnlocked(this.context);
    const id = agentId.toLowerCase();
    if (principal.type === 'agent' && principal.id !== id) {
      throw new TalonError('forbidden', 'An agent can only use its own signing key.');
    }
    if (!this.context.store.agents.get(id)) {
      throw new TalonError('not_found', `No agent with id ${agentId}. List agents to find its id.`);
    }
    return id;
  }
}

function keyInfo(row: SigningKeyRow): SigningKeyInfo {
  return {
    chain: 'evm',
    address: row.address,
    public_key: `0x${row.publicKey.toString('hex')}`,
    origin: row.origin,
    exportable: false,
    created_at: row.createdAt,
  };
}
