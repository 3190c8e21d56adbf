/**
 * Property-based API fuzzing (issue 15): a real server over the shared trained fixture, its /openapi.json walked,
 * and fast-check generating valid and invalid requests for every route from the routes' own JSON Schemas. The
 * properties: no answer is a 500 (or any 5xx); every error is application/problem+json; a request built to be
 * invalid gets a 4xx; and no request answered with a 4xx changes the data. Used by test/fuzz/api.test.ts (a short
 * run) and bench/fuzz-api.ts (`npm run fuzz:api`, the long one).
 */
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { STRATEGIES } from '../../src/components/index.ts';
import { buildServer, type ServerOptions } from '../../src/server/app.ts';
import { loadServices } from '../../src/serving/services.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import { forbidFitting } from '../../src/util/fit-guard.ts';
import { realData } from '../helpers/real-data.ts';
import { type Trained, trained } from '../helpers/trained.ts';

export const ADMIN = 'fuzz-admin-token-0123456789abcdef';
export const READER = 'fuzz-reader-token-0123456789abcdef';

/** The part of JSON Schema the routes use. */
export interface JsonSchema {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  default?: unknown;
}

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}

interface Operation {
  method: string;
  /** OpenAPI path, e.g. /v1/movies/{id}. */
  path: string;
  params: Parameter[];
  body: JsonSchema | null;
  /** Needs a bearer token (security in the document). */
  secured: boolean;
}

/** A generated request, and whether it was built to be invalid (then it must get a 4xx and change nothing). */
export interface FuzzRequest {
  op: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  invalid: string | null;
}

export interface FuzzReport {
  requests: number;
  valid: number;
  invalid: number;
  byStatus: Record<string, number>;
  /** Answers with a 5xx status. */
  serverErrors: number;
  /** Invalid requests (or 4xx answers) after which the data differed. */
  changedByInvalid: number;
  /** Requests built to be invalid that got a 2xx/3xx. */
  acceptedInvalid: number;
  /** Error answers that were not problem+json. */
  notProblem: number;
  /** Routes exercised (method and OpenAPI path). */
  routes: number;
  failures: string[];
  /** Error lines the server logged (the cause of any 500). */
  serverLog: string[];
  seconds: number;
}

/** Values the valid generators draw from, read from the fixture. */
interface Known {
  movieIds: number[];
  genres: string[];
  strategies: string[];
  runIds: string[];
  versions: string[];
  evaluationIds: string[];
}

const WORDS = ['Arrival', 'Heat', 'Alien', 'Love', 'Night', 'Blue', 'Lost', 'City', 'Dream', 'Storm', 'Île', 'Café'];
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
const NASTY_TEXT = [
  '\u0000',
  'a\u0007b',
  'line\nbreak',
  '\ud800',
  '../../etc/passwd',
  '%00',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent literally
  '${7*7}',
  "'; DROP TABLE movies; --",
  '<script>alert(1)</script>',
  ' ',
  '',
];
const NASTY_NUMBERS = [
  '1e400',
  '-1e400',
  'NaN',
  'Infinity',
  '-0',
  '0x10',
  '1.5',
  '-1',
  '0',
  '99999999999999999999',
  '2147483648',
  '',
];

// ————— generators from the routes' schemas —————

function numberRange(s: JsonSchema): { min: number; max: number } {
  const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1e-6 : -1000);
  const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1e-6 : 1000);
  return { min, max };
}

/** A valid value for `schema`; `name` picks realistic values (known ids, genres...) so requests go deep. */
function validValue(schema: JsonSchema, name: string, place: string, known: Known): fc.Arbitrary<unknown> {
  const hinted = hint(schema, name, place, known);
  if (hinted) return hinted;
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return fc.oneof(...union.map((s) => validValue(s, name, place, known)));
  switch (schema.type) {
    case 'integer': {
      const { min, max } = numberRange(schema);
      const lo = Math.ceil(min);
      // Small values most of the time: large ones only cost time.
      return fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: lo, max: Math.min(Math.floor(max), lo + 50) }) },
        { weight: 1, arbitrary: fc.integer({ min: lo, max: Math.min(Math.floor(max), 2 ** 31 - 1) }) },
      );
    }
    case 'number': {
      const { min, max } = numberRange(schema);
      return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
    }
    case 'boolean':
      return fc.boolean();
    case 'string': {
      if (schema.pattern && !schema.pattern.includes('\\p{'))
        return fc.stringMatching(new RegExp(schema.pattern)).filter((t) => t.length <= (schema.maxLength ?? 1e9));
      return fc
        .string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40), unit: 'grapheme' })
        .filter((t) => !/[\p{Cc}\p{Cs}]/u.test(t));
    }
    case 'array': {
      const items = schema.items ? validValue(schema.items, name, place, known) : fc.constant(1);
      return fc.array(items, { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 5, 5) });
    }
    case 'object': {
      const props = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, s] of Object.entries(props)) record[key] = validValue(s, key, place, known);
      return fc.record(record, { requiredKeys: [...required].filter((k) => k in props) });
    }
    default:
      return fc.constant(null);
  }
}

