import { describe, expect, it } from 'vitest';

import { policyConditionsSchema } from '../../main/engine/policy-conditions.js';
import { decide } from '../../main/engine/policy-decision.js';
import type { DecisionRequest, PolicyRule } from '../../main/engine/policy-decision.js';

const VAULT = '0190f1b6-0000-7000-8000-00000000000a';
const OTHER_VAULT = '0190f1b6-0000-7000-8000-00000000000b';
const AGENT = '0190f1b6-0000-7000-8000-0000000000a1';
const OTHER_AGENT = '0190f1b6-0000-7000-8000-0000000000a2';
const NOW = new Date('2024-01-15T12:00:00Z'); // Monday noon UTC

let nextId = 0;
function policy(overrides: Partial<PolicyRule> = {}): PolicyRule {
  nextId += 1;
  return {
    id: `p${nextId}`,
    vaultId: VAULT,
    principalType: 'agent',
    principalId: AGENT,
    secretPathPattern: '**',
    permissions: ['read'],
    conditions: null,
    effect: 'allow',
    priority: 0,
    requireApproval: false,
    expiresAt: null,
    ...overrides,
  };
}

const conditions = (input: unknown) => policyConditionsSchema.parse(input);

function request(policies: PolicyRule[], overrides: Partial<DecisionRequest> = {}): DecisionRequest {
  return {
    policies,
    principal: { type: 'agent', id: AGENT },
    vaultId: VAULT,
    path: 'api-keys/openai',
    permission: 'read',
    context: { ip: '10.0.0.5', now: NOW },
    ...overrides,
  };
}

interface Case {
  name: string;
  policies: PolicyRule[];
  request?: Partial<DecisionRequest>;
  allowed: boolean;
  winner: string | null;
  requireApproval?: boolean;
}

const allowAll = policy({ id: 'allow-all' });

