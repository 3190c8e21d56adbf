/**
 * Every error leaves the API as application/problem+json (RFC 9457): domain errors, Fastify's own
 * errors (validation, body limit, content type), unknown routes and unexpected failures alike.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { basename } from 'node:path';
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchemaValidationError,
} from 'fastify';
import type { Static } from 'typebox';
import {
  ConflictError,
  NotFoundError,
  StorageFullError,
  StorageUnavailableError,
  UnavailableError,
  UserError,
  ValidationError,
} from '../util/errors.ts';
import { PLAIN_TEXT, PROBLEM_CONTENT_TYPE, type Problem, problemResponses } from './schemas.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The answer holds a server path on purpose (POST /v1/snapshots, for the CLI on the same machine). */
    serverPaths?: boolean;
  }
}

export type ProblemBody = Static<typeof Problem>;

/** An error the server raises with a known status, e.g. from the auth hook. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly options: {
      field?: string;
      headers?: Record<string, string>;
      /** Extension members of the problem (RFC 9457 §3.2), e.g. the running job of a 409. */
      extra?: Record<string, unknown>;
    } = {},
  ) {
    super(message);
  }
}

const SLUGS: Record<number, string> = {
  400: 'validation-error',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  408: 'request-timeout',
  409: 'conflict',
  413: 'payload-too-large',
  414: 'uri-too-long',
  415: 'unsupported-media-type',
  429: 'too-many-requests',
  431: 'header-fields-too-large',
  500: 'internal-error',
  503: 'unavailable',
  507: 'insufficient-storage',
};

