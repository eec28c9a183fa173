import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, createApiServer } from '../../main/api/server.js';
import { type TestEngine, createTestEngine } from '../fixtures/test-engine.js';
import { type TestUpstream, startTestUpstream } from './http-request-fixtures.js';

/**
 * POST /v1/http-request against a local HTTPS server whose CA Talon is told to trust: the
 * secret goes only to hosts it allows, redirects are checked hop by hop, what comes back is
 * masked, and size and time are limited.
 */

let t: TestEngine;
let server: ApiServer;
let base: string;
let upstream: TestUpstream;
let vaultId: string;
let useOnlyKey: string;
let policyHostKey: string;

const echoValue = 'sk_echo_9f8e7d6c5b4a3210';
const noHostsValue = 'sk_nohosts_0123456789';
const policyValue = 'sk_policy_hosts_abcdef';
const plainValue = 'plain-http-token-value';

async function post(credential: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}/v1/http-request`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}`, ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const local = (path: string) => `https://localhost:${upstream.httpsPort}${path}`;

beforeAll(async () => {
  upstream = await startTestUpstream();
  t = await createTestEngine({
    engineOptions: { outbound: { ca: upstream.ca, timeoutMs: 1500, maxResponseBytes: 1024 * 1024 } },
  });
  server = await createApiServer({
    engine: t.engine,
    port: 0,
    now: () => t.clock.now,
    logger: pino({ level: 'silent' }),
  });
  base = await server.listen();
  const call = t.call();
  vaultId = (await t.engine.vaults.create(t.owner, { name: 'outbound' }, call)).id;
  const put = (path: string, value: string, metadata: Record<string, unknown> = {}) =>
    t.engine.secrets.put(t.owner, vaultId, path, { type: 'api_key', value, metadata }, call);
  await put('api-keys/echo', echoValue, { allowed_hosts: ['localhost', '*.google.internal'] });
  await put('api-keys/nohosts', noHostsValue);
  await put('api-keys/policy', policyValue);
  await put('api-keys/plain', plainValue, { allowed_hosts: ['http://localhost'] });
  const useOnly = t.engine.agents.create(t.owner, { name: 'use-only' }, call);
  useOnlyKey = useOnly.api_key;
  t.engine.policies.create(
    t.owner,
    vaultId,
    {
      secret_path_pattern: 'api-keys/**',
      principal_type: 'agent',
      principal_id: useOnly.agent.id,
      permissions: ['use'],
    },
    call,
  );
  const policyHost = t.engine.agents.create(t.owner, { name: 'policy-hosts' }, call);
  policyHostKey = policyHost.api_key;
  t.engine.policies.create(
    t.owner,
    vaultId,
    {
      secret_path_pattern: 'api-keys/policy',
      principal_type: 'agent',
      principal_id: policyHost.agent.id,
      permissions: ['use'],
      conditions: { allowed_hosts: ['localhost'] },
    },
    call,
  );
}, 60_000);

afterAll(async () => {
  await server?.app.close();
  await upstream?.close();
  await t?.cleanup();
});

