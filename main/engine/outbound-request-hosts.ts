import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

/**
 * Where `http_request` may send a secret: the hosts listed in the secret's metadata
 * `allowed_hosts` or in the allowing policy's `conditions.allowed_hosts`. An entry is a host name
 * (`api.stripe.com`), a wildcard for its subdomains (`*.example.com`: any depth, not the apex),
 * or an IP address; any port. HTTPS only, unless the entry starts with `http://`, which allows
 * plain HTTP to that host as well. Names compare as URLs write them (lower case, punycode).
 */

export interface HostPattern {
  /** The host name or IP literal (IPv6 in brackets, as URLs write it); for a wildcard, the suffix after `*.`. */
  host: string;
  wildcard: boolean;
  allowsHttp: boolean;
}

const entryHelp =
  'a host such as "api.example.com", "*.example.com" or "127.0.0.1", optionally prefixed by "http://" to allow plain HTTP';

export function parseHostPattern(entry: string): HostPattern | null {
  let text = entry.trim();
  const allowsHttp = /^http:\/\//iu.test(text);
  text = text.replace(/^https?:\/\//iu, '');
  const wildcard = text.startsWith('*.');
  if (wildcard) text = text.slice(2);
  if (text === '' || /[/?#@*]/u.test(text)) return null;
  let url: URL;
  try {
    url = new URL(`https://${text}`);
  } catch {
    return null;
  }
  if (url.port !== '' || url.pathname !== '/' || url.username !== '') return null;
  if (wildcard && isIP(url.hostname.replace(/^\[|\]$/gu, '')) !== 0) return null;
  return { host: url.hostname, wildcard, allowsHttp };
}

export const allowedHostsSchema = z
  .array(
    z
      .string({ error: `each entry must be ${entryHelp}` })
      .refine((entry) => parseHostPattern(entry) !== null, {
        error: (issue) => `"${String(issue.input)}" is not ${entryHelp}`,
      }),
    { error: `must be a list of hosts, each ${entryHelp}` },
  )
  .min(1, { error: 'must list at least one host, or be left out' });

/** The patterns of a list as stored; entries that do not parse are dropped (they allow nothing). */
export function hostPatterns(entries: unknown): HostPattern[] {
  if (!Array.isArray(entries)) return [];
  return entries
    .filter((entry): entry is string => typeof entry === 'string')
    .map(parseHostPattern)
    .filter((pattern): pattern is HostPattern => pattern !== null);
}

/** The first pattern that lets a request go to `hostname` (as URL.hostname gives it) over `protocol`. */
export function matchingHostPattern(
  patterns: readonly HostPattern[],
  hostname: string,
  protocol: 'https:' | 'http:',
): HostPattern | undefined {
  const host = hostname.toLowerCase().replace(/\.$/u, '');
  return patterns.find(
    (pattern) =>
      (protocol === 'https:' || pattern.allowsHttp) &&
      (pattern.wildcard ? host.endsWith(`.${pattern.host}`) : host === pattern.host),
  );
}

/** Link-local ranges (cloud metadata services live at 169.254.169.254 and fd00:ec2::254). */
const linkLocal = new BlockList();
linkLocal.addSubnet('169.254.0.0', 16, 'ipv4');
linkLocal.addSubnet('fe80::', 10, 'ipv6');
linkLocal.addAddress('fd00:ec2::254', 'ipv6');
linkLocal.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud's metadata service

const metadataNames = new Set(['metadata.google.internal', 'metadata', 'instance-data']);

/** Whether an address (or a host name known to mean a metadata service) is one Talon refuses by default. */
export function isMetadataOrLinkLocal(hostOrAddress: string): boolean {
  const bare = hostOrAddress.replace(/^\[|\]$/gu, '').toLowerCase();
  if (metadataNames.has(bare.replace(/\.$/u, ''))) return true;
  const family = isIP(bare);
  if (family === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/u.exec(bare)?.[1];
  if (mapped !== undefined) return linkLocal.check(mapped, 'ipv4');
  return linkLocal.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}
