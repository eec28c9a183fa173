import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { allowedHostsSchema, hostPatterns, matchingHostPattern } from './outbound-request-hosts.js';

/**
 * Conditions narrow when a policy applies: where the request comes from (`ip_allowlist`) and
 * when it is made (`time_window`, in the window's own time zone). Field names are 1Claw's.
 * Unknown condition keys are refused rather than dropped: dropping one would silently widen an
 * allow policy.
 */

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof weekdays)[number];

const clockTime = z
  .string({ error: 'must be a time of day as "HH:MM"' })
  .regex(/^(?:[01]\d|2[0-3]):[0-5]\d$/u, { error: 'must be a time of day as "HH:MM", from 00:00 to 23:59' });

const timeZone = z
  .string({ error: 'must be an IANA time zone name such as "Europe/Paris"' })
  .transform((name, context) => {
    const canonical = canonicalTimeZone(name);
    if (canonical === null) {
      context.issues.push({
        code: 'custom',
        input: name,
        message: `"${name}" is not a known IANA time zone; use a name such as "UTC", "Europe/Paris" or "Asia/Tokyo"`,
      });
      return z.NEVER;
    }
    return canonical;
  });

const ipAllowlistEntry = z
  .string({ error: 'each entry must be an IP address or CIDR range as a string' })
  .trim()
  .refine((entry) => parseAllowlistEntry(entry) !== null, {
    error: (issue) =>
      `"${String(issue.input)}" is not an IPv4 or IPv6 address or CIDR range (such as "10.0.0.0/8" or "2001:db8::/32")`,
  });

/** Messages for a condition object: its unknown keys are named, never dropped. */
const conditionObjectError = (known: string) => (issue: z.core.$ZodRawIssue) =>
  issue.code === 'unrecognized_keys'
    ? `has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; Talon understands ${known}`
    : issue.code === 'invalid_type'
      ? `must be an object (with fields among ${known})`
      : undefined;

export const timeWindowSchema = z
  .strictObject(
    {
      after: clockTime.optional(),
      before: clockTime.optional(),
      timezone: timeZone.default('UTC'),
      days: z
        .array(z.enum(weekdays, { error: `must be one of ${weekdays.join(', ')}` }), {
          error: 'must be a list of weekdays',
        })
        .min(1, { error: 'must list at least one weekday, or be left out for every day' })
        .transform((days) => weekdays.filter((day) => days.includes(day)))
        .optional(),
    },
    { error: conditionObjectError('after, before, timezone and days') },
  )
  .refine(
    (window) => window.after !== undefined || window.before !== undefined || window.days !== undefined,
    {
      error: 'restricts nothing; set after, before or days, or leave time_window out',
    },
  )
  .refine((window) => window.after === undefined || window.after !== window.before, {
    error: 'has the same after and before time, so it would never be open; leave both out for the whole day',
  });

export const policyConditionsSchema = z.strictObject(
  {
    ip_allowlist: z
      .array(ipAllowlistEntry, { error: 'must be a list of IP addresses or CIDR ranges' })
      .min(1, { error: 'must list at least one address or range, or be left out to allow any address' })
      .optional(),
    time_window: timeWindowSchema.optional(),
    /** Talon's: the policy grants only requests Talon sends (http_request) to these hosts. */
    allowed_hosts: allowedHostsSchema.optional(),
  },
  { error: conditionObjectError('ip_allowlist, time_window and allowed_hosts') },
);

export type PolicyConditions = z.output<typeof policyConditionsSchema>;
export type TimeWindow = z.output<typeof timeWindowSchema>;

export interface RequestContext {
  /** The request's source address; absent when the transport cannot tell (then IP rules fail closed). */
  ip?: string;
  now: Date;
  /** Where Talon is about to send the secret (http_request); absent for every other use. */
  destination?: { hostname: string; protocol: 'https:' | 'http:' };
}

/**
 * `undetermined` marks a failure caused by missing or unreadable input (no source IP, corrupt
 * stored conditions) rather than by the request being outside the conditions: a deny policy
 * still applies then, so that not knowing never widens access.
 */
export type ConditionsOutcome = { ok: true } | { ok: false; reason: string; undetermined?: true };

export function evaluateConditions(
  conditions: PolicyConditions | null | undefined,
  context: RequestContext,
): ConditionsOutcome {
  if (!conditions) return { ok: true };
  try {
    if (conditions.ip_allowlist) {
      const outcome = checkIpAllowlist(conditions.ip_allowlist, context.ip);
      if (!outcome.ok) return outcome;
    }
    if (conditions.time_window) {
      const outcome = checkTimeWindow(conditions.time_window, context.now);
      if (!outcome.ok) return outcome;
    }
    if (conditions.allowed_hosts) {
      const outcome = checkAllowedHosts(conditions.allowed_hosts, context.destination);
      if (!outcome.ok) return outcome;
    }
    return { ok: true };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      reason: `the policy's conditions could not be evaluated (${detail})`,
      undetermined: true,
    };
  }
}

