/**
 * Serving is loading: every strategy, segment, cluster and prediction is answered from a trained version with
 * fitting forbidden (any fit throws), live additions are placed into the version's segments and spaces without
 * changing them, and a damaged version is refused with the file named while the served one keeps serving.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeSyntheticMovieLens } from '../../src/cli/synthetic.ts';
import { SERVED_STRATEGIES, STRATEGIES } from '../../src/components/index.ts';
import { loadConfig } from '../../src/config/config.ts';
import { detectFormat } from '../../src/data/formats.ts';
import { train } from '../../src/pipeline/train.ts';
import { ModelManager } from '../../src/server/model-manager.ts';
import { ServiceHolder } from '../../src/server/service-holder.ts';
import { loadServices, type Services } from '../../src/serving/services.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import { takeSnapshot } from '../../src/store/snapshot.ts';
import { ValidationError } from '../../src/util/errors.ts';
import { allowFitting, FitForbiddenError, forbidFitting } from '../../src/util/fit-guard.ts';
import { versionsFor } from '../../src/versions/versions.ts';
import { type PipelineFixture, pipelineFixture } from '../helpers/pipeline-fixture.ts';

let f: PipelineFixture;
let store: DuckDbStore;
let services: Services;
let v1: string;
const config = () => loadConfig({ file: f.configFile, env: {} }).config;

before(async () => {
  f = await pipelineFixture('served');
  store = await DuckDbStore.open(f.storePath);
  const outcome = await train(config(), await takeSnapshot(store), { activate: 'always' });
  v1 = outcome.version!;
  forbidFitting('the serving tests');
  services = await loadServices(store, config());
  await services.served.warm();
});

after(async () => {
  allowFitting();
  await store?.close();
  await rm(f.dir, { recursive: true, force: true });
});

describe('a served version fits nothing', () => {
  it('fitting throws in this process', async () => {
    const { AlsModel } = await import('../../src/models/als.ts');
    await assert.rejects(
      AlsModel.fit(services.served.data.interactions, config().als),
      (err: unknown) => err instanceof FitForbiddenError && /ALS would be fitted/.test((err as Error).message),
    );
  });

  it('every served strategy answers a known user, an anonymous viewer and a newcomer; evaluation-only ones refuse', async () => {
    const userId = services.served.data.interactions.userIds[0]!;
    const ids = services.served.catalogue.movies.map((m) => m.movieId);
    for (const strategy of SERVED_STRATEGIES) {
      for (const req of [
        { userId },
        { ratings: ids.slice(0, 6).map((movieId) => ({ movieId, rating: 4.5 })) },
        { watched: ids.slice(6, 8) },
      ]) {
        const list = await services.recommendations.recommend({ ...req, strategy, k: 5 });
        assert.ok(list.items.length > 0, `${strategy}: no items for ${JSON.stringify(req)}`);
      }
    }
    const evaluationOnly = [...STRATEGIES.keys()].filter((n) => !SERVED_STRATEGIES.includes(n));
    assert.ok(evaluationOnly.includes('mult-vae'));
    for (const strategy of evaluationOnly)
      await assert.rejects(
        services.recommendations.recommend({ userId, strategy, k: 5 }),
        (err: unknown) =>
          err instanceof ValidationError && /strategy \w[\w-]* is evaluation only/.test((err as Error).message),
      );
  });

  it('segments, clusters, the projection, hybrid neighbours and both predictors load, never fit', async () => {
    const userId = services.served.data.interactions.userIds[1]!;
    assert.ok((await services.segments.movieSegments()).k >= 2);
    assert.ok((await services.segments.userSegments()).k >= 2);
    assert.ok((await services.segments.userSegment(userId)).segment >= 0);
    assert.ok((await services.segments.movieClusters(2)).k >= 1);
    assert.ok((await services.segments.movieProjection(10)).points.length === 10);
    const ids = services.served.catalogue.movies.map((m) => m.movieId);
    assert.equal((await services.similar.similar(ids[0]!, { method: 'hybrid', k: 3 })).items.length, 3);
    for (const model of ['mf', 'neural'] as const) {
      const p = await services.predictions.predictions(userId, ids.slice(0, 2), model);
      assert.ok(
        p.items.every((i) => Number.isFinite(i.predicted)),
        `${model} predicts`,
      );
    }
  });
});

describe('live additions are placed, not refitted', () => {
  it('a movie added while serving joins a trained segment and cluster; k, sizes and labels stay the version’s', async () => {
    const before = await services.segments.movieSegments();
    const users = await services.segments.userSegments();
    const added = await services.catalogue.addMovie({ title: 'Placed Not Fitted (2024)', genres: ['Drama'] });
    const seg = await services.segments.movieSegment(added.movie.movieId);
    assert.ok(seg.segment !== null && seg.segment >= 0, 'placed in a trained movie segment');
    assert.deepEqual(await services.segments.movieSegments(), before, 'movie segments unchanged');
    assert.ok(added.cluster >= 0, 'placed in a trained content cluster');
    const hybrid = await services.similar.similar(added.movie.movieId, { method: 'hybrid', k: 3 });
    assert.equal(hybrid.items.length, 3, 'placed in the hybrid space');

    const ids = services.served.catalogue.movies.map((m) => m.movieId);
    const user = await services.viewers.addUser(ids.slice(0, 5).map((movieId) => ({ movieId, rating: 4.5 })));
    const placed = await services.segments.userSegment(user.userId);
    assert.equal(placed.source, 'placed');
    assert.ok(placed.segment >= 0 && placed.segment < users.k);
    assert.deepEqual(await services.segments.userSegments(), users, 'user segments unchanged');

    // A new process over the same store and version sees the same trained segments, the new movie placed.
    const again = await loadServices(store, config());
    assert.deepEqual(await again.segments.movieSegments(), before);
    assert.deepEqual(await again.segments.movieSegment(added.movie.movieId), seg);
    // It reads only the movies added since training; the catalogue is the store's all the same.
    assert.deepEqual(again.served.catalogue.movies, await store.listMovies());
  });

  it('a store imported anew, whose movies do not extend the version’s, is refused with what to do', async () => {
    const data = path.join(f.dir, 'other');
    await writeSyntheticMovieLens(data, { users: 50, movies: 120, ratings: 2000, seed: 12 });
    const other = await DuckDbStore.open(path.join(f.dir, 'other.duckdb'));
    try {
      await other.importDataset(detectFormat(data));
      await assert.rejects(loadServices(other, config()), /do not extend the version's.*npx cinerec train/);
    } finally {
      await other.close();
    }
  });
});

describe('verified versions', () => {
  it('a same-size change to a model file is refused with the file named; the served version keeps serving', async () => {
    // A second version (other ALS settings), then damage its ALS factors in place, same size.
    allowFitting();
    const c = { ...config(), als: { ...config().als, factors: 12 } };
    const v2 = (await train(c, await takeSnapshot(store), { activate: 'never' })).version!;
    forbidFitting('the serving tests');
    assert.notEqual(v2, v1);
    const versions = versionsFor(config());
    const file = path.join(versions.path(v2), 'als', 'model', 'arrays.bin');
    chmodSync(file, 0o644);
    const bytes = readFileSync(file);
    bytes.fill(0x42, 64, 256);
    writeFileSync(file, bytes);

    assert.throws(() => versions.verify(v2, { content: true }), /v0002 is damaged: als\/model\/arrays\.bin/);
    await assert.rejects(
      loadServices(store, config(), { version: v2 }).then((s) => s.served.models.get('als')),
      /als\/model\/arrays\.bin does not match its recorded sha256/,
    );

    const holder = new ServiceHolder(services);
    const manager = ModelManager.local(holder, store, config(), () => {});
    await assert.rejects(manager.activate(v2), /arrays\.bin/);
    assert.equal(holder.current.served.version?.id, v1, 'still serving the good version');
    const userId = services.served.data.interactions.userIds[0]!;
    assert.equal((await holder.current.recommendations.recommend({ userId, k: 3 })).items.length, 3);
  });
});

describe('the result cache', () => {
  it('answers a repeated request from the cache, and never after a write changed the answer', async () => {
    const lookups: boolean[] = [];
    const s = await loadServices(store, config(), { onCacheLookup: (hit) => lookups.push(hit) });
    const userId = s.served.data.interactions.userIds[2]!;
    const first = await s.recommendations.recommend({ userId, k: 5 });
    const again = await s.recommendations.recommend({ userId, k: 5 });
    assert.equal(again, first, 'the same answer, from the cache');
    assert.deepEqual(lookups, [false, true]);

    // A rule: the cached list is not served; the new one obeys it.
    const top = first.items[0]!.movieId;
    await s.rules.put({ movieId: top, action: 'block' });
    const blocked = await s.recommendations.recommend({ userId, k: 5 });
    assert.ok(!blocked.items.some((m) => m.movieId === top), 'the block applies at once');
    await s.rules.remove(top);

    // The viewer's own write: the next list is computed from the new history.
    const rated = await s.viewers.rate(userId, [{ movieId: first.items[1]!.movieId, rating: 5 }]);
    assert.equal(rated.live, true);
    const after = await s.recommendations.recommend({ userId, k: 5 });
    assert.ok(!after.items.some((m) => m.movieId === first.items[1]!.movieId), 'the rated movie is not recommended');
    assert.equal(lookups.at(-1), false, 'a miss after the write');
  });
});
