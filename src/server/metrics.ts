import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, register } from 'prom-client';

/**
 * GET /metrics in the Prometheus text format: requests and their latency per route, the event loop's delay (the
 * default Node metrics), result-cache hits, the model version served and store writes. Each serving process keeps
 * its own; with several workers, the owner gathers them into one answer (prom-client's AggregatorRegistry).
 */

let defaultsCollected = false;

export const requests = new Counter({
  name: 'cinerec_http_requests_total',
  help: 'HTTP requests answered, by route, method and status',
  labelNames: ['route', 'method', 'status'] as const,
});

export const latency = new Histogram({
  name: 'cinerec_http_request_duration_seconds',
  help: 'time to answer an HTTP request, by route and method',
  labelNames: ['route', 'method'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
});

const cacheRequests = new Counter({
  name: 'cinerec_result_cache_requests_total',
  help: 'result-cache lookups of list requests, by result (hit or miss)',
  labelNames: ['result'] as const,
});

/** Counts a result-cache lookup (given to the services the server loads). */
export function countCacheLookup(hit: boolean): void {
  cacheRequests.inc({ result: hit ? 'hit' : 'miss' });
}

const storeWrites = new Counter({
  name: 'cinerec_store_writes_total',
  help: 'writes stored (ratings, movies, rules), by kind',
  labelNames: ['kind'] as const,
});

const version = new Gauge({
  name: 'cinerec_model_version_info',
  help: 'the model version served (value 1, the version in the label)',
  labelNames: ['version'] as const,
  aggregator: 'max',
});

/** Successful writes by route: what the store took. */
const WRITE_KINDS: Readonly<Record<string, string>> = {
  'POST /v1/users': 'user',
  'POST /v1/users/:id/ratings': 'ratings',
  'POST /v1/movies': 'movie',
  'PUT /v1/rules/:movieId': 'rule',
  'DELETE /v1/rules/:movieId': 'rule',
};

/** What the metrics read from the server at scrape time. */
export interface MetricSources {
  /** The version served now. */
  version(): string | null;
  /** The whole cluster's metrics text, when this process is one of several workers. */
  cluster?: () => Promise<string>;
}

export function registerMetrics(app: FastifyInstance, sources: MetricSources): void {
  if (!defaultsCollected) {
    collectDefaultMetrics({ prefix: 'cinerec_' });
    defaultsCollected = true;
  }
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? '(unmatched)';
    if (route === '/metrics') return;
    requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    latency.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    const kind = WRITE_KINDS[`${request.method} ${route}`];
    if (kind && reply.statusCode < 300) storeWrites.inc({ kind });
  });
  version.set({ version: sources.version() ?? 'none' }, 1);
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    version.reset();
    version.set({ version: sources.version() ?? 'none' }, 1);
    const text = sources.cluster ? await sources.cluster() : await register.metrics();
    return reply.type(register.contentType).send(text);
  });
}
