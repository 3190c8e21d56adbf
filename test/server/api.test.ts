/**
 * End-to-end API tests: the real ml-latest-small imported once into a temporary DuckDB store, real
 * servers on ephemeral ports, real HTTP through fetch.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.ts';
import { loadServices, type Services } from '../../src/serving/services.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import { forbidFitting } from '../../src/util/fit-guard.ts';
import { realData } from '../helpers/real-data.ts';
import { type Trained, trained } from '../helpers/trained.ts';

const TOKEN = 'test-admin-token-0123456789';
const SMALL_BODY_LIMIT = 4096;

// Every assert.ok carries a message: without one, Node re-parses the source to build it, which
// under tsx can take minutes.

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  field?: string;
}

interface Recommended {
  movieId: number;
  displayTitle: string;
  genres: string[];
  score: number;
  promoted: boolean;
}

interface PopularBody {
  genres: string[];
  match: string;
  items: Recommended[];
}

let fixture: Trained;
let store: DuckDbStore;
let services: Services;
const servers: FastifyInstance[] = [];
let base: string;
let baseNoAdmin: string;
let baseSmall: string;

async function listen(server: FastifyInstance): Promise<string> {
  servers.push(server);
  await server.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
}

async function get<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T; res: Response }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, res };
}

function auth(token = TOKEN): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

function putRule(body: unknown, movieId: number, headers: Record<string, string> = auth(), baseUrl = base) {
  return get<Problem & Record<string, unknown>>(`${baseUrl}/v1/rules/${movieId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** Asserts a problem+json response and returns its body. */
