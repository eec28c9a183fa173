import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../main/api/server.js';
import { type TestApi, expectProblem, startTestApi } from '../fixtures/test-api-server.js';

/** Everything the server logs, one JSON line per entry. */
const logLines: string[] = [];
const logText = () => logLines.join('');

let api: TestApi;
let owner: string;

beforeAll(async () => {
  api = await startTestApi({
    logger: pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) }),
  });
  owner = api.t.ownerApiKey;
});

afterAll(async () => {
  await api?.close();
});

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/u;

describe('health', () => {
  it('answers without a credential, with a fresh request id on every answer', async () => {
    const first = await api.request('GET', '/v1/health');
    const second = await api.request('GET', '/v1/health');
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ status: 'ok', locked: false, version: 'test' });
    expect(first.headers.get('x-request-id')).toMatch(uuidPattern);
    expect(second.headers.get('x-request-id')).toMatch(uuidPattern);
    expect(second.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
    expect(first.headers.get('cache-control')).toBe('no-store');
  });

  it('ignores a request id the client sends', async () => {
    const answer = await api.request('GET', '/v1/health', {
      headers: { 'x-request-id': 'client-chosen-id' },
    });
    expect(answer.headers.get('x-request-id')).toMatch(uuidPattern);
  });

  it('describes the token without its serial number', async () => {
    const answer = await api.request('GET', '/v1/health/hsm');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'ok', locked: false, token: { label: 'talon-test' } });
    expect(answer.body.token.manufacturer).toMatch(/SoftHSM/u);
    expect(answer.body.token).not.toHaveProperty('serial');
  });
});

describe('DNS-rebinding and cross-origin defences', () => {
  it('refuses a Host header that is not Talon itself', async () => {
    for (const host of [
      'evil.com',
      `evil.com:${api.port}`,
      `127.0.0.1:${api.port + 1}`,
      '127.0.0.1',
      'localhost',
    ]) {
      const answer = await api.raw('GET', '/v1/health', { headers: { host } });
      expectProblem(answer, 403, 'forbidden');
      expect(answer.body.detail).toMatch(/addressed to itself/u);
    }
  });

  it('answers every loopback name with its port, and a configured host', async () => {
    for (const host of [
      `127.0.0.1:${api.port}`,
      `localhost:${api.port}`,
      `[::1]:${api.port}`,
      `LOCALHOST:${api.port}`,
    ]) {
      expect((await api.raw('GET', '/v1/health', { headers: { host } })).status).toBe(200);
    }
    const other = await api.startAnother({ extraAllowedHosts: ['talon.internal'] });
    expect(
      (await other.raw('GET', '/v1/health', { headers: { host: `talon.internal:${other.port}` } })).status,
    ).toBe(200);
    expectProblem(
      await other.raw('GET', '/v1/health', { headers: { host: `talon.evil:${other.port}` } }),
      403,
      'forbidden',
    );
    expectProblem(
      await api.raw('GET', '/v1/health', { headers: { host: `talon.internal:${api.port}` } }),
      403,
      'forbidden',
    );
  });

  it("refuses an Origin other than Talon's own, before authenticating or doing anything", async () => {
    const vaultsBefore = api.t.engine.vaults.list(api.t.owner).length;
    for (const origin of [
      'http://evil.com',
      `http://evil.com:${api.port}`,
      'null',
      `https://127.0.0.1:${api.port}`,
    ]) {
      const answer = await api.request('POST', '/v1/vaults', {
        json: { name: `from ${origin}` },
        credential: owner,
        headers: { origin },
      });
      expectProblem(answer, 403, 'forbidden');
      expect(answer.body.detail).toMatch(/other web origins/u);
    }
    expect(api.t.engine.vaults.list(api.t.owner)).toHaveLength(vaultsBefore);
    for (const origin of [`http://127.0.0.1:${api.port}`, `http://localhost:${api.port}`]) {
      expect((await api.request('GET', '/v1/health', { headers: { origin } })).status).toBe(200);
    }
  });

  it('refuses CORS preflights and never sends a CORS header', async () => {
    for (const origin of ['http://evil.com', `http://127.0.0.1:${api.port}`]) {
      const answer = await api.request('OPTIONS', '/v1/vaults', {
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      });
      expectProblem(answer, 403, 'forbidden');
      for (const name of answer.headers.keys()) expect(name).not.toMatch(/^access-control-/u);
    }
    const answers = [
      await api.request('GET', '/v1/health', { headers: { origin: `http://127.0.0.1:${api.port}` } }),
      await api.request('GET', '/v1/vaults', {
        credential: owner,
        headers: { origin: `http://127.0.0.1:${api.port}` },
      }),
      await api.request('GET', '/v1/vaults'),
      await api.request('GET', '/v1/no-such-route'),
    ];
    for (const answer of answers) {
      for (const name of answer.headers.keys()) expect(name).not.toMatch(/^access-control-/u);
    }
  });
});

