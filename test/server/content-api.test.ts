/**
 * The content routes over real HTTP: similar movies, recommendations from a viewer context, live
 * movie addition and content clusters, on fixtures/genome trained with two content clusters
 * (family/animation 1, 2, 3 and crime 4, 5, 6); the server only loads the trained version.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.ts';
import { loadServices } from '../../src/serving/services.ts';
import type { AddedMovie, ClusterOverview, MovieDetails, RoutedList, SimilarList } from '../../src/serving/views.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import { forbidFitting } from '../../src/util/fit-guard.ts';
import { trainedGenome } from '../helpers/genome-trained.ts';
import type { Trained } from '../helpers/trained.ts';

// Every assert.ok carries a message: without one, Node re-parses the source to build it (slow under tsx).

const TOKEN = 'content-admin-token-0123456789';
const CRIME = [4, 5, 6];
/** Close to Toy Story's row of fixtures/genome/genome-scores.csv. */
const TOY_STORY_LIKE_GENOME = [
  { tagId: 1, relevance: 0.96 },
  { tagId: 2, relevance: 0.91 },
  { tagId: 3, relevance: 0.85 },
  { tagId: 4, relevance: 0.9 },
  { tagId: 5, relevance: 0.04 },
  { tagId: 6, relevance: 0.03 },
  { tagId: 7, relevance: 0.02 },
  { tagId: 8, relevance: 0.07 },
];

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  field?: string;
}

let fixture: Trained;
let store: DuckDbStore;
let server: FastifyInstance;
let base: string;
let familyCluster = -1;
let crimeCluster = -1;

async function call<T>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T; res: Response }> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, res };
}

const get = <T>(url: string) => call<T>('GET', url);
const admin = { authorization: `Bearer ${TOKEN}` };

/** Asserts a 2xx-free problem+json response of this status and returns its body. */
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
  assert.ok(p.detail.length > 0, 'detail is set');
  assert.ok(!/\bat .+:\d+:\d+/.test(JSON.stringify(p)), 'no stack trace');
  return p;
}

function ok<T>(r: { status: number; body: T }, status = 200): T {
  assert.equal(r.status, status, JSON.stringify(r.body));
  return r.body;
}

before(async () => {
  fixture = await trainedGenome();
  store = await DuckDbStore.open(fixture.config.store.path);
  // The server only loads what training saved: any fit from here on fails the test.
  forbidFitting('the content API tests');
  const services = await loadServices(store, fixture.config);
  await services.served.warm();
  server = await buildServer(services, { adminToken: TOKEN, logger: false });
  await server.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
});

after(async () => {
  await server?.close();
  await store?.close();
  await fixture?.cleanup();
});

describe('GET /v1/movies/:id/similar', () => {
  it('ranks Shrek then Jumanji for Toy Story, then the crime movies; cluster, shared content, reasons', async () => {
    const r = ok(await get<SimilarList>('/v1/movies/1/similar?method=content'));
    assert.equal(r.method, 'content');
    assert.equal(r.movie.movieId, 1);
    familyCluster = r.movie.cluster;
    const ids = r.items.map((m) => m.movieId);
    assert.deepEqual(ids.slice(0, 2), [3, 2]);
    assert.deepEqual([...ids.slice(2)].sort(), CRIME);
    const [shrek, jumanji, ...crime] = r.items;
    assert.equal(shrek!.cluster, familyCluster);
    assert.equal(jumanji!.cluster, familyCluster);
    crimeCluster = crime[0]!.cluster;
    assert.notEqual(crimeCluster, familyCluster);
    assert.ok(
      crime.every((m) => m.cluster === crimeCluster && m.score < 0),
      'crime movies: other cluster, negative cosine',
    );
    assert.deepEqual(shrek!.shared.genres, ['Adventure', 'Animation', 'Children', 'Comedy', 'Fantasy']);
    assert.ok(shrek!.shared.tags.includes('animation'), `shared tags ${shrek!.shared.tags.join(', ')}`);
    assert.match(shrek!.reason, /^shares Adventure, Animation, Children, Comedy, Fantasy; tags /);
    assert.equal(crime[0]!.reason, 'similar in content');
  });

  it('k limits the list; method=cluster keeps to the movie’s cluster', async () => {
    const two = ok(await get<SimilarList>('/v1/movies/1/similar?method=content&k=2'));
    assert.deepEqual(
      two.items.map((m) => m.movieId),
      [3, 2],
    );
    const heat = ok(await get<SimilarList>('/v1/movies/4/similar?method=cluster&k=10'));
    assert.equal(heat.method, 'cluster');
    assert.equal(heat.movie.cluster, crimeCluster);
    assert.deepEqual(
      heat.items.map((m) => m.movieId),
      [5, 6],
    );
    assert.ok(
      heat.items.every((m) => m.cluster === crimeCluster),
      'only the crime cluster',
    );
  });

  it('an unknown movie is 404; a bad method or k is 400', async () => {
    const missing = await expectProblem(get('/v1/movies/999/similar'), 404);
    assert.match(missing.detail, /no movie with id 999/);
    const method = await expectProblem(get('/v1/movies/1/similar?method=foo'), 400);
    assert.equal(method.field, 'method');
    for (const k of ['0', '-1', 'abc', '501', '1.5']) {
      const p = await expectProblem(get(`/v1/movies/1/similar?k=${k}`), 400);
      assert.equal(p.field, 'k', `k=${k}: ${p.detail}`);
    }
    const id = await expectProblem(get('/v1/movies/abc/similar'), 400);
    assert.equal(id.field, 'id');
  });
});

