/**
 * User segments over real HTTP on ml-latest-small: the segmentation (k chosen by the rule, every k
 * scored), a stored user's segment, a user created with ratings placed at once, 404 for unknown users,
 * and the routes in the OpenAPI document. The server loads the shared ml-latest-small fixture, trained with the
 * default settings (every k from segments.minK to segments.maxK scored).
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../src/config/config.ts';
import type { UserSegmentOverview } from '../../src/models/user-segments.ts';
import { buildServer } from '../../src/server/app.ts';
import { loadServices } from '../../src/serving/services.ts';
import type { UserSegmentView } from '../../src/serving/views.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import { forbidFitting } from '../../src/util/fit-guard.ts';
import { realData } from '../helpers/real-data.ts';
import { type Trained, trained } from '../helpers/trained.ts';

const TOKEN = 'segments-admin-token-0123456789';
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

before(async () => {
  // The shared ml-latest-small fixture, trained with the default settings.
  fixture = await trained('ml-latest-small', await realData('ml-latest-small'));
  config = fixture.config;
  store = await DuckDbStore.open(config.store.path);
  // The server only loads what training saved: any fit from here on fails the test.
  forbidFitting('the segments API tests');
  server = await buildServer(await loadServices(store, config), { adminToken: TOKEN, logger: false });
  await server.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
});

after(async () => {
  await server?.close();
  await store?.close();
  await fixture?.cleanup();
});

describe('user segments API on ml-latest-small', () => {
  let overview: UserSegmentOverview;

  it('GET /v1/segments/users: k chosen by the rule over every k, sizes cover every user, readable segments', async () => {
    overview = ok(await call<UserSegmentOverview>('GET', '/v1/segments/users'));
    assert.equal(overview.rule, 'calinski-harabasz');
    const { minK, maxK } = config.segments;
    assert.deepEqual(
      overview.scores.map((s) => s.k),
      Array.from({ length: maxK - minK + 1 }, (_, i) => minK + i),
    );
    const best = Math.max(...overview.scores.map((s) => s.calinskiHarabasz));
    assert.equal(overview.scores.find((s) => s.k === overview.k)?.calinskiHarabasz, best, 'k has the highest CH');
    for (const s of overview.scores)
      assert.ok(s.inertia > 0 && s.silhouette > -1 && s.silhouette < 1 && s.daviesBouldin > 0, `k ${s.k} scored`);
    assert.equal(overview.users, 610);
    assert.equal(overview.segments.length, overview.k);
    assert.equal(
      overview.segments.reduce((a, s) => a + s.size, 0),
      610,
    );
    assert.equal(overview.autoencoder.code, config.segments.users.code);
    assert.ok(
      overview.autoencoder.epochs <= config.segments.users.epochs && overview.autoencoder.validationUsers > 0,
      'validated, capped',
    );
    for (const s of overview.segments) {
      assert.ok(s.topGenres.length > 0 && s.meanRating > 0.5 && s.meanRating <= 5, `segment ${s.segment}`);
      assert.match(s.description, /^\d+ viewers, .+: liked movies are \w/);
    }
  });

  it('GET /v1/users/1/segment: the fitted segment, its description and the user’s profile', async () => {
    const v = ok(await call<UserSegmentView>('GET', '/v1/users/1/segment'));
    assert.equal(v.userId, 1);
    assert.equal(v.source, 'fitted');
    assert.equal(v.live, false);
    assert.ok(v.segment >= 0 && v.segment < overview.k, `segment ${v.segment}`);
    assert.deepEqual(v.details, overview.segments[v.segment]);
    // User 1 of ml-latest-small: 232 ratings, mean 4.37.
    assert.equal(v.profile.ratings, 232);
    assert.equal(v.profile.meanRating, 4.3664);
    assert.equal(v.profile.topGenres.length, 3);
    assert.ok(v.profile.movieSegments.length > 0, 'the movie segments user 1 rates most');
  });

  it('POST /v1/users with ratings: the new user has a segment at once, placed from the ratings', async () => {
    const before = ok(await call<UserSegmentOverview>('GET', '/v1/segments/users'));
    // Horror and thrillers loved, a comedy disliked.
    const ratings = [
      { movieId: 1258, rating: 5 }, // The Shining
      { movieId: 1387, rating: 4.5 }, // Jaws
      { movieId: 2710, rating: 4.5 }, // The Blair Witch Project
      { movieId: 1997, rating: 5 }, // The Exorcist
      { movieId: 1, rating: 1.5 }, // Toy Story
    ];
    const created = ok(await call<{ userId: number }>('POST', '/v1/users', { ratings }, admin), 201);
    const v = ok(await call<UserSegmentView>('GET', `/v1/users/${created.userId}/segment`));
    assert.equal(v.source, 'placed');
    assert.equal(v.live, true);
    assert.ok(v.segment >= 0 && v.segment < overview.k, `segment ${v.segment}`);
    assert.equal(v.details?.segment, v.segment);
    assert.equal(v.profile.ratings, 5);
    assert.equal(v.profile.positive, 4);
    assert.equal(v.profile.topGenres[0]?.genre, 'Horror', JSON.stringify(v.profile.topGenres));
    // Placing did not refit anything.
    assert.deepEqual(ok(await call<UserSegmentOverview>('GET', '/v1/segments/users')), before);

    // The segment strategy serves them too.
    const list = ok(
      await call<{ items: { movieId: number; reason?: string }[] }>(
        'GET',
        `/v1/users/${created.userId}/recommendations?strategy=segment&k=5`,
      ),
    );
    assert.equal(list.items.length, 5);
    assert.ok(!list.items.some((m) => ratings.some((r) => r.movieId === m.movieId)), 'rated movies are excluded');
    assert.match(list.items[0]?.reason ?? '', /viewers like you \(segment \d+: /);
  });

  it('404 for an unknown user, 400 for a bad id', async () => {
    const missing = await call<{ detail: string }>('GET', '/v1/users/999999/segment');
    assert.equal(missing.status, 404);
    assert.match(missing.body.detail, /no user with id 999999/);
    assert.equal((await call('GET', '/v1/users/0/segment')).status, 400);
  });

  it('both routes are in the OpenAPI document', async () => {
    const doc = ok(
      await call<{ paths: Record<string, { get?: { responses: Record<string, unknown> } }> }>('GET', '/openapi.json'),
    );
    assert.ok(doc.paths['/v1/segments/users']?.get?.responses['200'], 'GET /v1/segments/users');
    assert.ok(doc.paths['/v1/users/{id}/segment']?.get?.responses['404'], 'GET /v1/users/{id}/segment');
  });
});
