/**
 * The server side of the web page, on fixtures/genome trained (the server loads the version): the built page at / with
 * deep links, API 404s kept as problems, cached and pre-compressed assets; the 2-D projection of
 * the content vectors and a movie's segment; and the principal plane itself on data with a known
 * answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Rng } from '../../src/math/random.ts';
import { principalPlane, project } from '../../src/models/projection.ts';
import { buildServer } from '../../src/server/app.ts';
import { loadServices } from '../../src/serving/services.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import { allowFitting, forbidFitting } from '../../src/util/fit-guard.ts';
import type { MovieDetails, MovieProjection, MovieSegmentOf, MovieSegments } from '../../web/src/types.ts';
import { trainedGenome } from '../helpers/genome-trained.ts';
import type { Trained } from '../helpers/trained.ts';
import { requirePrerequisites } from './harness.ts';

let fixture: Trained;
let store: DuckDbStore;
let app: FastifyInstance;

before(async () => {
  requirePrerequisites();
  fixture = await trainedGenome();
  store = await DuckDbStore.open(fixture.config.store.path);
  // The server only loads what training saved: any fit from here on fails the test.
  forbidFitting('the web API tests');
  app = await buildServer(await loadServices(store, fixture.config), { adminToken: null, logger: false });
});

after(async () => {
  await app?.close();
  await store?.close();
  await fixture?.cleanup();
});

const json = async <T>(url: string): Promise<T> => {
  const r = await app.inject({ url });
  assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
  return r.json() as T;
};

describe('the built page', () => {
  it('is served at / and for the page’s own paths, revalidated each time', async () => {
    const root = await app.inject({ url: '/' });
    assert.equal(root.statusCode, 200);
    assert.match(root.headers['content-type'] as string, /^text\/html/);
    assert.match(root.body, /<div id="root"><\/div>/);
    assert.equal(root.headers['cache-control'], 'no-cache');
    for (const url of ['/movies/1', '/users/3', '/clusters?cluster=1', '/operations']) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 200, url);
      assert.equal(r.body, root.body, `${url} answers index.html`);
    }
  });

  it('keeps 404 problems for unknown API paths and assets, and the API docs', async () => {
    for (const url of ['/v1/nope', '/assets/missing.js']) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 404, url);
      assert.match(r.headers['content-type'] as string, /^application\/problem\+json/);
      assert.equal(r.json().detail, `no route for GET ${url}`);
    }
    const docs = await app.inject({ url: '/docs/json' });
    assert.equal(docs.statusCode, 200);
    assert.ok('/v1/clusters/movies/projection' in docs.json().paths, 'the new route is documented');
  });

  it('sends hashed assets pre-compressed and cached for a year', async () => {
    const html = (await app.inject({ url: '/' })).body;
    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, 'index.html loads a hashed script');
    const plain = await app.inject({ url: script });
    const br = await app.inject({ url: script, headers: { 'accept-encoding': 'br' } });
    const gz = await app.inject({ url: script, headers: { 'accept-encoding': 'gzip' } });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(br.rawPayload.length < plain.rawPayload.length / 2, 'brotli at least halves it');
    assert.equal(br.headers['cache-control'], 'public, max-age=31536000, immutable');
  });
});

describe('data for the page', () => {
  it('projects every movie with its cluster, most rated first, and respects limit', async () => {
    const all = await json<MovieProjection>('/v1/clusters/movies/projection');
    assert.equal(all.total, 6);
    assert.equal(all.points.length, 6);
    assert.ok(all.explained[0]! >= all.explained[1]! && all.explained[0]! + all.explained[1]! <= 1.0001, 'shares');
    for (const p of all.points) {
      const movie = await json<MovieDetails>(`/v1/movies/${p.movieId}`);
      assert.equal(p.cluster, movie.cluster, `movie ${p.movieId}: its content cluster`);
      assert.ok(Number.isFinite(p.x) && Number.isFinite(p.y), 'finite coordinates');
    }
    // The fixture's two clusters (family 1–3, crime 4–6) fall on opposite sides of the first axis.
    const side = (id: number) => Math.sign(all.points.find((p) => p.movieId === id)!.x);
    assert.ok(side(1) === side(2) && side(2) === side(3), 'family movies together');
    assert.ok(side(4) === side(5) && side(5) === side(6) && side(4) === -side(1), 'crime movies on the other side');
    const two = await json<MovieProjection>('/v1/clusters/movies/projection?limit=2');
    assert.deepEqual(two.points, all.points.slice(0, 2));
    const bad = await app.inject({ url: '/v1/clusters/movies/projection?limit=0' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().detail, /limit/);
  });

  it('gives a movie’s segment, as listed by the movie segments', async () => {
    const segments = await json<MovieSegments>('/v1/segments/movies');
    const one = await json<MovieSegmentOf>('/v1/movies/1/segment');
    const listed = segments.segments.find((s) => s.segment === one.segment);
    assert.ok(listed, `segment ${one.segment} is listed`);
    assert.equal(one.description, listed.description);
    assert.equal(one.size, listed.size);
    const missing = await app.inject({ url: '/v1/movies/999/segment' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().detail, 'no movie with id 999');
  });
});

describe('principalPlane', () => {
  it('finds the directions of largest variance of a seeded 3-D cloud, and projects onto them', () => {
    // x spread 3, y spread 1, z spread 0.1, rotated 30° in the x–y plane, shifted by (5, −2, 1).
    const rng = new Rng(7);
    const n = 4000;
    const v = new Float32Array(n * 3);
    const c = Math.cos(Math.PI / 6);
    const s = Math.sin(Math.PI / 6);
    for (let i = 0; i < n; i++) {
      const a = 3 * rng.normal();
      const b = rng.normal();
      v[i * 3] = 5 + c * a - s * b;
      v[i * 3 + 1] = -2 + s * a + c * b;
      v[i * 3 + 2] = 1 + 0.1 * rng.normal();
    }
    // A fit on purpose (this is about the model, not the server): lifted for it alone.
    allowFitting();
    let plane: ReturnType<typeof principalPlane>;
    try {
      plane = principalPlane(v, n, 3);
    } finally {
      forbidFitting('the web API tests');
    }
    const first = [...plane.axes.subarray(0, 3)];
    const second = [...plane.axes.subarray(3, 6)];
    const near = (x: number, y: number, tol: number, what: string) =>
      assert.ok(Math.abs(x - y) <= tol, `${what}: ${x} vs ${y}`);
    near(Math.abs(first[0]! * c + first[1]! * s), 1, 0.01, 'first axis along the rotated x');
    near(Math.abs(-second[0]! * s + second[1]! * c), 1, 0.01, 'second axis along the rotated y');
    near(plane.explained[0], 9 / 10.01, 0.02, 'share of the first axis');
    near(plane.explained[1], 1 / 10.01, 0.02, 'share of the second axis');
    near(plane.mean[0]!, 5, 0.15, 'mean x');
    // Projections are centred, and their variances are the two largest eigenvalues.
    let sx = 0;
    let sxx = 0;
    let syy = 0;
    for (let i = 0; i < n; i++) {
      const [x, y] = project(plane, v, i);
      sx += x;
      sxx += x * x;
      syy += y * y;
    }
    near(sx / n, 0, 1e-3, 'centred');
    near(sxx / n, 9, 0.6, 'variance along the first axis');
    near(syy / n, 1, 0.1, 'variance along the second axis');
  });
});
