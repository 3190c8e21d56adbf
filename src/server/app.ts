/**
 * The HTTP API: Fastify with the TypeBox type provider, so each route's schema types the handler,
 * validates the request, serialises the response and documents the route in OpenAPI.
 */
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Config, Secrets } from '../config/config.ts';
import type { Services } from '../serving/services.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { BEARER_SCHEME, registerAdminAuth } from './auth.ts';
import { registerErrorHandlers } from './errors.ts';
import { registerMetrics } from './metrics.ts';
import type { ModelControl } from './model-manager.ts';
import { contentRoutes } from './routes/content.ts';
import { evaluationRoutes } from './routes/evaluations.ts';
import { movieRoutes } from './routes/movies.ts';
import { pipelineRoutes } from './routes/pipeline.ts';
import { recommendationRoutes } from './routes/recommendations.ts';
import { ruleRoutes } from './routes/rules.ts';
import { segmentRoutes } from './routes/segments.ts';
import { healthRoute, systemRoutes } from './routes/system.ts';
import { userRoutes } from './routes/users.ts';
import { DEFAULT_WEB_ROOT, registerWeb } from './web.ts';

export interface ServerOptions {
  /** Bearer token for mutating routes; null disables mutations (403). */
  adminToken: string | null;
  logLevel?: string;
  /** Largest accepted request body in bytes; default 1 MiB. */
  bodyLimit?: number;
  /** false silences logging (tests); a pino logger (the serve command's) is used as is. */
  logger?: boolean | Logger;
  /** Serves and swaps model versions, and retrains (the `serve` command); absent in most tests. */
  models?: ModelControl | null;
  /** Directory of the built web page; default web/dist of this package. */
  webRoot?: string;
  /** The whole cluster's /metrics text, when this process is one worker of several. */
  clusterMetrics?: () => Promise<string>;
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Per-request lines would cost more than most requests: /metrics counts them. A slow request (over a second) and
 * a server error are logged; errors are logged with their cause by errors.ts.
 */
class QuietRequests extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(...[error, request, reply]: Parameters<LogController['requestCompleted']>): void {
    if (error || reply.statusCode >= 500 || reply.elapsedTime > 1000)
      reply.log.warn(
        { url: request.url, statusCode: reply.statusCode, responseTime: reply.elapsedTime },
        'slow or failed request',
      );
  }
}

function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const version = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
  return typeof version === 'string' ? version : '0.0.0';
}

export async function buildServer(services: Services, options: ServerOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    ...(options.logger === false
      ? { logger: false }
      : {
          loggerInstance: (typeof options.logger === 'object'
            ? options.logger
            : createLogger(options.logLevel ?? 'info')) as FastifyBaseLogger,
        }),
    logController: new QuietRequests(),
    bodyLimit,
    ajv: {
      customOptions: {
        // Unknown body properties are an error, not silently dropped (a typo like "boots" would
        // otherwise go unnoticed); verbose gives errors/describeValidation the failing schema.
        removeAdditional: false,
        verbose: true,
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Only JSON bodies: without the default text/plain parser other types get a 415.
  app.removeContentTypeParser('text/plain');

  registerErrorHandlers(app, bodyLimit);
  registerAdminAuth(app, options.adminToken);

  await app.register(swagger, {
    openapi: {
      // 3.1: JSON Schema 2020-12, so TypeBox's numeric exclusiveMinimum and null types are valid as is.
      openapi: '3.1.0',
      info: {
        title: 'cinerec API',
        version: packageVersion(),
        description: 'Movie recommendations from MovieLens data. Errors are application/problem+json (RFC 9457).',
      },
      tags: [
        { name: 'movies', description: 'catalogue' },
        { name: 'recommendations', description: 'ranked lists' },
        { name: 'rules', description: 'block and promote rules (writes need the admin token)' },
        { name: 'system', description: 'health and dataset information' },
        { name: 'evaluations', description: 'offline evaluation reports written by `cinerec eval`' },
        { name: 'clusters', description: 'clusters of the fitted models' },
        { name: 'users', description: 'viewers created and rated while serving (writes need the admin token)' },
        { name: 'runs', description: 'training runs recorded by `cinerec train` and scheduled retraining' },
        {
          name: 'models',
          description: 'model versions: list, activate, roll back, retrain (writes need the admin token)',
        },
      ],
      components: {
        securitySchemes: {
          [BEARER_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            description: 'the admin token (CINEREC_ADMIN_TOKEN)',
          },
        },
      },
    },
  });
  // Assets come from the package itself: no CDN, works offline.
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerMetrics(app, {
    version: () => services.served.version?.id ?? null,
    ...(options.clusterMetrics ? { cluster: options.clusterMetrics } : {}),
  });
  await app.register(healthRoute, { services });
  await app.register(systemRoutes, { services, prefix: '/v1' });
  await app.register(movieRoutes, { services, prefix: '/v1' });
  await app.register(recommendationRoutes, { services, prefix: '/v1' });
  await app.register(ruleRoutes, { services, prefix: '/v1' });
  await app.register(evaluationRoutes, { services, prefix: '/v1' });
  await app.register(contentRoutes, { services, prefix: '/v1' });
  await app.register(userRoutes, { services, prefix: '/v1' });
  await app.register(segmentRoutes, { services, prefix: '/v1' });
  await app.register(pipelineRoutes, { services, models: options.models ?? null, prefix: '/v1' });
  // Last: its catch-all must not shadow the API's routes.
  await registerWeb(app, options.webRoot ?? DEFAULT_WEB_ROOT);

  await app.ready();
  return app;
}

export async function startServer(
  services: Services,
  config: Config,
  secrets: Secrets,
  models: ModelControl | null = null,
  logger?: Logger,
  clusterMetrics?: () => Promise<string>,
): Promise<{ server: FastifyInstance; url: string }> {
  const server = await buildServer(services, {
    models,
    ...(clusterMetrics ? { clusterMetrics } : {}),
    adminToken: secrets.adminToken,
    logLevel: config.server.logLevel,
    bodyLimit: config.server.bodyLimit,
    ...(logger ? { logger } : {}),
  });
  const url = await server.listen({ host: config.server.host, port: config.server.port });
  return { server, url };
}
