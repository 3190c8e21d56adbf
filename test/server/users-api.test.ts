/**
 * Users live over real HTTP: create, rate, recommend through the router, and rules obeyed by every
 * strategy. Fixture: fixtures/genome (6 movies, users 1–5), trained; the server only loads the version.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { SERVED_STRATEGIES } from '../../src/components/index.ts';
import type { Config } from '../../src/config/config.ts';
import { buildServer } from '../../src/server/app.ts';
import { loadServices } from '../../src/serving/services.ts';
import type { RoutedList, UserView } from '../../src/serving/views.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import { forbidFitting } from '../../src/util/fit-guard.ts';
import { trainedGenome } from '../helpers/genome-trained.ts';
import type { Trained } from '../helpers/trained.ts';

const TOKEN = 'users-admin-token-0123456789';
const admin = { authorization: `Bearer ${TOKEN}` };

let fixture: Trained;
let config: Config;
let store: DuckDbStore;
let server: FastifyInstance;
let base: string;

async function call<T>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, res };
}

function ok<T>(r: { status: number; body: T }, status = 200): T {
  assert.equal(r.status, status, JSON.stringify(r.body));
  return r.body;
}

async function start(): Promise<void> {
  store = await DuckDbStore.open(config.store.path);
  server = await buildServer(await loadServices(store, config), { adminToken: TOKEN, logger: false });
  await server.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
}

async function stop(): Promise<void> {
  await server?.close();
  await store?.close();
}

before(async () => {
  fixture = await trainedGenome();
  config = fixture.config;
  // The server only loads what training saved: any fit from here on fails the test.
  forbidFitting('the users API tests');
  await start();
});

after(async () => {
  await stop();
  await fixture?.cleanup();
});

describe('users live', () => {
  it('POST /v1/users needs the token and validates every rating', async () => {
    assert.equal((await call('POST', '/v1/users', { ratings: [{ movieId: 1, rating: 5 }] })).status, 401);
    const bad: [unknown, RegExp][] = [
      [{ ratings: [{ movieId: 99, rating: 5 }] }, /unknown movie id 99/],
      [{ ratings: [{ movieId: 1, rating: 4.3 }] }, /steps of 0.5/],
      [{ ratings: [{ movieId: 1, rating: 6 }] }, /from 0.5 to 5/],
      [
        {
          ratings: [
            { movieId: 1, rating: 5 },
            { movieId: 1, rating: 4 },
          ],
        },
        /rated twice/,
      ],
      [{ ratings: [] }, /ratings/],
    ];
    for (const [body, pattern] of bad) {
      const r = await call<{ detail: string }>('POST', '/v1/users', body, admin);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.body.detail, pattern);
    }
  });

  it('a new user with two ratings gets the few-ratings blend, without the rated movies', async () => {
    const r = await call<UserView>(
      'POST',
      '/v1/users',
      {
        ratings: [
          { movieId: 1, rating: 5 },
          { movieId: 4, rating: 2 },
        ],
      },
      admin,
    );
    const user = ok(r, 201);
    assert.equal(user.userId, 6, 'the next free id');
    assert.equal(r.res.headers.get('location'), '/v1/users/6');
    assert.equal(user.ratings, 2);
    assert.equal(user.positive, 1);
    assert.equal(user.scenario, 'few-ratings');
    assert.ok(user.cluster >= 0, 'a folded-in live user joins a taste cluster');
    assert.equal(user.live, true);
    assert.deepEqual(user.history.map((h) => h.movieId).sort(), [1, 4]);
    const rec = ok(await call<RoutedList>('GET', '/v1/users/6/recommendations?k=4'));
    assert.equal(rec.scenario, 'few-ratings');
    assert.equal(rec.strategy, 'similar', 'the router’s few-ratings strategy');
    const ids = rec.items.map((m) => m.movieId);
    assert.ok(!ids.includes(1) && !ids.includes(4), `rated movies excluded: ${ids}`);
    // Shrek and Jumanji are equally popular; content (Toy Story was loved) puts Shrek ahead.
    assert.ok(ids.indexOf(3) < ids.indexOf(2), `Shrek before Jumanji: ${ids}`);
    assert.match(rec.items[ids.indexOf(3)]!.reason ?? '', /because you watched Toy Story/);
  });

  it('more ratings move the user to the personalised path at once', async () => {
    const user = ok(
      await call<UserView>(
        'POST',
        '/v1/users/6/ratings',
        {
          ratings: [
            { movieId: 3, rating: 4.5 },
            { movieId: 2, rating: 4 },
            { movieId: 4, rating: 3 },
            { movieId: 5, rating: 1 },
          ],
        },
        admin,
      ),
    );
    assert.equal(user.ratings, 5, 'movie 4 re-rated, not duplicated');
    assert.equal(user.positive, 3);
    assert.equal(user.scenario, 'personalised');
    assert.equal(user.history.find((h) => h.movieId === 4)?.rating, 3);
    const rec = ok(await call<RoutedList>('GET', '/v1/users/6/recommendations'));
    assert.equal(rec.scenario, 'personalised');
    assert.equal(rec.strategy, config.router.personalised);
    assert.deepEqual(
      rec.items.map((m) => m.movieId),
      [6],
      'only the one unrated movie is left',
    );
    const post = ok(await call<RoutedList>('POST', '/v1/recommendations', { userId: 6 }));
    assert.deepEqual(post.items, rec.items);
    assert.equal((await call('POST', '/v1/recommendations', { userId: 999 })).status, 404);
    assert.equal(
      (await call('POST', '/v1/users/999/ratings', { ratings: [{ movieId: 1, rating: 3 }] }, admin)).status,
      404,
    );
    assert.equal((await call('GET', '/v1/users/999')).status, 404);
  });

  it('a blocked title never appears, whatever the strategy or scenario', async () => {
    ok(await call('PUT', '/v1/rules/3', { action: 'block' }, admin));
    try {
      const names = SERVED_STRATEGIES.filter((n) => n !== 'router');
      for (const strategy of names) {
        const rec = ok(await call<RoutedList>('GET', `/v1/users/1/recommendations?k=10&strategy=${strategy}`));
        assert.ok(!rec.items.some((m) => m.movieId === 3), `${strategy} shows the blocked movie`);
      }
      const contexts: unknown[] = [
        {},
        { genres: ['Animation'] },
        { watched: [1] },
        { ratings: [{ movieId: 1, rating: 5 }] },
        { userId: 3 },
        { userId: 4 },
      ];
      for (const body of contexts) {
        const rec = ok(await call<RoutedList>('POST', '/v1/recommendations', { ...(body as object), k: 10 }));
        assert.ok(!rec.items.some((m) => m.movieId === 3), `${JSON.stringify(body)} (${rec.scenario})`);
      }
      const unknown = await call<{ detail: string }>('GET', '/v1/users/1/recommendations?strategy=magic');
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.detail, /unknown strategy "magic"/);
      const vae = await call<{ detail: string; field: string }>('GET', '/v1/users/1/recommendations?strategy=mult-vae');
      assert.equal(vae.status, 400);
      assert.equal(vae.body.field, 'strategy');
      assert.match(vae.body.detail, /strategy mult-vae is evaluation only/);
    } finally {
      ok(await call('DELETE', '/v1/rules/3', undefined, admin), 204);
    }
  });

  it('GET /v1/users/:id/predictions: predicted ratings on the scale, with the user’s own rating', async () => {
    const r = ok(
      await call<{ model: string; items: { movieId: number; predicted: number; rating: number | null }[] }>(
        'GET',
        '/v1/users/2/predictions?movies=4,1',
      ),
    );
    assert.equal(r.model, 'mf');
    assert.deepEqual(
      r.items.map((m) => m.movieId),
      [4, 1],
    );
    assert.equal(r.items[0]!.rating, 5, 'user 2 rated Heat 5');
    assert.equal(r.items[1]!.rating, null);
    for (const m of r.items) assert.ok(m.predicted >= 0.5 && m.predicted <= 5, `${m.predicted}`);
    // User 2 loves crime films: Heat is predicted above Toy Story.
    assert.ok(r.items[0]!.predicted > r.items[1]!.predicted, JSON.stringify(r.items));
    assert.equal((await call('GET', '/v1/users/2/predictions?movies=99')).status, 404);
    assert.equal((await call('GET', '/v1/users/2/predictions?movies=a')).status, 400);
    // An unknown model names every valid one.
    const bad = await call<{ detail: string }>('GET', '/v1/users/2/predictions?movies=1&model=foo');
    assert.equal(bad.status, 400);
    assert.match(bad.body.detail, /model/);
    assert.match(bad.body.detail, /mf/);
    assert.match(bad.body.detail, /neural/);
  });

  it('predictions ?model=neural: a live user is encoded from their ratings at once', async () => {
    type Predictions = { model: string; items: { movieId: number; predicted: number; rating: number | null }[] };
    const known = ok(await call<Predictions>('GET', '/v1/users/2/predictions?movies=4,1&model=neural'));
    assert.equal(known.model, 'neural');
    assert.equal(known.items[0]!.rating, 5);
    for (const m of known.items) assert.ok(m.predicted >= 0.5 && m.predicted <= 5, `${m.predicted}`);
    // Two users created now (no retraining): the same movies, loved by one and hated by the other.
    const lover = ok(
      await call<UserView>(
        'POST',
        '/v1/users',
        { ratings: [1, 2, 3].map((movieId) => ({ movieId, rating: 5 })) },
        admin,
      ),
      201,
    );
    const hater = ok(
      await call<UserView>(
        'POST',
        '/v1/users',
        { ratings: [1, 2, 3].map((movieId) => ({ movieId, rating: 0.5 })) },
        admin,
      ),
      201,
    );
    const of = async (id: number) =>
      ok(await call<Predictions>('GET', `/v1/users/${id}/predictions?movies=5,3&model=neural`)).items;
    const [l, h] = [await of(lover.userId), await of(hater.userId)];
    assert.equal(l[1]!.rating, 5);
    assert.ok(l[0]!.predicted > h[0]!.predicted + 0.5, `lover ${l[0]!.predicted} vs hater ${h[0]!.predicted}`);
    // A new rating moves the live user's prediction at once.
    ok(await call('POST', `/v1/users/${hater.userId}/ratings`, { ratings: [{ movieId: 4, rating: 5 }] }, admin));
    assert.notEqual((await of(hater.userId))[0]!.predicted, h[0]!.predicted);
    const rec = ok(await call<RoutedList>('GET', `/v1/users/${lover.userId}/recommendations?strategy=neural&k=3`));
    assert.equal(rec.strategy, 'neural');
    assert.ok(!rec.items.some((m) => [1, 2, 3].includes(m.movieId)), 'rated movies are not recommended');
    const bad = await call<{ detail: string }>('GET', '/v1/users/2/predictions?movies=1&model=magic');
    assert.equal(bad.status, 400);
  });

  it('hybrid similar movies (ALS ⊕ content) keep Toy Story with the family films', async () => {
    const r = ok(
      await call<{ method: string; items: { movieId: number; reason: string }[] }>(
        'GET',
        '/v1/movies/1/similar?method=hybrid&k=5',
      ),
    );
    assert.equal(r.method, 'hybrid');
    assert.ok(!r.items.some((m) => m.movieId === 1));
    assert.deepEqual(
      r.items
        .slice(0, 2)
        .map((m) => m.movieId)
        .sort(),
      [2, 3],
    );
  });

  it('GET /v1/segments/movies: k chosen by the rule, every k scored, sizes cover the catalogue', async () => {
    const info = ok(await call<{ counts: { movies: number } }>('GET', '/v1/info'));
    const seg = ok(
      await call<{
        k: number;
        rule: string;
        scores: { k: number }[];
        segments: { size: number; description: string }[];
      }>('GET', '/v1/segments/movies'),
    );
    assert.equal(seg.rule, config.segments.rule);
    // Six movies: k can range over 2–5.
    assert.deepEqual(
      seg.scores.map((s) => s.k),
      [2, 3, 4, 5],
    );
    assert.ok(seg.k >= 2 && seg.k <= 5, `${seg.k}`);
    assert.equal(seg.segments.length, seg.k);
    assert.equal(
      seg.segments.reduce((a, s) => a + s.size, 0),
      info.counts.movies,
    );
    assert.ok(seg.segments.every((s) => /movies, mostly/.test(s.description)));
  });

  it('a movie added live and then rated enters ALS lists (bridged, then folded in from its raters)', async () => {
    const added = ok(
      await call<{ movie: { movieId: number } }>(
        'POST',
        '/v1/movies',
        { title: 'Coco (2017)', genres: ['Animation', 'Children'] },
        admin,
      ),
      201,
    );
    const id = added.movie.movieId;
    ok(await call('POST', '/v1/users/6/ratings', { ratings: [{ movieId: id, rating: 5 }] }, admin));
    const rec = ok(await call<RoutedList>('GET', '/v1/users/1/recommendations?strategy=als&k=10'));
    const item = rec.items.find((m) => m.movieId === id);
    assert.ok(item && Number.isFinite(item.score), `ALS ranks the new movie: ${rec.items.map((m) => m.movieId)}`);
  });

  it('users and ratings persist across a restart', async () => {
    await stop();
    await start();
    const user = ok(await call<UserView>('GET', '/v1/users/6'));
    assert.equal(user.ratings, 6);
    const rec = ok(await call<RoutedList>('GET', '/v1/users/6/recommendations'));
    assert.equal(rec.scenario, 'personalised');
    assert.deepEqual(
      rec.items.map((m) => m.movieId),
      [6],
    );
  });
});