describe('POST /v1/http-request', () => {
  it('sends the secret to an allowed host and masks it wherever the answer echoes it', async () => {
    const answer = await post(useOnlyKey, {
      method: 'post',
      url: local('/echo?key={{secret:api-keys/echo}}'),
      headers: { Authorization: 'Bearer {{secret:api-keys/echo}}', 'content-type': 'application/json' },
      body: JSON.stringify({ token: '{{ secret:api-keys/echo }}' }),
      vault_id: vaultId,
    });
    expect(answer.status).toBe(200);
    expect(answer.text).not.toContain(echoValue);
    expect(answer.text).not.toContain(Buffer.from(echoValue).toString('base64').slice(0, 16));
    expect(answer.body.status).toBe(200);
    expect(answer.body.headers['x-echo-auth']).toBe('Bearer ***');
    const echoed = JSON.parse(answer.body.body as string);
    expect(echoed).toMatchObject({ method: 'POST', path: '/echo?key=***', body: '{"token":"***"}' });
    expect(echoed.headers.authorization).toBe('Bearer ***');
    expect(answer.body.url).toBe(local('/echo?key=***'));

    const audit = t.engine.queryAudit(t.owner, { action: 'secret.http_request' });
    expect(audit.events[0]).toMatchObject({ outcome: 'success' });
    expect(audit.events[0]!.details).toMatchObject({
      method: 'POST',
      host: `localhost:${upstream.httpsPort}`,
      status: 200,
      secrets: ['api-keys/echo'],
    });
    const uses = t.engine.queryAudit(t.owner, { action: 'secret.use' });
    expect(uses.events[0]).toMatchObject({ path: 'api-keys/echo', outcome: 'success' });
    expect(JSON.stringify(t.engine.queryAudit(t.owner, { limit: 1000 }))).not.toContain(echoValue);
  });

  it('while get_secret refuses the same use-only agent', async () => {
    const response = await fetch(`${base}/v1/vaults/${vaultId}/secrets/api-keys/echo`, {
      headers: { authorization: `Bearer ${useOnlyKey}` },
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/use-only/u);
  });

  it('refuses a host the secret does not allow, before sending anything', async () => {
    const answer = await post(useOnlyKey, {
      method: 'GET',
      url: `https://127.0.0.1:${upstream.httpsPort}/echo`,
      headers: { authorization: 'Bearer {{secret:api-keys/echo}}' },
      vault_id: vaultId,
    });
    expect(answer.status).toBe(403);
    expect(answer.body.detail).toMatch(/may not be sent to https:\/\/127\.0\.0\.1/u);
    const none = await post(useOnlyKey, {
      method: 'GET',
      url: local('/echo'),
      headers: { authorization: '{{secret:api-keys/nohosts}}' },
      vault_id: vaultId,
    });
    expect(none.status).toBe(403);
    expect(none.body.detail).toMatch(/lists no allowed_hosts/u);
  });

  it('refuses to follow a redirect to a host the secret does not allow, and follows an allowed one', async () => {
    const refused = await post(useOnlyKey, {
      method: 'GET',
      url: local(`/redirect?to=${encodeURIComponent(`https://127.0.0.1:${upstream.httpsPort}/echo`)}`),
      headers: { authorization: '{{secret:api-keys/echo}}' },
      vault_id: vaultId,
    });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/127\.0\.0\.1/u);
    const followed = await post(useOnlyKey, {
      method: 'GET',
      url: local(`/redirect?to=${encodeURIComponent(local('/echo?hop=2'))}`),
      headers: { authorization: '{{secret:api-keys/echo}}' },
      vault_id: vaultId,
    });
    expect(followed.status).toBe(200);
    expect(followed.body.redirects).toBe(1);
    expect(JSON.parse(followed.body.body as string).headers.authorization).toBe('***');
  });

  it('allows plain HTTP only to a host listed with http://', async () => {
    const refused = await post(useOnlyKey, {
      method: 'GET',
      url: `http://localhost:${upstream.httpPort}/echo`,
      headers: { authorization: '{{secret:api-keys/echo}}' },
      vault_id: vaultId,
    });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/plain HTTP/u);
    const allowed = await post(useOnlyKey, {
      method: 'GET',
      url: `http://localhost:${upstream.httpPort}/echo`,
      headers: { authorization: '{{secret:api-keys/plain}}' },
      vault_id: vaultId,
    });
    expect(allowed.status).toBe(200);
    expect(allowed.text).not.toContain(plainValue);
  });

  it('takes allowed_hosts from the policy that grants the use', async () => {
    const allowed = await post(
      policyHostKey,
      { method: 'GET', url: local('/echo'), headers: { 'x-key': '{{secret:api-keys/policy}}' } },
      { 'x-vault-id': vaultId },
    );
    expect(allowed.status).toBe(200);
    expect(JSON.parse(allowed.body.body as string).headers['x-key']).toBe('***');
    const refused = await post(policyHostKey, {
      method: 'GET',
      url: `https://127.0.0.1:${upstream.httpsPort}/echo`,
      headers: { 'x-key': '{{secret:api-keys/policy}}' },
      vault_id: vaultId,
    });
    expect(refused.status).toBe(403);
  });

  it('refuses cloud metadata addresses even under an allowed wildcard', async () => {
    const answer = await post(useOnlyKey, {
      method: 'GET',
      url: 'https://metadata.google.internal/computeMetadata/v1/',
      headers: { authorization: '{{secret:api-keys/echo}}' },
      vault_id: vaultId,
    });
    expect(answer.status).toBe(403);
    expect(answer.body.detail).toMatch(/link-local or cloud metadata address/u);
  });

  it('limits the response size and the time, and reads compressed answers', async () => {
    const big = await post(useOnlyKey, {
      method: 'GET',
      url: local('/big'),
      headers: { authorization: '{{secret:api-keys/echo}}' },
      vault_id: vaultId,
    });
    expect(big.status).toBe(413);
    const slow = await post(useOnlyKey, {
      method: 'GET',
      url: local('/slow'),
      headers: { authorization: '{{secret:api-keys/echo}}' },
      vault_id: vaultId,
    });
    expect(slow.status).toBe(504);
    const gzip = await post(useOnlyKey, {
      method: 'GET',
      url: local('/gzip'),
      headers: { authorization: '{{secret:api-keys/echo}}' },
      vault_id: vaultId,
    });
    expect(gzip.status).toBe(200);
    expect(JSON.parse(gzip.body.body as string).headers.authorization).toBe('***');
    const audit = t.engine.queryAudit(t.owner, { action: 'secret.http_request', outcome: 'error' });
    expect(audit.count).toBeGreaterThanOrEqual(2);
  });

  it('refuses requests without a placeholder, and placeholders in the host', async () => {
    const none = await post(useOnlyKey, { method: 'GET', url: local('/echo'), vault_id: vaultId });
    expect(none.status).toBe(400);
    expect(none.body.detail).toMatch(/no \{\{secret:path\}\} placeholder/u);
    const inHost = await post(useOnlyKey, {
      method: 'GET',
      url: 'https://{{secret:api-keys/echo}}.localhost/',
      vault_id: vaultId,
    });
    expect(inHost.status).toBe(400);
    expect(inHost.text).not.toContain(echoValue);
  });
});
