import { describe, expect, it } from 'vitest';

import { evaluateConditions, policyConditionsSchema } from '../../main/engine/policy-conditions.js';

const conditions = (input: unknown) => policyConditionsSchema.parse(input);
const noon = new Date('2024-01-15T12:00:00Z'); // a Monday

describe('ip_allowlist', () => {
  const allowlist = conditions({
    ip_allowlist: ['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1', '::ffff:172.16.0.0/108'],
  });

  it.each([
    ['10.1.2.3', true],
    ['11.0.0.1', false],
    ['192.168.1.7', true],
    ['192.168.1.8', false],
    ['2001:db8::1', true],
    ['2001:DB8:0:0::abcd', true],
    ['2001:db9::1', false],
    ['::1', true],
    ['::ffff:10.0.0.5', true], // IPv4-mapped IPv6 against an IPv4 range
    ['::ffff:11.0.0.5', false],
    ['172.16.0.9', true], // IPv4 against an IPv4-mapped IPv6 range
    ['fe80::1%eth0', false],
  ])('%s is inside: %s', (ip, inside) => {
    expect(evaluateConditions(allowlist, { ip, now: noon }).ok).toBe(inside);
  });

  it('explains a refusal', () => {
    expect(evaluateConditions(allowlist, { ip: '11.0.0.5', now: noon })).toEqual({
      ok: false,
      reason: "request from 11.0.0.5 is outside the policy's IP allowlist",
    });
  });

  it('fails closed without a source IP, marking the outcome undetermined', () => {
    const outcome = evaluateConditions(allowlist, { now: noon });
    expect(outcome).toMatchObject({ ok: false, undetermined: true });
    expect(evaluateConditions(allowlist, { ip: 'garbage', now: noon })).toMatchObject({
      ok: false,
      undetermined: true,
    });
  });

  it.each([
    ['10.0.0.0/33'],
    ['10.0.0.1/8/2'],
    ['not-an-ip'],
    ['fe80::1%eth0'],
    ['::/129'],
    ['10.0.0.0/-1'],
    [''],
  ])('refuses the entry %j', (entry) => {
    const result = policyConditionsSchema.safeParse({ ip_allowlist: [entry] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['ip_allowlist', 0]);
  });

  it('refuses an empty allowlist', () => {
    expect(policyConditionsSchema.safeParse({ ip_allowlist: [] }).success).toBe(false);
  });
});

describe('time_window', () => {
  const outcome = (window: unknown, at: string) =>
    evaluateConditions(conditions({ time_window: window }), { now: new Date(at) });

  it.each([
    // Tokyo is UTC+9 with no daylight saving time.
    [{ after: '09:00', before: '17:00', timezone: 'Asia/Tokyo' }, '2024-01-15T00:00:00Z', true], // 09:00 JST
    [{ after: '09:00', before: '17:00', timezone: 'Asia/Tokyo' }, '2024-01-15T07:59:00Z', true], // 16:59 JST
    [{ after: '09:00', before: '17:00', timezone: 'Asia/Tokyo' }, '2024-01-15T08:00:00Z', false], // 17:00 JST
    [{ after: '09:00', before: '17:00', timezone: 'Asia/Tokyo' }, '2024-01-14T23:59:00Z', false], // 08:59 JST
    [{ after: '09:00', before: '17:00' }, '2024-01-15T12:00:00Z', true], // UTC by default
    [{ after: '09:00', before: '17:00' }, '2024-01-15T17:00:00Z', false],
    // Wrapping midnight.
    [{ after: '22:00', before: '06:00' }, '2024-01-15T23:30:00Z', true],
    [{ after: '22:00', before: '06:00' }, '2024-01-15T03:00:00Z', true],
    [{ after: '22:00', before: '06:00' }, '2024-01-15T06:00:00Z', false],
    [{ after: '22:00', before: '06:00' }, '2024-01-15T12:00:00Z', false],
    [{ after: '22:00', before: '06:00', timezone: 'America/New_York' }, '2024-01-15T04:00:00Z', true], // 23:00 EST
    // Open-ended.
    [{ after: '18:00' }, '2024-01-15T19:00:00Z', true],
    [{ after: '18:00' }, '2024-01-15T01:00:00Z', false],
    [{ before: '08:00' }, '2024-01-15T07:59:00Z', true],
    // Days are the local day in the window's zone.
    [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'] }, '2024-01-13T12:00:00Z', false], // Saturday
    [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'] }, '2024-01-15T12:00:00Z', true],
    [{ days: ['mon'], timezone: 'Asia/Tokyo' }, '2024-01-14T23:30:00Z', true], // Sunday in UTC, Monday in Tokyo
    [{ days: ['mon'] }, '2024-01-14T23:30:00Z', false],
    [{ after: '22:00', before: '06:00', days: ['fri'] }, '2024-01-13T02:00:00Z', false], // Saturday 02:00
    // Daylight saving time: Paris is UTC+2 in July, UTC+1 in January.
    [{ after: '09:00', before: '17:00', timezone: 'Europe/Paris' }, '2024-07-01T07:30:00Z', true],
    [{ after: '09:00', before: '17:00', timezone: 'Europe/Paris' }, '2024-01-15T07:30:00Z', false],
  ])('%j at %s is open: %s', (window, at, open) => {
    expect(outcome(window, at).ok).toBe(open);
  });

  it('explains a refusal with the local time', () => {
    expect(
      outcome({ after: '09:00', before: '17:00', timezone: 'Europe/Paris' }, '2024-01-15T17:02:00Z'),
    ).toEqual({
      ok: false,
      reason: "outside the policy's time window 09:00–17:00 Europe/Paris (now 18:02 Mon)",
    });
    expect(outcome({ after: '08:00', days: ['sat', 'mon'] }, '2024-01-14T09:00:00Z')).toEqual({
      ok: false,
      reason: "outside the policy's time window from 08:00 Mon, Sat UTC (now 09:00 Sun)",
    });
  });

  it('canonicalises the time zone and defaults it to UTC', () => {
    expect(
      conditions({ time_window: { after: '09:00', timezone: 'europe/paris' } }).time_window?.timezone,
    ).toBe('Europe/Paris');
    expect(conditions({ time_window: { after: '09:00' } }).time_window?.timezone).toBe('UTC');
  });

  it.each([
    [{ after: '9:00' }, ['time_window', 'after']],
    [{ after: '24:00' }, ['time_window', 'after']],
    [{ before: '12:60' }, ['time_window', 'before']],
    [{ after: '09:00', timezone: 'Mars/Olympus_Mons' }, ['time_window', 'timezone']],
    [{ days: ['monday'] }, ['time_window', 'days', 0]],
    [{ days: [] }, ['time_window', 'days']],
    [{ timezone: 'UTC' }, ['time_window']],
    [{ after: '10:00', before: '10:00' }, ['time_window']],
    [{ after: '10:00', days_of_week: ['mon'] }, ['time_window']],
  ])('refuses %j', (window, path) => {
    const result = policyConditionsSchema.safeParse({ time_window: window });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(path);
  });

  it('names an unknown time zone and an unknown condition', () => {
    const zone = policyConditionsSchema.safeParse({ time_window: { after: '09:00', timezone: 'Mars/Base' } });
    expect(zone.error?.issues[0]?.message).toMatch(/"Mars\/Base" is not a known IANA time zone/u);
    const unknown = policyConditionsSchema.safeParse({ ip_allow_list: ['10.0.0.1'] });
    expect(unknown.error?.issues[0]?.message).toBe(
      'has unknown field "ip_allow_list"; Talon understands ip_allowlist, time_window and allowed_hosts',
    );
  });
});

describe('evaluateConditions', () => {
  it('passes with no conditions', () => {
    expect(evaluateConditions(null, { now: noon })).toEqual({ ok: true });
    expect(evaluateConditions(undefined, { now: noon })).toEqual({ ok: true });
    expect(evaluateConditions({}, { now: noon })).toEqual({ ok: true });
  });

  it('needs every condition to hold', () => {
    const both = conditions({
      ip_allowlist: ['10.0.0.0/8'],
      time_window: { after: '09:00', before: '17:00' },
    });
    expect(evaluateConditions(both, { ip: '10.0.0.1', now: noon }).ok).toBe(true);
    expect(evaluateConditions(both, { ip: '10.0.0.1', now: new Date('2024-01-15T20:00:00Z') }).ok).toBe(
      false,
    );
    expect(evaluateConditions(both, { ip: '12.0.0.1', now: noon }).ok).toBe(false);
  });

  it('fails closed, undetermined, on stored conditions it cannot read', () => {
    const corrupt = { time_window: { after: '09:00', timezone: 'Nowhere/Nothing' } } as never;
    expect(evaluateConditions(corrupt, { now: noon })).toMatchObject({ ok: false, undetermined: true });
    expect(evaluateConditions({ ip_allowlist: ['x/y'] }, { ip: '10.0.0.1', now: noon })).toMatchObject({
      ok: false,
      undetermined: true,
    });
  });
});
