import type { SecretRow, VaultRow } from '../store/store.js';
import { pendingError } from './approval-service.js';
import { type EngineContext, actorOf, callDetails, requireUnlocked, requireVault } from './engine-context.js';
import { OutboundRequester, type OutboundOptions, isManagedHeader } from './outbound-request.js';
import { hostPatterns, matchingHostPattern } from './outbound-request-hosts.js';
import type { CallContext, Principal } from './principal.js';
import { requestHash, secretRequestHash } from './request-hash.js';
import {
  type HttpRequestBody,
  fulfilSecretRequestSchema,
  httpRequestSchema,
  parseRequest,
  secretRequestSchema,
  secretsForUseRequestSchema,
} from './schemas.js';
import type { SecretMetadata, SecretService } from './secret-service.js';
import { countLimitedAccess, requireAvailableSecret } from './secret-availability.js';
import { normalizePathPrefix, normalizeSecretPath } from './secret-path.js';
import { TalonError } from './talon-error.js';
import { maskedForms, ValueMasker } from './value-mask.js';

/**
 * Using a secret without seeing it. `resolve` hands values to `talon run`, which injects them
 * into a command's environment and masks them in its output; `httpRequest` substitutes
 * `{{secret:path}}` placeholders in a request Talon sends itself, to hosts the secret allows, and
 * masks the answer. Both need the `use` permission (which `read` implies), never `read`, so an
 * agent may be given a credential to use that `get_secret` refuses it. Every use is audited as
 * `secret.use` and counts as an access (max_access_count). Secret requests (`request_secret`)
 * let an agent ask the human to store a credential, and learn only where it is.
 */

export interface SecretForUse {
  path: string;
  type: string;
  version: number;
  value: string;
}

export interface SecretsForUse {
  secrets: SecretForUse[];
  /** Found under a prefix but not usable by the caller, or not live: paths and why, never values. */
  skipped: { path: string; reason: string }[];
}

export interface HttpRequestResult {
  status: number;
  /** The URL that answered, masked (it may carry a secret in its query). */
  url: string;
  headers: Record<string, string>;
  body: string;
  redirects: number;
}

/** Where a requested credential was stored: never its value. */
export interface StoredSecretInfo {
  id: string;
  path: string;
  type: string;
  version: number;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
}

export interface SecretRequestOutcome {
  status: 'stored';
  approval_id: string;
  secret: StoredSecretInfo;
}

const placeholder = /\{\{\s*secret:([^{}]+?)\s*\}\}/gu;

export class SecretUseService {
  private readonly outbound: OutboundRequester;

  constructor(
    private readonly context: EngineContext,
    private readonly secrets: SecretService,
    outbound: Partial<OutboundOptions> = {},
  ) {
    this.outbound = new OutboundRequester(outbound);
  }

  // ---- talon run ------------------------------------------------------------------------------

  /**
   * The values of `paths` (each must be usable, else the call fails) and of every secret under
   * `prefixes` that the caller may use (others are listed in `skipped`). Audited per secret.
   */
  async resolve(
    principal: Principal,
    vaultId: string,
    body: unknown,
    call: CallContext,
  ): Promise<SecretsForUse> {
    requireUnlocked(this.context);
    const request = parseRequest(secretsForUseRequestSchema, body, 'secrets-for-use request');
    const vault = requireVault(this.context, principal, vaultId);
    const wanted = new Map<string, 'named' | 'listed'>();
    for (const raw of request.paths) wanted.set(normalizeSecretPath(raw), 'named');
    const skipped: SecretsForUse['skipped'] = [];
    for (const raw of request.prefixes) {
      const prefix = raw === '' ? undefined : normalizePathPrefix(raw);
      for (const row of this.listUnder(vault.id, prefix)) {
        if (wanted.has(row.path)) continue;
        const why = this.unusable(principal, vault, row, call);
        if (why) skipped.push({ path: row.path, reason: why });
        else wanted.set(row.path, 'listed');
      }
    }
    const secrets: SecretForUse[] = [];
    try {
      for (const path of wanted.keys()) {
        secrets.push(await this.open(principal, vault, path, call, { purpose: 'run' }));
      }
    } catch (error) {
      for (const secret of secrets) secret.value = '';
      throw error;
    }
    return { secrets, skipped };
  }

  // ---- http_request ---------------------------------------------------------------------------

