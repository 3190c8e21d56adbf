/**
 * Admin authentication as a generic hook: every route whose config says `admin: true` needs the
 * bearer token, and routes under /v1 with a mutating method get `admin: true` by default, so new
 * routes are protected without having to remember it. The OpenAPI security requirement and the
 * 401/403 responses are attached in the same place.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { HttpProblem } from './errors.ts';
import { problemResponses } from './schemas.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Needs the admin bearer token. Defaults to true for POST/PUT/PATCH/DELETE under /v1. */
    admin?: boolean;
  }
}

export const BEARER_SCHEME = 'bearerAuth';

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

/** Must run before routes are registered (and before @fastify/swagger, so the docs see the changes). */
export function registerAdminAuth(app: FastifyInstance, adminToken: string | null): void {
  app.addHook('onRoute', (route) => {
    const isAdmin =
      route.config?.admin ?? (route.url.startsWith('/v1/') && methods(route).some((m) => MUTATING.has(m)));
    route.config = { ...route.config, admin: isAdmin };
    if (!isAdmin) return;
    const schema = route.schema ?? {};
    route.schema = {
      ...schema,
      security: [{ [BEARER_SCHEME]: [] }],
      response: { ...problemResponses(401, 403), ...(schema.response as Record<string, unknown> | undefined) },
    };
  });

  // onRequest: reject before the body is even read.
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.admin !== true) return;
    if (adminToken === null) {
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
    if (!sameToken(token, adminToken)) {
      throw new HttpProblem(401, 'the bearer token is not valid', {
        headers: { 'www-authenticate': 'Bearer realm="cinerec", error="invalid_token"' },
      });
    }
  });
}