describe('problem details for what the transport refuses', () => {
  it('asks for a credential, and says how to send one', async () => {
    const missing = expectProblem(await api.request('GET', '/v1/vaults'), 401, 'unauthenticated');
    expect(missing.detail).toMatch(/Authorization: Bearer/u);
    expect(missing.detail).toMatch(/ocv_/u);
    const basic = await api.request('GET', '/v1/vaults', {
      headers: { authorization: 'Basic b3duZXI6cGlu' },
    });
    expect(expectProblem(basic, 401, 'unauthenticated').detail).toMatch(/not a Bearer credential/u);
    expect(basic.headers.get('www-authenticate')).toBe('Bearer realm="talon"');
    const unknown = await api.request('GET', '/v1/vaults', {
      credential: 'ocv_notarealkeyatallnotarealkeyatall',
    });
    expectProblem(unknown, 401, 'unauthenticated');
  });

  it('answers malformed JSON with 400 and stores nothing', async () => {
    const before = api.t.engine.vaults.list(api.t.owner).length;
    const answer = await api.request('POST', '/v1/vaults', {
      raw: '{"name": "half',
      contentType: 'application/json',
      credential: owner,
    });
    expect(expectProblem(answer, 400, 'invalid_input').detail).toBe(
      'The request body is not valid JSON. Send a JSON object.',
    );
    const poisoned = await api.request('POST', '/v1/vaults', {
      raw: '{"name": "x", "__proto__": {"admin": true}}',
      contentType: 'application/json',
      credential: owner,
    });
    expectProblem(poisoned, 400, 'invalid_input');
    const notAnObject = await api.request('POST', '/v1/vaults', { json: ['name'], credential: owner });
    expect(expectProblem(notAnObject, 400, 'invalid_input').detail).toMatch(/must be a JSON object/u);
    expect(api.t.engine.vaults.list(api.t.owner)).toHaveLength(before);
  });

  it('names each bad field of a body, and which rule it broke', async () => {
    const answer = await api.request('POST', '/v1/vaults', {
      json: { name: '', strict_mode: 'yes' },
      credential: owner,
    });
    const problem = expectProblem(answer, 400, 'invalid_input');
    expect(problem.detail).toMatch(/name: must be/u);
    expect(answer.body.issues.map((issue: { field: string }) => issue.field).sort()).toEqual([
      'name',
      'strict_mode',
    ]);
  });

  it('reads JSON only: other media types are 415', async () => {
    for (const contentType of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const answer = await api.request('POST', '/v1/vaults', {
        raw: 'name=x',
        contentType,
        credential: owner,
      });
      expectProblem(answer, 415, 'unsupported_media_type');
    }
  });

  it('treats an empty JSON body as no body', async () => {
    const created = await api.request('POST', '/v1/vaults', {
      json: { name: 'empty-body' },
      credential: owner,
    });
    const answer = await api.request('POST', `/v1/vaults/${created.body.id}/secret-rotate/api/generated`, {
      raw: '',
      contentType: 'application/json',
      credential: owner,
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ path: 'api/generated', version: 1 });
  });

  it('refuses a body over 1 MiB with 413, storing nothing', async () => {
    const created = await api.request('POST', '/v1/vaults', {
      json: { name: 'big-bodies' },
      credential: owner,
    });
    const value = 'x'.repeat(1024 * 1024);
    const answer = await api.request('PUT', `/v1/vaults/${created.body.id}/secrets/big`, {
      json: { value },
      credential: owner,
    });
    expectProblem(answer, 413, 'payload_too_large');
    // Under the body limit but over the engine's value limit (256 KiB): the engine's 413.
    const large = await api.request('PUT', `/v1/vaults/${created.body.id}/secrets/big`, {
      json: { value: 'y'.repeat(300 * 1024) },
      credential: owner,
    });
    expect(expectProblem(large, 413, 'payload_too_large').detail).toMatch(/the limit is 262144 bytes/u);
    const listed = await api.request('GET', `/v1/vaults/${created.body.id}/secrets`, { credential: owner });
    expect(listed.body.secrets).toEqual([]);
  });

  it('answers an unknown route, or a known path with another method, with a 404 problem', async () => {
    expect(expectProblem(await api.request('GET', '/v1/no-such-route'), 404, 'not_found').detail).toMatch(
      /no route GET \/v1\/no-such-route/u,
    );
    expectProblem(await api.request('PATCH', '/v1/vaults'), 404, 'not_found');
    expectProblem(await api.request('GET', '/v2/vaults'), 404, 'not_found');
  });

  it('answers a URL that is not valid percent-encoding with 400', async () => {
    expectProblem(await api.raw('GET', '/v1/vaults/%zz'), 400, 'invalid_input');
  });

  it('answers an unexpected error with 500, its text only in the log', async () => {
    const lines: string[] = [];
    const server = await createApiServer({
      engine: api.t.engine,
      port: 0,
      logger: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }),
    });
    server.app.get('/v1/test-explodes', async () => {
      throw new Error('database exploded near sk-should-only-be-logged');
    });
    const url = await server.listen();
    try {
      const response = await fetch(`${url}/v1/test-explodes`);
      const body = (await response.json()) as { detail: string; request_id: string };
      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
      expect(body).toMatchObject({
        type: 'about:blank',
        title: 'Internal Server Error',
        status: 500,
        code: 'internal',
      });
      expect(body.detail).toContain(body.request_id);
      expect(JSON.stringify(body)).not.toContain('exploded');
      const logged = lines.map(
        (line) => JSON.parse(line) as { level: number; reqId?: string; err?: { message: string } },
      );
      expect(
        logged.find((entry) => entry.level === 50 && entry.reqId === body.request_id)?.err?.message,
      ).toBe('database exploded near sk-should-only-be-logged');
    } finally {
      await server.app.close();
    }
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After once an address spends its budget', async () => {
    const limited = await api.startAnother({ rateLimit: { max: 3, timeWindowMs: 60_000 } });
    for (let i = 0; i < 3; i += 1) expect((await limited.request('GET', '/v1/health')).status).toBe(200);
    const answer = await limited.request('GET', '/v1/health');
    const problem = expectProblem(answer, 429, 'rate_limited');
    expect(problem.detail).toMatch(/Too many requests/u);
    expect(answer.body.retry_after).toBeGreaterThanOrEqual(1);
    expect(answer.body.retry_after).toBeLessThanOrEqual(60);
    expect(answer.headers.get('retry-after')).toBe(String(answer.body.retry_after));
    // The default budget of the first server is untouched.
    expect((await api.request('GET', '/v1/health')).status).toBe(200);
  });
});