  async httpRequest(
    principal: Principal,
    body: unknown,
    call: CallContext,
    defaultVaultId?: string,
  ): Promise<HttpRequestResult> {
    requireUnlocked(this.context);
    const request = parseRequest(httpRequestSchema, body, 'http_request');
    const vaultId = request.vault_id ?? defaultVaultId;
    if (!vaultId) {
      throw new TalonError(
        'invalid_input',
        'Invalid http_request: vault_id: is required (the vault of the secrets).',
      );
    }
    const vault = requireVault(this.context, principal, vaultId);
    const paths = placeholderPaths(request);
    if (paths.length === 0) {
      throw new TalonError(
        'invalid_input',
        'Invalid http_request: it has no {{secret:path}} placeholder. Talon sends requests only to use a secret; make other requests yourself.',
      );
    }
    const template = templateUrl(request.url);
    for (const name of Object.keys(request.headers ?? {})) {
      if (isManagedHeader(name)) {
        throw new TalonError(
          'invalid_input',
          `Invalid http_request: headers: Talon sets ${name} itself; leave it out.`,
        );
      }
    }

    // Which hosts each secret may go to: its policy's allowed_hosts (checked by the decision
    // itself, per hop) or its metadata's.
    const destination = { hostname: template.hostname, protocol: template.protocol as 'https:' | 'http:' };
    // One call context for every check of this request, so an approval gate passes once.
    const useCall: CallContext = { ...call, destination };
    // May the caller use each secret at all (audited when not)? Only then: may it go there?
    for (const path of paths) {
      const secret = this.context.store.secrets.getSecretByPath(vault.id, path);
      this.authorizeUse(principal, vault, path, useCall, secret?.type);
    }
    const uses = paths.map((path) => ({
      path,
      ...this.hostRule(principal, vault, path),
    }));
    const checkHop = (url: URL) => {
      let exactEverywhere = true;
      for (const use of uses) {
        const protocol = url.protocol as 'https:' | 'http:';
        const allowed = use.allows(url.hostname, protocol, call);
        if (!allowed.ok) {
          throw new TalonError(
            'forbidden',
            `Secret '${use.path}' may not be sent to ${url.protocol}//${url.host}${allowed.reason}. List the host in the secret's metadata allowed_hosts (prefix it with http:// to allow plain HTTP), or in a policy's conditions.allowed_hosts.`,
          );
        }
        exactEverywhere &&= allowed.exact;
      }
      return { allowLinkLocal: exactEverywhere };
    };
    checkHop(template); // before any value is decrypted

    const opened: SecretForUse[] = [];
    const audit = { method: request.method, host: template.host };
    try {
      for (const path of paths) {
        opened.push(await this.open(principal, vault, path, useCall, { purpose: 'http_request', ...audit }));
      }
      const values = new Map(opened.map((secret) => [secret.path, secret.value]));
      const substitute = (text: string, encode: (value: string) => string = (v) => v) =>
        text.replace(placeholder, (_match, raw: string) =>
          encode(values.get(normalizeSecretPath(raw.trim()))!),
        );
      const url = new URL(substitute(request.url, encodeURIComponent));
      const headers = Object.fromEntries(
        Object.entries(request.headers ?? {}).map(([name, value]) => [name, substitute(value)]),
      );
      const sent = request.body === undefined ? undefined : Buffer.from(substitute(request.body), 'utf8');
      const forms = maskedForms(values.values());
      const mask = (bytes: Buffer | string) => {
        const masker = new ValueMasker(forms);
        return Buffer.concat([masker.write(bytes), masker.end()]).toString('utf8');
      };
      let outcome: HttpRequestResult;
      try {
        const response = await this.outbound.send(
          { method: request.method, url, headers, ...(sent ? { body: sent } : {}) },
          checkHop,
        );
        sent?.fill(0);
        outcome = {
          status: response.status,
          url: mask(response.url.toString()),
          headers: Object.fromEntries(
            Object.entries(response.headers).map(([name, value]) => [
              name,
              mask(Array.isArray(value) ? value.join(', ') : value),
            ]),
          ),
          body: mask(response.body),
          redirects: response.redirects,
        };
      } catch (error) {
        sent?.fill(0);
        this.recordRequest(
          principal,
          vault,
          call,
          paths,
          audit,
          TalonError.is(error, 'forbidden') ? 'denied' : 'error',
          {
            reason: error instanceof Error ? mask(error.message) : 'failed',
          },
        );
        if (error instanceof TalonError) throw new TalonError(error.code, mask(error.message));
        throw error;
      }
      this.recordRequest(principal, vault, call, paths, audit, 'success', {
        status: outcome.status,
        redirects: outcome.redirects,
        final_host: new URL(outcome.url).host,
      });
      return outcome;
    } finally {
      for (const secret of opened) secret.value = '';
    }
  }