function checkIpAllowlist(allowlist: readonly string[], ip: string | undefined): ConditionsOutcome {
  if (ip === undefined || ip === '') {
    return {
      ok: false,
      reason: "the request's source IP is unknown and the policy has an IP allowlist",
      undetermined: true,
    };
  }
  const address = ip.replace(/%.*$/su, '');
  const family = isIP(address);
  if (family === 0) {
    return {
      ok: false,
      reason: `the request's source '${ip}' is not an IP address and the policy has an IP allowlist`,
      undetermined: true,
    };
  }
  const blockList = allowlistBlockList(allowlist);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/iu.exec(address)?.[1];
  const inside =
    blockList.check(address, family === 4 ? 'ipv4' : 'ipv6') ||
    (mapped !== undefined && blockList.check(mapped, 'ipv4'));
  return inside
    ? { ok: true }
    : { ok: false, reason: `request from ${address} is outside the policy's IP allowlist` };
}

/** No destination (a read, `talon run`) is undetermined: such a policy grants only http_request. */
function checkAllowedHosts(
  allowedHosts: readonly string[],
  destination: RequestContext['destination'],
): ConditionsOutcome {
  if (destination === undefined) {
    return {
      ok: false,
      reason:
        'the policy has allowed_hosts, so it grants only requests Talon sends (http_request) to those hosts',
      undetermined: true,
    };
  }
  return matchingHostPattern(hostPatterns(allowedHosts), destination.hostname, destination.protocol)
    ? { ok: true }
    : {
        ok: false,
        reason: `${destination.protocol}//${destination.hostname} is not among the policy's allowed_hosts`,
      };
}

const blockLists = new WeakMap<readonly string[], BlockList>();

function allowlistBlockList(allowlist: readonly string[]): BlockList {
  let blockList = blockLists.get(allowlist);
  if (blockList) return blockList;
  blockList = new BlockList();
  for (const entry of allowlist) {
    const parsed = parseAllowlistEntry(entry.trim());
    if (parsed === null) throw new Error(`ip_allowlist entry "${entry}" is not an address or CIDR range`);
    if (parsed.prefix === undefined) blockList.addAddress(parsed.address, parsed.family);
    else blockList.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  blockLists.set(allowlist, blockList);
  return blockList;
}

function parseAllowlistEntry(
  entry: string,
): { address: string; family: 'ipv4' | 'ipv6'; prefix?: number } | null {
  const [address = '', prefixText, extra] = entry.split('/');
  if (extra !== undefined || address.includes('%')) return null;
  const version = isIP(address);
  if (version === 0) return null;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return { address, family };
  if (!/^\d{1,3}$/u.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= (version === 4 ? 32 : 128) ? { address, family, prefix } : null;
}

const weekdayNames: Record<string, Weekday> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

/**
 * `after` is inclusive and `before` exclusive, to the minute. `days` is checked against the day
 * of the moment itself, so in a window wrapping midnight, Friday night's 02:00 is a Saturday.
 */
function checkTimeWindow(window: TimeWindow, now: Date): ConditionsOutcome {
  const zone = window.timezone ?? 'UTC';
  const local = localTime(now, zone);
  const minutes = (text: string) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
  const current = minutes(local.clock);
  const after = window.after === undefined ? undefined : minutes(window.after);
  const before = window.before === undefined ? undefined : minutes(window.before);

  const onDay = window.days === undefined || window.days.includes(local.weekday);
  let inHours: boolean;
  if (after !== undefined && before !== undefined && after > before) {
    inHours = current >= after || current < before; // wraps midnight, e.g. 22:00–06:00
  } else {
    inHours = (after === undefined || current >= after) && (before === undefined || current < before);
  }
  if (onDay && inHours) return { ok: true };

  const day = local.weekday.charAt(0).toUpperCase() + local.weekday.slice(1);
  return {
    ok: false,
    reason: `outside the policy's time window ${describeTimeWindow(window)} (now ${local.clock} ${day})`,
  };
}

/** "09:00–17:00 Mon, Tue Europe/Paris" */
export function describeTimeWindow(window: TimeWindow): string {
  const hours =
    window.after !== undefined && window.before !== undefined
      ? `${window.after}–${window.before}`
      : window.after !== undefined
        ? `from ${window.after}`
        : window.before !== undefined
          ? `until ${window.before}`
          : 'all day';
  const days = window.days?.map((d) => d.charAt(0).toUpperCase() + d.slice(1)).join(', ');
  return [hours, days, window.timezone ?? 'UTC'].filter(Boolean).join(' ');
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Local "HH:MM" and weekday of `now` in `zone`; the days of a window are the days there. */
function localTime(now: Date, zone: string): { clock: string; weekday: Weekday } {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    });
    // Zone names are canonicalised on the way in, so this stays small; the cap is a backstop.
    if (formatters.size >= 1000) formatters.clear();
    formatters.set(zone, formatter);
  }
  const parts = formatter.formatToParts(now);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const weekday = weekdayNames[part('weekday')];
  if (weekday === undefined) throw new Error(`could not read the weekday in ${zone}`);
  return { clock: `${part('hour')}:${part('minute')}`, weekday };
}

function canonicalTimeZone(name: string): string | null {
  if (name.trim() === '') return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}