function hint(schema: JsonSchema, name: string, place: string, known: Known): fc.Arbitrary<unknown> | null {
  const movie = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...known.movieIds) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 250_000 }) },
  );
  const user = fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 610 }) }, fc.integer({ min: 1, max: 5000 }));
  const isUserPath = place.includes('/users/');
  switch (name) {
    case 'id':
      if (place.startsWith('/v1/runs')) return fc.constantFrom(...known.runIds, '20990101T000000000-000');
      if (place.startsWith('/v1/evaluations')) return fc.constantFrom(...known.evaluationIds, 'no-such-report');
      return schema.type === 'integer' ? (isUserPath ? user : movie) : null;
    case 'movieId':
      return schema.type === 'integer' ? movie : null;
    case 'userId':
      return user;
    case 'watched':
    case 'exclude':
      return fc.array(movie, { maxLength: 8 });
    case 'movies':
      return fc.array(movie, { minLength: 1, maxLength: 6 }).map((ids) => ids.join(','));
    case 'genres':
      return fc.array(fc.constantFrom(...known.genres), { maxLength: 3 });
    case 'strategy':
      return fc.constantFrom(...known.strategies);
    case 'version':
      return fc.constantFrom(...known.versions, 'v9999');
    case 'metric':
      return fc.constantFrom('ndcg', 'rmse', 'precision');
    case 'kind':
      return fc.constantFrom('train', 'retrain', 'als', 'tune:als');
    case 'rating':
      return fc.integer({ min: 1, max: 10 }).map((n) => n / 2);
    case 'relevance':
      return fc.double({ min: 0, max: 1, noNaN: true });
    case 'title':
      return fc
        .tuple(
          fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 3 }),
          fc.integer({ min: 1900, max: 2030 }),
        )
        .map(([w, y]) => `${w.join(' ')} ${Math.random().toString(36).slice(2, 7)} (${y})`);
    case 'tags':
      return fc.array(fc.constantFrom('aliens', 'linguistics', 'time travel', 'heist', 'noir'), { maxLength: 3 });
    case 'until':
      return fc
        .integer({ min: 1, max: 900 })
        .map((d) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10));
    case 'reason':
      return fc.constantFrom('launch', 'licence ends', 'test');
    case 'k':
    case 'examples':
      return fc.integer({ min: 1, max: Math.min(schema.maximum ?? 30, 30) });
    case 'limit':
      return fc.integer({ min: 1, max: Math.min(schema.maximum ?? 100, 200) });
    case 'offset':
      return fc.integer({ min: 0, max: 50 });
    case 'q':
      return fc.constantFrom('matrix', 'toy', 'star', 'the', 'amélie', 'zzz');
    case 'imdbId':
      return fc.integer({ min: 1_000_000, max: 9_999_999 }).map((n) => `tt${n}`);
    case 'genome':
      return fc.constant([]);
    default:
      return null;
  }
}

