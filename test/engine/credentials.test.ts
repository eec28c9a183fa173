import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SignJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subkeyLabels } from '../../main/engine/key-ring.js';
import { type TestEngine, createTestEngine, expectTalonError } from '../fixtures/test-engine.js';

let t: TestEngine;
let vaultId: string;

beforeAll(async () => {
  t = await createTestEngine();
  vaultId = (await t.engine.vaults.create(t.owner, { name: 'creds' }, t.call())).id;
  await t.engine.secrets.put(
    t.owner,
    vaultId,
    'api/openai',
    { type: 'api_key', value: 'sk-openai' },
    t.call(),
  );
});

afterAll(async () => {
  await t?.cleanup();
});

let count = 0;
function newAgent(body: Record<string, unknown> = {}) {
  count += 1;
  const { agent, api_key } = t.engine.agents.create(
    t.owner,
    { name: `cred-agent-${count}`, ...body },
    t.call(),
  );
  t.engine.policies.create(
    t.owner,
    vaultId,
    { principal_type: 'agent', principal_id: agent.id, secret_path_pattern: 'api/**', permissions: ['read'] },
    t.call(),
  );
  return { id: agent.id, apiKey: api_key };
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('agent token exchange', () => {
  it('exchanges an agent key (with its id) for a JWT with expires_in, usable as a Bearer credential', async () => {
    const { id, apiKey } = newAgent();
    expect(apiKey).toMatch(/^ocv_[A-Za-z0-9_-]{43}$/);
    const token = await t.engine.auth.exchangeAgentToken({ api_key: apiKey, agent_id: id }, t.call());
    expect(token).toMatchObject({ token_type: 'Bearer', expires_in: 3600, agent_id: id, vault_ids: [] });
    expect(token.access_token.split('.')).toHaveLength(3);
    const claims = decodeJwt(token.access_token);
    expect(claims).toMatchObject({ sub: `agent:${id}`, iss: 'talon', scopes: ['api/**'] });
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(claims.iat).toBe(Math.floor(t.clock.now.getTime() / 1000));
    const principal = await t.engine.auth.authenticate(token.access_token, t.call());
    expect(principal).toMatchObject({ type: 'agent', id, tokenScopes: ['api/**'] });
    expect((await t.engine.secrets.get(principal, vaultId, 'api/openai', t.call())).value).toBe('sk-openai');
    expect(t.engine.agents.get(t.owner, id).last_active_at).toBe(t.clock.now.toISOString());
  });

  it("uses the agent's own token_ttl_seconds, and works without agent_id", async () => {
    const { apiKey } = newAgent({ token_ttl_seconds: 120 });
    const token = await t.engine.auth.exchangeAgentToken({ api_key: apiKey }, t.call());
    expect(token.expires_in).toBe(120);
  });

  it("never outlives the agent: expires_in is cut to the agent's expires_at, and an expired agent is refused", async () => {
    const { id, apiKey } = newAgent({ expires_at: new Date(t.clock.now.getTime() + 600_000).toISOString() });
    const token = await t.engine.auth.exchangeAgentToken({ api_key: apiKey, agent_id: id }, t.call());
    expect(token.expires_in).toBe(600);
    const saved = t.clock.now;
    try {
      t.clock.advance(600_000);
      await expectTalonError(t.engine.auth.authenticate(token.access_token, t.call()), 'unauthenticated');
      await expectTalonError(t.engine.auth.authenticate(apiKey, t.call()), 'unauthenticated');
      await expectTalonError(
        t.engine.auth.exchangeAgentToken({ api_key: apiKey }, t.call()),
        'unauthenticated',
      );
    } finally {
      t.clock.set(saved);
    }
  });

  it("refuses a wrong agent_id, another agent's id, a personal key, an unknown key and a non-key", async () => {
    const { id, apiKey } = newAgent();
    const other = newAgent();
    const error = await expectTalonError(
      t.engine.auth.exchangeAgentToken({ api_key: apiKey, agent_id: randomUUID() }, t.call()),
      'unauthenticated',
    );
    expect(error.status).toBe(401);
    expect(error.message).not.toContain(apiKey);
    await expectTalonError(
      t.engine.auth.exchangeAgentToken({ api_key: apiKey, agent_id: other.id }, t.call()),
      'unauthenticated',
    );
    await expectTalonError(
      t.engine.auth.exchangeAgentToken({ api_key: other.apiKey, agent_id: id }, t.call()),
      'unauthenticated',
    );
    await expectTalonError(
      t.engine.auth.exchangeAgentToken({ api_key: t.ownerApiKey }, t.call()),
      'unauthenticated',
    );
    await expectTalonError(
      t.engine.auth.exchangeAgentToken({ api_key: `ocv_${randomBytes(32).toString('base64url')}` }, t.call()),
      'unauthenticated',
    );
    await expectTalonError(
      t.engine.auth.exchangeAgentToken({ api_key: 'not-a-key' }, t.call()),
      'unauthenticated',
    );
    await expectTalonError(t.engine.auth.exchangeAgentToken({ agent_id: id }, t.call()), 'invalid_input');
  });

  it('after a key rotation the old key is unauthenticated and the new one works', async () => {
    const { id, apiKey } = newAgent();
    const { api_key: rotated } = t.engine.agents.rotateKey(t.owner, id, t.call());
    expect(rotated).not.toBe(apiKey);
    const error = await expectTalonError(
      t.engine.auth.exchangeAgentToken({ api_key: apiKey, agent_id: id }, t.call()),
      'unauthenticated',
    );
    expect(error.message).toMatch(/revoked or rotated/);
    await expectTalonError(t.engine.auth.authenticate(apiKey, t.call()), 'unauthenticated');
    const token = await t.engine.auth.exchangeAgentToken({ api_key: rotated, agent_id: id }, t.call());
    expect(await t.engine.auth.authenticate(token.access_token, t.call())).toMatchObject({
      type: 'agent',
      id,
    });
    expect(await t.engine.auth.authenticate(rotated, t.call())).toMatchObject({ type: 'agent', id });
  });

  it('a token expires at expires_in, with 30 s of tolerated clock skew', async () => {
    const { apiKey } = newAgent();
    const issuedAt = t.clock.now;
    const token = await t.engine.auth.exchangeAgentToken({ api_key: apiKey }, t.call());
    const at = (seconds: number) => ({ ...t.call(), now: new Date(issuedAt.getTime() + seconds * 1000) });
    expect((await t.engine.auth.authenticate(token.access_token, at(token.expires_in))).type).toBe('agent');
    expect((await t.engine.auth.authenticate(token.access_token, at(token.expires_in + 29))).type).toBe(
      'agent',
    );
    const error = await expectTalonError(
      t.engine.auth.authenticate(token.access_token, at(token.expires_in + 31)),
      'unauthenticated',
    );
    expect(error.message).toMatch(/expired/);
    // And through the engine's clock, as a transport would build the call.
    t.clock.set(new Date(issuedAt.getTime() + (token.expires_in + 31) * 1000));
    try {
      await expectTalonError(t.engine.auth.authenticate(token.access_token, t.call()), 'unauthenticated');
    } finally {
      t.clock.set(issuedAt);
    }
  });

  it('refuses forged tokens: alg none, a changed payload, another key, another algorithm, wrong claims', async () => {
    const { id, apiKey } = newAgent();
    const victim = newAgent();
    const { access_token: good } = await t.engine.auth.exchangeAgentToken({ api_key: apiKey }, t.call());
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const claims = decodeJwt(good);
    const now = Math.floor(t.clock.now.getTime() / 1000);

    const forged: Record<string, string> = {
      'alg none': `${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'alg none with the old signature': `${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`,
      'a payload naming another agent': `${header}.${b64url({ ...claims, sub: `agent:${victim.id}` })}.${signature}`,
      'a payload with wider scopes': `${header}.${b64url({ ...claims, scopes: ['**'] })}.${signature}`,
      'a payload with a later expiry': `${header}.${b64url({ ...claims, exp: now + 10 * 365 * 86400 })}.${signature}`,
      'a truncated signature': `${header}.${payload}.${signature.slice(0, -4)}`,
      garbage: 'not.a.jwt',
      'an empty string': '',
    };
    forged['another key'] = await new SignJWT({ sub: `agent:${id}`, scopes: ['**'] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer('talon')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(randomBytes(32));

    // Tokens made with the real JWT subkey (read from the token here, as only a test can) but breaking a rule.
    const realKey = await t.keyStore.hmac(Buffer.from(subkeyLabels.jwt, 'utf8'));
    const withRealKey = (alg: string, body: Record<string, unknown>, issuer = 'talon') =>
      new SignJWT(body)
        .setProtectedHeader({ alg, typ: 'JWT' })
        .setIssuer(issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(realKey);
    forged['HS512 with the real key'] = await withRealKey('HS512', { sub: `agent:${id}` });
    forged['another issuer'] = await withRealKey('HS256', { sub: `agent:${id}` }, 'someone-else');
    forged['a subject that is not a principal'] = await withRealKey('HS256', { sub: id });
    // The control: the same recipe with every rule kept is accepted, so the refusals above are not accidents.
    expect(
      await t.engine.auth.authenticate(await withRealKey('HS256', { sub: `agent:${id}` }), t.call()),
    ).toMatchObject({ id });

    for (const [what, token] of Object.entries(forged)) {
      const error = await expectTalonError(
        t.engine.auth.authenticate(token, t.call()),
        'unauthenticated',
      ).catch((failure: unknown) => {
        throw new Error(`${what}: ${(failure as Error).message}`);
      });
      expect(error.status, what).toBe(401);
    }
  });
});

describe('personal keys', () => {
  it('the owner key authenticates as the owner and exchanges for a user JWT; an agent key cannot', async () => {
    expect(t.ownerApiKey).toMatch(/^1ck_/);
    expect(await t.engine.auth.authenticate(t.ownerApiKey, t.call())).toEqual({
      type: 'user',
      id: t.owner.id,
      role: 'owner',
    });
    const token = await t.engine.auth.exchangeApiKeyToken({ api_key: t.ownerApiKey }, t.call());
    expect(token).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(await t.engine.auth.authenticate(token.access_token, t.call())).toEqual({
      type: 'user',
      id: t.owner.id,
      role: 'owner',
    });
    const { apiKey } = newAgent();
    await expectTalonError(
      t.engine.auth.exchangeApiKeyToken({ api_key: apiKey }, t.call()),
      'unauthenticated',
    );
  });

  it('a second personal key works too, and only a human may create one', async () => {
    const created = t.engine.auth.createPersonalKey(t.owner, 'laptop', t.call());
    expect(created.prefix).toBe(`${created.api_key.slice(0, 8)}…`);
    expect(await t.engine.auth.authenticate(created.api_key, t.call())).toMatchObject({
      type: 'user',
      id: t.owner.id,
    });
    const { apiKey } = newAgent();
    const agent = await t.engine.auth.authenticate(apiKey, t.call());
    await expectTalonError(() => t.engine.auth.createPersonalKey(agent, 'sneaky', t.call()), 'forbidden');
  });

  it('lists personal keys without their secret part, and a revoked key stops working at once', async () => {
    const created = t.engine.auth.createPersonalKey(t.owner, 'ci', t.call());
    const listed = t.engine.auth.listPersonalKeys(t.owner);
    expect(listed.find((key) => key.id === created.id)).toEqual({
      id: created.id,
      name: 'ci',
      prefix: created.prefix,
      created_at: created.created_at,
      expires_at: null,
      revoked_at: null,
    });
    expect(JSON.stringify(listed)).not.toContain(created.api_key.slice(8));
    const token = await t.engine.auth.exchangeApiKeyToken({ api_key: created.api_key }, t.call());

    t.engine.auth.revokePersonalKey(t.owner, created.id, t.call());
    await expectTalonError(t.engine.auth.authenticate(created.api_key, t.call()), 'unauthenticated');
    expect(t.engine.auth.listPersonalKeys(t.owner).find((key) => key.id === created.id)?.revoked_at).toBe(
      t.clock.now.toISOString(),
    );
    // A JWT from the key lives out its short life: the user, not the key, is re-checked.
    expect(await t.engine.auth.authenticate(token.access_token, t.call())).toMatchObject({ id: t.owner.id });
    await expectTalonError(() => t.engine.auth.revokePersonalKey(t.owner, created.id, t.call()), 'not_found');
    await expectTalonError(
      () => t.engine.auth.revokePersonalKey(t.owner, randomUUID(), t.call()),
      'not_found',
    );
    expect(await t.engine.auth.authenticate(t.ownerApiKey, t.call())).toMatchObject({ id: t.owner.id });
  });

  it('an agent has no personal keys to list or revoke, and cannot revoke a human key', async () => {
    const { apiKey } = newAgent();
    const agent = await t.engine.auth.authenticate(apiKey, t.call());
    const ownerKey = t.engine.auth.listPersonalKeys(t.owner)[0]!;
    await expectTalonError(() => t.engine.auth.listPersonalKeys(agent), 'forbidden');
    await expectTalonError(() => t.engine.auth.revokePersonalKey(agent, ownerKey.id, t.call()), 'forbidden');
    expect(t.engine.auth.listPersonalKeys(t.owner)[0]!.revoked_at).toBeNull();
  });
});

describe('keys at rest', () => {
  it('keys are stored only as HMACs: no key string is in the database file or its WAL', async () => {
    const keys = [t.ownerApiKey];
    for (let i = 0; i < 3; i += 1) keys.push(newAgent().apiKey);
    const { id } = newAgent();
    keys.push(t.engine.agents.rotateKey(t.owner, id, t.call()).api_key);
    keys.push(t.engine.auth.createPersonalKey(t.owner, 'scan', t.call()).api_key);

    const files = [t.databaseFile, `${t.databaseFile}-wal`].filter((file) => existsSync(file));
    expect(files).toContain(t.databaseFile);
    const bytes = Buffer.concat(files.map((file) => readFileSync(file)));
    for (const key of keys) {
      const secretPart = key.slice(4);
      expect(bytes.includes(Buffer.from(key)), 'whole key').toBe(false);
      expect(bytes.includes(Buffer.from(secretPart)), 'key body').toBe(false);
      expect(bytes.includes(Buffer.from(secretPart, 'base64url')), 'key body bytes').toBe(false);
    }

    const db = new Database(t.databaseFile, { readonly: true });
    try {
      const rows = db.prepare(`SELECT prefix, key_hash FROM api_keys`).all() as {
        prefix: string;
        key_hash: Buffer;
      }[];
      expect(rows.length).toBeGreaterThanOrEqual(keys.length);
      for (const row of rows) {
        expect(row.key_hash).toHaveLength(32);
        expect(row.prefix).toMatch(/^(ocv_|1ck_).{4}…$/);
      }
      const audit = db.prepare(`SELECT details_json FROM audit_events`).all() as { details_json: string }[];
      for (const key of keys)
        expect(audit.some((row) => row.details_json.includes(key.slice(4)))).toBe(false);
    } finally {
      db.close();
    }
  });
});