describe('POST /v1/recommendations', () => {
  const recommend = (body: unknown, headers: Record<string, string> = {}) =>
    call<RoutedList>('POST', '/v1/recommendations', body, headers);

  it('watched: unwatched movies by content, with "because you watched" reasons, and no admin token', async () => {
    const r = ok(await recommend({ watched: [1, 2] }));
    assert.equal(r.strategy, 'similar', 'the router’s watched strategy; these thinly rated movies by content');
    assert.deepEqual(r.warnings, []);
    const ids = r.items.map((m) => m.movieId);
    assert.equal(ids[0], 3);
    assert.deepEqual([...ids].sort(), [3, 4, 5, 6]);
    // Movies that share nothing with either seed are ranked by popularity alone, and say so.
    for (const m of r.items)
      assert.match(
        m.reason ?? '',
        /^(because you watched (Toy Story|Jumanji) \(1995\)|popular: rated by \d+ viewers?)/,
      );
    const k = ok(await recommend({ watched: [1], k: 1, exclude: [3] }));
    assert.deepEqual(
      k.items.map((m) => m.movieId),
      [2],
    );
    const cluster = ok(await recommend({ watched: [4], method: 'cluster' }));
    assert.equal(cluster.strategy, 'content-cluster');
    assert.deepEqual(
      cluster.items.map((m) => m.movieId),
      [5, 6],
    );
  });

  it('ratings: only those at or above the positive rating are seeds; rated movies are not returned', async () => {
    const r = ok(
      await recommend({
        ratings: [
          { movieId: 4, rating: 5 },
          { movieId: 1, rating: 1 },
        ],
      }),
    );
    const ids = r.items.map((m) => m.movieId);
    assert.ok(!ids.includes(4) && !ids.includes(1), `rated movies excluded: ${ids.join(', ')}`);
    assert.deepEqual([...ids.slice(0, 2)].sort(), [5, 6]);
    assert.match(r.items[0]!.reason ?? '', /^because you watched Heat \(1995\)/);
    const bad = await expectProblem(recommend({ ratings: [{ movieId: 4, rating: 9 }] }), 400);
    assert.equal(bad.field, 'ratings');
  });

  it('an unknown id is a warning; only unknown ids is a 400 naming "watched"', async () => {
    const some = ok(await recommend({ watched: [1, 99] }));
    assert.deepEqual(some.warnings, ['unknown movie id ignored: 99']);
    assert.equal(some.items[0]!.movieId, 3);
    const none = await expectProblem(recommend({ watched: [98, 99] }), 400);
    assert.equal(none.field, 'watched');
    assert.match(none.detail, /98, 99/);
  });

  it('genres only: the popular list', async () => {
    const r = ok(await recommend({ genres: ['crime'], k: 3 }));
    assert.equal(r.strategy, 'popular');
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.items.map((m) => m.movieId).sort(), CRIME);
    const genre = await expectProblem(recommend({ genres: ['Cartoon'] }), 400);
    assert.equal(genre.field, 'genres');
  });

  it('unknown properties and bad values are 400 problems', async () => {
    const extra = await expectProblem(recommend({ watched: [1], seen: [2] }), 400);
    assert.match(extra.detail, /seen/);
    const method = await expectProblem(recommend({ watched: [1], method: 'nearest' }), 400);
    assert.equal(method.field, 'method');
    const k = await expectProblem(recommend({ watched: [1], k: 0 }), 400);
    assert.equal(k.field, 'k');
    const watched = await expectProblem(recommend({ watched: ['x'] }), 400);
    assert.match(watched.field ?? '', /^watched/);
  });
});