/** A value that breaks `schema` for certain, with a label saying how. */
function invalidValue(schema: JsonSchema, place: 'query' | 'path' | 'body'): fc.Arbitrary<[string, unknown]> {
  const text = place !== 'body';
  const options: fc.Arbitrary<[string, unknown]>[] = [];
  const add = (label: string, values: unknown[]) => {
    if (values.length > 0) options.push(fc.constantFrom(...values).map((v): [string, unknown] => [label, v]));
  };
  const union = schema.anyOf ?? schema.oneOf;
  const types = new Set(union ? union.map((s) => s.type) : [schema.type]);
  if (schema.enum || union?.every((s) => s.enum || s.const !== undefined))
    add('not one of the values', ['nope', ...PROTOTYPE_KEYS]);
  if (types.has('integer') || types.has('number')) {
    add(
      'not a number',
      text
        ? ['abc', ...NASTY_NUMBERS.filter((n) => Number.isNaN(Number(n)) || n === '')]
        : ['1', 'abc', true, [1], { n: 1 }],
    );
    if (schema.minimum !== undefined) add('below the minimum', [schema.minimum - 1, schema.minimum - 1000]);
    if (schema.maximum !== undefined) add('above the maximum', [schema.maximum + 1, 1e300]);
    if (text) add('not finite', ['1e400', '-1e400', 'Infinity']);
    if (types.has('integer')) add('not whole', [1.5, 0.1]);
  }
  if (types.has('boolean')) add('not a boolean', text ? ['maybe', '2'] : ['true', 1, null]);
  if (types.has('string') && !types.has('integer')) {
    if (!text) add('not a string', [12345, true, ['a'], { a: 1 }]);
    if (schema.maxLength !== undefined) add('too long', ['x'.repeat(schema.maxLength + 1)]);
    if (schema.minLength) add('empty', ['']);
    if (schema.pattern)
      add(
        'off the pattern',
        // A lone surrogate cannot travel in a URL (it is not UTF-8): what arrives is U+FFFD, a valid character.
        NASTY_TEXT.filter((t) => !new RegExp(schema.pattern!, 'u').test(t) && !(text && /[\ud800-\udfff]/.test(t))),
      );
  }
  if (types.has('array')) {
    if (!text) add('not a list', ['x', 3, { a: 1 }]);
    if (schema.maxItems !== undefined && schema.maxItems <= 10_000)
      add('too many items', [Array.from({ length: schema.maxItems + 1 }, () => 1)]);
    if (schema.items) {
      const bad = invalidValue(schema.items, place);
      options.push(bad.map(([label, v]): [string, unknown] => [`an item ${label}`, [v]]));
    }
  }
  if (types.has('object') && !text) add('not an object', ['x', 3, [1]]);
  if (options.length === 0) add('of the wrong type', text ? ['\u0000'] : [{ nested: [] }]);
  return fc.oneof(...options);
}

// ————— requests —————

/** Percent-encodes like encodeURIComponent; a lone surrogate becomes the invalid UTF-8 bytes it would be sent as. */
function encodePart(text: string): string {
  let out = '';
  for (const ch of text) out += /^[\ud800-\udfff]$/.test(ch) ? '%ED%A0%80' : encodeURIComponent(ch);
  return out;
}

function fillPath(path: string, values: Record<string, unknown>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => encodePart(String(values[name])));
}

