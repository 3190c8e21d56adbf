import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Config, ConfigError, loadConfig } from '../../src/config/config.ts';
import type { FeatureRows, FeatureSpace } from '../../src/features/content-features.ts';
import { Rng } from '../../src/math/random.ts';
import { ContentModel, contentFitSummary, loadContentModel, saveContentModel } from '../../src/models/content.ts';
import { type AutoencoderSettings, fitAutoencoder } from '../../src/models/content-autoencoder.ts';
import { train } from '../../src/pipeline/train.ts';
import { loadServices } from '../../src/serving/services.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import { type Snapshot, takeSnapshot } from '../../src/store/snapshot.ts';
import { ValidationError } from '../../src/util/errors.ts';
import { allowFitting, forbidFitting } from '../../src/util/fit-guard.ts';
import { realData } from '../helpers/real-data.ts';
import { type Trained, trained } from '../helpers/trained.ts';

/** n rows of one 40-column block group: rank-5 structure plus a little noise, every cell stored. */
function lowRank(
  n: number,
  cols: number,
  rank: number,
  noise: number,
  seed: number,
): { rows: FeatureRows; space: FeatureSpace } {
  const rng = new Rng(seed);
  const basis = Float64Array.from({ length: rank * cols }, () => rng.normal());
  const values = new Float32Array(n * cols);
  for (let i = 0; i < n; i++) {
    const a = Array.from({ length: rank }, () => rng.normal());
    for (let j = 0; j < cols; j++) {
      let v = noise * rng.normal();
      for (let k = 0; k < rank; k++) v += a[k]! * basis[k * cols + j]!;
      values[i * cols + j] = v;
    }
  }
  const indptr = Int32Array.from({ length: n + 1 }, (_, i) => i * cols);
  const indices = Int32Array.from({ length: n * cols }, (_, p) => p % cols);
  const space: FeatureSpace = {
    genres: [],
    tagTerms: [],
    tagIdf: [],
    genomeTagIds: Array.from({ length: cols }, (_, j) => j + 1),
    genomeTagNames: Array.from({ length: cols }, (_, j) => `t${j + 1}`),
    groups: [{ name: 'genome', start: 0, end: cols, scaling: 'block', weight: 1 }],
    cols,
  };
  return { rows: { rows: n, cols, indptr, indices, values, present: new Uint8Array(n).fill(1) }, space };
}

const small = (over: Partial<AutoencoderSettings>): AutoencoderSettings => ({
  hidden: [32],
  epochs: 200,
  batchSize: 32,
  learningRate: 0.003,
  patience: 20,
  validation: 0.2,
  seed: 1,
  ...over,
});