  // ---- request_secret -------------------------------------------------------------------------

  /**
   * An agent (or a member) asks the human to store a credential at a path. Answers with the
   * stored secret's metadata (never its value) once the human has stored it; until then throws
   * `approval_required` with the pending request (REST answers 202), which the caller waits on and
   * resubmits, as for any approval. Asking again for the same path finds the same request.
   */
  requestSecret(
    principal: Principal,
    vaultId: string,
    body: unknown,
    call: CallContext,
  ): SecretRequestOutcome {
    requireUnlocked(this.context);
    const request = parseRequest(secretRequestSchema, body, 'secret request');
    const vault = requireVault(this.context, principal, vaultId);
    const path = normalizeSecretPath(request.path);
    const hash = requestHash('secret.request', {
      principal: `${principal.type}:${principal.id}`,
      vault_id: vault.id,
      path,
    });
    const answered = this.answeredRequest(principal, hash, call);
    if (answered) return answered;
    const approval = this.context.approvals.request(
      {
        action: 'secret.request',
        requester: principal,
        vaultId: vault.id,
        target: { type: 'vault', id: vault.id },
        summary: `${this.nameOf(principal)} asks you to store a credential at '${path}' in vault '${vault.name}'`,
        riskTier: 'low',
        requestHash: hash,
        details: { path, type: request.type ?? 'api_key', description: request.description },
        reason: request.description,
      },
      call,
    );
    throw pendingError(approval);
  }

  /**
   * The human answers a secret request by storing the value: as themselves (their write
   * permission decides), at the requested path and type; the request is then approved.
   */
  async fulfilSecretRequest(
    principal: Principal,
    approvalId: string,
    body: unknown,
    call: CallContext,
  ): Promise<SecretMetadata> {
    requireUnlocked(this.context);
    if (principal.type !== 'user') {
      throw new TalonError('forbidden', 'Only a human can answer a secret request.');
    }
    const input = parseRequest(fulfilSecretRequestSchema, body, 'secret request answer');
    const approval = this.context.approvals.get(principal, approvalId, call);
    const details = approval.details as { path?: unknown; type?: unknown };
    if (approval.action !== 'secret.request' || typeof details.path !== 'string' || !approval.vault_id) {
      throw new TalonError('invalid_input', `Approval ${approval.id} is not a secret request.`);
    }
    if (approval.status !== 'pending') {
      throw new TalonError('conflict', `Secret request ${approval.id} is already ${approval.status}.`);
    }
    const stored = await this.secrets.put(
      principal,
      approval.vault_id,
      details.path,
      {
        value: input.value,
        ...(typeof details.type === 'string' ? { type: details.type } : {}),
        ...(input.metadata ? { metadata: input.metadata } : {}),
      },
      call,
    );
    this.context.approvals.decide(principal, approval.id, { decision: 'approve', reason: 'stored' }, call);
    return stored;
  }

  private answeredRequest(
    principal: Principal,
    hash: string,
    call: CallContext,
  ): SecretRequestOutcome | undefined {
    const approved = this.context.store.approvals
      .list({ status: 'approved', requesterType: principal.type, requesterId: principal.id, limit: 50 })
      .find((row) => row.requestHash === hash && row.action === 'secret.request' && row.usedAt === null);
    if (approved) {
      this.context.approvals.consume(principal, approved.id, hash, call);
      const details = JSON.parse(approved.detailsJson) as { path: string };
      const secret = this.context.store.secrets.getSecretByPath(approved.vaultId!, details.path);
      if (!secret || secret.deletedAt) {
        throw new TalonError(
          'gone',
          `The credential stored at '${details.path}' for your request has since been deleted.`,
        );
      }
      return {
        status: 'stored',
        approval_id: approved.id,
        secret: {
          id: secret.id,
          path: secret.path,
          type: secret.type,
          version: secret.currentVersion,
          metadata: parseMetadata(secret.metadataJson),
          created_at: secret.createdAt,
          updated_at: secret.updatedAt,
          expires_at: secret.expiresAt,
        },
      };
    }
    return undefined;
  }

