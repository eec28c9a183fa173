import type { FastifyRequest } from 'fastify';
import { TalonError } from '../engine/index.js';

/**
 * The secret path at the end of a URL such as `/v1/vaults/{id}/secrets/{path…}`. Clients encode
 * each segment with encodeURIComponent and join them with `/` (1Claw's MCP server does); others
 * send the path as it is. Each segment of the raw URL is decoded exactly once, so `%252e%252e`
 * reaches the engine as `%2e%2e` (which its path rules refuse, like `%`), never as `..`. An encoded
 * `/` (`%2F`) decodes to a separator, as in any server that decodes a path once; the engine's rules
 * then refuse `..`, `.`, empty segments and control characters wherever they came from, and
 * policies match the path the engine stores.
 */

/** Segments before the path: '', 'v1', 'vaults', '{id}', '{kind}'. */
const leadingSegments = 5;

function rawTail(request: FastifyRequest): string[] {
  const rawUrl = request.raw.url ?? request.url;
  const rawPath = rawUrl.split(/[?#]/u, 1)[0] ?? '';
  return rawPath.split('/').slice(leadingSegments);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new TalonError(
      'invalid_input',
      'The secret path in the URL is not valid percent-encoding: encode each segment with encodeURIComponent and join them with /.',
      { details: { rule: 'bad_percent_encoding' } },
    );
  }
}

/** The decoded secret path after `/v1/vaults/{id}/{kind}/`, for the engine to check and normalise. */
export function secretPathInUrl(request: FastifyRequest): string {
  return rawTail(request).map(decodeSegment).join('/');
}

/** For `/v1/vaults/{id}/{kind}/{path…}/{version}`: the path and the version number after it. */
export function secretPathAndVersionInUrl(request: FastifyRequest): { path: string; version: number } {
  const segments = rawTail(request);
  const last = segments.pop() ?? '';
  if (!/^[1-9][0-9]{0,8}$/u.test(last)) {
    throw new TalonError(
      'invalid_input',
      'The URL must end with the version number (1 or more) after the secret path, as in …/api-keys/openai/3.',
      { details: { rule: 'version_number' } },
    );
  }
  return { path: segments.map(decodeSegment).join('/'), version: Number(last) };
}
