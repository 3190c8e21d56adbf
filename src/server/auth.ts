/**
 * Two roles, as generic hooks. Every route whose config says `admin: true` needs the admin bearer token, and routes
 * under /v1 with a mutating method get `admin: true` by default, so new routes are protected without having to
 * remember it. Routes whose config says `reader: true` (by default every GET under /v1/users/:id: rating
 * histories, predictions, segments) need the reader or the admin token when the server has a reader token
 * (CINEREC_READER_TOKEN, for deployments that are not public); without one they are public, as before. The
 * OpenAPI security requirement and the 401/403 responses are attached in the same place.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { HttpProblem } from './errors.ts';
import { problemResponses } from './schemas.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Needs the admin bearer token. Defaults to true for POST/PUT/PATCH/DELETE under /v1. */
    admin?: boolean;
    /** Per-user data: needs the reader or the admin token when a reader token is configured. */
    reader?: boolean;
    /** A body property that makes the request per-user when present (POST /v1/recommendations' userId). */
    readerField?: string;
  }
}

export const BEARER_SCHEME = 'bearerAuth';

export interface Tokens {
  /** Changes; also reads everything a reader may. null: changes are disabled (403). */
  admin: string | null;
  /** Per-user data; null: per-user data is public. */
  reader: string | null;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function methods(route: RouteOptions): string[] {
  return (Array.isArray(route.method) ? route.method : [route.method]).map((m) => m.toUpperCase());
}

/** Hashing first gives equal-length buffers, so timingSafeEqual leaks neither content nor length. */
function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

const INVALID = 'Bearer realm="cinerec", error="invalid_token"';

/** The caller's role from the bearer header: null without one; a wrong token is a 401. */
function roleOf(request: FastifyRequest, tokens: Tokens, needed: string): 'admin' | 'reader' | null {
  const token = bearerToken(request);
  if (token === null) return null;
  if (tokens.admin !== null && sameToken(token, tokens.admin)) return 'admin';
  if (tokens.reader !== null && sameToken(token, tokens.reader)) return 'reader';
  throw new HttpProblem(401, `the bearer token is not valid${needed ? ` (${needed})` : ''}`, {
    headers: { 'www-authenticate': INVALID },
  });
}

/**
 * Checks that the request may read per-user data: always true without a reader token; otherwise it needs the
 * reader or the admin token. For routes where only part of the input is per-user (POST /v1/recommendations with a
 * userId), called by the handler.
 */
export function requireReader(request: FastifyRequest, tokens: Tokens): void {
  if (tokens.reader === null) return;
  if (roleOf(request, tokens, 'this needs the reader or the admin token') !== null) return;
  throw new HttpProblem(
    401,
    'per-user data needs a token on this server: send "Authorization: Bearer <token>" with the reader or the admin token',
    { headers: { 'www-authenticate': 'Bearer realm="cinerec"' } },
  );
}

/** Must run before routes are registered (and before @fastify/swagger, so the docs see the changes). */
export function registerAuth(app: FastifyInstance, tokens: Tokens): void {
  app.addHook('onRoute', (route) => {
    const isAdmin =
      route.config?.admin ?? (route.url.startsWith('/v1/') && methods(route).some((m) => MUTATING.has(m)));
    const isReader = !isAdmin && (route.config?.reader ?? route.url.startsWith('/v1/users/:id'));
    route.config = { ...route.config, admin: isAdmin, reader: isReader };
    if (!isAdmin && !(isReader && tokens.reader !== null)) return;
    const schema = route.schema ?? {};
    route.schema = {
      ...schema,
      security: [{ [BEARER_SCHEME]: [] }],
      response: {
        ...problemResponses(...(isAdmin ? ([401, 403] as const) : ([401] as const))),
        ...(schema.response as Record<string, unknown> | undefined),
      },
    };
  });

  // A body that names a user asks for that user's data (checked once the body is parsed, before validation).
  app.addHook('preValidation', async (request) => {
    const field = request.routeOptions.config.readerField;
    const body = request.body;
    if (field && typeof body === 'object' && body !== null && Object.hasOwn(body, field))
      requireReader(request, tokens);
  });

  // onRequest: reject before the body is even read.
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config.reader === true) return requireReader(request, tokens);
    if (config.admin !== true) return;
    if (tokens.admin === null) {
      throw new HttpProblem(
        403,
        'mutations are disabled: this server was started without an admin token; set CINEREC_ADMIN_TOKEN and restart it',
      );
    }
    const token = bearerToken(request);
    if (token === null) {
      // Absent, or another scheme such as Basic.
      throw new HttpProblem(401, 'this request needs an admin token: send "Authorization: Bearer <token>"', {
        headers: { 'www-authenticate': 'Bearer realm="cinerec"' },
      });
    }
    if (!sameToken(token, tokens.admin)) {
      throw new HttpProblem(
        tokens.reader !== null && sameToken(token, tokens.reader) ? 403 : 401,
        tokens.reader !== null && sameToken(token, tokens.reader)
          ? 'the reader token cannot change data: this request needs the admin token'
          : 'the bearer token is not valid',
        { headers: { 'www-authenticate': INVALID } },
      );
    }
  });
}