describe('rules apply to the content routes', () => {
  it('a block rule set with PUT /v1/rules removes Shrek from similar and recommendations', async () => {
    ok(await call('PUT', '/v1/rules/3', { action: 'block', reason: 'test' }, admin));
    try {
      const similar = ok(await get<SimilarList>('/v1/movies/1/similar?method=content'));
      assert.ok(!similar.items.some((m) => m.movieId === 3), 'Shrek blocked in similar');
      assert.equal(similar.items[0]!.movieId, 2);
      const cluster = ok(await get<SimilarList>('/v1/movies/1/similar?method=cluster'));
      assert.deepEqual(
        cluster.items.map((m) => m.movieId),
        [2],
      );
      const rec = ok(await call<RoutedList>('POST', '/v1/recommendations', { watched: [1] }));
      assert.ok(!rec.items.some((m) => m.movieId === 3), 'Shrek blocked in recommendations');
    } finally {
      ok(await call('DELETE', '/v1/rules/3', undefined, admin), 204);
    }
    const back = ok(await get<SimilarList>('/v1/movies/1/similar?method=content&k=1'));
    assert.equal(back.items[0]!.movieId, 3);
  });
});

describe('POST /v1/movies', () => {
  const add = (body: unknown, headers: Record<string, string> = admin) =>
    call<AddedMovie>('POST', '/v1/movies', body, headers);

  it('needs the admin token', async () => {
    await expectProblem(add({ title: 'Up (2009)', genres: ['Animation'] }, {}), 401);
    await expectProblem(add({ title: 'Up (2009)', genres: ['Animation'] }, { authorization: 'Bearer wrong' }), 401);
  });

  it('bad input is a 400 naming the field; a duplicate is a 409 naming the movie', async () => {
    const genre = await expectProblem(add({ title: 'Up (2009)', genres: ['Animation', 'Cartoon'] }), 400);
    assert.equal(genre.field, 'genres');
    assert.match(genre.detail, /Cartoon/);
    const empty = await expectProblem(add({ title: '', genres: ['Animation'] }), 400);
    assert.equal(empty.field, 'title');
    const blank = await expectProblem(add({ title: '   ', genres: ['Animation'] }), 400);
    assert.equal(blank.field, 'title');
    const tag = await expectProblem(
      add({ title: 'Up (2009)', genres: ['Animation'], genome: [{ tagId: 99, relevance: 0.5 }] }),
      400,
    );
    assert.equal(tag.field, 'genome');
    const extra = await expectProblem(add({ title: 'Up (2009)', genres: ['Animation'], rating: 5 }), 400);
    assert.match(extra.detail, /rating/);
    const duplicate = await expectProblem(add({ title: 'toy story', year: 1995, genres: ['Animation'] }), 409);
    assert.equal(duplicate.field, 'title');
    assert.match(duplicate.detail, /"Toy Story \(1995\)" is already in the catalogue as movie 1/);
    await expectProblem(get('/v1/movies/7'), 404);
  });

  it('201 with Location and the cluster; the movie is then shown, similar and clustered', async () => {
    const r = await add({
      title: 'Up (2009)',
      genres: ['Adventure', 'Animation'],
      tags: ['balloons'],
      genome: TOY_STORY_LIKE_GENOME,
      imdbId: 'tt1049413',
      tmdbId: 14160,
    });
    const added = ok(r, 201);
    assert.equal(r.res.headers.get('location'), '/v1/movies/7');
    assert.equal(added.movie.movieId, 7);
    assert.equal(added.movie.source, 'live');
    assert.equal(added.cluster, familyCluster);
    assert.equal(added.movie.cluster, familyCluster);
    assert.deepEqual(
      added.similar
        .slice(0, 2)
        .map((m) => m.movieId)
        .sort(),
      [1, 3],
    );

    const shown = ok(await get<MovieDetails>('/v1/movies/7'));
    assert.equal(shown.title, 'Up (2009)');
    assert.equal(shown.year, 2009);
    assert.deepEqual(shown.genres, ['Adventure', 'Animation']);
    assert.equal(shown.source, 'live');
    assert.equal(shown.cluster, familyCluster);
    assert.equal(shown.imdbUrl, 'https://www.imdb.com/title/tt1049413/');
    const toy = ok(await get<MovieDetails>('/v1/movies/1'));
    assert.equal(toy.cluster, familyCluster);
    assert.equal(toy.source, 'import');

    const similar = ok(await get<SimilarList>('/v1/movies/1/similar?method=content&k=3'));
    assert.ok(
      similar.items.some((m) => m.movieId === 7),
      `Up is among Toy Story's 3 nearest: ${similar.items.map((m) => m.movieId).join(', ')}`,
    );
    const rec = ok(await call<RoutedList>('POST', '/v1/recommendations', { watched: [3], k: 3 }));
    assert.ok(
      rec.items.some((m) => m.movieId === 7),
      'Up is recommended to a Shrek watcher',
    );
    const again = await expectProblem(add({ title: 'Up (2009)', genres: ['Animation'] }), 409);
    assert.match(again.detail, /movie 7/);
  });
});

