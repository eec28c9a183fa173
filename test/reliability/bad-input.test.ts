import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import fc from 'fast-check';
import { SignJWT, decodeJwt } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TalonError } from '../../main/engine/talon-error.js';
import { type ApiAnswer, type TestApi, startTestApi } from '../fixtures/test-api-server.js';
import { validPath } from '../engine/secret-path-arbitraries.js';
import { type JsonSchema, bodyFor, junkJson, nastyString } from './json-schema-arbitrary.js';
import { report, tunable } from './reliability-report.js';
import {
  type RestRoute,
  adjustBody,
  bodySchemaFor,
  discoverRestRoutes,
  everyBodySchema,
  keepsOwnerCredentialAway,
  routeName,
} from './rest-targets.js';
import { storeDigest } from './store-digest.js';

/**
 * Bad input, property-based (fast-check): every REST route (bodies from the engine's zod
 * schemas, mutated; path parameters as real ids, random UUIDs and junk; secret paths encoded
 * every way), every MCP tool (arguments from the schema `tools/list` gives, mutated), JWTs
 * (alg none, wrong key, expired, tampered claims, oversized) and env bundles. Never a 5xx,
 * never an unexpected error in the log, every refusal a problem with a clear detail and no
 * stored value in it, and a refused request leaves the store as it was.
 *
 * TALON_RELIABILITY_FUZZ_RUNS sets the inputs per REST route and per MCP tool (default 15).
 */

const runs = tunable('TALON_RELIABILITY_FUZZ_RUNS', 15);
const requestTimeoutMs = 10_000;

let api: TestApi;
let vaultId: string;
let agent: { id: string; apiKey: string; token: string };
let policyId: string;
let victimAgentId: string;
let secretId: string;
const storedValues: string[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    }),
  );
  api = await startTestApi({ rateLimit: { max: 10_000_000 }, logger });
  const { engine, owner, call } = api.t;
  vaultId = (await engine.vaults.create(owner, { name: 'fuzz' }, call())).id;
  const created = engine.agents.create(owner, { name: 'fuzz-agent' }, call());
  // The fuzzer changes the agent and policy whose ids it is given; the agent it calls as stays as it is.
  const victim = engine.agents.create(owner, { name: 'fuzz-victim' }, call());
  victimAgentId = victim.agent.id;
  for (const principalId of [created.agent.id, victim.agent.id]) {
    policyId = engine.policies.create(
      owner,
      vaultId,
      {
        secret_path_pattern: 'app/**',
        principal_type: 'agent',
        principal_id: principalId,
        permissions: ['read', 'write', 'delete'],
      },
      call(),
    ).id;
  }
  for (const [path, value, type] of [
    ['app/api-key', 'fuzz-canary-api-key-5b0c7e', 'api_key'],
    ['app/env', 'export FUZZ_TOKEN="fuzz-canary-env-91ad3f"\nDEBUG=1', 'env_bundle'],
    ['other/owner-only', 'fuzz-canary-owner-only-77e2', 'password'],
  ] as const) {
    const put = await engine.secrets.put(owner, vaultId, path, { value, type }, call());
    secretId ??= (put as { id?: string }).id ?? '';
    storedValues.push(value.match(/fuzz-canary-[a-z-]+-[0-9a-f]+/u)![0]);
  }
  const exchanged = await api.request('POST', '/v1/auth/agent-token', {
    json: { agent_id: created.agent.id, api_key: created.api_key },
  });
  expect(exchanged.status).toBe(200);
  agent = { id: created.agent.id, apiKey: created.api_key, token: exchanged.body.access_token as string };
}, 120_000);

afterAll(async () => {
  await api?.close();
});

