import {
  type AccessGrant,
  type ApprovalStatusSummary,
  type ApprovalWaitOptions,
  type PolicySummary,
  type ShareCreated,
  type ShareInput,
  type RotationCharset,
  type SecretInput,
  type SecretStored,
  type SecretSummary,
  type SecretVersionSummary,
  type SecretWithValue,
  type SimulationSummary,
  type TransactionInput,
  type TransactionSummary,
  type VaultClient,
  VaultClientError,
  type VaultSummary,
  describeByListing,
  type HttpRequestAnswer,
  type HttpRequestInput,
  type RequestedSecret,
  type SecretRequestInput,
} from '../../mcp/vault-client.js';
import {
  type CallContext,
  type Engine,
  type Principal,
  TalonError,
  storageToTalonError,
  type TransactionAnswer,
} from '../engine/index.js';

/** Listing pages asked of the engine at once (its maximum). */
const listPageSize = 1000;

/**
 * The MCP tools' VaultClient inside the app: the engine itself, called as one principal on one
 * vault, with no HTTP round trip. The `/mcp` endpoint makes one per request, for the principal
 * that request authenticated; every engine call gets a fresh CallContext from `call`.
 */
export class EngineVaultClient implements VaultClient {
  constructor(
    private readonly engine: Engine,
    private readonly principal: Principal,
    private readonly call: () => CallContext,
    private readonly vault: string,
  ) {}

  async vaultId(): Promise<string> {
    return this.vault;
  }

  listSecrets(prefix?: string): Promise<SecretSummary[]> {
    return this.answer(() => {
      const secrets: SecretSummary[] = [];
      let after: string | undefined;
      for (;;) {
        const page = this.engine.secrets.list(this.principal, this.vault, this.call(), {
          ...(prefix !== undefined ? { prefix } : {}),
          ...(after !== undefined ? { after } : {}),
          limit: listPageSize,
        });
        secrets.push(...page.secrets);
        if (page.next_cursor === null || page.next_cursor === after) return secrets;
        after = page.next_cursor;
      }
    });
  }

  getSecret(path: string): Promise<SecretWithValue> {
    return this.answer(() => this.engine.secrets.get(this.principal, this.vault, path, this.call()));
  }

  putSecret(path: string, secret: SecretInput): Promise<SecretStored> {
    return this.answer(() => this.engine.secrets.put(this.principal, this.vault, path, secret, this.call()));
  }

  deleteSecret(path: string): Promise<void> {
    return this.answer(() => this.engine.secrets.delete(this.principal, this.vault, path, this.call()));
  }

  describeSecret(path: string): Promise<SecretSummary> {
    return describeByListing(this, path);
  }

  listVersions(path: string): Promise<SecretVersionSummary[]> {
    return this.answer(() => this.engine.secrets.versions(this.principal, this.vault, path, this.call()));
  }

  rotateGenerate(
    path: string,
    options: { length?: number; charset?: RotationCharset },
  ): Promise<SecretStored> {
    return this.answer(() =>
      this.engine.secrets.rotate(this.principal, this.vault, path, options, this.call()),
    );
  }

  createVault(vault: { name: string; description?: string }): Promise<VaultSummary> {
    return this.answer(() => this.engine.vaults.create(this.principal, vault, this.call()));
  }

  listVaults(): Promise<VaultSummary[]> {
    return this.answer(() => this.engine.vaults.list(this.principal));
  }

  httpRequest(request: HttpRequestInput): Promise<HttpRequestAnswer> {
    const body = { ...request, vault_id: request.vault_id ?? this.vault };
    return this.answer(() => this.engine.use.httpRequest(this.principal, body, this.call()));
  }

  requestSecret(request: SecretRequestInput): Promise<RequestedSecret> {
    const { vault_id, ...body } = request;
    return this.answer(() =>
      this.engine.use.requestSecret(this.principal, vault_id ?? this.vault, body, this.call()),
    );
  }

  grantAccess(vaultId: string, grant: AccessGrant): Promise<PolicySummary> {
    return this.answer(() => this.engine.policies.create(this.principal, vaultId, grant, this.call()));
  }

  shareSecret(secretId: string, share: ShareInput): Promise<ShareCreated> {
    return this.answer(() => this.engine.shares.create(this.principal, secretId, share, this.call()));
  }

  approvalStatus(approvalId: string): Promise<ApprovalStatusSummary> {
    return this.answer(() => this.engine.approvals.status(this.principal, approvalId, this.call()));
  }

  waitForApproval(approvalId: string, options: ApprovalWaitOptions): Promise<ApprovalStatusSummary> {
    return this.answer(async () => {
      // Only the requester may wait on an approval: the status call refuses any other.
      await this.approvalStatus(approvalId);
      const approval = await this.engine.approvals.waitForDecision(approvalId, {
        timeoutMs: options.timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      return this.engine.approvals.status(this.principal, approval.id, this.call());
    });
  }

  async agentId(): Promise<string> {
    return this.principal.id;
  }

  submitTransaction(transaction: TransactionInput, idempotencyKey: string): Promise<TransactionSummary> {
    return this.answer(async () =>
      simulationFailedAsError(
        await this.engine.transactions.submit(this.principal, this.principal.id, transaction, this.call(), idempotencyKey),
      ),
    );
  }

  signTransaction(transaction: TransactionInput, idempotencyKey?: string): Promise<TransactionSummary> {
    return this.answer(async () =>
      simulationFailedAsError(
        await this.engine.transactions.sign(this.principal, this.principal.id, transaction, this.call(), idempotencyKey),
      ),
    );
  }

  simulateTransaction(transaction: TransactionInput): Promise<SimulationSummary> {
    return this.answer(() => this.engine.transactions.simulate(this.principal, this.principal.id, transaction, this.call()));
  }

  listTransactions(options: { includeSignedTx?: boolean } = {}): Promise<TransactionSummary[]> {
    return this.answer(() => this.engine.transactions.list(this.principal, this.principal.id, options));
  }

  getTransaction(transactionId: string, options: { includeSignedTx?: boolean } = {}): Promise<TransactionSummary> {
    return this.answer(() => this.engine.transactions.get(this.principal, this.principal.id, transactionId, options));
  }

  withApproval(approvalId: string): VaultClient {
    return new EngineVaultClient(
      this.engine,
      this.principal,
      () => ({ ...this.call(), approvalId }),
      this.vault,
    );
  }

  /** The engine's answer, its refusals as the VaultClientError `/v1` would have produced. */
  private async answer<T>(work: () => T | Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (thrown) {
      const error = storageToTalonError(thrown);
      if (error instanceof TalonError) {
        const approvalId = error.code === 'approval_required' ? error.details.approval_id : undefined;
        throw new VaultClientError(
          error.status,
          error.code,
          error.message,
          typeof approvalId === 'string' ? approvalId : undefined,
        );
      }
      throw error;
    }
  }
}

/** A reverted simulate_first, as `/v1` answers it (422, code simulation_failed), for the tools. */
function simulationFailedAsError(answer: TransactionAnswer): TransactionSummary {
  if (answer.statusCode === 422) {
    throw new VaultClientError(422, 'simulation_failed', answer.body.error_message ?? 'The simulation failed.');
  }
  return answer.body;
}