describe('GET /v1/movies/:id/similar, method auto (the default)', () => {
  it('hybrid for a movie people rated, content for one nobody has rated (added live above)', async () => {
    const rated = ok(await get<SimilarList>('/v1/movies/1/similar'));
    assert.equal(rated.method, 'hybrid');
    assert.ok(rated.items.length > 0);
    for (const m of rated.items) assert.ok(m.reason.length > 0, 'each item says what the two share');
    assert.deepEqual(ok(await get<SimilarList>('/v1/movies/1/similar?method=auto')), rated);
    const unrated = ok(await get<SimilarList>('/v1/movies/7/similar'));
    assert.equal(unrated.method, 'content');
    const bad = await expectProblem(get('/v1/movies/1/similar?method=walk'), 400);
    assert.equal(bad.field, 'method');
  });
});

describe('GET /v1/clusters/movies', () => {
  it('two clusters whose sizes sum to the movie count', async () => {
    const info = ok(await get<{ counts: { movies: number } }>('/v1/info'));
    const o = ok(await get<ClusterOverview>('/v1/clusters/movies?examples=2'));
    assert.equal(o.k, 2);
    assert.equal(o.clusters.length, 2);
    assert.equal(
      o.clusters.reduce((s, c) => s + c.size, 0),
      info.counts.movies,
    );
    const family = o.clusters.find((c) => c.cluster === familyCluster)!;
    const crime = o.clusters.find((c) => c.cluster === crimeCluster)!;
    assert.ok(
      family.topGenres.some((g) => g.genre === 'Animation'),
      'Animation is a top family genre',
    );
    assert.deepEqual(crime.topGenres[0], { genre: 'Crime', share: 1 });
    assert.ok(family.examples.length === 2 && crime.examples.length === 2, 'two examples per cluster');
    await expectProblem(get('/v1/clusters/movies?examples=0'), 400);
  });
});

describe('OpenAPI', () => {
  it('documents the four content routes', async () => {
    const doc = ok(await get<{ paths: Record<string, Record<string, unknown>> }>('/openapi.json'));
    assert.ok(doc.paths['/v1/movies/{id}/similar']?.get, 'GET similar');
    assert.ok(doc.paths['/v1/recommendations']?.post, 'POST recommendations');
    assert.ok(doc.paths['/v1/movies']?.post, 'POST movies');
    assert.ok(doc.paths['/v1/clusters/movies']?.get, 'GET clusters');
    const postMovies = doc.paths['/v1/movies']!.post as { security?: unknown[] };
    assert.ok(Array.isArray(postMovies.security) && postMovies.security.length > 0, 'POST /v1/movies needs a token');
    const postRec = doc.paths['/v1/recommendations']!.post as { security?: unknown[] };
    assert.equal(postRec.security, undefined);
  });
});

// Last: these additions change the catalogue the tests above count on.
describe('concurrent POST /v1/movies', () => {
  const add = (body: unknown) => call<AddedMovie>('POST', '/v1/movies', body, admin);
  it('concurrent additions are serialised: distinct ids, and one of two identical titles is a 409', async () => {
    const [a, b] = await Promise.all([
      add({ title: 'Race A (2020)', genres: ['Drama'] }),
      add({ title: 'Race B (2020)', genres: ['Drama'] }),
    ]);
    const ids = [ok(a, 201).movie.movieId, ok(b, 201).movie.movieId].sort();
    assert.deepEqual(ids, [8, 9]);
    const twins = await Promise.all([
      add({ title: 'Twin (2021)', genres: ['Drama'] }),
      add({ title: 'Twin (2021)', genres: ['Drama'] }),
    ]);
    assert.deepEqual(twins.map((t) => t.status).sort(), [201, 409]);
    const search = ok(await get<{ total: number }>('/v1/movies?q=twin'));
    assert.equal(search.total, 1);
  });
});