const cases: Case[] = [
  { name: 'no policies: denied by default', policies: [], allowed: false, winner: null },
  { name: 'allow on ** grants', policies: [allowAll], allowed: true, winner: 'allow-all' },
  {
    name: 'glob a/* does not reach two levels down',
    policies: [policy({ id: 'one-level', secretPathPattern: 'api-keys/*' })],
    request: { path: 'api-keys/prod/openai' },
    allowed: false,
    winner: null,
  },
  {
    name: 'glob a/** reaches any depth',
    policies: [policy({ id: 'deep', secretPathPattern: 'api-keys/**' })],
    request: { path: 'api-keys/prod/openai' },
    allowed: true,
    winner: 'deep',
  },
  {
    name: 'partial-segment glob',
    policies: [policy({ id: 'prod', secretPathPattern: '*/*-prod' })],
    request: { path: 'db/pg-prod' },
    allowed: true,
    winner: 'prod',
  },
  {
    name: 'the path is normalised before matching',
    policies: [policy({ id: 'exact', secretPathPattern: 'api-keys/openai' })],
    request: { path: '/api-keys/openai/' },
    allowed: true,
    winner: 'exact',
  },
  {
    name: 'a policy without the permission does not grant it',
    policies: [policy({ id: 'reader', permissions: ['read'] })],
    request: { permission: 'write' },
    allowed: false,
    winner: null,
  },
  {
    name: 'use is its own permission',
    policies: [policy({ id: 'reader', permissions: ['read'] }), policy({ id: 'user', permissions: ['use'] })],
    request: { permission: 'use' },
    allowed: true,
    winner: 'user',
  },
  {
    name: 'deny beats allow at equal priority',
    policies: [policy({ id: 'allow', priority: 5 }), policy({ id: 'deny', effect: 'deny', priority: 5 })],
    allowed: false,
    winner: 'deny',
  },
  {
    name: 'deny beats allow at equal priority whatever the order',
    policies: [policy({ id: 'deny', effect: 'deny', priority: 5 }), policy({ id: 'allow', priority: 5 })],
    allowed: false,
    winner: 'deny',
  },
  {
    name: 'a higher-priority allow beats a lower deny',
    policies: [policy({ id: 'deny', effect: 'deny', priority: 1 }), policy({ id: 'allow', priority: 10 })],
    allowed: true,
    winner: 'allow',
  },
  {
    name: 'a higher-priority deny beats a lower allow',
    policies: [policy({ id: 'allow', priority: 1 }), policy({ id: 'deny', effect: 'deny', priority: 10 })],
    allowed: false,
    winner: 'deny',
  },
  {
    name: 'a narrow deny carves out of a broad allow',
    policies: [allowAll, policy({ id: 'no-prod', effect: 'deny', secretPathPattern: '**/prod/**' })],
    request: { path: 'db/prod/password' },
    allowed: false,
    winner: 'no-prod',
  },
  {
    name: 'the narrow deny leaves other paths alone',
    policies: [allowAll, policy({ id: 'no-prod', effect: 'deny', secretPathPattern: '**/prod/**' })],
    request: { path: 'db/staging/password' },
    allowed: true,
    winner: 'allow-all',
  },
  {
    name: 'an expired allow is skipped',
    policies: [policy({ id: 'old', expiresAt: '2024-01-01T00:00:00Z' })],
    allowed: false,
    winner: null,
  },
  {
    name: 'an expired deny is skipped',
    policies: [allowAll, policy({ id: 'old-deny', effect: 'deny', expiresAt: '2024-01-01T00:00:00Z' })],
    allowed: true,
    winner: 'allow-all',
  },
  {
    name: 'an unexpired allow applies',
    policies: [policy({ id: 'fresh', expiresAt: '2024-02-01T00:00:00Z' })],
    allowed: true,
    winner: 'fresh',
  },
  {
    name: "another agent's policy is ignored",
    policies: [policy({ id: 'theirs', principalId: OTHER_AGENT })],
    allowed: false,
    winner: null,
  },
  {
    name: 'a user policy with the same id is not an agent policy',
    policies: [policy({ id: 'user', principalType: 'user' })],
    allowed: false,
    winner: null,
  },
  {
    name: "another vault's policy is ignored",
    policies: [policy({ id: 'elsewhere', vaultId: OTHER_VAULT })],
    allowed: false,
    winner: null,
  },
  {
    name: "another agent's deny does not touch this one",
    policies: [
      allowAll,
      policy({ id: 'their-deny', effect: 'deny', principalId: OTHER_AGENT, priority: 99 }),
    ],
    allowed: true,
    winner: 'allow-all',
  },
  {
    name: 'ids compare without case',
    policies: [policy({ id: 'upper', principalId: AGENT.toUpperCase(), vaultId: VAULT.toUpperCase() })],
    allowed: true,
    winner: 'upper',
  },
  {
    name: 'require_approval is surfaced from the winning allow',
    policies: [policy({ id: 'gated', requireApproval: true })],
    allowed: true,
    winner: 'gated',
    requireApproval: true,
  },
  {
    name: 'require_approval of a losing allow does not leak',
    policies: [policy({ id: 'gated', requireApproval: true }), policy({ id: 'open', priority: 1 })],
    allowed: true,
    winner: 'open',
    requireApproval: false,
  },
  {
    name: 'IPv4 CIDR allowlist admits an address inside',
    policies: [policy({ id: 'office', conditions: conditions({ ip_allowlist: ['10.0.0.0/24'] }) })],
    allowed: true,
    winner: 'office',
  },
  {
    name: 'IPv4 allowlist refuses an address outside',
    policies: [policy({ id: 'office', conditions: conditions({ ip_allowlist: ['10.0.1.0/24'] }) })],
    allowed: false,
    winner: null,
  },
  {
    name: 'IPv6 CIDR allowlist',
    policies: [policy({ id: 'v6', conditions: conditions({ ip_allowlist: ['2001:db8::/48'] }) })],
    request: { context: { ip: '2001:db8:0:1::5', now: NOW } },
    allowed: true,
    winner: 'v6',
  },
  {
    name: 'IPv4-mapped IPv6 request against an IPv4 allowlist',
    policies: [policy({ id: 'loopback', conditions: conditions({ ip_allowlist: ['127.0.0.1'] }) })],
    request: { context: { ip: '::ffff:127.0.0.1', now: NOW } },
    allowed: true,
    winner: 'loopback',
  },
  {
    name: 'no source IP with an allowlist: denied',
    policies: [policy({ id: 'office', conditions: conditions({ ip_allowlist: ['10.0.0.0/8'] }) })],
    request: { context: { now: NOW } },
    allowed: false,
    winner: null,
  },
  {
    name: 'a deny limited to an IP range still applies when the IP is unknown',
    policies: [
      allowAll,
      policy({
        id: 'no-guests',
        effect: 'deny',
        conditions: conditions({ ip_allowlist: ['192.168.50.0/24'] }),
      }),
    ],
    request: { context: { now: NOW } },
    allowed: false,
    winner: 'no-guests',
  },
  {
    name: 'a deny limited to an IP range does not touch other addresses',
    policies: [
      allowAll,
      policy({
        id: 'no-guests',
        effect: 'deny',
        conditions: conditions({ ip_allowlist: ['192.168.50.0/24'] }),
      }),
    ],
    allowed: true,
    winner: 'allow-all',
  },
  {
    name: 'Tokyo office hours at 12:00 UTC (21:00 JST): outside',
    policies: [
      policy({
        id: 'tokyo',
        conditions: conditions({ time_window: { after: '09:00', before: '17:00', timezone: 'Asia/Tokyo' } }),
      }),
    ],
    allowed: false,
    winner: null,
  },
  {
    name: 'Tokyo office hours at 01:00 UTC (10:00 JST)',
    policies: [
      policy({
        id: 'tokyo',
        conditions: conditions({ time_window: { after: '09:00', before: '17:00', timezone: 'Asia/Tokyo' } }),
      }),
    ],
    request: { context: { ip: '10.0.0.5', now: new Date('2024-01-15T01:00:00Z') } },
    allowed: true,
    winner: 'tokyo',
  },
  {
    name: 'a night window wrapping midnight, at 23:30',
    policies: [
      policy({ id: 'night', conditions: conditions({ time_window: { after: '22:00', before: '06:00' } }) }),
    ],
    request: { context: { now: new Date('2024-01-15T23:30:00Z') } },
    allowed: true,
    winner: 'night',
  },
  {
    name: 'a night window wrapping midnight, at noon',
    policies: [
      policy({ id: 'night', conditions: conditions({ time_window: { after: '22:00', before: '06:00' } }) }),
    ],
    allowed: false,
    winner: null,
  },
  {
    name: 'weekdays only, on a Saturday',
    policies: [
      policy({
        id: 'weekdays',
        conditions: conditions({ time_window: { days: ['mon', 'tue', 'wed', 'thu', 'fri'] } }),
      }),
    ],
    request: { context: { now: new Date('2024-01-13T12:00:00Z') } },
    allowed: false,
    winner: null,
  },
  {
    name: 'a weekend deny, outside the weekend, leaves the allow',
    policies: [
      allowAll,
      policy({
        id: 'weekend',
        effect: 'deny',
        conditions: conditions({ time_window: { days: ['sat', 'sun'] } }),
      }),
    ],
    allowed: true,
    winner: 'allow-all',
  },
  {
    name: 'an allow with an invalid stored pattern grants nothing',
    policies: [policy({ id: 'broken', secretPathPattern: 'a//b' })],
    allowed: false,
    winner: null,
  },
  {
    name: 'a deny with an invalid stored pattern still denies',
    policies: [allowAll, policy({ id: 'broken-deny', effect: 'deny', secretPathPattern: 'a/../b' })],
    allowed: false,
    winner: 'broken-deny',
  },
  {
    name: 'an allow with an unreadable expiry grants nothing',
    policies: [policy({ id: 'odd', expiresAt: 'next tuesday' })],
    allowed: false,
    winner: null,
  },
];

