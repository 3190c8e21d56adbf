/**
 * Hardening (issue 15): every invalid input is a 4xx problem naming the field and changes nothing; errors Node
 * and Fastify raise before a route are problem+json too; timeouts, the connection cap and shutdown bound what a
 * slow client can hold; storage faults are 503/507 with the cause logged; the reader role guards per-user data;
 * no answer names a server path; security headers, rate limits, an idempotent retrain; tokens checked at start-up.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { buildServer, type ServerOptions, stopServer } from '../../src/server/app.ts';
import type { ModelControl } from '../../src/server/model-manager.ts';
import { maxYear, parseInstant } from '../../src/serving/checks.ts';
import { loadServices, type Services } from '../../src/serving/services.ts';
import { Db, storageFault } from '../../src/store/duckdb/connection.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import type { Store } from '../../src/store/types.ts';
import { StorageFullError, StorageUnavailableError, ValidationError } from '../../src/util/errors.ts';
import { forbidFitting } from '../../src/util/fit-guard.ts';
import { PROJECT_ROOT, realData } from '../helpers/real-data.ts';
import { type Trained, trained } from '../helpers/trained.ts';

const TOKEN = 'hardening-admin-token-0123456789';
const READER = 'hardening-reader-token-0123456789';
const PROTOTYPE_KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];

// Every assert.ok carries a message: without one, Node re-parses the source to build it (slow under tsx).

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  field?: string;
  job?: { kind: string; status: string; startedAt: string | null };
}

let fixture: Trained;
let store: DuckDbStore;
let services: Services;
const servers: FastifyInstance[] = [];
/** The main server: admin and reader tokens, the configuration's limits. */
let base: string;
/** Without a reader token: per-user data is public, as before. */
let open: string;

