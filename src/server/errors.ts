/**
 * Every error leaves the API as application/problem+json (RFC 9457): domain errors, Fastify's own
 * errors (validation, body limit, content type), unknown routes and unexpected failures alike.
 */
import { STATUS_CODES } from 'node:http';
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchemaValidationError,
} from 'fastify';
import type { Static } from 'typebox';
import { ConflictError, NotFoundError, UnavailableError, UserError, ValidationError } from '../util/errors.ts';
import { PROBLEM_CONTENT_TYPE, type Problem, problemResponses } from './schemas.ts';

export type ProblemBody = Static<typeof Problem>;

/** An error the server raises with a known status, e.g. from the auth hook. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly options: { field?: string; headers?: Record<string, string> } = {},
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
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  500: 'internal-error',
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

const USER_ERROR_STATUS = new Map<new (...args: never[]) => UserError, number>([
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

/** Must run before routes are registered (and before @fastify/swagger, so the docs see the additions). */
export function registerErrorHandlers(app: FastifyInstance, bodyLimit: number): void {
  // Document the errors any route can return, so route files list only their own (400, 404...).
  app.addHook('onRoute', (route) => {
    if (!route.schema || route.schema.hide) return;
    const generic = route.schema.body ? problemResponses(413, 415, 500) : problemResponses(500);
    route.schema = {
      ...route.schema,
      response: { ...generic, ...(route.schema.response as Record<string, unknown> | undefined) },
    };
  });

  app.setErrorHandler((err: unknown, request, reply) => {
    const instance = request.url.split('?')[0];
    if (err instanceof HttpProblem) {
      if (err.options.headers) reply.headers(err.options.headers);
      return sendProblem(reply, problem(err.status, err.message, instance, err.options.field));
    }
    if (err instanceof UserError) {
      return sendProblem(reply, problem(userErrorStatus(err), err.message, instance, err.field));
    }
    if (isFastifyError(err) && err.validation) {
      const { detail, field } = describeValidation(err.validation, err.validationContext);
      return sendProblem(reply, problem(400, detail, instance, field));
    }
    const status = isFastifyError(err) ? (err.statusCode ?? 500) : 500;
    if (status >= 400 && status < 500 && isFastifyError(err)) {
      const detail = fastifyDetail(err, request, bodyLimit);
      request.log.debug({ status, detail }, 'request rejected');
      return sendProblem(reply, problem(status, detail, instance));
    }
    // Unexpected: log everything, tell the client nothing internal.
    request.log.error({ err }, 'request failed');
    return sendProblem(
      reply,
      problem(500, `the server failed to handle ${request.method} ${instance}; the error was logged`, instance),
    );
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    return sendProblem(reply, problem(404, `no route for ${request.method} ${path}`, path));
  });
}
