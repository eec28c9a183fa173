import { type IncomingMessage, Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { VaultClientError } from './vault-client.js';

export type Fetch = typeof fetch;

const keepAliveAgents = {
  http: new HttpAgent({ keepAlive: true }),
  https: new HttpsAgent({ keepAlive: true }),
};

/**
 * The part of fetch that `callRest` uses (method, headers, a string body; status and text back),
 * over node:http with a keep-alive agent. Talon answers from the same machine, so a call costs
 * mostly what the client spends on it, and undici's fetch (WHATWG streams, Request, Headers,
 * abort signals) spent ~0.25 ms more per call here than node:http. Network errors are thrown as
 * fetch throws them: a TypeError whose `cause` is the socket's error.
 */
export const keepAliveFetch: Fetch = (input, init) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const secure = url.protocol === 'https:';
    const fail = (error: unknown) => reject(new TypeError('fetch failed', { cause: error }));
    const request = (secure ? httpsRequest : httpRequest)(
      url,
      {
        method: init?.method ?? 'GET',
        headers: init?.headers as Record<string, string> | undefined,
        agent: secure ? keepAliveAgents.https : keepAliveAgents.http,
      },
      (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          const status = response.statusCode ?? 502;
          const noBody = status === 204 || status === 205 || status === 304;
          resolve(
            new Response(noBody ? null : Buffer.concat(chunks), {
              status: status >= 200 && status <= 599 ? status : 502,
              headers: { 'content-type': response.headers['content-type'] ?? 'application/octet-stream' },
            }),
          );
        });
      },
    );
    request.on('error', fail);
    request.end(typeof init?.body === 'string' ? init.body : undefined);
  });

export interface RestCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Already encoded, starting with `/v1/`. */
  path: string;
  bearer?: string;
  body?: unknown;
  /** More request headers (X-Approval-ID when resubmitting a gated call). */
  headers?: Record<string, string>;
}

/**
 * One call to Talon's `/v1` API: JSON in, JSON out (nothing for 204). A non-2xx answer becomes
 * a VaultClientError from its problem details (`status`, `code`, `detail`); a Talon that cannot
 * be reached becomes one too, saying how to start it.
 */
export async function callRest<T>(fetchImpl: Fetch, baseUrl: string, call: RestCall): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
  if (call.bearer !== undefined) headers.authorization = `Bearer ${call.bearer}`;
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetchImpl(`${baseUrl}${call.path}`, {
      method: call.method,
      headers,
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
    });
  } catch (error) {
    throw new VaultClientError(
      503,
      'talon_unreachable',
      `Cannot reach Talon at ${baseUrl} (${networkCause(error)}). Start the Talon app or \`talon serve\`, or point ONECLAW_BASE_URL at it.`,
    );
  }
  const text = await response.text();
  if (!response.ok) throw problemError(response.status, text);
  if (text === '') return undefined as T;
  try {
    const body = JSON.parse(text) as T;
    // 202 with an approval: the call waits for a human (see main/api/approval-pending.ts).
    const pending = body as { approval_id?: unknown; detail?: unknown } | null;
    if (response.status === 202 && pending && typeof pending.approval_id === 'string') {
      throw new VaultClientError(
        202,
        'approval_required',
        typeof pending.detail === 'string' ? pending.detail : 'A human must approve this request first.',
        pending.approval_id,
      );
    }
    return body;
  } catch (error) {
    if (error instanceof VaultClientError) throw error;
    throw new VaultClientError(
      502,
      'bad_response',
      `Talon at ${baseUrl} answered ${call.method} ${call.path} with something other than JSON.`,
    );
  }
}

function problemError(status: number, text: string): VaultClientError {
  let problem: { detail?: unknown; code?: unknown } = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') problem = parsed as typeof problem;
  } catch {
    // Not problem details (a proxy's page, say): the status alone speaks.
  }
  return new VaultClientError(
    status,
    typeof problem.code === 'string' ? problem.code : `http_${status}`,
    typeof problem.detail === 'string' && problem.detail !== '' ? problem.detail : `HTTP ${status}`,
  );
}

/** Why fetch failed, in a word: the cause's code (ECONNREFUSED) or message, else fetch's own. */
function networkCause(error: unknown): string {
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** A secret path in a URL: each segment encoded on its own, joined with `/` (as 1Claw's clients do). */
export function encodeSecretPath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