/** What every answer to bad input must be: no 5xx, and a refusal is a clear problem that names no value. */
function expectSoundAnswer(answer: ApiAnswer, what: string): void {
  expect(answer.status, `${what} answered ${answer.status}: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
  for (const value of storedValues) {
    if (answer.status >= 400) expect(answer.text, `${what} echoed a stored value`).not.toContain(value);
  }
  if (answer.status >= 400 && answer.status !== 431) {
    expect(answer.headers.get('content-type'), what).toBe('application/problem+json; charset=utf-8');
    expect(typeof answer.body?.code, what).toBe('string');
    expect(
      String(answer.body?.detail ?? '').length,
      `${what}: detail '${answer.body?.detail}'`,
    ).toBeGreaterThan(10);
  }
}

function expectNoUnexpectedErrors(): void {
  const unexpected = logLines.filter((line) => /unexpected error|"level":50|"level":60/u.test(line));
  expect(unexpected.slice(0, 3)).toEqual([]);
}

// ---- REST ---------------------------------------------------------------------------------------

/** encodeURIComponent, except that a lone surrogate becomes the bytes it would have been (invalid UTF-8). */
function encodeSegment(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text.replace(
      /[^A-Za-z0-9]/gu,
      (character) => `%${(character.charCodeAt(0) & 0xff).toString(16).padStart(2, '0')}`,
    );
  }
}

/** Secret paths as a client might put them in a URL: encoded per segment, raw, or crafted to escape. */
const secretPathInUrl = fc.oneof(
  validPath.map((path) => path.split('/').map(encodeSegment).join('/')),
  fc
    .array(
      fc.oneof(
        nastyString.map(encodeSegment),
        fc.constantFrom(
          '..',
          '.',
          '',
          '%2e%2e',
          '%2E%2e',
          '%2F',
          '..%2F..',
          '%00',
          '%ZZ',
          '%',
          '%252e%252e',
          '%C0%AE',
        ),
      ),
      { minLength: 1, maxLength: 5 },
    )
    .map((segments) => segments.join('/')),
);

const idLike = fc.oneof(
  fc.uuid(),
  nastyString.map((text) => encodeSegment(text) || 'x'),
  fc.constant('00000000-0000-0000-0000-000000000000'),
);

/** Routes that would take away the fixture the other inputs need, when given its real id. */
const destroysFixture = (route: RestRoute, parameter: string) =>
  (route.method === 'DELETE' || /rotate-key|revoke/u.test(route.pattern)) &&
  !(parameter === ':vault_id' && route.pattern.endsWith('*'));

function urlFor(route: RestRoute): fc.Arbitrary<string> {
  const parts = route.pattern.split('/').map((segment): fc.Arbitrary<string> => {
    if (segment === '*') {
      const versioned = /secret-version\//u.test(route.pattern);
      return versioned
        ? fc
            .tuple(secretPathInUrl, fc.constantFrom('1', '0', '-1', '99999999999', 'x', '1.5'))
            .map(([path, version]) => `${path}/${version}`)
        : secretPathInUrl;
    }
    if (!segment.startsWith(':')) return fc.constant(segment);
    const real = destroysFixture(route, segment)
      ? undefined
      : { ':vault_id': vaultId, ':agent_id': victimAgentId, ':policy_id': policyId, ':secret_id': secretId }[
          segment
        ];
    return real
      ? fc.oneof({ weight: 3, arbitrary: fc.constant(real) }, { weight: 2, arbitrary: idLike })
      : idLike;
  });
  const query = fc
    .dictionary(
      fc.constantFrom(
        'limit',
        'offset',
        'prefix',
        'cursor',
        'include_deleted',
        'vault_id',
        'action',
        'outcome',
        'from',
        'to',
        'status',
      ),
      nastyString.map(encodeSegment),
      { maxKeys: 3 },
    )
    .map((entries) =>
      Object.entries(entries)
        .map(([name, value]) => `${name}=${value}`)
        .join('&'),
    );
  return fc.tuple(fc.tuple(...parts), fc.option(query, { nil: undefined })).map(([segments, search]) => {
    const path = segments.join('/');
    return search ? `${path}?${search}` : path;
  });
}

function credentialArbitrary(route: RestRoute): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant(keepsOwnerCredentialAway(route) ? undefined : api.t.ownerApiKey) },
    { weight: 2, arbitrary: fc.constant(agent.apiKey) },
    { weight: 2, arbitrary: fc.constant(agent.token) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: nastyString.map((text) => text.replace(/[^\x21-\x7e]/gu, 'x') || 'x') },
  );
}

async function sendWithin(route: RestRoute, url: string, credential: string | undefined, body: unknown) {
  const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
  const sending = api.raw(route.method, url, {
    ...(credential !== undefined ? { credential } : {}),
    ...(hasBody && body !== undefined ? { json: body } : {}),
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${route.method} ${url} did not answer in ${requestTimeoutMs} ms`)),
      requestTimeoutMs,
    );
  });
  try {
    return await Promise.race([sending, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('bad input', () => {
  it('REST: every route answers bad bodies, ids, paths and credentials with a clear 4xx and changes nothing on refusal', async () => {
    const { routes, skipped } = discoverRestRoutes();
    expect(routes.length).toBeGreaterThan(20);
    const fallback = fc.oneof(...everyBodySchema().map((schema) => bodyFor(schema)));
    const perRoute: Record<string, number> = {};
    const statuses: Record<string, number> = {};
    let refusalsChecked = 0;
    for (const route of routes) {
      const schema: JsonSchema | undefined = bodySchemaFor(route);
      const body = schema ? bodyFor(schema) : fc.oneof(fallback, junkJson);
      let tried = 0;
      await fc.assert(
        fc.asyncProperty(
          urlFor(route),
          credentialArbitrary(route),
          body,
          async (url, credential, rawBody) => {
            tried += 1;
            const before = storeDigest(api.t.databaseFile);
            const answer = await sendWithin(route, url, credential, adjustBody(route, rawBody));
            statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
            expectSoundAnswer(answer, `${route.method} ${url}`);
            if (answer.status >= 400) {
              expect(
                storeDigest(api.t.databaseFile),
                `${route.method} ${url} was refused but changed the store`,
              ).toEqual(before);
              refusalsChecked += 1;
            }
            if (!api.t.engine.isUnlocked) await api.t.engine.unlock(api.t.pin, api.t.call());
          },
        ),
        { numRuns: runs, endOnFailure: true },
      );
      perRoute[routeName(route)] = tried;
    }
    expectNoUnexpectedErrors();
    report('bad-input-rest', {
      routes: routes.length,
      inputs_tried: Object.values(perRoute).reduce((sum, n) => sum + n, 0),
      inputs_per_route: runs,
      refusals_checked_store_unchanged: refusalsChecked,
      statuses,
      routes_not_fuzzed_here: skipped,
    });
    report('bad-input-rest-routes', { routes: Object.keys(perRoute) });
  }, 600_000);

  it('JWTs: alg none, wrong key, expired, tampered claims, oversized and mangled tokens are refused with 401', async () => {
    const claims = decodeJwt(agent.token);
    const [header, payload, signature] = agent.token.split('.') as [string, string, string];
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const wrongKey = new TextEncoder().encode('not-talons-key-but-long-enough-for-hs256!!');
    const sign = (body: Record<string, unknown>, key = wrongKey) =>
      new SignJWT(body).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(key);
    const owner = api.t.owner;
    const crafted: [string, string][] = [
      ['alg none', `${encode({ alg: 'none', typ: 'JWT' })}.${payload}.`],
      ['alg none, no dot', `${encode({ alg: 'none', typ: 'JWT' })}.${payload}`],
      ['alg None', `${encode({ alg: 'None' })}.${payload}.${signature}`],
      ['alg RS256 header', `${encode({ alg: 'RS256', typ: 'JWT' })}.${payload}.${signature}`],
      ['wrong key', await sign(claims)],
      ['wrong key, owner subject', await sign({ ...claims, sub: `user:${owner.id}` })],
      ['tampered sub', `${header}.${encode({ ...claims, sub: `user:${owner.id}` })}.${signature}`],
      ['tampered scopes', `${header}.${encode({ ...claims, scopes: ['**'] })}.${signature}`],
      [
        'tampered vault_ids',
        `${header}.${encode({ ...claims, vault_ids: [vaultId, randomUUID()] })}.${signature}`,
      ],
      ['tampered exp', `${header}.${encode({ ...claims, exp: 4_102_444_800 })}.${signature}`],
      ['signature cut', `${header}.${payload}.${signature.slice(0, -4)}`],
      ['signature of another token', `${header}.${payload}.${'A'.repeat(signature.length)}`],
      ['oversized (6 KB claims)', await sign({ ...claims, pad: 'x'.repeat(6_000) })],
      [
        'oversized, Talon key header',
        `${header}.${encode({ ...claims, pad: 'x'.repeat(6_000) })}.${signature}`,
      ],
      ['empty parts', '..'],
      ['not base64', '!!!.@@@.###'],
    ];
    const target = `/v1/vaults/${vaultId}/secrets/app/api-key`;
    expect((await api.request('GET', target, { credential: agent.token })).status).toBe(200);
    let tried = 0;
    for (const [what, token] of crafted) {
      const answer = await api.raw('GET', target, { credential: token });
      tried += 1;
      expectSoundAnswer(answer, `JWT ${what}`);
      expect({ what, status: answer.status }).toEqual({ what, status: 401 });
    }
    // Far over Node's header limit: Node itself answers 431 before Talon reads anything.
    const huge = await api.raw('GET', target, {
      credential: `${header}.${'x'.repeat(100_000)}.${signature}`,
    });
    expect(huge.status).toBe(431);
    tried += 1;
    // Expired: the same token once the clock passes its exp.
    const expiresIn = (claims.exp ?? 0) - (claims.iat ?? 0);
    api.t.clock.advance((expiresIn + 60) * 1000);
    try {
      const expired = await api.raw('GET', target, { credential: agent.token });
      expectSoundAnswer(expired, 'expired JWT');
      expect(expired.status).toBe(401);
      tried += 1;
    } finally {
      api.t.clock.advance(-(expiresIn + 60) * 1000);
    }
    // Random mangling of a real token, one character at a time.
    let mangled = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: agent.token.length - 1 }),
        fc.constantFrom(...'AZaz09-_.='),
        async (at, character) => {
          const token = agent.token.slice(0, at) + character + agent.token.slice(at + 1);
          if (token === agent.token) return;
          const answer = await api.raw('GET', target, { credential: token });
          mangled += 1;
          expectSoundAnswer(answer, `JWT mangled at ${at}`);
          // A change in the base64url padding bits can leave the bytes, and so the token, the same.
          if (answer.status !== 200) expect(answer.status).toBe(401);
        },
      ),
      { numRuns: runs * 3 },
    );
    expectNoUnexpectedErrors();
    report('bad-input-jwt', { crafted_tokens: tried, mangled_tokens: mangled, all_refused: true });
  });
});

