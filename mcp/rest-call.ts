import { VaultClientError } from './vault-client.js';

export type Fetch = typeof fetch;

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
