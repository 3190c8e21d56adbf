/**
 * The HTTP API: Fastify with the TypeBox type provider, so each route's schema types the handler,
 * validates the request, serialises the response and documents the route in OpenAPI.
 */
import { readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { AjvCompiler, type ValidatorFactory } from '@fastify/ajv-compiler';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Options as AjvOptions } from 'ajv';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import helmet from 'helmet';
import type { Config, Secrets } from '../config/config.ts';
import type { Services } from '../serving/services.ts';
import { createLogger, type Logger } from '../util/log.ts';
import type { ModelPointer } from '../versions/pointer.ts';
import { BEARER_SCHEME, registerAuth } from './auth.ts';
import { clientErrorHandler, frameworkErrors, HttpProblem, registerErrorHandlers } from './errors.ts';
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
  /** Where the active model version is recorded (default: active.json in the models directory). */
  pointer?: ModelPointer;
  /** Bearer token for per-user data (histories, predictions, segments); null or absent: those are public. */
  readerToken?: string | null;
  /** Timeouts and the connection cap; default: the served configuration's server settings. */
  limits?: Partial<ServerLimits>;
  /** Load balancers whose X-Forwarded-For is believed; default: the served configuration's server.trustProxy. */
  trustProxy?: string[];
  /** Rate limits per client address; default: the served configuration's server.rateLimit. */
  rateLimit?: Config['server']['rateLimit'];
}

/** What bounds a client's hold on the server (settings under `server`, in milliseconds). */
export type ServerLimits = Pick<
  Config['server'],
  'headersTimeout' | 'requestTimeout' | 'keepAliveTimeout' | 'maxConnections'
>;

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

/**
 * Query strings and path parameters are text, so Ajv may coerce them ("5" → 5, one value → a list); JSON bodies
 * already carry types, so a body's "1" where a number is required is a 400, not a silent conversion: two Ajv
 * compilers (@fastify/ajv-compiler, Fastify's own), chosen by the part of the request.
 */
const validators: ValidatorFactory = (externalSchemas, ajvOptions) => {
  const build = AjvCompiler();
  const coercing = build(externalSchemas, ajvOptions);
  const custom = ajvOptions?.customOptions as AjvOptions | undefined;
  const exact = build(externalSchemas, {
    ...(ajvOptions?.plugins ? { plugins: ajvOptions.plugins } : {}),
    customOptions: { ...custom, coerceTypes: false },
  });
  return (route) => (route.httpPart === 'body' ? exact(route) : coercing(route));
};

/** Chromium runs the page under this policy (test/web checks that nothing is refused): files from this server only. */
const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    // The favicon is a data: URL.
    imgSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    // React sets style properties through the CSSOM, which a policy does not restrict; no inline <style>.
    styleSrc: ["'self'"],
  },
};

/** Rate limits: POST routes anyone may call, and every route that needs the admin token (refused calls count). */
async function registerRateLimits(app: FastifyInstance, limits: Config['server']['rateLimit']): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new HttpProblem(
        context.statusCode,
        `too many requests from this address: at most ${context.max} per ${Math.round(limits.window / 1000)} s here; retry in ${context.after}`,
      ),
  });
  const limiter = (max: number) => (max > 0 ? app.rateLimit({ max, timeWindow: limits.window }) : null);
  const publicPosts = limiter(limits.publicPosts);
  const writes = limiter(limits.writes);
  // Before the auth hook (registered after this), so that requests with a wrong token count too.
  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    const admin =
      config.admin ?? (request.url.startsWith('/v1/') && !['GET', 'HEAD', 'OPTIONS'].includes(request.method));
    const check = admin ? writes : request.method === 'POST' ? publicPosts : null;
    if (check) await check.call(app, request, reply);
  });
}

/**
 * Stops listening, lets requests in flight finish for up to `graceMs`, then closes every connection still open (a
 * client that sends its request slowly, a reader that does not read): the server never waits on a client.
 */
export async function stopServer(app: FastifyInstance, graceMs: number): Promise<void> {
  const force = setTimeout(() => app.server.closeAllConnections(), graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(force);
  }
}