function query(values: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) parts.push(`${encodePart(k)}=${encodePart(String(item))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

function authFor(op: Operation, which: 'right' | 'none' | 'wrong' | 'reader'): Record<string, string> {
  const token =
    which === 'right'
      ? op.secured
        ? ADMIN
        : null
      : which === 'wrong'
        ? 'wrong-token-0123456789abcdef'
        : which === 'reader'
          ? READER
          : null;
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Valid path and query values, then one of: the valid request, or one part of it broken. */
function requestFor(op: Operation, known: Known): fc.Arbitrary<FuzzRequest> {
  const paramArbs: Record<string, fc.Arbitrary<unknown>> = {};
  const required: string[] = [];
  for (const p of op.params) {
    paramArbs[p.name] = validValue(p.schema, p.name, op.path, known);
    if (p.required || p.in === 'path') required.push(p.name);
  }
  const params = fc.record(paramArbs, { requiredKeys: required });
  const body = op.body ? validValue(op.body, 'body', op.path, known) : fc.constant(undefined);
  const name = `${op.method} ${op.path}`;
  const build = (
    values: Record<string, unknown>,
    b: unknown,
    invalid: string | null,
    extra: {
      rawPath?: string;
      rawBody?: string;
      headers?: Record<string, string>;
      auth?: 'right' | 'none' | 'wrong' | 'reader';
    } = {},
  ): FuzzRequest => {
    const pathValues: Record<string, unknown> = {};
    const queryValues: Record<string, unknown> = {};
    for (const p of op.params) (p.in === 'path' ? pathValues : queryValues)[p.name] = values[p.name];
    const path = extra.rawPath ?? fillPath(op.path, pathValues);
    const headers: Record<string, string> = { ...authFor(op, extra.auth ?? 'right'), ...extra.headers };
    const bodyText = extra.rawBody ?? (b === undefined ? undefined : JSON.stringify(b));
    if (bodyText !== undefined && !('content-type' in headers)) headers['content-type'] = 'application/json';
    return {
      op: name,
      method: op.method,
      url: `${path}${query(queryValues)}`,
      headers,
      ...(bodyText !== undefined ? { body: bodyText } : {}),
      invalid,
    };
  };
  const valid = fc.tuple(params, body).map(([v, b]) => build(v as Record<string, unknown>, b, null));
  const broken: fc.Arbitrary<FuzzRequest>[] = [];
  for (const p of op.params) {
    const place = p.in === 'path' ? 'path' : 'query';
    broken.push(
      fc
        .tuple(params, body, invalidValue(p.schema, place))
        .map(([v, b, [label, bad]]) =>
          build({ ...(v as Record<string, unknown>), [p.name]: bad }, b, `${p.in} ${p.name} ${label}`),
        ),
    );
    if (p.in === 'query' && p.required)
      broken.push(
        fc.tuple(params, body).map(([v, b]) => {
          const { [p.name]: _, ...rest } = v as Record<string, unknown>;
          return build(rest, b, `query ${p.name} missing`);
        }),
      );
  }
  if (op.params.some((p) => p.in === 'path'))
    broken.push(
      fc
        .tuple(params, body, fc.constantFrom('%E0%A4%A', '%00', '..%2F..%2Fetc', 'x'.repeat(300), '1e400', '-1'))
        .map(([v, b, seg]) =>
          build(v as Record<string, unknown>, b, `path segment ${seg.slice(0, 12)}`, {
            rawPath: op.path
              .replace(/\{\w+\}/, seg)
              .replace(/\{(\w+)\}/g, (_, n: string) => encodePart(String((v as Record<string, unknown>)[n]))),
          }),
        ),
    );
  if (op.body) {
    const props = op.body.properties ?? {};
    for (const [key, s] of Object.entries(props)) {
      broken.push(
        fc
          .tuple(params, body, invalidValue(s, 'body'))
          .map(([v, b, [label, bad]]) =>
            build(v as Record<string, unknown>, { ...(b as object), [key]: bad }, `body ${key} ${label}`),
          ),
      );
    }
    for (const key of op.body.required ?? [])
      broken.push(
        fc.tuple(params, body).map(([v, b]) => {
          const { [key]: _, ...rest } = b as Record<string, unknown>;
          return build(v as Record<string, unknown>, rest, `body ${key} missing`);
        }),
      );
    broken.push(
      fc.tuple(params, body, fc.constantFrom('zzz', ...PROTOTYPE_KEYS)).map(([v, b, key]) =>
        build(v as Record<string, unknown>, undefined, `body with unknown property ${key}`, {
          rawBody: JSON.stringify(b)
            .replace(/^\{/, `{${JSON.stringify(key)}: {"k": 1},`)
            .replace(/,\}$/, '}'),
        }),
      ),
      fc
        .tuple(params, fc.constantFrom('{', '[1,2', '"text"', '[]', 'null', '{"a":1}{', '\u0000', ''))
        .map(([v, text]) =>
          build(v as Record<string, unknown>, undefined, `body ${JSON.stringify(text).slice(0, 10)}`, {
            rawBody: text,
          }),
        ),
      fc
        .tuple(params, body, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml'))
        .map(([v, b, type]) =>
          build(v as Record<string, unknown>, b, `content type ${type}`, { headers: { 'content-type': type } }),
        ),
    );
  }
  if (op.secured)
    broken.push(
      fc
        .tuple(params, body, fc.constantFrom('none', 'wrong') as fc.Arbitrary<'none' | 'wrong'>)
        .map(([v, b, auth]) => build(v as Record<string, unknown>, b, `token ${auth}`, { auth })),
    );
  if (op.secured && op.method !== 'GET')
    broken.push(
      fc
        .tuple(params, body)
        .map(([v, b]) => build(v as Record<string, unknown>, b, 'the reader token on a write', { auth: 'reader' })),
    );
  // A route with no parameters, body or token (GET /health) can only be asked validly.
  if (broken.length === 0) return valid;
  return fc.oneof({ weight: 2, arbitrary: valid }, { weight: 3, arbitrary: fc.oneof(...broken) });
}

// ————— the run —————

export interface FuzzOptions {
  requests: number;
  seed?: number;
  log?: (line: string) => void;
}

function operations(doc: { paths: Record<string, Record<string, Record<string, unknown>>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const body = (op.requestBody as { content?: Record<string, { schema: JsonSchema }> } | undefined)?.content?.[
        'application/json'
      ]?.schema;
      ops.push({
        method: method.toUpperCase(),
        path,
        params: (op.parameters as Parameter[] | undefined) ?? [],
        body: body ?? null,
        secured: Array.isArray(op.security) && op.security.length > 0,
      });
    }
  }
  return ops;
}

/** A fingerprint of everything a write could change. */
async function dataState(store: DuckDbStore): Promise<string> {
  const [counts, rules, histogram] = await Promise.all([store.counts(), store.listRules(), store.ratingHistogram()]);
  return JSON.stringify({ counts, rules, histogram });
}

export async function fuzzApi(options: FuzzOptions): Promise<FuzzReport> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const fixture: Trained = await trained('ml-latest-small', await realData('ml-latest-small'));
  const store = await DuckDbStore.open(fixture.config.store.path);
  let app: FastifyInstance | null = null;
  const serverLog: string[] = [];
  try {
    forbidFitting('the API fuzzer');
    const services = await loadServices(store, fixture.config);
    const logger = {
      level: 'error',
      fatal: (o: unknown, m?: string) => serverLog.push(`${m ?? ''} ${JSON.stringify(o).slice(0, 600)}`),
      error: (o: unknown, m?: string) => serverLog.push(`${m ?? ''} ${JSON.stringify(o).slice(0, 600)}`),
      warn: () => {},
      info: () => {},
      debug: () => {},
      trace: () => {},
      silent: () => {},
      child() {
        return this;
      },
    };
    app = await buildServer(services, {
      adminToken: ADMIN,
      readerToken: READER,
      logger: logger as unknown as ServerOptions['logger'],
      // The fuzzer is one client sending thousands of requests: limits would answer most of them with 429.
      rateLimit: { window: 60_000, publicPosts: 0, writes: 0 },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as Parameters<typeof operations>[0];
    const ops = operations(doc);
    const runs = (await (await fetch(`${base}/v1/runs?all=true&limit=50`)).json()) as { runs: { id: string }[] };
    const models = (await (await fetch(`${base}/v1/models`)).json()) as { versions: { version: string }[] };
    const known: Known = {
      movieIds: services.served.catalogue.movies.slice(0, 400).map((m) => m.movieId),
      genres: services.served.catalogue.genres(),
      strategies: [...STRATEGIES.keys()],
      runIds: runs.runs.map((r) => r.id).concat('1'),
      versions: models.versions.map((v) => v.version),
      evaluationIds: ['2026-01-01T00-00-00Z-ranking-0000'],
    };
    log(`${ops.length} routes from /openapi.json; ${options.requests} requests, seed ${options.seed ?? 'random'}`);
    const report: FuzzReport = {
      requests: 0,
      valid: 0,
      invalid: 0,
      byStatus: {},
      serverErrors: 0,
      changedByInvalid: 0,
      acceptedInvalid: 0,
      notProblem: 0,
      routes: ops.length,
      failures: [],
      serverLog,
      seconds: 0,
    };
    const arb = fc.oneof(...ops.map((op) => requestFor(op, known)));
    const fail = (req: FuzzRequest, why: string) => {
      if (report.failures.length < 50)
        report.failures.push(
          `${why}: ${req.method} ${req.url}${req.body ? ` ${req.body.slice(0, 200)}` : ''} (${req.invalid ?? 'valid'})`,
        );
    };
    const sample = fc.sample(arb, {
      numRuns: options.requests,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    });
    for (const req of sample) {
      const writes = req.method !== 'GET';
      const before = writes ? await dataState(store) : null;
      let status: number;
      let type: string;
      let text: string;
      try {
        const res = await fetch(`${base}${req.url}`, {
          method: req.method,
          headers: req.headers,
          ...(req.body !== undefined ? { body: req.body } : {}),
        });
        status = res.status;
        type = res.headers.get('content-type') ?? '';
        text = await res.text();
      } catch (err) {
        fail(req, `no answer (${(err as Error).message})`);
        report.requests++;
        continue;
      }
      report.requests++;
      report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
      if (req.invalid) report.invalid++;
      else report.valid++;
      if (status >= 500) {
        report.serverErrors++;
        fail(req, `${status} ${text.slice(0, 200)}`);
      }
      if (status >= 400 && !type.startsWith('application/problem+json')) {
        report.notProblem++;
        fail(req, `${status} answered as ${type || 'nothing'}`);
      }
      if (req.invalid && status < 400) {
        report.acceptedInvalid++;
        fail(req, `accepted with ${status}`);
      }
      if (before !== null && (req.invalid || (status >= 400 && status < 500))) {
        if ((await dataState(store)) !== before) {
          report.changedByInvalid++;
          fail(req, `changed the data while answering ${status}`);
        }
      }
      if (report.requests % 1000 === 0) log(`${report.requests} requests, ${report.serverErrors} 5xx`);
    }
    report.seconds = Math.round((performance.now() - started) / 100) / 10;
    return report;
  } finally {
    await app?.close();
    await store.close();
    await fixture.cleanup();
  }
}