  // ---- inside ---------------------------------------------------------------------------------

  private listUnder(vaultId: string, prefix: string | undefined): SecretRow[] {
    const rows: SecretRow[] = [];
    let after: string | undefined;
    for (;;) {
      const batch = this.context.store.secrets.listSecrets(vaultId, {
        ...(prefix ? { prefix } : {}),
        ...(after ? { after } : {}),
        limit: 1000,
      });
      rows.push(...batch);
      if (batch.length < 1000) return rows;
      after = batch[batch.length - 1]!.path;
    }
  }

  /** Why a listed secret cannot be used now, or null. Not audited: listing is not a use. */
  private unusable(principal: Principal, vault: VaultRow, row: SecretRow, call: CallContext): string | null {
    const decision = this.context.access.decide(principal, vault, row.path, 'use', call, row.type);
    if (!decision.allowed) return 'no policy lets you use it';
    if (decision.requireApproval) return 'each use needs a human approval; name it with --env-bundle or ask';
    if (row.expiresAt && Date.parse(row.expiresAt) <= call.now.getTime()) return 'expired';
    if (row.maxAccessCount > 0 && row.accessCount >= row.maxAccessCount) return 'its access count is spent';
    return null;
  }

  /** Decides `use` (audited when refused; gated when a policy wants approval), then decrypts and counts. */
  private async open(
    principal: Principal,
    vault: VaultRow,
    path: string,
    call: CallContext,
    details: Record<string, unknown>,
  ): Promise<SecretForUse> {
    const secret = this.context.store.secrets.getSecretByPath(vault.id, path);
    this.authorizeUse(principal, vault, path, call, secret?.type);
    const live = requireAvailableSecret(path, secret, call);
    const row = this.context.store.secrets.getVersion(live.id, live.currentVersion);
    if (!row || row.disabledAt)
      throw new TalonError('gone', `The current version of secret '${path}' is disabled.`);
    if (row.type !== live.type) this.authorizeUse(principal, vault, path, call, row.type);
    const plaintext = await this.context.barrier.open(
      vault,
      { vaultId: vault.id, path, version: row.version, type: row.type },
      row,
    );
    try {
      this.context.store.transaction(
        () => {
          const { accessCount } = countLimitedAccess(this.context.store, live.id, path);
          this.context.audit.append({
            action: 'secret.use',
            actor: actorOf(principal),
            outcome: 'success',
            vaultId: vault.id,
            resourceType: 'secret',
            resourceId: live.id,
            path,
            details: { version: row.version, access_count: accessCount, ...details, ...callDetails(call) },
            ip: call.ip ?? null,
          });
        },
        { durable: false },
      );
      return { path, type: row.type, version: row.version, value: plaintext.toString('utf8') };
    } finally {
      plaintext.fill(0);
    }
  }

  private authorizeUse(
    principal: Principal,
    vault: VaultRow,
    path: string,
    call: CallContext,
    type?: string,
  ): void {
    const decision = this.context.access.decide(principal, vault, path, 'use', call, type);
    if (decision.allowed && decision.requireApproval) {
      this.context.approvals.gate(
        principal,
        {
          action: 'secret.use',
          vaultId: vault.id,
          target: { type: 'vault', id: vault.id },
          summary: `${this.nameOf(principal)} asks to use '${path}' in vault '${vault.name}' (injected, not shown)`,
          riskTier: 'medium',
          requestHash: secretRequestHash(principal, { vaultId: vault.id, path, operation: 'use' }),
          details: { path, permission: 'use' },
          grantable: { vaultId: vault.id, path, permission: 'use' },
        },
        call,
      );
      return;
    }
    if (decision.allowed) return;
    this.context.audit.append({
      action: 'secret.use',
      actor: actorOf(principal),
      outcome: 'denied',
      vaultId: vault.id,
      resourceType: 'secret',
      path,
      details: { reason: decision.reason, policy_id: decision.policyId, ...callDetails(call) },
      ip: call.ip ?? null,
    });
    throw new TalonError('forbidden', `Access denied: ${decision.reason}.`, {
      details: { policy_id: decision.policyId },
    });
  }