async function expectProblem(
  response: Promise<{ status: number; body: unknown; res: Response }>,
  status: number,
): Promise<Problem> {
  const { status: got, body, res } = await response;
  assert.equal(got, status, `expected ${status}, got ${got}: ${JSON.stringify(body)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const p = body as Problem;
  assert.equal(p.status, status);
  assert.equal(typeof p.type, 'string');
  assert.equal(typeof p.title, 'string');
  assert.ok(p.detail.length > 0, 'detail is set');
  assert.ok(!/\bat .+:\d+:\d+/.test(JSON.stringify(p)), 'no stack trace');
  return p;
}

before(async () => {
  fixture = await trained('ml-latest-small', await realData('ml-latest-small'));
  store = await DuckDbStore.open(fixture.config.store.path);
  // The server only loads what training saved: any fit from here on fails the test.
  forbidFitting('the API tests');
  services = await loadServices(store, fixture.config);
  base = await listen(await buildServer(services, { adminToken: TOKEN, logger: false }));
  baseNoAdmin = await listen(await buildServer(services, { adminToken: null, logger: false }));
  baseSmall = await listen(
    await buildServer(services, { adminToken: TOKEN, logger: false, bodyLimit: SMALL_BODY_LIMIT }),
  );
});

after(async () => {
  for (const s of servers) await s.close();
  await store?.close();
  await fixture?.cleanup();
});

describe('system routes', () => {
  it('GET /health', async () => {
    const { status, body } = await get<Record<string, unknown>>(`${base}/health`);
    assert.equal(status, 200);
    assert.equal(body.status, 'ok');
    assert.equal(body.dataset, 'ml-latest-small');
    assert.equal(body.movies, 9742);
    assert.equal(body.ratings, 100836);
    assert.equal(typeof body.uptimeSeconds, 'number');
  });

  it('GET /v1/info', async () => {
    const { status, body } = await get<{
      dataset: { name: string };
      counts: { movies: number; ratings: number; users: number };
      ratingHistogram: { rating: number; count: number }[];
      genomeCoverage: number;
    }>(`${base}/v1/info`);
    assert.equal(status, 200);
    assert.equal(body.dataset.name, 'ml-latest-small');
    assert.equal(body.counts.users, 610);
    assert.equal(
      body.ratingHistogram.reduce((s, b) => s + b.count, 0),
      body.counts.ratings,
    );
    assert.equal(body.genomeCoverage, 0);
  });

  it('GET /v1/genres', async () => {
    const { status, body } = await get<{ items: { genre: string; movies: number }[] }>(`${base}/v1/genres`);
    assert.equal(status, 200);
    assert.deepEqual(body.items[0], { genre: 'Drama', movies: 4361 });
    assert.ok(body.items.some((g) => g.genre === 'Sci-Fi'));
  });
});

describe('movies', () => {
  it('GET /v1/movies/2571 is The Matrix', async () => {
    const { status, body } = await get<Record<string, unknown> & { genres: string[]; popularity: { rank: number } }>(
      `${base}/v1/movies/2571`,
    );
    assert.equal(status, 200);
    assert.equal(body.displayTitle, 'The Matrix');
    assert.equal(body.title, 'Matrix, The (1999)');
    assert.equal(body.year, 1999);
    assert.ok(body.genres.includes('Sci-Fi'));
    assert.equal(body.imdbId, 'tt0133093');
    assert.equal(body.tmdbId, 603);
    assert.equal(body.imdbUrl, 'https://www.imdb.com/title/tt0133093/');
    assert.equal(body.tmdbUrl, 'https://www.themoviedb.org/movie/603');
    assert.ok(Array.isArray(body.topTags) && body.topTags.length > 0, 'has top tags');
    assert.ok(body.popularity.rank >= 1 && body.popularity.rank <= 20, `rank ${body.popularity.rank}`);
    assert.equal(body.rule, null);
  });

  it('unknown id is a 404, non-integer id a 400', async () => {
    const p404 = await expectProblem(get(`${base}/v1/movies/999999999`), 404);
    assert.match(p404.detail, /999999999/);
    assert.equal(p404.instance, '/v1/movies/999999999');
    const p400 = await expectProblem(get(`${base}/v1/movies/abc`), 400);
    assert.equal(p400.field, 'id');
    assert.match(p400.detail, /path parameter id must be a whole number/);
    await expectProblem(get(`${base}/v1/movies/1.5`), 400);
  });

  it('search "matrix" puts The Matrix first', async () => {
    const { status, body } = await get<{
      query: string;
      total: number;
      offset: number;
      limit: number;
      items: { movieId: number; displayTitle: string }[];
    }>(`${base}/v1/movies?q=matrix`);
    assert.equal(status, 200);
    assert.equal(body.query, 'matrix');
    assert.equal(body.offset, 0);
    assert.equal(body.limit, 20);
    assert.ok(body.total >= 3, `total ${body.total}`);
    assert.equal(body.items[0]?.movieId, 2571);
    assert.equal(body.items[0]?.displayTitle, 'The Matrix');
  });

  it('search pages and is accent-insensitive', async () => {
    const page = await get<{ total: number; offset: number; limit: number; items: unknown[] }>(
      `${base}/v1/movies?q=matrix&limit=1&offset=1`,
    );
    assert.equal(page.body.limit, 1);
    assert.equal(page.body.offset, 1);
    assert.equal(page.body.items.length, 1);
    const { body } = await get<{ items: { displayTitle: string }[] }>(`${base}/v1/movies?q=amelie`);
    assert.ok(
      body.items.some((m) => m.displayTitle.includes('Amélie')),
      `Amélie found: ${JSON.stringify(body.items)}`,
    );
  });

  it('search parameters are validated', async () => {
    let p = await expectProblem(get(`${base}/v1/movies`), 400);
    assert.equal(p.detail, 'querystring parameter q is required');
    assert.equal(p.field, 'q');
    p = await expectProblem(get(`${base}/v1/movies?q=`), 400);
    assert.match(p.detail, /q must not be empty/);
    p = await expectProblem(get(`${base}/v1/movies?q=a&limit=101`), 400);
    assert.equal(p.detail, 'querystring parameter limit must be <= 100');
    p = await expectProblem(get(`${base}/v1/movies?q=a&limit=0`), 400);
    assert.equal(p.detail, 'querystring parameter limit must be >= 1');
  });
});

async function popular(query: string): Promise<PopularBody> {
  const { status, body } = await get<PopularBody>(`${base}/v1/recommendations/popular?${query}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

describe('popular recommendations', () => {
  it('Comedy k=5: five comedies by descending score', async () => {
    const body = await popular('genres=Comedy&k=5');
    assert.deepEqual(body.genres, ['Comedy']);
    assert.equal(body.items.length, 5);
    for (const m of body.items) assert.ok(m.genres.includes('Comedy'), m.displayTitle);
    for (let i = 1; i < body.items.length; i++) assert.ok(body.items[i - 1]!.score >= body.items[i]!.score, 'sorted');
    assert.ok(
      body.items.every((m) => !m.promoted),
      'nothing promoted',
    );
  });

  it('match=all keeps only movies with every genre; commas and repeats both work', async () => {
    const all = await popular('genres=Comedy,Romance&match=all&k=20');
    assert.equal(all.match, 'all');
    assert.equal(all.items.length, 20);
    for (const m of all.items) assert.ok(m.genres.includes('Comedy') && m.genres.includes('Romance'), m.displayTitle);
    const repeated = await popular('genres=comedy&genres=ROMANCE&match=all&k=20');
    assert.deepEqual(repeated.genres, ['Comedy', 'Romance']);
    assert.deepEqual(
      repeated.items.map((m) => m.movieId),
      all.items.map((m) => m.movieId),
    );
    // 'any' ranks movies with both genres first (tiers), then those with one of them.
    const any = await popular('genres=Sci-Fi,Romance&k=200');
    const has = (m: Recommended, g: string) => m.genres.includes(g);
    const both = (m: Recommended) => has(m, 'Sci-Fi') && has(m, 'Romance');
    assert.ok(
      any.items.every((m) => has(m, 'Sci-Fi') || has(m, 'Romance')),
      'every item has one of the genres',
    );
    const firstSingle = any.items.findIndex((m) => !both(m));
    assert.ok(firstSingle > 0, `some movies have both genres, then some only one (${firstSingle})`);
    assert.ok(
      any.items.slice(firstSingle).every((m) => !both(m)),
      'movies with both genres come first',
    );
  });

  it('default k and no genre filter', async () => {
    const body = await popular('');
    assert.equal(body.items.length, services.served.config.recommend.defaultK);
    assert.deepEqual(body.genres, []);
  });

  it('bad k, bad match and unknown genre are 400 problems', async () => {
    let p = await expectProblem(get(`${base}/v1/recommendations/popular?k=0`), 400);
    assert.equal(p.detail, 'querystring parameter k must be >= 1');
    assert.equal(p.field, 'k');
    p = await expectProblem(get(`${base}/v1/recommendations/popular?k=abc`), 400);
    assert.equal(p.detail, 'querystring parameter k must be a whole number');
    p = await expectProblem(get(`${base}/v1/recommendations/popular?k=100000`), 400);
    assert.match(p.detail, /k must be <= 500/);
    p = await expectProblem(get(`${base}/v1/recommendations/popular?match=some`), 400);
    assert.equal(p.detail, 'querystring parameter match must be one of: any, all');
    p = await expectProblem(get(`${base}/v1/recommendations/popular?genres=Comedy,Cartoons`), 400);
    assert.equal(p.field, 'genres');
    assert.match(p.detail, /unknown genre "Cartoons"/);
    assert.match(p.detail, /valid genres: .*Comedy.*Sci-Fi/);
  });
});

describe('rules', () => {
  it('rejects bad bodies with 400s that name the property', async () => {
    const movieId = 1;
    let p = await expectProblem(putRule({ action: 'hide' }, movieId), 400);
    assert.equal(p.detail, 'body property action must be one of: block, promote');
    assert.equal(p.field, 'action');
    p = await expectProblem(putRule({ action: 'promote', boost: 0 }, movieId), 400);
    assert.equal(p.detail, 'body property boost must be > 0');
    p = await expectProblem(putRule({ action: 'promote', boost: -2 }, movieId), 400);
    assert.equal(p.field, 'boost');
    p = await expectProblem(putRule({ action: 'block', until: 'next tuesday' }, movieId), 400);
    assert.equal(p.field, 'until');
    assert.match(p.detail, /until must be an ISO 8601 date/);
    p = await expectProblem(putRule({ action: 'block', until: '2026-13-45' }, movieId), 400);
    assert.equal(p.field, 'until');
    p = await expectProblem(putRule({ action: 'block', reason: 'x'.repeat(501) }, movieId), 400);
    assert.match(p.detail, /reason must be at most 500 characters/);
    p = await expectProblem(putRule({ action: 'block', boots: 2 }, movieId), 400);
    assert.match(p.detail, /unknown property "boots"/);
    p = await expectProblem(putRule({}, movieId), 400);
    assert.equal(p.detail, 'body property action is required');
    p = await expectProblem(putRule({ action: 'block' }, 999999999), 404);
    p = await expectProblem(putRule({ action: 'block' }, Number.NaN), 400);
    const notJson = get(`${base}/v1/rules/1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...auth() },
      body: '{"action":',
    });
    p = await expectProblem(notJson, 400);
    assert.match(p.detail, /not valid JSON/);
    assert.deepEqual((await get<{ items: unknown[] }>(`${base}/v1/rules`)).body.items, []);
  });

  it('needs a valid bearer token (401) and is disabled without one (403)', async () => {
    for (const headers of [{}, auth('wrong-token'), { authorization: 'Basic dXNlcjpwYXNz' }]) {
      const put = await putRule({ action: 'block' }, 1, headers);
      assert.equal(put.status, 401);
      assert.match(put.res.headers.get('www-authenticate') ?? '', /^Bearer/);
      const del = await get(`${base}/v1/rules/1`, { method: 'DELETE', headers });
      assert.equal(del.status, 401);
      assert.match(del.res.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
    await expectProblem(putRule({ action: 'block' }, 1, {}), 401);
    const p = await expectProblem(putRule({ action: 'block' }, 1, auth(), baseNoAdmin), 403);
    assert.match(p.detail, /mutations are disabled/);
    assert.match(p.detail, /CINEREC_ADMIN_TOKEN/);
    await expectProblem(get(`${baseNoAdmin}/v1/rules/1`, { method: 'DELETE', headers: auth() }), 403);
    // Reads stay open on both servers.
    assert.equal((await get(`${baseNoAdmin}/v1/rules`)).status, 200);
  });

  it('rejects oversize bodies (413) and non-JSON content (415)', async () => {
    const big = { action: 'block', reason: 'x'.repeat(SMALL_BODY_LIMIT * 2) };
    const p413 = await expectProblem(putRule(big, 1, auth(), baseSmall), 413);
    assert.match(p413.detail, new RegExp(`limit of ${SMALL_BODY_LIMIT} bytes`));
    const p415 = await expectProblem(
      get(`${base}/v1/rules/1`, {
        method: 'PUT',
        headers: { 'content-type': 'text/plain', ...auth() },
        body: 'block',
      }),
      415,
    );
    assert.match(p415.detail, /application\/json/);
  });

  it('block, promote, expired promote and delete change the popular list', async () => {
    const original = await popular('genres=Comedy&k=30');
    const top = original.items[0]!;

    // Block the #1 comedy: it disappears.
    const blocked = await putRule({ action: 'block', reason: 'test block' }, top.movieId);
    assert.equal(blocked.status, 200, JSON.stringify(blocked.body));
    assert.equal(blocked.body.action, 'block');
    assert.equal(blocked.body.active, true);
    assert.equal(blocked.body.reason, 'test block');
    let now = await popular('genres=Comedy&k=30');
    assert.ok(!now.items.some((m) => m.movieId === top.movieId), 'blocked movie is gone');
    assert.equal(now.items[0]!.movieId, original.items[1]!.movieId);
    const details = await get<{ rule: { action: string } | null }>(`${base}/v1/movies/${top.movieId}`);
    assert.equal(details.body.rule?.action, 'block');

    // Promote the #20 comedy: it moves up and is flagged.
    const low = original.items[19]!;
    const promoted = await putRule({ action: 'promote', boost: 1.5 }, low.movieId);
    assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
    assert.equal(promoted.body.boost, 1.5);
    now = await popular('genres=Comedy&k=30');
    const at = now.items.findIndex((m) => m.movieId === low.movieId);
    assert.ok(at >= 0 && at < 19, `promoted movie at ${at}`);
    assert.equal(now.items[at]!.promoted, true);

    // A rule that has already expired would never apply: refused with a 400 (issue 15; it used to be stored
    // inactive), and nothing changes. A rule that expires later stops applying then (test/recommend/rules.test.ts).
    const other = original.items[24]!;
    const expired = await expectProblem(
      putRule({ action: 'promote', boost: 3, until: '2020-01-01' }, other.movieId),
      400,
    );
    assert.equal(expired.field, 'until');
    assert.match(expired.detail, /has passed/);
    const later = await putRule({ action: 'promote', boost: 3, until: '2999-12-31' }, other.movieId);
    assert.equal(later.status, 200, JSON.stringify(later.body));
    assert.equal(later.body.active, true);
    assert.equal(later.body.until, '2999-12-31T23:59:59.999Z');
    const afterExpired = await popular('genres=Comedy&k=30');
    assert.ok(
      afterExpired.items.some((m) => m.movieId === other.movieId && m.promoted),
      'the later rule applies',
    );

    const rules = await get<{ items: { movieId: number; active: boolean; title: string }[] }>(`${base}/v1/rules`);
    assert.deepEqual(
      rules.body.items.map((r) => r.movieId).sort((a, b) => a - b),
      [...[top.movieId, low.movieId, other.movieId].sort((a, b) => a - b)],
    );
    assert.ok(rules.body.items.every((r) => typeof r.title === 'string'));

    // Deleting every rule restores the original list.
    for (const id of [top.movieId, low.movieId, other.movieId]) {
      const del = await fetch(`${base}/v1/rules/${id}`, { method: 'DELETE', headers: auth() });
      assert.equal(del.status, 204);
      assert.equal(await del.text(), '');
    }
    assert.deepEqual((await popular('genres=Comedy&k=30')).items, original.items);
    const gone = await expectProblem(
      get(`${base}/v1/rules/${top.movieId}`, { method: 'DELETE', headers: auth() }),
      404,
    );
    assert.match(gone.detail, /no rule for movie/);
  });
});

describe('errors and docs', () => {
  it('unknown routes are 404 problems', async () => {
    const p = await expectProblem(get(`${base}/v1/nope?x=1`), 404);
    assert.equal(p.detail, 'no route for GET /v1/nope');
    assert.equal(p.instance, '/v1/nope');
    await expectProblem(get(`${base}/v1/movies/1`, { method: 'POST' }), 404);
  });

  it('unexpected failures are 500 problems that leak nothing', async () => {
    // Same data, but a store whose counts() fails the way a broken disk would.
    const broken = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'counts') {
          return async () => {
            throw new Error('IO Error: cannot read /secret/path/api.duckdb');
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    const url = await listen(
      await buildServer(await loadServices(broken, fixture.config), { adminToken: TOKEN, logger: false }),
    );
    for (const route of ['/health', '/v1/info']) {
      const res = get(`${url}${route}`);
      const p = await expectProblem(res, 500);
      assert.equal(p.instance, route);
      assert.ok(!p.detail.includes('secret') && !p.detail.includes('IO Error'), p.detail);
    }
    assert.equal((await get(`${url}/v1/genres`)).status, 200);
  });

  it('GET /openapi.json documents every route and the bearer scheme', async () => {
    const { status, body } = await get<{
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, { security?: Record<string, string[]>[]; responses: object }>>;
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
    }>(`${base}/openapi.json`);
    assert.equal(status, 200);
    assert.match(body.openapi, /^3\./);
    assert.equal(body.info.title, 'cinerec API');
    assert.equal(body.info.version, '0.1.0');
    const expected: [string, string][] = [
      ['/health', 'get'],
      ['/v1/info', 'get'],
      ['/v1/genres', 'get'],
      ['/v1/movies', 'get'],
      ['/v1/movies/{id}', 'get'],
      ['/v1/recommendations/popular', 'get'],
      ['/v1/rules', 'get'],
      ['/v1/rules/{movieId}', 'put'],
      ['/v1/rules/{movieId}', 'delete'],
    ];
    for (const [p, m] of expected) assert.ok(body.paths[p]?.[m], `${m.toUpperCase()} ${p} documented`);
    const schemes = Object.entries(body.components.securitySchemes);
    const bearer = schemes.find(([, s]) => s.type === 'http' && s.scheme === 'bearer');
    assert.ok(bearer, 'bearer security scheme');
    for (const m of ['put', 'delete']) {
      const op = body.paths['/v1/rules/{movieId}']![m]!;
      assert.deepEqual(op.security, [{ [bearer[0]]: [] }]);
      assert.ok('401' in op.responses && '403' in op.responses);
    }
    assert.equal(body.paths['/v1/rules']!.get!.security, undefined);
    assert.ok(!('/openapi.json' in body.paths) && !Object.keys(body.paths).some((p) => p.startsWith('/docs')));
  });

  it('/docs serves the UI and its assets locally', async () => {
    const html = await fetch(`${base}/docs/`);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    const page = await html.text();
    assert.match(page, /swagger-ui/i);
    assert.ok(!/https?:\/\/(cdn|unpkg)/.test(page), 'no CDN');
    const css = await fetch(`${base}/docs/static/swagger-ui.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /text\/css/);
    assert.ok((await css.text()).length > 1000, 'css has content');
  });
});
