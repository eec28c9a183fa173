import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeskError, type TalonDesk } from '../../renderer/src/contract/talon-desk.js';
import { csrfCookieName, httpDesk } from '../../renderer/src/contract/desk-client.js';
import { type TestApi, startTestApi } from '../fixtures/test-api-server.js';

/**
 * Browser mode's transport of the UI contract against a real Talon API: the PIN login sets an
 * HttpOnly SameSite=Strict session cookie and a CSRF cookie, unsafe requests must echo the CSRF
 * token, another origin is refused, and the cookie opens /v1 but never /mcp.
 */
let api: TestApi;

/** fetch with a cookie jar, as a browser tab on Talon's origin would have. */
function browser(url: string) {
  const jar = new Map<string, string>();
  const setCookies: string[] = [];
  const doFetch: typeof fetch = async (input, init = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(input, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      setCookies.push(line);
      const [pair] = line.split(';');
      const [name, ...value] = pair!.split('=');
      const text = value.join('=');
      if (text === '' || /max-age=0|expires=thu, 01 jan 1970/iu.test(line)) jar.delete(name!.trim());
      else jar.set(name!.trim(), text);
    }
    return response;
  };
  const desk: TalonDesk = httpDesk({
    baseUrl: url,
    fetch: doFetch,
    readCookie: (name) => (jar.has(name) ? decodeURIComponent(jar.get(name)!) : undefined),
    storage: { getItem: () => null, setItem: () => undefined },
  });
  return { desk, jar, setCookies, fetch: doFetch };
}

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.close();
});

