/**
 * The built web page (web/dist, written by `npm run build`) at /. Hashed files under /assets are
 * cached for a year; index.html is revalidated each time, so a new build shows at the next load.
 * Every other GET outside /v1 answers index.html, so the page's own routes (/movies/1, /users/5)
 * work as deep links; /docs, /health and /openapi.json keep their own, more specific routes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from './errors.ts';

export const DEFAULT_WEB_ROOT = new URL('../../web/dist', import.meta.url).pathname;

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>cinerec</title>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1>cinerec</h1><p>The web page is not built. Run <code>npm run build</code> (or <code>npm install</code>), then reload.</p>
<p>The REST API works without it: see <a href="/docs">the API documentation</a>.</p></body></html>`;

export async function registerWeb(app: FastifyInstance, root: string): Promise<void> {
  const built = existsSync(join(root, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      // Routes for the files present at start-up; the catch-all below handles the rest.
      wildcard: false,
      index: false,
      preCompressed: true,
      setHeaders(reply, path) {
        reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
      schemaHide: true,
    });
  }

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const path = request.url.split('?')[0]!;
    // An unknown API path or asset is a 404, not the page.
    if (path.startsWith('/v1/') || path === '/v1' || path.startsWith('/assets/')) {
      throw new HttpProblem(404, `no route for GET ${path}`);
    }
    if (!built) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html');
  });
}