describe('logs', () => {
  it('never hold a credential, a value or a token', async () => {
    const vault = await api.request('POST', '/v1/vaults', { json: { name: 'log-check' }, credential: owner });
    const secretValue = 'sk-log-canary-5f1c2b';
    await api.request('PUT', `/v1/vaults/${vault.body.id}/secrets/api/canary`, {
      json: { value: secretValue, type: 'api_key' },
      credential: owner,
    });
    const read = await api.request('GET', `/v1/vaults/${vault.body.id}/secrets/api/canary`, {
      credential: owner,
    });
    expect(read.body.value).toBe(secretValue);
    const agent = await api.request('POST', '/v1/agents', { json: { name: 'log-agent' }, credential: owner });
    const token = await api.request('POST', '/v1/auth/agent-token', {
      json: { api_key: agent.body.api_key },
    });
    expect(token.status).toBe(200);
    await api.request('GET', '/v1/agents/me', { credential: token.body.access_token });
    api.server.app.log.info(
      {
        value: 'direct-value-canary',
        nested: { api_key: 'direct-key-canary', deeper: { password: 'pw-canary' } },
      },
      'redaction probe',
    );

    const text = logText();
    expect(text).toContain('request completed');
    expect(text).toContain('redaction probe');
    for (const leaked of [
      secretValue,
      owner,
      agent.body.api_key,
      token.body.access_token,
      'direct-value-canary',
      'direct-key-canary',
      'pw-canary',
    ]) {
      expect(text).not.toContain(leaked);
    }
  });

  it("carry the request's id on every line a request logs, redacted like any other line", async () => {
    const lines: string[] = [];
    const server = await createApiServer({
      engine: api.t.engine,
      port: 0,
      logger: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }),
    });
    server.app.get('/v1/test-logs', async (request) => {
      request.log.debug({ value: 'debug-canary' }, 'below the level');
      request.log.info({ value: 'value-canary', nested: { api_key: 'key-canary' } }, 'route line');
      request.log.child({ part: 'inner' }).warn({ password: 'pw-canary' }, 'child line');
      return { ok: true };
    });
    const url = await server.listen();
    try {
      const response = await fetch(`${url}/v1/test-logs`);
      expect(response.status).toBe(200);
      const id = response.headers.get('x-request-id');
      const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(logged.find((entry) => entry.msg === 'route line')).toMatchObject({
        level: 30,
        component: 'api',
        reqId: id,
        value: '[redacted]',
        nested: { api_key: '[redacted]' },
      });
      expect(logged.find((entry) => entry.msg === 'child line')).toMatchObject({
        reqId: id,
        part: 'inner',
        password: '[redacted]',
      });
      expect(logged.some((entry) => entry.msg === 'below the level')).toBe(false);
      // At info level a request that logs nothing writes nothing.
      expect(logged.some((entry) => entry.msg === 'request completed')).toBe(false);
      expect(lines.join('')).not.toMatch(/canary/u);
    } finally {
      await server.app.close();
    }
  });
});