// ---- MCP ----------------------------------------------------------------------------------------

describe('bad input over MCP', () => {
  let client: Client;

  beforeAll(async () => {
    const transport = new StreamableHTTPClientTransport(new URL('/mcp', api.url), {
      requestInit: { headers: { authorization: `Bearer ${agent.apiKey}`, 'x-vault-id': vaultId } },
    });
    client = new Client({ name: 'fuzz', version: '1.0.0' });
    await client.connect(transport);
  });

  afterAll(async () => {
    await client?.close().catch(() => undefined);
  });

  it('MCP: every tool answers bad arguments with a tool error or invalid params, never an internal error', async () => {
    const approvals = (
      api.t.engine as {
        approvals?: {
          subscribe(listener: (event: unknown) => void): () => void;
          decide(...args: unknown[]): unknown;
        };
      }
    ).approvals;
    // A human who says no at once, so tools that wait for an approval do not wait for the test's timeout.
    const stopDeciding = approvals?.subscribe((event) => {
      const { type, approval } = event as { type: string; approval: { id: string } };
      if (type !== 'approval.created') return;
      setImmediate(() => {
        try {
          approvals.decide(api.t.owner, approval.id, { decision: 'reject', reason: 'fuzz' }, api.t.call());
        } catch {
          // decided or gone already
        }
      });
    });
    try {
      const { tools } = await client.listTools();
      expect(tools.length).toBeGreaterThanOrEqual(10);
      const perTool: Record<string, number> = {};
      const outcomes = {
        results: 0,
        tool_errors: 0,
        invalid_params: 0,
        refused_as_prototype_poisoning: 0,
        arguments_not_an_object: 0,
      };
      for (const tool of tools) {
        let tried = 0;
        const pathLike = fc.oneof(
          validPath,
          nastyString,
          fc.constantFrom('app/api-key', 'app/env', 'other/owner-only', 'app/../other/owner-only'),
        );
        const schema = tool.inputSchema as JsonSchema;
        // Path arguments get secret paths (real, valid, nasty) half the time.
        const args = bodyFor(schema).chain((value) =>
          value !== null &&
          typeof value === 'object' &&
          !Array.isArray(value) &&
          'path' in (schema.properties ?? {})
            ? fc.oneof(
                fc.constant(value),
                pathLike.map((path) => ({ ...(value as object), path })),
              )
            : fc.constant(value),
        );
        await fc.assert(
          fc.asyncProperty(args, async (input) => {
            tried += 1;
            const readOnly = tool.annotations?.readOnlyHint === true;
            const before = readOnly ? storeDigest(api.t.databaseFile) : undefined;
            let text = '';
            try {
              const result = await client.callTool(
                { name: tool.name, arguments: input as Record<string, unknown> },
                undefined,
                { timeout: requestTimeoutMs },
              );
              text = (result.content as { text?: string }[]).map((part) => part.text ?? '').join('\n');
              if (result.isError === true) {
                outcomes.tool_errors += 1;
                expect(text.length, `${tool.name} error without text`).toBeGreaterThan(10);
                for (const value of storedValues) expect(text).not.toContain(value);
              } else outcomes.results += 1;
            } catch (error) {
              const code = (error as { code?: number }).code;
              // JSON with a __proto__ or constructor.prototype key is refused as a whole, before any
              // tool sees it: HTTP 400 with JSON-RPC's parse error (prototype poisoning protection).
              if (code === 400 && /"(__proto__|constructor)"/u.test(JSON.stringify(input))) {
                outcomes.refused_as_prototype_poisoning += 1;
                return;
              }
              // Arguments that are not an object break the protocol itself: the SDK refuses the
              // request before any tool runs, as -32603 with zod's explanation (its choice of code).
              if (
                code === -32603 &&
                (input === null || typeof input !== 'object' || Array.isArray(input)) &&
                /expected record/u.test((error as Error).message)
              ) {
                outcomes.arguments_not_an_object += 1;
                return;
              }
              expect({
                tool: tool.name,
                code,
                message: (error as Error).message.slice(0, 200),
                input: JSON.stringify(input).slice(0, 300),
              }).toMatchObject({ code: -32602 });
              outcomes.invalid_params += 1;
            }
            expect(text).not.toContain('unexpected error');
            if (before)
              expect(storeDigest(api.t.databaseFile), `${tool.name} (read-only) changed the store`).toEqual(
                before,
              );
          }),
          { numRuns: runs, endOnFailure: true },
        );
        perTool[tool.name] = tried;
      }
      expectNoUnexpectedErrors();
      report('bad-input-mcp', {
        tools: tools.length,
        inputs_tried: Object.values(perTool).reduce((sum, n) => sum + n, 0),
        inputs_per_tool: runs,
        ...outcomes,
        tool_names: Object.keys(perTool),
      });
    } finally {
      stopDeciding?.();
    }
  }, 600_000);

  it('env bundles: any text stored as an env_bundle reads back as a clear answer, never an internal error', async () => {
    const { engine, owner, call } = api.t;
    const singleLine = (text: string) => text.replace(/[\r\n]/gu, ' ');
    const line = fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .tuple(
            fc.constantFrom('', 'export ', '  '),
            fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/u),
            fc.constantFrom('', '"', "'"),
            nastyString.map(singleLine),
          )
          .map(([prefix, key, quote, value]) => `${prefix}${key}=${quote}${value}${quote}`),
      },
      fc
        .tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 20 }))
        .map(([key, value]) => `${key}=${value}`),
      nastyString,
      fc.constantFrom(
        'export A=1',
        '# comment',
        '',
        '=novalue',
        'NOEQUALS',
        'A="quoted"',
        "B='x",
        '\uFEFFC=1',
        'D=${E}',
      ),
    );
    let tried = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 6 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        async (lines, newline) => {
          const value = lines.join(newline);
          if (value.length === 0) return;
          tried += 1;
          try {
            await engine.secrets.put(owner, vaultId, 'app/fuzz-env', { value, type: 'env_bundle' }, call());
          } catch (error) {
            // Refused at write, naming the line and never its text (which may hold a value).
            expect(TalonError.is(error, 'invalid_input')).toBe(true);
            expect((error as Error).message).toMatch(/^Env bundle line \d+ /u);
            refused += 1;
            return;
          }
          const result = await client.callTool({
            name: 'get_env_bundle',
            arguments: { path: 'app/fuzz-env' },
          });
          const text = (result.content as { text?: string }[])[0]?.text ?? '';
          expect(text).not.toContain('unexpected error');
          if (result.isError === true) expect(text).toMatch(/line \d+/u);
        },
      ),
      { numRuns: runs * 2 },
    );
    expectNoUnexpectedErrors();
    report('bad-input-env-bundle', {
      bundles_tried: tried,
      refused_at_write: refused,
      read_back: tried - refused,
    });
  });
});