describe('browser mode', () => {
  it('signs in with the PIN into an HttpOnly, SameSite=Strict session and uses it', async () => {
    const tab = browser(api.url);
    const before = await tab.desk.status();
    expect(before).toMatchObject({ set_up: true, unlocked: true, signed_in: false });
    expect(before.features).toEqual({ setup: true, mfa: true, shares: true, approvals: true, events: true });

    await expect(tab.desk.unlock({ pin: 'not-the-pin-000' })).rejects.toBeInstanceOf(DeskError);
    expect(before.token).not.toHaveProperty('mechanisms');
    const status = await tab.desk.unlock({ pin: api.t.pin });
    expect(status.signed_in).toBe(true);
    expect(status.token?.mechanisms).toContain('AES_KEY_GEN');
    expect(status.token?.wrap_mechanisms?.length).toBeGreaterThan(0);
    const session = tab.setCookies.find((line) => line.startsWith('talon_session='))!;
    expect(session).toMatch(/HttpOnly/iu);
    expect(session).toMatch(/SameSite=Strict/iu);
    expect(session).toMatch(/Path=\//iu);
    const csrf = tab.setCookies.find((line) => line.startsWith(`${csrfCookieName}=`))!;
    expect(csrf).not.toMatch(/HttpOnly/iu);

    const vault = await tab.desk.createVault({ name: 'browser-vault' });
    await tab.desk.putSecret(vault.id, 'api/key one', { type: 'api_key', value: 'sk-browser' });
    expect((await tab.desk.listSecrets(vault.id, {})).map((secret) => secret.path)).toEqual(['api/key one']);
    expect((await tab.desk.revealSecret(vault.id, 'api/key one', null)).value).toBe('sk-browser');
    expect((await tab.desk.queryAudit({ action: 'secret.read' })).count).toBeGreaterThan(0);
    expect((await tab.desk.status()).signed_in).toBe(true);
  });

  it("answers an agent's secret request over POST /v1/secret-requests/{id}/fulfil", async () => {
    const tab = browser(api.url);
    await tab.desk.unlock({ pin: api.t.pin });
    const vault = await tab.desk.createVault({ name: 'asked-vault' });
    const asker = await tab.desk.createAgent({ name: 'browser-asker' });
    await tab.desk.createPolicy(vault.id, {
      secret_path_pattern: 'api-keys/**',
      principal_type: 'agent',
      principal_id: asker.agent.id,
      permissions: ['use'],
    });
    const asked = await api.request('POST', `/v1/vaults/${vault.id}/secret-requests`, {
      credential: asker.api_key,
      json: { path: 'api-keys/stripe', description: 'refunds' },
    });
    expect(asked.status).toBe(202);
    const approvalId = asked.body.approval_id as string;
    const [pending] = (await tab.desk.listApprovals('pending')).filter((a) => a.id === approvalId);
    expect(pending).toMatchObject({ action: 'secret.request', details: { path: 'api-keys/stripe' } });

    const stored = await tab.desk.fulfilSecretRequest(approvalId, 'sk-from-the-browser');
    expect(stored).toMatchObject({ path: 'api-keys/stripe', type: 'api_key' });
    expect((await tab.desk.revealSecret(vault.id, 'api-keys/stripe', null)).value).toBe(
      'sk-from-the-browser',
    );
    await expect(tab.desk.fulfilSecretRequest(approvalId, 'sk-again')).rejects.toMatchObject({
      code: 'conflict',
      status: 409,
    });
  });

  it('lists and revokes MCP pairings over /v1/mcp/pairings', async () => {
    const tab = browser(api.url);
    await tab.desk.unlock({ pin: api.t.pin });
    expect(await tab.desk.listPairings()).toEqual([]);
    const body = { agent_name: 'browser-paired', client_name: 'Cursor', claim_secret: 'p'.repeat(40) };
    const asked = await api.request('POST', '/v1/mcp/pairings', { json: body });
    expect(asked.status).toBe(202);
    const approvalId = asked.body.approval_id as string;
    const [pending] = (await tab.desk.listApprovals('pending')).filter((a) => a.id === approvalId);
    expect(pending).toMatchObject({ action: 'mcp.pairing', requester: { client: 'Cursor' } });
    await tab.desk.decideApproval(approvalId, { decision: 'approve' });
    const claimed = await api.request('POST', `/v1/mcp/pairings/${approvalId}/claim`, { json: body });
    expect(claimed.status).toBe(201);

    const [pairing] = await tab.desk.listPairings();
    expect(pairing).toMatchObject({ client_name: 'Cursor', agent_name: 'browser-paired', revoked_at: null });
    expect(await tab.desk.revokePairing(pairing!.id)).toBeNull();
    expect((await tab.desk.listPairings())[0]!.revoked_at).not.toBeNull();
    await expect(tab.desk.revokePairing(pairing!.id)).rejects.toMatchObject({
      code: 'conflict',
      status: 409,
    });
  });

  it('refuses unsafe requests without the CSRF token, and requests from other origins', async () => {
    const tab = browser(api.url);
    await tab.desk.unlock({ pin: api.t.pin });
    const noToken = await tab.fetch(`${api.url}/v1/vaults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'csrf-vault' }),
    });
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as { detail: string }).detail).toMatch(/CSRF token/u);
    const wrongToken = await tab.fetch(`${api.url}/v1/vaults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-talon-csrf': 'guessed' },
      body: JSON.stringify({ name: 'csrf-vault' }),
    });
    expect(wrongToken.status).toBe(403);
    const otherOrigin = await tab.fetch(`${api.url}/v1/vaults`, {
      headers: { origin: 'http://evil.example' },
    });
    expect(otherOrigin.status).toBe(403);
    // Reads carry no CSRF token and still work.
    expect((await tab.fetch(`${api.url}/v1/vaults`)).status).toBe(200);
  });

  it('never takes the session cookie on /mcp', async () => {
    const tab = browser(api.url);
    await tab.desk.unlock({ pin: api.t.pin });
    const mcp = await tab.fetch(`${api.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
    });
    expect(mcp.status).toBe(401);
  });

  it('serves the UI page with its CSP, and signing out ends the session', async () => {
    const page = await fetch(`${api.url}/`);
    if (page.status === 200) {
      expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/u);
      expect(page.headers.get('x-frame-options')).toBe('DENY');
    } else {
      expect(page.status).toBe(503); // renderer/dist not built in this checkout
    }
    const tab = browser(api.url);
    await tab.desk.unlock({ pin: api.t.pin });
    const deleted = await tab.fetch(`${api.url}/ui/session`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect(tab.jar.has('talon_session')).toBe(false);
    await expect(tab.desk.listVaults()).rejects.toMatchObject({ status: 401 });
  });
});