describe('decide', () => {
  it.each(cases)('$name', ({ policies, request: overrides, allowed, winner, requireApproval }) => {
    const decision = decide(request(policies, overrides));
    expect(decision.allowed).toBe(allowed);
    expect(decision.policyId).toBe(winner);
    expect(decision.requireApproval).toBe(requireApproval ?? false);
    if (winner !== null) expect(decision.reason).toContain(`policy ${winner} `);
  });

  it('explains a default deny in the vault’s words', () => {
    expect(decide(request([])).reason).toBe(
      `no policy grants agent ${AGENT} read on 'api-keys/openai' in vault ${VAULT}`,
    );
  });

  it('says when the only candidate had expired', () => {
    const decision = decide(request([policy({ id: 'old', expiresAt: '2024-01-01T00:00:00Z' })]));
    expect(decision.reason).toBe(
      `no policy grants agent ${AGENT} read on 'api-keys/openai' in vault ${VAULT}: policy old expired at 2024-01-01T00:00:00.000Z`,
    );
  });

  it('says why conditions set a policy aside', () => {
    const decision = decide(
      request([policy({ id: 'office', conditions: conditions({ ip_allowlist: ['10.9.0.0/16'] }) })]),
    );
    expect(decision.reason).toMatch(
      /: policy office does not apply: request from 10\.0\.0\.5 is outside the policy's IP allowlist$/u,
    );
  });

  it('names the deny and the allow it beat', () => {
    const decision = decide(
      request([policy({ id: 'a', priority: 3 }), policy({ id: 'd', effect: 'deny', priority: 3 })]),
    );
    expect(decision.reason).toBe(
      `policy d (deny, priority 3) denies agent ${AGENT} read on 'api-keys/openai' in vault ${VAULT}; deny beats allow policy a at equal priority`,
    );
  });

  it('names the allow, the deny it outranks and the approval it needs', () => {
    const decision = decide(
      request([
        policy({ id: 'd', effect: 'deny', priority: 1 }),
        policy({ id: 'a', priority: 2, requireApproval: true }),
      ]),
    );
    expect(decision.reason).toBe(
      `policy a (allow, priority 2) grants agent ${AGENT} read on 'api-keys/openai' in vault ${VAULT}; it outranks deny policy d (priority 1); each use needs a human's approval`,
    );
  });

  it('refuses an invalid path rather than matching it', () => {
    expect(() => decide(request([allowAll], { path: 'a/../b' }))).toThrow(/'\.\.' segment/u);
  });
});