export function problem(status: number, detail: string, instance?: string, field?: string): ProblemBody {
  return {
    type: `urn:cinerec:problem:${SLUGS[status] ?? `http-${status}`}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    ...(instance ? { instance } : {}),
    ...(field ? { field } : {}),
  };
}

function sendProblem(reply: FastifyReply, body: ProblemBody): FastifyReply {
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

const PLACES: Record<string, string> = {
  querystring: 'querystring parameter',
  params: 'path parameter',
  body: 'body property',
  headers: 'header',
};

/** Ajv runs with verbose: true, so errors also carry the failing schema and its parent. */
interface VerboseError extends FastifySchemaValidationError {
  parentSchema?: { description?: unknown; properties?: Record<string, unknown> };
}

/** "/genres/0" -> "genres[0]". */
function pathName(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) && acc ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'a whole number',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a JSON object',
  array: 'a list',
  null: 'null',
};

/** Rephrases an Ajv error so it names the parameter, e.g. "querystring parameter k must be >= 1". */
export function describeValidation(
  errors: readonly FastifySchemaValidationError[],
  context: string | undefined,
): { detail: string; field?: string } {
  // With allErrors off Ajv stops at the first failure; for anyOf it lists the branches first.
  const err = (errors.find((e) => e.keyword !== 'anyOf') ?? errors[0]) as VerboseError | undefined;
  const place = PLACES[context ?? ''] ?? context ?? 'request';
  if (!err) return { detail: `invalid ${place}` };
  const params = err.params;
  let field = pathName(err.instancePath);
  let rest: string;
  switch (err.keyword) {
    case 'required':
      field = [field, String(params.missingProperty)].filter(Boolean).join('.');
      rest = 'is required';
      break;
    case 'additionalProperties': {
      const extra = String(params.additionalProperty);
      const allowed = Object.keys(err.parentSchema?.properties ?? {});
      const where = field ? `${place} ${field}` : context === 'body' ? 'request body' : context;
      return {
        detail: `${where} has unknown property "${extra}"${allowed.length ? `; allowed: ${allowed.join(', ')}` : ''}`,
        field: [field, extra].filter(Boolean).join('.'),
      };
    }
    case 'type': {
      const types = String(params.type)
        .split(',')
        .map((t) => TYPE_WORDS[t] ?? t);
      rest = `must be ${types.join(' or ')}`;
      break;
    }
    case 'enum':
      rest = `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
      break;
    case 'const':
      rest = `must be ${JSON.stringify(params.allowedValue)}`;
      break;
    case 'minLength':
      rest = params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters long`;
      break;
    case 'maxLength':
      rest = `must be at most ${String(params.limit)} characters long`;
      break;
    case 'pattern': {
      if (params.pattern === PLAIN_TEXT) {
        rest = 'must not contain control characters (such as NUL, tab or newline)';
        break;
      }
      const description = err.parentSchema?.description;
      rest = typeof description === 'string' ? `must be ${description}` : (err.message ?? 'is malformed');
      break;
    }
    case 'format':
      rest = `must be a valid ${String(params.format)}`;
      break;
    default:
      rest = err.message ?? 'is invalid';
  }
  if (!field) {
    // The whole part is wrong, e.g. a PUT without a JSON body.
    return { detail: `${context === 'body' ? 'request body' : place} ${rest}` };
  }
  return { detail: `${place} ${field} ${rest}`, field };
}

// The first class an error is an instance of decides: subclasses before their parents.
const USER_ERROR_STATUS = new Map<new (...args: never[]) => UserError, number>([
  [StorageFullError, 507],
  [StorageUnavailableError, 503],
  [ValidationError, 400],
  [NotFoundError, 404],
  [ConflictError, 409],
  [UnavailableError, 503],
]);

function userErrorStatus(err: UserError): number {
  for (const [cls, status] of USER_ERROR_STATUS) if (err instanceof cls) return status;
  return 400;
}

/** Messages for Fastify's own client errors, which are terse or mention internals. */
function fastifyDetail(err: FastifyError, request: FastifyRequest, bodyLimit: number): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `request body is larger than the limit of ${bodyLimit} bytes`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return `content type ${request.headers['content-type'] ? `"${request.headers['content-type']}"` : '(none)'} is not supported; send application/json`;
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'request body is empty; send a JSON object';
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'Content-Length does not match the length of the body';
    default:
      // JSON.parse failures arrive as a SyntaxError with statusCode 400.
      if (err.name === 'SyntaxError') return `request body is not valid JSON: ${err.message}`;
      return err.message;
  }
}

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && ('code' in err || 'statusCode' in err || 'validation' in err);
}

/**
 * Server file paths never leave the server: a path under one of `roots` (the data, models and reports directories,
 * the store's folder, the working directory) in a problem's detail becomes its last component.
 */
export function redactPaths(text: string, roots: readonly string[]): string {
  return redactSorted(text, longestFirst(roots));
}

/** The roots to look for, longest first (so that a root inside another is replaced after it). */
function longestFirst(roots: readonly string[]): string[] {
  return [...new Set(roots)].filter((r) => r.length > 1).sort((a, b) => b.length - a.length);
}

const PATH_STOP = /[\s"'`,;:()[\]{}<>\\]/;

function redactSorted(text: string, roots: readonly string[]): string {
  let out = text;
  const stop = PATH_STOP;
  for (const root of roots) {
    let at = out.indexOf(root);
    while (at >= 0) {
      const next = out[at + root.length];
      // "/tmp" is a root of "/tmp/x", not of "/tmpfoo".
      if (next !== undefined && next !== '/' && !stop.test(next)) {
        at = out.indexOf(root, at + 1);
        continue;
      }
      let end = at + root.length;
      while (end < out.length && !stop.test(out[end]!)) end++;
      const path = out.slice(at, end).replace(/[./]+$/, '');
      const name = basename(path) || '.';
      out = out.slice(0, at) + name + out.slice(at + path.length);
      at = out.indexOf(root, at + name.length);
    }
  }
  return out;
}

function causeOf(err: Error): string {
  const cause = err.cause;
  return cause instanceof Error ? cause.message : cause !== undefined ? String(cause) : err.message;
}

export interface ErrorHandlerOptions {
  bodyLimit: number;
  /** Directories whose paths are replaced by their last component in problem details. */
  roots?: readonly string[];
}

/** Must run before routes are registered (and before @fastify/swagger, so the docs see the additions). */
export function registerErrorHandlers(app: FastifyInstance, options: ErrorHandlerOptions): void {
  const { bodyLimit } = options;
  const roots = longestFirst(options.roots ?? []);
  const send = sendProblem;

  // What leaves the server never names a file on it: every text answer (JSON, problems, the OpenAPI document) has
  // paths under the server's directories cut to their last component (runs record the configuration's paths, for
  // one). The one exception is a route that hands a path to the CLI on the same machine (config.serverPaths).
  if (roots.length > 0)
    app.addHook('onSend', (request, _reply, payload, done) => {
      done(
        null,
        typeof payload === 'string' && request.routeOptions.config?.serverPaths !== true
          ? redactSorted(payload, roots)
          : payload,
      );
    });

  // Document the errors any route can return, so route files list only their own (400, 404...).
  app.addHook('onRoute', (route) => {
    if (!route.schema || route.schema.hide) return;
    const generic = route.schema.body
      ? problemResponses(413, 415, 429, 500, 503, 507)
      : problemResponses(429, 500, 503, 507);
    route.schema = {
      ...route.schema,
      response: { ...generic, ...(route.schema.response as Record<string, unknown> | undefined) },
    };
  });

  // Ajv turns the text "1e400" into Infinity when it coerces a query string, and then skips its range checks for
  // a number that is not finite: such a value is refused here, naming the parameter, before any handler sees it.
  app.addHook('preHandler', async (request) => {
    for (const [part, values] of [
      ['querystring', request.query],
      ['params', request.params],
    ] as const) {
      if (typeof values !== 'object' || values === null) continue;
      for (const [name, value] of Object.entries(values)) {
        const all = Array.isArray(value) ? value : [value];
        if (all.some((v) => typeof v === 'number' && !Number.isFinite(v)))
          throw new HttpProblem(400, `${PLACES[part]} ${name} must be a finite number`, { field: name });
      }
    }
  });

  app.setErrorHandler((err: unknown, request, reply) => {
    const instance = request.url.split('?')[0];
    if (err instanceof HttpProblem) {
      if (err.options.headers) reply.headers(err.options.headers);
      return send(reply, {
        ...problem(err.status, err.message, instance, err.options.field),
        ...(err.options.extra ?? {}),
      });
    }
    if (err instanceof StorageUnavailableError) {
      // Not the client's fault: the log says what the store said (the disk, the file system), the client why.
      request.log.error(
        { err, cause: causeOf(err), url: request.url, method: request.method },
        `storage fault: ${causeOf(err)}`,
      );
      if (err instanceof StorageFullError || /space|full/i.test(causeOf(err))) reply.header('retry-after', '30');
      else reply.header('retry-after', '5');
    }
    if (err instanceof UserError) {
      return send(reply, problem(userErrorStatus(err), err.message, instance, err.field));
    }
    if (isFastifyError(err) && err.validation) {
      const { detail, field } = describeValidation(err.validation, err.validationContext);
      return send(reply, problem(400, detail, instance, field));
    }
    const status = isFastifyError(err) ? (err.statusCode ?? 500) : 500;
    if (status >= 400 && status < 500 && isFastifyError(err)) {
      const detail = fastifyDetail(err, request, bodyLimit);
      request.log.debug({ status, detail }, 'request rejected');
      return send(reply, problem(status, detail, instance));
    }
    // Unexpected: log everything, tell the client nothing internal.
    request.log.error({ err }, 'request failed');
    return send(
      reply,
      problem(500, `the server failed to handle ${request.method} ${instance}; the error was logged`, instance),
    );
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    return send(reply, problem(404, `no route for ${request.method} ${path}`, path));
  });
}

/**
 * Errors Fastify raises before a route is found (the `frameworkErrors` option): a URL that cannot be decoded (400)
 * and a path parameter longer than the router admits (414), as problem+json like every other error.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const path = request.raw.url?.split('?')[0] ?? '';
  const status = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : err.code === 'FST_ERR_BAD_URL' ? 400 : 500;
  const detail =
    status === 414
      ? 'a path parameter is too long'
      : status === 400
        ? 'the URL is malformed: a percent-encoded sequence does not decode to UTF-8 text'
        : 'the request could not be routed';
  void sendProblem(reply, problem(status, detail, path.length <= 200 ? path : undefined));
}

/**
 * Requests Node's HTTP parser rejects before Fastify sees them (the `clientErrorHandler` option): a request not
 * received within the timeouts (408), headers over the size limit (431), anything else malformed (400). Answered
 * as problem+json, then the connection is closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? 408
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? 431
        : err.code === 'HPE_URI_TOO_LONG'
          ? 414
          : 400;
  const detail =
    status === 408
      ? 'the request was not received in time; the connection is closed'
      : status === 431
        ? 'the request headers (with the URL) are larger than the server accepts'
        : status === 414
          ? 'the URL is longer than the server accepts'
          : 'the request is not valid HTTP/1.1';
  const body = JSON.stringify(problem(status, detail));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