  /**
   * How a secret's destinations are judged: a policy with `allowed_hosts` judges each hop
   * itself (its decision holds only for its hosts); otherwise the secret's metadata lists them.
   */
  private hostRule(principal: Principal, vault: VaultRow, path: string) {
    const secret = this.context.store.secrets.getSecretByPath(vault.id, path);
    const metadataHosts = hostPatterns(parseMetadata(secret?.metadataJson)['allowed_hosts']);
    const allows = (
      hostname: string,
      protocol: 'https:' | 'http:',
      at: CallContext,
    ): { ok: true; exact: boolean } | { ok: false; reason: string } => {
      const byMetadata = matchingHostPattern(metadataHosts, hostname, protocol);
      if (byMetadata) return { ok: true, exact: !byMetadata.wildcard };
      const decision = this.context.access.decide(
        principal,
        vault,
        path,
        'use',
        { ...at, destination: { hostname, protocol } },
        secret?.type,
      );
      const policy =
        decision.allowed && decision.policyId
          ? this.context.store.policies.get(decision.policyId)
          : undefined;
      const policyHosts = policy?.conditionsJson
        ? hostPatterns((JSON.parse(policy.conditionsJson) as { allowed_hosts?: unknown }).allowed_hosts)
        : [];
      const byPolicy = matchingHostPattern(policyHosts, hostname, protocol);
      if (byPolicy) return { ok: true, exact: !byPolicy.wildcard };
      const listed = metadataHosts.length + policyHosts.length > 0;
      return {
        ok: false,
        reason: listed
          ? protocol === 'http:' &&
            matchingHostPattern([...metadataHosts, ...policyHosts], hostname, 'https:')
            ? ' over plain HTTP (its allowed_hosts entry for this host is HTTPS only)'
            : ' (not among its allowed_hosts)'
          : ' (it lists no allowed_hosts)',
      };
    };
    return { allows };
  }

  private recordRequest(
    principal: Principal,
    vault: VaultRow,
    call: CallContext,
    paths: string[],
    request: { method: string; host: string },
    outcome: 'success' | 'denied' | 'error',
    details: Record<string, unknown>,
  ): void {
    this.context.audit.append({
      action: 'secret.http_request',
      actor: actorOf(principal),
      outcome,
      vaultId: vault.id,
      resourceType: 'http_request',
      details: {
        method: request.method,
        host: request.host,
        secrets: paths,
        ...details,
        ...callDetails(call),
      },
      ip: call.ip ?? null,
    });
  }

  private nameOf(principal: Principal): string {
    if (principal.type === 'agent') {
      const agent = this.context.store.agents.get(principal.id);
      return agent ? `Agent '${agent.name}'` : `Agent ${principal.id}`;
    }
    const user = this.context.store.users.get(principal.id);
    return user ? `${user.displayName || user.email}` : `User ${principal.id}`;
  }
}

/** The paths named by placeholders, each once, in order of appearance. */
function placeholderPaths(request: HttpRequestBody): string[] {
  const texts = [request.url, ...Object.values(request.headers ?? {}), request.body ?? ''];
  const paths = new Set<string>();
  for (const text of texts) {
    for (const match of text.matchAll(placeholder)) paths.add(normalizeSecretPath(match[1]!.trim()));
  }
  return [...paths];
}

/**
 * The URL with its placeholders standing in for values: must be http(s), and no placeholder may
 * sit in the host, port or user info (a secret there would leak through DNS or logs of the way).
 */
function templateUrl(raw: string): URL {
  const marker = 'talonplaceholder';
  let url: URL;
  try {
    url = new URL(raw.replace(placeholder, marker));
  } catch {
    throw new TalonError('invalid_input', 'Invalid http_request: url: must be an absolute https:// URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TalonError('invalid_input', 'Invalid http_request: url: must be an https:// (or http://) URL.');
  }
  if ([url.hostname, url.port, url.username, url.password].some((part) => part.includes(marker))) {
    throw new TalonError(
      'invalid_input',
      'Invalid http_request: url: a {{secret:…}} placeholder may stand in the path, query or fragment only, not in the host or user info; put credentials in a header.',
    );
  }
  return url;
}

function parseMetadata(json: string | undefined): Record<string, unknown> {
  if (!json) return {};
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
