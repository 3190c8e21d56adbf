/**
 * A PostgreSQL deployment, as production runs it: a real PostgreSQL (started by the test), two `cinerec serve`
 * replicas (one of them on two workers) and one `cinerec worker` trainer, all real processes over real HTTP. A
 * write taken by one replica is served by the others; writes racing through different replicas are all kept;
 * retraining is queued for the trainer and the version it activates is served by every replica; a replica killed
 * mid-flight comes back with every write.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeSyntheticMovieLens } from '../../src/cli/synthetic.ts';
import { cli, json } from '../helpers/cli.ts';
import { call, deployment, eventually, launch, type Replica, replica, startNginx, TOKEN } from '../helpers/cluster.ts';
import { SMALL_TRAINING } from '../helpers/pipeline-fixture.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';

let postgres: TestPostgres;
let a: Replica;
let b: Replica;
/** Movies of the synthetic catalogue, most popular first. */
let movies: number[];

before(async () => {
  postgres = await startPostgres();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cinerec-replicas-'));
  deployment.dir = dir;
  const data = path.join(dir, 'synthetic');
  await writeSyntheticMovieLens(data, { users: 120, movies: 300, ratings: 6000, seed: 11 });
  const configFile = path.join(dir, 'cinerec.config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      ...SMALL_TRAINING,
      store: { url: await postgres.database() },
      modelsDir: path.join(dir, 'models'),
      reportsDir: path.join(dir, 'reports'),
      // Behind nginx every client has nginx's address: the test's load is not a client to throttle.
      server: { rateLimit: { writes: 0, publicPosts: 0 } },
    }),
  );
  const env = { CINEREC_CONFIG: configFile, CINEREC_STORE: '', CINEREC_MODELS_DIR: '', CINEREC_ADMIN_TOKEN: TOKEN };
  deployment.env = env;
  json(await cli(['--json', 'data', 'import', data], env));
  const trained = json<{ version: string; activated: boolean }>(await cli(['--json', 'train'], env));
  assert.ok(trained.activated);
  [a, b] = await Promise.all([replica(1), replica(2)]);
  movies = (await call<{ items: { movieId: number }[] }>(a, 'GET', '/v1/recommendations/popular?k=40')).body.items.map(
    (m) => m.movieId,
  );
});

after(async () => {
  for (const c of deployment.children) if (c.exitCode === null) c.kill('SIGKILL');
  await postgres?.stop();
  await rm(deployment.dir, { recursive: true, force: true });
});