async function serve(options: Partial<ServerOptions> = {}, over: Services = services): Promise<FastifyInstance> {
  const app = await buildServer(over, { adminToken: TOKEN, logger: false, ...options });
  servers.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

const urlOf = (app: FastifyInstance) => {
  const a = app.server.address();
  assert.ok(a && typeof a === 'object', 'listening');
  return `http://127.0.0.1:${a.port}`;
};

async function call<T = Problem>(
  url: string,
  init: RequestInit & { json?: unknown; token?: string } = {},
): Promise<{ status: number; body: T; res: Response }> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(url, {
    ...init,
    headers,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: kept as text for the assertion's message.
  }
  return { status: res.status, body: body as T, res };
}

/** Asserts a problem+json answer with `status` (and `field` when given); returns it. */
async function problem(
  response: Promise<{ status: number; body: unknown; res: Response }>,
  status: number,
  field?: string,
): Promise<Problem> {
  const { status: got, body, res } = await response;
  assert.equal(got, status, `expected ${status}, got ${got}: ${JSON.stringify(body)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, JSON.stringify(body));
  const p = body as Problem;
  assert.equal(p.status, status, 'status in the body');
  assert.ok(typeof p.detail === 'string' && p.detail.length > 0, 'a detail');
  if (field !== undefined) assert.equal(p.field, field, `field of: ${p.detail}`);
  return p;
}

/** What a write would change: counts and rules. */
async function dataState(): Promise<string> {
  return JSON.stringify({ counts: await store.counts(), rules: await store.listRules() });
}

interface RawAnswer {
  status: number | null;
  headers: string;
  body: string;
  /** The server closed the connection. */
  closed: boolean;
}

/** Sends raw bytes, then reads until the server closes the connection (or `waitMs` passes). */
function raw(url: string, text: string | Buffer, waitMs = 20_000): Promise<RawAnswer> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let data = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const [head = '', body = ''] = data.split('\r\n\r\n');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : null, headers: head, body, closed });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('data', (d) => {
      data += d.toString();
    });
    socket.on('close', () => done(true));
    socket.on('error', (err) => (data ? done(true) : reject(err)));
    socket.write(text);
  });
}

/** A connection that sends part of a request and then nothing: resolves when the server closes it. */
function slowClient(url: string, partial: string): { socket: Socket; closed: Promise<string> } {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  let data = '';
  socket.on('data', (d) => {
    data += d.toString();
  });
  socket.on('error', () => {});
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(data)));
  socket.write(partial);
  return { socket, closed };
}

before(async () => {
  fixture = await trained('ml-latest-small', await realData('ml-latest-small'));
  store = await DuckDbStore.open(fixture.config.store.path);
  forbidFitting('the hardening tests');
  services = await loadServices(store, fixture.config);
  base = urlOf(await serve({ readerToken: READER }));
  open = urlOf(await serve());
});

after(async () => {
  for (const s of servers) await s.close();
  await store?.close();
  await fixture?.cleanup();
});

describe('invalid input: a 4xx naming the field, nothing changed', () => {
  it('strategy names that are prototype keys are unknown strategies (the registry is a Map)', async () => {
    const before = await dataState();
    for (const name of PROTOTYPE_KEYS) {
      const q = encodeURIComponent(name);
      const p = await problem(call(`${open}/v1/users/1/recommendations?strategy=${q}`), 400, 'strategy');
      assert.match(p.detail, /unknown strategy|strategy must be/, p.detail);
      await problem(call(`${open}/v1/recommendations`, { method: 'POST', json: { strategy: name } }), 400, 'strategy');
      await problem(call(`${open}/v1/recommendations`, { method: 'POST', json: { strategy: name, userId: 1 } }), 400);
    }
    // A body that tries to set the prototype is refused, not merged.
    const poisoned = await call(`${open}/v1/recommendations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"__proto__": {"k": 3}, "genres": ["Comedy"]}',
    });
    assert.equal(poisoned.status, 400, JSON.stringify(poisoned.body));
    assert.equal(await dataState(), before);
  });

  it('ids and numbers have ranges the store can hold; 1e400 is not a number', async () => {
    const before = await dataState();
    const movie = { title: 'Big Ids (2016)', genres: ['Drama'] };
    const p = await problem(
      call(`${open}/v1/movies`, { method: 'POST', token: TOKEN, json: { ...movie, tmdbId: 2 ** 31 } }),
      400,
      'tmdbId',
    );
    assert.match(p.detail, /tmdbId must be <= 2147483647/);
    await problem(call(`${open}/v1/movies?q=matrix&offset=1e400`), 400, 'offset');
    await problem(call(`${open}/v1/movies?q=matrix&limit=1e400`), 400, 'limit');
    await problem(call(`${open}/v1/movies/99999999999`), 400, 'id');
    await problem(call(`${open}/v1/users/4294967296`), 400, 'id');
    await problem(call(`${open}/v1/users/1/predictions?movies=1,99999999999`), 400, 'movies');
    await problem(
      call(`${open}/v1/users`, { method: 'POST', token: TOKEN, json: { ratings: [{ movieId: 2 ** 31, rating: 4 }] } }),
      400,
      'ratings[0].movieId',
    );
    await problem(
      // JSON.parse reads 1e400 as Infinity, which is no number a rating can be.
      call(`${open}/v1/recommendations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"ratings": [{"movieId": 1, "rating": 1e400}]}',
      }),
      400,
    );
    assert.equal(await dataState(), before);
  });

  it('JSON bodies are not type-coerced; query strings are', async () => {
    const before = await dataState();
    let p = await problem(call(`${open}/v1/recommendations`, { method: 'POST', json: { k: '5' } }), 400, 'k');
    assert.match(p.detail, /body property k must be a whole number/);
    await problem(call(`${open}/v1/recommendations`, { method: 'POST', json: { watched: ['1'] } }), 400, 'watched[0]');
    p = await problem(
      call(`${open}/v1/rules/1`, { method: 'PUT', token: TOKEN, json: { action: 'promote', boost: '2' } }),
      400,
      'boost',
    );
    await problem(
      call(`${open}/v1/users`, { method: 'POST', token: TOKEN, json: { ratings: [{ movieId: 1, rating: '4' }] } }),
      400,
      'ratings[0].rating',
    );
    await problem(call(`${open}/v1/recommendations`, { method: 'POST', json: { genres: 'Comedy' } }), 400, 'genres');
    // Query strings are text: "5" is 5 there (documented).
    const ok = await call<{ items: unknown[] }>(`${open}/v1/recommendations/popular?k=5`);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.items.length, 5);
    assert.equal(await dataState(), before);
  });

  it('dates are real calendar dates, and a rule that has already expired is refused', async () => {
    const before = await dataState();
    let p = await problem(
      call(`${open}/v1/rules/1`, { method: 'PUT', token: TOKEN, json: { action: 'block', until: '2026-02-30' } }),
      400,
      'until',
    );
    assert.match(p.detail, /not a day of the calendar/);
    for (const until of ['2030-04-31', '2030-13-01', '2030-01-01T24:00:00Z', '2030-01-01T12:00:00+15:00']) {
      await problem(
        call(`${open}/v1/rules/1`, { method: 'PUT', token: TOKEN, json: { action: 'block', until } }),
        400,
        'until',
      );
    }
    p = await problem(
      call(`${open}/v1/rules/1`, { method: 'PUT', token: TOKEN, json: { action: 'block', until: '2020-01-01' } }),
      400,
      'until',
    );
    assert.match(p.detail, /has passed/);
    assert.equal(await dataState(), before);
    // The same rule for the CLI (the same service): a leap day is a day.
    const leap = await services.rules.put({ movieId: 1, action: 'block', until: '2028-02-29' });
    assert.equal(leap.until, '2028-02-29T23:59:59.999Z');
    await services.rules.remove(1);
    await assert.rejects(
      services.rules.put({ movieId: 1, action: 'block', until: '2027-02-29' }),
      (err: unknown) => err instanceof ValidationError && err.field === 'until',
    );
    assert.equal(parseInstant('2028-02-29', 'until').toISOString(), '2028-02-29T23:59:59.999Z');
    assert.equal(parseInstant('2028-02-29T10:00', 'until').toISOString(), '2028-02-29T10:00:00.000Z');
    assert.equal(parseInstant('2028-03-01T01:30+02:00', 'until').toISOString(), '2028-02-29T23:30:00.000Z');
    assert.throws(() => parseInstant('2027-02-29', 'until'), ValidationError);
  });

  it('text rejects control characters and has length limits; years are plausible', async () => {
    const before = await dataState();
    const add = (body: object) => call(`${open}/v1/movies`, { method: 'POST', token: TOKEN, json: body });
    let p = await problem(add({ title: '\u0000', genres: ['Drama'] }), 400, 'title');
    assert.match(p.detail, /control characters/);
    await problem(add({ title: 'Arri\nval (2016)', genres: ['Drama'] }), 400, 'title');
    await problem(add({ title: 'Bidi \u0085 (2016)', genres: ['Drama'] }), 400, 'title');
    await problem(add({ title: 'x'.repeat(501), genres: ['Drama'] }), 400, 'title');
    await problem(add({ title: 'Tagged (2016)', genres: ['Drama'], tags: ['ok', 'bad\u0007'] }), 400, 'tags[1]');
    await problem(add({ title: 'Genre (2016)', genres: ['Dra\u0000ma'] }), 400, 'genres[0]');
    p = await problem(add({ title: 'Far Future (3000)', genres: ['Sci-Fi'] }), 400, 'title');
    assert.match(p.detail, new RegExp(`year must be a whole number from 1870 to ${maxYear()}`));
    await problem(add({ title: 'Far Future', year: 3000, genres: ['Sci-Fi'] }), 400, 'year');
    await problem(add({ title: 'Far Past', year: 1500, genres: ['Drama'] }), 400, 'year');
    await problem(add({ title: '   ', genres: ['Drama'] }), 400, 'title');
    await problem(
      call(`${open}/v1/rules/1`, { method: 'PUT', token: TOKEN, json: { action: 'block', reason: 'a\u0000b' } }),
      400,
      'reason',
    );
    await problem(call(`${open}/v1/movies?q=${encodeURIComponent('ma\u0001trix')}`), 400, 'q');
    assert.equal(await dataState(), before);
    // The services say the same to the CLI.
    await assert.rejects(
      services.catalogue.addMovie({ title: 'Nul\u0000 (2016)', genres: ['Drama'] }),
      (err: unknown) => err instanceof ValidationError && err.field === 'title',
    );
    await assert.rejects(
      services.rules.put({ movieId: 1, action: 'block', reason: 'tab\there' }),
      (err: unknown) => err instanceof ValidationError && err.field === 'reason',
    );
    assert.equal(await dataState(), before);
  });

  it('an empty ratings list: one rule for storing ratings, on every route and in the services', async () => {
    const before = await dataState();
    const create = await problem(
      call(`${open}/v1/users`, { method: 'POST', token: TOKEN, json: { ratings: [] } }),
      400,
      'ratings',
    );
    const rate = await problem(
      call(`${open}/v1/users/1/ratings`, { method: 'POST', token: TOKEN, json: { ratings: [] } }),
      400,
      'ratings',
    );
    assert.equal(create.detail, rate.detail);
    for (const write of [() => services.viewers.addUser([]), () => services.viewers.rate(1, [])]) {
      await assert.rejects(write(), (err: unknown) => err instanceof ValidationError && err.field === 'ratings');
    }
    // An anonymous viewer's ratings are context, not a write: none is simply nothing known (cold start).
    const anonymous = await call<{ scenario: string }>(`${open}/v1/recommendations`, {
      method: 'POST',
      json: { ratings: [] },
    });
    assert.equal(anonymous.status, 200);
    assert.equal(anonymous.body.scenario, 'cold-start');
    assert.equal(await dataState(), before);
  });
});

describe('errors before a route are problem+json', () => {
  it('431 headers too large, 400 malformed HTTP, 400 undecodable URL, 414 long parameter, 404', async () => {
    const big = await raw(base, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.equal(big.status, 431, big.headers);
    assert.match(big.headers, /application\/problem\+json/);
    assert.equal((JSON.parse(big.body) as Problem).status, 431);
    const garbage = await raw(base, 'HELLO THERE\r\n\r\n');
    assert.equal(garbage.status, 400, garbage.headers);
    assert.match(garbage.headers, /application\/problem\+json/);
    await problem(call(`${base}/v1/movies/%E0%A4%A`), 400);
    // A path parameter over the router's limit: 414 (a GET under /v1 falls to the page's catch-all: 404).
    await problem(call(`${base}/v1/rules/${'1'.repeat(150)}`, { method: 'PUT', token: TOKEN, json: {} }), 414);
    await problem(call(`${base}/v1/evaluations/${'a'.repeat(150)}`), 404);
    await problem(call(`${base}/v1/nothing-here`), 404);
    await problem(call(`${base}/v1/rules`, { method: 'PATCH' }), 404);
  });
});

describe('resource limits', () => {
  it('a client that sends its headers or its body too slowly gets a 408 and is disconnected', async () => {
    const app = await serve({ limits: { headersTimeout: 1000, requestTimeout: 1500 } });
    const url = urlOf(app);
    const headers = slowClient(url, 'GET /health HTTP/1.1\r\nHost: x\r\n');
    const body = slowClient(
      url,
      'POST /v1/recommendations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"k"',
    );
    for (const answer of [await headers.closed, await body.closed]) {
      assert.match(answer, /^HTTP\/1\.1 408/, answer);
      assert.match(answer, /application\/problem\+json/);
    }
  });

  it('slow clients do not keep others waiting; beyond the connection cap new connections are closed', async () => {
    const app = await serve({ limits: { maxConnections: 40 } });
    const url = urlOf(app);
    const slow = Array.from({ length: 30 }, () => slowClient(url, 'GET /health HTTP/1.1\r\nHost: x\r\n'));
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 5; i++) assert.equal((await call(`${url}/health`)).status, 200);
    const more = Array.from({ length: 15 }, () => slowClient(url, 'GET /health HTTP/1.1\r\nHost: x\r\n'));
    // At most 40 open: of the 15 more, at least 5 are closed at once without an answer.
    const closedEarly = (
      await Promise.all(more.map((m) => Promise.race([m.closed.then(() => 1), delay(3000, 0)])))
    ).reduce((a, b) => a + b, 0);
    assert.ok(closedEarly >= 5, `${closedEarly} of 15 connections over the cap were closed`);
    for (const s of [...slow, ...more]) s.socket.destroy();
  });

  it('stopping drains requests in flight and then closes the connections slow clients hold', async () => {
    // A popular list that takes 400 ms: in flight when the server is told to stop.
    const catalogue = new Proxy(services.catalogue, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'popularList' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          await delay(400, null);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const app = await serve({}, { ...services, catalogue });
    const url = urlOf(app);
    const slow = Array.from({ length: 20 }, () =>
      slowClient(url, 'POST /v1/recommendations HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{'),
    );
    const inFlight = call(`${url}/v1/recommendations/popular?k=3`);
    await delay(200, null);
    await stopServer(app, 1500);
    assert.equal((await inFlight).status, 200);
    await Promise.all(slow.map((s) => s.closed));
  });
});

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((r) => setTimeout(() => r(value), ms).unref());
}

describe('storage faults', () => {
  it('DuckDB errors become 507 (full disk) or 503 (read-only, I/O, invalidated) without the path', () => {
    const full = storageFault(
      new Error(
        'TransactionContext Error: Failed to commit: Could not write file "/x/s.duckdb.wal": No space left on device',
      ),
    );
    assert.ok(full instanceof StorageFullError, 'a full disk');
    assert.ok(!full.message.includes('/x/'), full.message);
    assert.match(String((full.cause as Error).message), /No space left/);
    const ro = storageFault(new Error('IO Error: Could not write file "/x/s.duckdb": Read-only file system'));
    assert.ok(ro instanceof StorageUnavailableError && !(ro instanceof StorageFullError), 'read-only');
    assert.match(ro.message, /read-only/);
    const dead = storageFault(new Error('FATAL Error: Failed: database has been invalidated because of a previous'));
    assert.ok(dead instanceof StorageUnavailableError, 'invalidated');
    assert.equal(storageFault(new Error('Constraint Error: Duplicate key "movie_id: 1"')), null);
    assert.equal(storageFault(new Error('Parser Error: syntax error at or near "SELEC"')), null);
  });

  it("a failed transaction reports its own error, never the rollback's", async () => {
    const db = await Db.open(':memory:');
    try {
      await db.run('CREATE TABLE t (a INTEGER)');
      // The transaction ends inside fn (as a failed COMMIT ends it): ROLLBACK then fails, and must not be reported.
      await assert.rejects(
        db.transaction(async () => {
          await db.run('INSERT INTO t VALUES (1)');
          await db.conn.run('COMMIT');
          throw new Error('the real cause');
        }),
        /the real cause/,
      );
      await assert.rejects(
        db.transaction(async () => {
          await db.run('INSERT INTO t VALUES (2)');
          throw new Error('rolled back');
        }),
        /rolled back/,
      );
      assert.deepEqual(await db.all('SELECT a FROM t ORDER BY a'), [{ a: 1 }]);
    } finally {
      db.close();
    }
  });

  it('the API answers 507 / 503 problem+json with Retry-After and logs the cause; writes work again after', async () => {
    let fault: Error | null = null;
    const faulty = new Proxy(store as Store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (fault && ['putRule', 'addUser', 'putRatings', 'addMovie', 'userRatings'].includes(String(prop)))
            return Promise.reject(fault);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const lines: string[] = [];
    const logger = {
      level: 'info',
      fatal: () => {},
      error: (o: unknown, msg?: string) => lines.push(`${msg ?? ''} ${JSON.stringify(o)}`),
      warn: () => {},
      info: () => {},
      debug: () => {},
      trace: () => {},
      silent: () => {},
      child() {
        return this;
      },
    };
    const app = await serve(
      { logger: logger as unknown as ServerOptions['logger'] },
      await loadServices(faulty, fixture.config),
    );
    const url = urlOf(app);
    const before = await dataState();
    fault = storageFault(
      new Error('Failed to commit: Could not write file "/srv/data/cinerec.duckdb.wal": No space left on device'),
    );
    let p = await problem(call(`${url}/v1/rules/1`, { method: 'PUT', token: TOKEN, json: { action: 'block' } }), 507);
    assert.ok(!p.detail.includes('/srv/'), p.detail);
    const res = await call(`${url}/v1/users`, {
      method: 'POST',
      token: TOKEN,
      json: { ratings: [{ movieId: 1, rating: 4 }] },
    });
    assert.equal(res.status, 507);
    assert.ok(res.res.headers.get('retry-after'), 'Retry-After');
    assert.ok(
      lines.some((l) => /No space left on device/.test(l)),
      `the log names the real cause: ${lines.join('\n')}`,
    );
    fault = storageFault(new Error('IO Error: Could not write file "/srv/x": Read-only file system'));
    p = await problem(call(`${url}/v1/rules/1`, { method: 'PUT', token: TOKEN, json: { action: 'block' } }), 503);
    assert.equal(await dataState(), before);
    fault = null;
    const put = await call(`${url}/v1/rules/1`, { method: 'PUT', token: TOKEN, json: { action: 'block' } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal((await call(`${url}/v1/rules/1`, { method: 'DELETE', token: TOKEN })).status, 204);
  });
});

describe('access control', () => {
  it('with a reader token, per-user data needs the reader or the admin token', async () => {
    for (const path of [
      '/v1/users/1',
      '/v1/users/1/predictions?movies=1',
      '/v1/users/1/segment',
      '/v1/users/1/recommendations',
    ]) {
      await problem(call(`${base}${path}`), 401);
      await problem(call(`${base}${path}`, { token: 'wrong-token-0123456789abcdef' }), 401);
      assert.equal((await call(`${base}${path}`, { token: READER })).status, 200, path);
      assert.equal((await call(`${base}${path}`, { token: TOKEN })).status, 200, path);
      // Without a reader token the server is public, as before.
      assert.equal((await call(`${open}${path}`)).status, 200, path);
    }
    await problem(call(`${base}/v1/recommendations`, { method: 'POST', json: { userId: 1 } }), 401);
    const reader = await call(`${base}/v1/recommendations`, { method: 'POST', json: { userId: 1 }, token: READER });
    assert.equal(reader.status, 200);
    assert.equal((await call(`${base}/v1/recommendations`, { method: 'POST', json: { watched: [1] } })).status, 200);
    assert.equal((await call(`${base}/v1/movies/1`)).status, 200);
    const p = await problem(
      call(`${base}/v1/rules/1`, { method: 'PUT', token: READER, json: { action: 'block' } }),
      403,
    );
    assert.match(p.detail, /reader token cannot change data/);
  });

  it('tokens are checked at start-up', () => {
    const load = (env: Record<string, string>) => () => loadConfig({ cwd: fixture.dir, env });
    assert.throws(load({ CINEREC_ADMIN_TOKEN: 'has a space-0123456789' }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, 'a ConfigError');
      assert.match(err.message, /CINEREC_ADMIN_TOKEN: .*whitespace/);
      return true;
    });
    assert.throws(load({ CINEREC_ADMIN_TOKEN: 'short' }), /CINEREC_ADMIN_TOKEN: a token must be 16 to 512/);
    assert.throws(load({ CINEREC_READER_TOKEN: 'naïve-token-0123456789' }), /CINEREC_READER_TOKEN/);
    assert.throws(load({ CINEREC_ADMIN_TOKEN: TOKEN, CINEREC_READER_TOKEN: TOKEN }), /must differ/);
    const { secrets } = loadConfig({
      cwd: fixture.dir,
      env: { CINEREC_ADMIN_TOKEN: ` ${TOKEN}\n`, CINEREC_READER_TOKEN: READER },
    });
    assert.deepEqual(secrets, { adminToken: TOKEN, readerToken: READER });
  });

  it('no answer names a server path', async () => {
    const roots = [fixture.dir, PROJECT_ROOT];
    const info = await call<{ dataset: { sourceDir: string } }>(`${base}/v1/info`);
    assert.equal(info.body.dataset.sourceDir, 'ml-latest-small');
    const runs = await call<{ runs: { id: string }[] }>(`${base}/v1/runs?all=true&limit=1000`);
    const answers = [JSON.stringify(info.body), JSON.stringify(runs.body)];
    for (const r of runs.body.runs.slice(0, 40))
      answers.push(JSON.stringify((await call(`${base}/v1/runs/${r.id}`)).body));
    for (const path of ['/v1/models', '/v1/evaluations', '/openapi.json', '/health'])
      answers.push(JSON.stringify((await call(`${base}${path}`)).body));
    for (const text of answers)
      for (const root of roots) assert.ok(!text.includes(root), `${root} in ${text.slice(0, 300)}`);
  });

  it('security headers, with a content security policy for the page and its own for /docs', async () => {
    const page = await fetch(`${base}/`);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'/);
    assert.ok(!/unsafe-inline|unsafe-eval/.test(csp), csp);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(page.headers.get('x-frame-options'), 'x-frame-options');
    const api = await fetch(`${base}/v1/genres`);
    assert.equal(api.headers.get('x-content-type-options'), 'nosniff');
    const docs = await fetch(`${base}/docs/`);
    assert.equal(docs.status, 200);
    const docsCsp = docs.headers.get('content-security-policy') ?? '';
    assert.match(docsCsp, /script-src 'self'/);
    assert.ok(!docsCsp.includes('upgrade-insecure-requests'), 'plain HTTP: requests are not upgraded');
  });

  it('rate limits on public POSTs and on writes (refused writes count), 429 problem+json with Retry-After', async () => {
    const url = urlOf(await serve({ rateLimit: { window: 60_000, publicPosts: 3, writes: 2 } }));
    for (let i = 0; i < 3; i++)
      assert.equal((await call(`${url}/v1/recommendations`, { method: 'POST', json: {} })).status, 200);
    const limited = call(`${url}/v1/recommendations`, { method: 'POST', json: {} });
    assert.ok((await limited).res.headers.get('retry-after'), 'Retry-After');
    await problem(call(`${url}/v1/recommendations`, { method: 'POST', json: {} }), 429);
    // Reads are not limited.
    assert.equal((await call(`${url}/v1/genres`)).status, 200);
    await problem(call(`${url}/v1/rules/1`, { method: 'DELETE', token: 'wrong-token-0123456789abcdef' }), 401);
    await problem(call(`${url}/v1/rules/1`, { method: 'DELETE', token: 'wrong-token-0123456789abcdef' }), 401);
    await problem(call(`${url}/v1/rules/1`, { method: 'DELETE', token: TOKEN }), 429);
  });

  it('behind a trusted load balancer each forwarded client has its own limit; an untrusted header is ignored', async () => {
    const post = (url: string, client: string) =>
      call(`${url}/v1/recommendations`, { method: 'POST', json: {}, headers: { 'x-forwarded-for': client } });
    const limits = { window: 60_000, publicPosts: 1, writes: 0 };
    const trusted = urlOf(await serve({ rateLimit: limits, trustProxy: ['127.0.0.1'] }));
    assert.equal((await post(trusted, '203.0.113.1')).status, 200);
    await problem(post(trusted, '203.0.113.1'), 429);
    assert.equal((await post(trusted, '203.0.113.2')).status, 200);
    const untrusted = urlOf(await serve({ rateLimit: limits, trustProxy: [] }));
    assert.equal((await post(untrusted, '203.0.113.1')).status, 200);
    await problem(post(untrusted, '203.0.113.2'), 429);
  });
});

describe('jobs', () => {
  it('POST /v1/models/retrain while one runs answers 409 with the running job', async () => {
    let finish: () => void = () => {};
    let retraining = false;
    const models: ModelControl = {
      activate: async () => {},
      rollback: async () => 'v0001',
      canRetrain: async () => {},
      retrain: () => {
        retraining = true;
        return new Promise((resolve) => {
          finish = () => {
            retraining = false;
            const at = new Date().toISOString();
            resolve({ status: 'kept', version: null, message: 'test', startedAt: at, finishedAt: at });
          };
        });
      },
      status: async () => ({ retraining, lastRetrain: null }),
      snapshot: async () => ({ path: '', fingerprint: '' }),
    } as ModelControl;
    const url = urlOf(await serve({ models }));
    const started = await call<{ started: boolean }>(`${url}/v1/models/retrain?wait=false`, {
      method: 'POST',
      token: TOKEN,
    });
    assert.equal(started.status, 202);
    const again = await problem(call(`${url}/v1/models/retrain?wait=false`, { method: 'POST', token: TOKEN }), 409);
    assert.equal(again.job?.kind, 'retrain');
    assert.equal(again.job?.status, 'running');
    assert.ok(again.job?.startedAt, 'the running job says when it started');
    await problem(call(`${url}/v1/models/retrain`, { method: 'POST', token: TOKEN }), 409);
    finish();
    await delay(50, null);
    assert.equal((await call(`${url}/v1/models/retrain?wait=false`, { method: 'POST', token: TOKEN })).status, 202);
    finish();
  });
});
