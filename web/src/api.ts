/**
 * The page's only way to the server: JSON over fetch, errors turned into plain sentences. The API
 * answers errors as problem+json whose `detail` already says what went wrong and how to fix it, so
 * that text is shown as is; only transport failures and bare statuses get words of our own.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Problem } from './types.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function isProblem(body: unknown): body is Problem {
  return typeof body === 'object' && body !== null && 'detail' in body && typeof body.detail === 'string';
}

/** What the server's auth answers mean on this page (see src/server/auth.ts for what it sends when). */
const AUTH_WORDS = {
  /** 401 without a token. */
  missing: 'This needs the admin token. Enter it in the token field and try again.',
  /** 401 with a token the server does not know (it answers error="invalid_token"). */
  invalid:
    'The token is not valid: the server did not accept it. Check the admin token (CINEREC_ADMIN_TOKEN) in the token field and try again.',
  /** 403 for the reader token on a change. */
  reader: 'That is the reader token, which cannot change data. Enter the admin token in the token field.',
  /** 403 when the server was started without an admin token. */
  disabled: 'Changes are switched off on this server: it was started without an admin token (CINEREC_ADMIN_TOKEN).',
} as const;

const STATUS_WORDS: Record<number, string> = {
  404: 'Not found.',
  413: 'The request is too large.',
  500: 'The server failed to handle the request; the error was logged on the server.',
  502: 'The server is not reachable right now.',
  503: 'The server is not ready yet. Try again in a moment.',
};

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  /** Admin bearer token, for writes. */
  token?: string | null;
  signal?: AbortSignal;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'Could not reach the cinerec server. Check that it is running, then try again.');
  }
  const text = await res.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!res.ok) {
    const detail = isProblem(body) ? body.detail : undefined;
    // 401/403 get our words (they say what to do on this page); others keep the server's detail.
    const own = authWords(res, Boolean(options.token), detail);
    const message =
      own ?? (detail ? sentence(detail) : (STATUS_WORDS[res.status] ?? `The request failed (HTTP ${res.status}).`));
    throw new ApiError(res.status, message, isProblem(body) ? body.field : undefined);
  }
  return body as T;
}

/**
 * The server answers 401 both for a missing token and for a wrong one: a wrong one carries
 * error="invalid_token" in WWW-Authenticate (and the page knows it sent one). A 403 is either the
 * reader token on a change or a server without an admin token.
 */
function authWords(res: Response, sentToken: boolean, detail: string | undefined): string | undefined {
  if (res.status === 401) {
    const invalid = /error="?invalid_token/i.test(res.headers.get('www-authenticate') ?? '');
    if (invalid || sentToken) return AUTH_WORDS.invalid;
    // Per-user data on a server with a reader token: the server's words name both tokens.
    if (detail && /per-user/i.test(detail)) return sentence(detail);
    return AUTH_WORDS.missing;
  }
  if (res.status === 403) return detail && /reader token/i.test(detail) ? AUTH_WORDS.reader : AUTH_WORDS.disabled;
  return undefined;
}

/** "no user with id 5" → "No user with id 5." */
function sentence(s: string): string {
  const t = s.trim();
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

export function plainError(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return sentence(err.message);
  return 'Something went wrong.';
}

export type Async<T> =
  | { status: 'loading'; data: T | null; error: null }
  | { status: 'ok'; data: T; error: null }
  | { status: 'error'; data: T | null; error: string; code: number };

/**
 * Runs `load` whenever `key` changes, cancelling the previous request, and keeps the last data
 * while reloading so lists do not flash empty. `key` null means "nothing to load yet".
 */
export function useAsync<T>(
  key: string | null,
  load: (signal: AbortSignal) => Promise<T>,
): Async<T> & { reload: () => void } {
  const [state, setState] = useState<Async<T>>({ status: 'loading', data: null, error: null });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  // biome-ignore lint/correctness/useExhaustiveDependencies: key and tick are the triggers; load is read through a ref.
  useEffect(() => {
    if (key === null) return;
    const controller = new AbortController();
    setState((s) => ({ status: 'loading', data: s.data, error: null }));
    loadRef.current(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ status: 'ok', data, error: null });
      },
      (err: unknown) => {
        if (controller.signal.aborted) return;
        setState((s) => ({
          status: 'error',
          data: s.data,
          error: plainError(err),
          code: err instanceof ApiError ? err.status : 0,
        }));
      },
    );
    return () => controller.abort();
  }, [key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}