describe('PostgreSQL replicas', () => {
  it('a write taken by one replica is served by the other within a second', async () => {
    const rated = movies.slice(0, 6);
    const created = await call<{ userId: number }>(a, 'POST', '/v1/users', {
      ratings: rated.map((movieId, i) => ({ movieId, rating: 5 - (i % 3) / 2 })),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.userId;
    const ms = await eventually(
      async () => (await call(b, 'GET', `/v1/users/${id}`)).status === 200,
      'the new user on the other replica',
      1000,
    );
    assert.ok(ms < 1000);
    const rec = await call<{ scenario: string; items: { movieId: number }[] }>(
      b,
      'GET',
      `/v1/users/${id}/recommendations?k=5`,
    );
    assert.equal(rec.status, 200);
    assert.equal(rec.body.items.length, 5);
    assert.ok(
      rec.body.items.every((i) => !rated.includes(i.movieId)),
      'rated movies are not recommended back',
    );

    const movie = await call<{ movie: { movieId: number } }>(b, 'POST', '/v1/movies', {
      title: 'Replicated Picture (2026)',
      genres: ['Drama', 'Romance'],
      tags: ['slow burn'],
    });
    assert.equal(movie.status, 201);
    const movieId = movie.body.movie.movieId;
    await eventually(async () => (await call(a, 'GET', `/v1/movies/${movieId}`)).status === 200, 'the new movie', 1000);
    const similar = await call<{ items: unknown[] }>(a, 'GET', `/v1/movies/${movieId}/similar?k=5`);
    assert.equal(similar.status, 200);
    assert.equal(similar.body.items.length, 5);
  });

  it('a block through one replica is obeyed by the other', async () => {
    const top = await call<{ items: { movieId: number }[] }>(b, 'GET', '/v1/recommendations/popular?k=3');
    const blocked = top.body.items[0]!.movieId;
    assert.equal((await call(a, 'PUT', `/v1/rules/${blocked}`, { action: 'block' })).status, 200);
    await eventually(async () => {
      const now = await call<{ items: { movieId: number }[] }>(b, 'GET', '/v1/recommendations/popular?k=3');
      return now.body.items.every((i) => i.movieId !== blocked);
    }, 'the block on the other replica');
    assert.equal((await call(b, 'DELETE', `/v1/rules/${blocked}`)).status, 204);
  });

  it('writes racing through both replicas are all kept, each user once', async () => {
    const writes = Array.from({ length: 24 }, (_, i) =>
      call<{ userId: number }>(i % 2 ? a : b, 'POST', '/v1/users', {
        ratings: [{ movieId: movies[10 + i]!, rating: 4 }],
      }),
    );
    const results = await Promise.all(writes);
    assert.deepEqual(
      results.map((r) => r.status),
      results.map(() => 201),
    );
    const ids = results.map((r) => r.body.userId);
    assert.equal(new Set(ids).size, ids.length, 'every new user got an id of their own');
    for (const r of [a, b])
      await eventually(
        async () =>
          (await Promise.all(ids.map((id) => call(r, 'GET', `/v1/users/${id}`)))).every((x) => x.status === 200),
        'every racing write on both replicas',
      );
  });

  it('retraining needs the trainer; with one running, its version is served by every replica', async () => {
    const refused = await call<{ detail: string }>(a, 'POST', '/v1/models/retrain');
    assert.equal(refused.status, 409);
    assert.match(refused.body.detail, /cinerec worker/);

    const worker = launch(['worker'], {}, /trainer ready/);
    await worker.matched;
    const outcome = await call<{ status: string; version: string | null }>(b, 'POST', '/v1/models/retrain');
    assert.equal(outcome.status, 200, worker.output());
    assert.notEqual(outcome.body.status, 'failed', worker.output());
    const version = outcome.body.version!;
    // Activated by the command line, in the database: every replica hears of it and serves it.
    json(await cli(['--json', 'models', 'activate', version], deployment.env));
    for (const r of [a, b])
      await eventually(
        async () => (await call<{ served: string }>(r, 'GET', '/v1/models')).body.served === version,
        `replica ${r.url} serving ${version}`,
        60_000,
      );
    const models = await call<{ active: string; lastRetrain: { version: string } }>(a, 'GET', '/v1/models');
    assert.equal(models.body.active, version);
    assert.equal(
      models.body.lastRetrain.version,
      version,
      'the last retraining is the deployment’s, not the replica’s',
    );
  });

  it('a replica killed mid-flight leaves the other serving, and one started again holds every write', async () => {
    a.child.kill('SIGKILL');
    const after = await call<{ userId: number }>(b, 'POST', '/v1/users', {
      ratings: [{ movieId: movies[3]!, rating: 5 }],
    });
    assert.equal(after.status, 201);
    a = await replica(1);
    const user = await call<{ ratings: unknown[] }>(a, 'GET', `/v1/users/${after.body.userId}`);
    assert.equal(user.status, 200);
  });
});

describe('replicas behind nginx (deploy/nginx.conf)', () => {
  it('a replica killed under load: no failed request, no lost write, an activation seen by all', async () => {
    const c = await replica(1);
    const front = await startNginx([a, b, c]);
    const users = (
      await Promise.all(
        Array.from({ length: 6 }, () =>
          call<{ userId: number }>(front, 'POST', '/v1/users', { ratings: [{ movieId: movies[0]!, rating: 3 }] }),
        ),
      )
    ).map((r) => r.body.userId);
    const failed: string[] = [];
    /** What each client's acknowledged writes left: user → movie → rating. */
    const acknowledged = new Map<number, Map<number, number>>();
    let requests = 0;
    const until = performance.now() + 6000;
    const client = async (n: number) => {
      const userId = users[n]!;
      const mine = new Map<number, number>();
      acknowledged.set(userId, mine);
      for (let i = 0; performance.now() < until; i++) {
        const movieId = movies[(n * 7 + i) % movies.length]!;
        const rating = 1 + ((n + i) % 9) / 2;
        const kind = i % 3;
        const r =
          kind === 0
            ? await call(front, 'POST', `/v1/users/${userId}/ratings`, { ratings: [{ movieId, rating }] })
            : kind === 1
              ? await call(front, 'GET', `/v1/users/${userId}/recommendations?k=10`)
              : await call(front, 'GET', `/v1/movies/${movieId}/similar?k=10`);
        requests++;
        if (r.status !== 200) failed.push(`${r.status} ${JSON.stringify(r.body)}`);
        else if (kind === 0) mine.set(movieId, rating);
      }
    };
    const killer = new Promise<void>((resolve) =>
      setTimeout(() => {
        c.child.kill('SIGKILL');
        resolve();
      }, 2000),
    );
    await Promise.all([...users.map((_, n) => client(n)), killer]);
    assert.deepEqual(failed, [], `${failed.length} of ${requests} requests failed`);
    assert.ok(requests > 100, `a real load (${requests} requests)`);
    for (const r of [a, b])
      for (const [userId, mine] of acknowledged) {
        await eventually(async () => {
          const view = await call<{ history: { movieId: number; rating: number }[] }>(
            r,
            'GET',
            `/v1/users/${userId}?limit=10000`,
          );
          const held = new Map(view.body.history.map((h) => [h.movieId, h.rating]));
          return [...mine].every(([m, v]) => held.get(m) === v);
        }, `user ${userId}'s acknowledged ratings on ${r.url}`);
      }

    // An activation through the load balancer reaches every replica.
    const listed = await call<{ active: string; versions: { version: string }[] }>(front, 'GET', '/v1/models');
    const other = listed.body.versions.find((v) => v.version !== listed.body.active)!.version;
    assert.equal((await call(front, 'POST', `/v1/models/${other}/activate`)).status, 200);
    for (const r of [a, b])
      await eventually(
        async () => (await call<{ served: string }>(r, 'GET', '/v1/models')).body.served === other,
        `${r.url} serving ${other}`,
        60_000,
      );
  });
});
