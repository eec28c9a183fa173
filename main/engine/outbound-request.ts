import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { type IncomingMessage, type OutgoingHttpHeaders, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { isMetadataOrLinkLocal } from './outbound-request-hosts.js';
import { TalonError } from './talon-error.js';

/**
 * Sends the requests of `http_request` for an agent: Node's own HTTP client, redirects followed
 * by hand (each hop checked by the caller before anything is sent to it), limits on the time of
 * the whole exchange and the size of the response, and no connection to a link-local or cloud
 * metadata address unless the caller allows that host. The caller masks what comes back.
 * Error messages name the host only: the URL may carry a secret in its path or query.
 */

export interface OutboundOptions {
  /** The whole exchange, redirects included. Default 15 s. */
  timeoutMs: number;
  /** Of the response body, after decompression. Default 1 MiB. */
  maxResponseBytes: number;
  /** Default 5. */
  maxRedirects: number;
  /** Certificates to trust besides Node's (a private CA). Default none. */
  ca?: string | Buffer | (string | Buffer)[];
}

export const defaultOutboundOptions: OutboundOptions = {
  timeoutMs: 15_000,
  maxResponseBytes: 1024 * 1024,
  maxRedirects: 5,
};

export interface OutboundRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** The URL that answered (after redirects). */
  url: URL;
  redirects: number;
}

/** Asked before each hop (the first one too); throws to refuse it. */
export type HopCheck = (url: URL) => { allowLinkLocal: boolean };

/** Headers the agent may not set: Talon frames the request itself. */
const managedHeaders = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-connection',
  'accept-encoding',
  'expect',
]);

export function isManagedHeader(name: string): boolean {
  return managedHeaders.has(name.toLowerCase());
}

export class OutboundRequester {
  readonly options: OutboundOptions;

  constructor(options: Partial<OutboundOptions> = {}) {
    this.options = { ...defaultOutboundOptions, ...options };
  }

  async send(request: OutboundRequest, checkHop: HopCheck): Promise<OutboundResponse> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.options.timeoutMs);
    try {
      let current = request;
      for (let redirects = 0; ; redirects += 1) {
        const { allowLinkLocal } = checkHop(current.url);
        const response = await this.exchange(current, allowLinkLocal, deadline.signal);
        const location = response.headers.location;
        if (!isRedirect(response.status) || typeof location !== 'string') {
          return { ...response, url: current.url, redirects };
        }
        if (redirects >= this.options.maxRedirects) {
          throw new TalonError(
            'bad_gateway',
            `${current.url.host} redirected more than ${this.options.maxRedirects} times; Talon stopped following.`,
          );
        }
        current = redirected(current, response.status, location);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** One request and its whole response, or a TalonError naming the host. */
  private exchange(
    request: OutboundRequest,
    allowLinkLocal: boolean,
    signal: AbortSignal,
  ): Promise<Omit<OutboundResponse, 'url' | 'redirects'>> {
    const { url } = request;
    const host = url.host;
    if (!allowLinkLocal && isMetadataOrLinkLocal(url.hostname)) {
      return Promise.reject(refusedAddress(host));
    }
    const headers: OutgoingHttpHeaders = { ...request.headers, 'accept-encoding': 'identity' };
    if (request.body !== undefined) headers['content-length'] = String(request.body.length);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        outgoing.destroy();
        reject(error instanceof TalonError ? error : networkError(host, error, signal.aborted, this.options));
      };
      const outgoing = send(
        url,
        {
          method: request.method,
          headers,
          signal,
          agent: false,
          ...(url.protocol === 'https:' && this.options.ca ? { ca: this.options.ca } : {}),
          lookup: checkedLookup(allowLinkLocal, host),
        },
        (incoming) => {
          readBody(incoming, this.options.maxResponseBytes, host).then((body) => {
            if (settled) return;
            settled = true;
            resolve({ status: incoming.statusCode ?? 0, headers: responseHeaders(incoming), body });
          }, fail);
        },
      );
      outgoing.on('error', fail);
      outgoing.end(request.body);
    });
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** The next hop, as browsers make it: 303 (and 301/302 after a POST) become a GET without a body. */
function redirected(previous: OutboundRequest, status: number, location: string): OutboundRequest {
  let url: URL;
  try {
    url = new URL(location, previous.url);
  } catch {
    throw new TalonError('bad_gateway', `${previous.url.host} redirected to an invalid location.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TalonError('bad_gateway', `${previous.url.host} redirected to a ${url.protocol} URL.`);
  }
  const toGet =
    (status === 303 && previous.method !== 'HEAD') ||
    ((status === 301 || status === 302) && previous.method === 'POST');
  if (!toGet) return { ...previous, url };
  const headers = Object.fromEntries(
    Object.entries(previous.headers).filter(([name]) => !/^content-/iu.test(name)),
  );
  return { method: 'GET', url, headers };
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** DNS as usual, but a name that resolves to a link-local or metadata address is refused. */
function checkedLookup(allowLinkLocal: boolean, host: string) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const list = addresses as LookupAddress[];
      if (!allowLinkLocal && list.some((entry) => isMetadataOrLinkLocal(entry.address))) {
        return callback(refusedAddress(host) as unknown as NodeJS.ErrnoException, '');
      }
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), '');
      return callback(null, first.address, first.family);
    });
  };
}

function refusedAddress(host: string): TalonError {
  return new TalonError(
    'forbidden',
    `${host} is a link-local or cloud metadata address, where Talon sends no secret unless the secret's allowed_hosts names that exact host.`,
  );
}

function readBody(incoming: IncomingMessage, limit: number, host: string): Promise<Buffer> {
  const encoding = String(incoming.headers['content-encoding'] ?? 'identity').toLowerCase();
  let source: Readable = incoming;
  if (encoding === 'gzip' || encoding === 'x-gzip') source = incoming.pipe(createGunzip());
  else if (encoding === 'deflate') source = incoming.pipe(createInflate());
  else if (encoding === 'br') source = incoming.pipe(createBrotliDecompress());
  else if (encoding !== 'identity') {
    incoming.destroy();
    return Promise.reject(
      new TalonError(
        'bad_gateway',
        `${host} answered with content encoding '${encoding}', which Talon cannot read.`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    source.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        incoming.destroy();
        source.destroy();
        reject(
          new TalonError(
            'payload_too_large',
            `The response from ${host} is larger than ${limit} bytes, the most Talon reads; ask for less (a range, a page, a filter).`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    source.on('end', () => resolve(Buffer.concat(chunks)));
    source.on('error', (error) => reject(error));
    incoming.on('error', (error) => reject(error));
  });
}

function responseHeaders(incoming: IncomingMessage): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

function networkError(host: string, error: unknown, timedOut: boolean, options: OutboundOptions): TalonError {
  if (timedOut) {
    return new TalonError(
      'gateway_timeout',
      `The request to ${host} took longer than ${options.timeoutMs / 1000} s, Talon's limit; Talon abandoned it.`,
    );
  }
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const why =
    code === 'ENOTFOUND'
      ? 'its name does not resolve'
      : code === 'ECONNREFUSED'
        ? 'the connection was refused'
        : typeof code === 'string' && /CERT|SELF_SIGNED|TLS|SSL/u.test(code)
          ? `its TLS certificate is not trusted (${code})`
          : typeof code === 'string'
            ? code
            : 'the connection failed';
  return new TalonError('bad_gateway', `Talon could not complete the request to ${host}: ${why}.`);
}