export async function buildServer(services: Services, options: ServerOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const settings = services.served.config.server;
  const limits: ServerLimits = {
    headersTimeout: settings.headersTimeout,
    requestTimeout: settings.requestTimeout,
    keepAliveTimeout: settings.keepAliveTimeout,
    maxConnections: settings.maxConnections,
    ...options.limits,
  };
  const trustProxy = options.trustProxy ?? settings.trustProxy;
  // Node refuses a header timeout above the request timeout.
  const headersTimeout = Math.min(limits.headersTimeout, limits.requestTimeout);
  const app = Fastify({
    // Node's own timeouts, checked every second (its default sweep is every 30 s): a client gets headersTimeout to
    // send its headers and requestTimeout for the whole request, then a 408 and the connection is closed.
    http: {
      headersTimeout,
      requestTimeout: limits.requestTimeout,
      keepAliveTimeout: limits.keepAliveTimeout,
      connectionsCheckingInterval: 1000,
    },
    requestTimeout: limits.requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    // Behind a load balancer every request comes from its address; trusting it gives each client its own limits.
    ...(trustProxy.length > 0 ? { trustProxy } : {}),
    // Requests that arrive while the server drains are answered (with Connection: close), not refused.
    return503OnClosing: false,
    frameworkErrors: frameworkErrors as FastifyServerOptions['frameworkErrors'],
    clientErrorHandler,
    schemaController: { compilersFactory: { buildValidator: validators } },
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

  // Beyond the cap a new connection is closed at once (each serving process has its own).
  app.server.maxConnections = limits.maxConnections;

  // Only JSON bodies: without the default text/plain parser other types get a 415.
  app.removeContentTypeParser('text/plain');

  const config = services.served.config;
  registerErrorHandlers(app, {
    bodyLimit,
    roots: [
      config.dataDir,
      config.modelsDir,
      config.reportsDir,
      dirname(config.store.path),
      process.cwd(),
      tmpdir(),
      homedir(),
    ],
  });
  // helmet's headers, made once: @fastify/helmet rebuilt the middleware (and re-parsed the CSP) on every request.
  const securityHeaders = helmet({
    contentSecurityPolicy: CONTENT_SECURITY_POLICY,
    // The server speaks plain HTTP; HSTS belongs to the TLS terminator in front of it, for its own host name.
    strictTransportSecurity: false,
  });
  app.addHook('onRequest', (request, reply, done) => {
    securityHeaders(request.raw, reply.raw, (err?: unknown) => done(err instanceof Error ? err : undefined));
  });
  await registerRateLimits(app, options.rateLimit ?? config.server.rateLimit);
  registerAuth(app, { admin: options.adminToken, reader: options.readerToken ?? null });

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
  // Assets come from the package itself: no CDN, works offline. Its page has inline scripts: its own policy lists
  // their hashes (minus upgrade-insecure-requests: the server speaks plain HTTP).
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
  });

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
  await app.register(pipelineRoutes, {
    services,
    models: options.models ?? null,
    ...(options.pointer ? { pointer: options.pointer } : {}),
    prefix: '/v1',
  });
  // Last: its catch-all must not shadow the API's routes.
  await registerWeb(app, options.webRoot ?? DEFAULT_WEB_ROOT);

  await app.ready();
  return app;
}

/** Builds the server from the configuration and listens on server.host and server.port. */
export async function startServer(
  services: Services,
  config: Config,
  secrets: Secrets,
  extra: Pick<ServerOptions, 'models' | 'clusterMetrics' | 'pointer'> & { logger?: Logger } = {},
): Promise<{ server: FastifyInstance; url: string }> {
  const server = await buildServer(services, {
    ...extra,
    adminToken: secrets.adminToken,
    readerToken: secrets.readerToken,
    limits: config.server,
    rateLimit: config.server.rateLimit,
    logLevel: config.server.logLevel,
    bodyLimit: config.server.bodyLimit,
  });
  const url = await server.listen({ host: config.server.host, port: config.server.port });
  return { server, url };
}