describe('content autoencoder on toy data', () => {
  it('reconstructs rank-5 data in 40 dimensions far below the trivial baseline and close to PCA', () => {
    const { rows, space } = lowRank(400, 40, 5, 0.05, 11);
    const ids = Int32Array.from({ length: 400 }, (_, i) => i + 1);
    const model = ContentModel.fit(rows, ids, space, {
      dimensions: 5,
      clusters: 4,
      seed: 1,
      restarts: 1,
      encoder: 'autoencoder',
      autoencoder: small({}),
    });
    const r = model.report.reconstruction;
    assert.equal(model.report.encoder, 'autoencoder');
    assert.equal(r.heldOut, true);
    assert.equal(r.movies, 80);
    assert.ok(r.pca, 'the report carries the PCA baseline on the same split');
    // Predicting the (zero) mean of the centred rows has relative error 1; rank-5 PCA gets to the noise floor.
    assert.ok(r.pca.error < 0.01, `PCA ${r.pca.error}`);
    assert.ok(r.error < 0.05, `autoencoder held-out relative error ${r.error} (PCA ${r.pca.error})`);
    assert.ok(r.error < r.pca.error + 0.04, `autoencoder ${r.error} close to PCA ${r.pca.error}`);
    assert.match(contentFitSummary(model.report), /autoencoder 40→32→5 .*held-out movies/);
  });

  it('early stopping restores the best epoch: the held-out error after fitting is the best validation loss', () => {
    // Noise only, a wide net and a high learning rate: it memorises the training rows and the held-out loss rises.
    const { rows, space } = lowRank(80, 40, 40, 0, 3);
    const scaler = { mean: new Float32Array(40), scale: new Float32Array(40).fill(0.2) };
    const fit = fitAutoencoder(
      rows,
      space.groups,
      scaler,
      8,
      small({ hidden: [128], epochs: 200, batchSize: 8, learningRate: 0.01, patience: 4, validation: 0.25 }),
    );
    const h = fit.report.history;
    assert.ok(fit.report.stoppedEarly, 'it stopped early');
    assert.ok(fit.report.epochs < 200);
    const losses = h.map((e) => e.validationLoss!);
    const best = Math.min(...losses);
    assert.equal(losses.indexOf(best) + 1, fit.report.bestEpoch);
    assert.ok(fit.report.bestEpoch < fit.report.epochs, 'later epochs were worse');
    assert.ok(losses[losses.length - 1]! > best, 'the last epoch is not the best');
    // Measured again from the restored weights (dense decode, not the training pass): the best epoch's loss.
    let err = 0;
    for (const e of fit.heldOutErrors.error) err += e;
    const restored = err / fit.heldOutErrors.movies;
    assert.ok(Math.abs(restored - best) < 1e-3 * best, `restored ${restored} vs best ${best}`);
    assert.ok(Math.abs(restored - losses[losses.length - 1]!) > 1e-3 * best, 'not the last epoch’s weights');
  });

  it('is deterministic for a seed, and save → load gives identical vectors and placements', async () => {
    const { rows, space } = lowRank(120, 40, 5, 0.05, 5);
    const ids = Int32Array.from({ length: 120 }, (_, i) => i + 1);
    const params = {
      dimensions: 6,
      clusters: 3,
      seed: 2,
      restarts: 1,
      encoder: 'autoencoder' as const,
      autoencoder: small({ epochs: 20 }),
    };
    const a = ContentModel.fit(rows, ids, space, params);
    const b = ContentModel.fit(rows, ids, space, params);
    assert.deepEqual(a.vectors, b.vectors);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cinerec-ae-'));
    try {
      saveContentModel(path.join(dir, 'content'), a, 'fp');
      const loaded = loadContentModel(path.join(dir, 'content'), 'fp');
      assert.ok(loaded);
      assert.equal(loaded.state.encoder.kind, 'autoencoder');
      assert.deepEqual(loaded.vectors, a.vectors);
      // A row placed live by the saved encoder lands exactly where fitting put the same row.
      const row = {
        indices: rows.indices.subarray(rows.indptr[7]!, rows.indptr[8]!),
        values: rows.values.subarray(rows.indptr[7]!, rows.indptr[8]!),
        present: Uint8Array.of(1),
      };
      const placed = loaded.append(999, row);
      const d = loaded.dimensions;
      assert.deepEqual(
        loaded.vectors.subarray(placed.index * d, (placed.index + 1) * d),
        a.vectors.subarray(7 * d, 8 * d),
      );
      assert.equal(placed.cluster, a.assignment[7]);
      // A model saved with another encoder setting is not loaded as this one.
      const pca = ContentModel.fit(rows, ids, space, { ...params, encoder: 'pca' });
      saveContentModel(path.join(dir, 'pca'), pca, 'fp');
      assert.equal(loadContentModel(path.join(dir, 'pca'), 'fp')?.state.encoder.kind, 'pca');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('content autoencoder settings', () => {
  it('rejects bad settings naming the field', () => {
    const { rows, space } = lowRank(10, 40, 2, 0, 1);
    const scaler = { mean: new Float32Array(40), scale: new Float32Array(40).fill(1) };
    const cases: [Partial<AutoencoderSettings>, string][] = [
      [{ hidden: [0] }, 'content.autoencoder.hidden'],
      [{ learningRate: -1 }, 'content.autoencoder.learningRate'],
      [{ validation: 1 }, 'content.autoencoder.validation'],
    ];
    for (const [over, field] of cases)
      assert.throws(
        () => fitAutoencoder(rows, space.groups, scaler, 4, small(over)),
        (e: Error) => e instanceof ValidationError && (e as ValidationError).field === field,
      );
  });
});

describe('content.encoder settings', () => {
  it('defaults to PCA and validates the autoencoder settings', () => {
    const { config } = loadConfig({ env: {}, cwd: os.tmpdir() });
    assert.equal(config.content.encoder, 'pca');
    assert.deepEqual(config.content.autoencoder.hidden, [256, 128]);
    const set = loadConfig({
      env: {},
      cwd: os.tmpdir(),
      overrides: { 'content.encoder': 'autoencoder', 'content.autoencoder.hidden': '[64,32]' },
    }).config.content;
    assert.equal(set.encoder, 'autoencoder');
    assert.deepEqual(set.autoencoder.hidden, [64, 32]);
    assert.throws(
      () => loadConfig({ env: {}, cwd: os.tmpdir(), overrides: { 'content.encoder': 'svd' } }),
      (e: Error) =>
        e instanceof ConfigError && /content\.encoder: must be equal to one of the allowed values/.test(e.message),
    );
    assert.throws(
      () => loadConfig({ env: {}, cwd: os.tmpdir(), overrides: { 'content.autoencoder.learningRate': '0' } }),
      /content\.autoencoder\.learningRate/,
    );
  });
});

describe('content model with the autoencoder on ml-latest-small', { concurrency: false }, () => {
  let fixture: Trained;
  let store: DuckDbStore;
  let snapshot: Snapshot;
  /** The shared trained fixture's own configuration (default settings: the PCA encoder). */
  let pcaConfig: Config;
  /** The same with the autoencoder, small for test time: one hidden layer, a few epochs, one k-means restart. */
  let aeConfig: Config;
  let aeKey: string;
  const lines: string[] = [];
  /** Services over the active version; any fit while they load or serve fails the test. */
  const serve = (config: Config) => {
    forbidFitting('the content autoencoder test');
    return loadServices(store, config, { log: (line) => lines.push(line) });
  };

  before(async () => {
    fixture = await trained('ml-latest-small', await realData('ml-latest-small'));
    pcaConfig = fixture.config;
    aeConfig = loadConfig({
      file: fixture.configFile,
      env: {},
      overrides: {
        'content.encoder': 'autoencoder',
        'content.autoencoder.hidden': '[128]',
        'content.autoencoder.epochs': '8',
        'content.autoencoder.batchSize': '256',
        'content.clusters': '40',
        'content.restarts': '1',
      },
    }).config;
    store = await DuckDbStore.open(fixture.config.store.path);
    snapshot = await takeSnapshot(store);
  });
  after(async () => {
    allowFitting();
    await store?.close();
    await fixture?.cleanup();
  });

  let vectors: Float32Array;
  it('training fits it (content and what is built on it only), and Toy Story’s nearest movies are animated family films with Toy Story 2 among the top 10', async () => {
    allowFitting();
    const outcome = await train(aeConfig, snapshot, { activate: 'always', log: (line) => lines.push(line) });
    assert.equal(outcome.result?.status, 'finished', outcome.result?.error ?? '');
    const status = Object.fromEntries(outcome.result!.stages.map((s) => [s.name, s.status]));
    assert.equal(status.content, 'finished');
    assert.equal(status.projection, 'finished');
    assert.equal(status.hybrid, 'finished');
    assert.equal(status.als, 'cached', 'ALS does not read the content settings');
    assert.equal(status.ease, 'cached');
    aeKey = outcome.result!.stages.find((s) => s.name === 'content')!.key;
    assert.ok(outcome.activated, 'the autoencoder version is served');

    const services = await serve(aeConfig);
    const index = await services.served.models.get('content');
    const r = index.model.report;
    assert.equal(r.encoder, 'autoencoder');
    assert.ok(r.reconstruction.heldOut && r.reconstruction.pca);
    assert.ok(r.reconstruction.error < 0.5, `held-out relative error ${r.reconstruction.error}`);
    assert.match(contentFitSummary(r), /autoencoder .*held-out movies/);
    const similar = await services.similar.similar(1, { k: 10 });
    const ids = similar.items.map((m) => m.movieId);
    assert.ok(ids.includes(3114), `Toy Story 2 (3114) among ${similar.items.map((m) => m.title).join(', ')}`);
    const animated = similar.items.filter((m) => m.genres.includes('Animation')).length;
    assert.ok(animated >= 7, `${animated} of 10 are animated: ${similar.items.map((m) => m.title).join(', ')}`);
    vectors = Float32Array.from(index.model.vectors);
  });

  it('is loaded from the version (no refit) with identical vectors, and places a new movie without retraining', async () => {
    const services = await serve(aeConfig);
    const index = await services.served.models.get('content');
    assert.deepEqual(index.model.vectors, vectors);
    const added = await services.catalogue.addMovie({
      title: 'Toy Story 5 (2030)',
      genres: ['Adventure', 'Animation', 'Children', 'Comedy', 'Fantasy'],
      tags: ['pixar', 'animation'],
    });
    const similar = await services.similar.similar(added.movie.movieId, { k: 10 });
    const animated = similar.items.filter((m) => m.genres.includes('Animation')).length;
    assert.ok(animated >= 8, `its neighbours are animated: ${similar.items.map((m) => m.title).join(', ')}`);
    assert.equal(similar.movie.cluster, index.clusterOf(services.served.catalogue.indexOf(added.movie.movieId)));
    // Toy Story has it among its neighbours now.
    const toyStory = await services.similar.similar(1, { k: 30 });
    assert.ok(
      toyStory.items.some((m) => m.movieId === added.movie.movieId),
      'Toy Story 5 is near Toy Story',
    );
  });

  it('switching content.encoder back to pca does not reuse the autoencoder: the PCA model is served', async () => {
    allowFitting();
    const plan = (await train(pcaConfig, snapshot, { activate: 'never', dryRun: true })).plan;
    const content = plan.find((p) => p.name === 'content')!;
    assert.notEqual(content.key, aeKey, 'the encoder is part of the content stage’s key');
    const outcome = await train(pcaConfig, snapshot, { activate: 'always' });
    assert.equal(outcome.result?.status, 'finished', outcome.result?.error ?? '');
    assert.equal(outcome.version, fixture.version, 'the fixture’s own PCA version, trained before');
    const services = await serve(pcaConfig);
    const index = await services.served.models.get('content');
    assert.equal(index.model.report.encoder, 'pca');
    assert.equal(index.model.state.encoder.kind, 'pca');
  });
});
