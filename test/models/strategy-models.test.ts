/**
 * The fitted state of the hybrid, user-cluster and segment strategies lives in savable models: a strategy
 * created from loaded models (a model version, nothing fitted) scores exactly as the strategy created from the
 * models training fitted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FittingModels } from '../../src/components/fitting.ts';
import { modelSpec } from '../../src/components/index.ts';
import type { ModelName, ModelTypes } from '../../src/components/models.ts';
import { StoredModels } from '../../src/components/stored.ts';
import { StrategyBook } from '../../src/components/strategy-book.ts';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { HybridModel } from '../../src/models/hybrid.ts';
import { segmentMovies } from '../../src/models/movie-segments.ts';
import { SegmentScores } from '../../src/models/segment-scores.ts';
import { UserClusterModel } from '../../src/models/user-clusters.ts';
import type { AlsStrategy } from '../../src/recommend/strategies/als.ts';
import type { HybridStrategy } from '../../src/recommend/strategies/hybrid.ts';
import type { SegmentStrategy } from '../../src/recommend/strategies/segment.ts';
import type { UserClusterStrategy } from '../../src/recommend/strategies/user-cluster.ts';
import type { Query, Strategy } from '../../src/recommend/strategy.ts';
import { allowFitting, FitForbiddenError, forbidFitting } from '../../src/util/fit-guard.ts';
import {
  ALS_PARAMS,
  addMovie,
  anonymous,
  CONTENT_SETTINGS,
  type Fixture,
  fixture,
  knownUser,
} from './persistence-fixture.ts';

const root = mkdtempSync(join(tmpdir(), 'cinerec-strategy-models-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const dir = (name: string) => join(root, `${name}-${++dirs}`);

const HYBRID = {
  alsWeight: 1,
  contentWeight: 0.8,
  clusters: 6,
  restarts: 2,
  seed: 1,
  bridgeLambda: 1,
  bridgeMinRatings: 3,
  rankContentWeight: 0.1,
};

const SEGMENTS = {
  minK: 2,
  maxK: 6,
  rule: 'calinski-harabasz' as const,
  seed: 1,
  restarts: 2,
  users: {
    positiveRating: 3.5,
    hidden: 12,
    code: 4,
    epochs: 20,
    patience: 5,
    batchSize: 16,
    learningRate: 0.01,
    validationShare: 0.1,
    meanShrinkage: 2,
    smoothing: 10,
    movieSegmentWeight: 0.5,
    lowRatingWeight: 0.5,
  },
};

/** The default configuration with the small fixture's settings. */
function configWith(change: (c: Config) => void = () => {}): Config {
  const { config } = loadConfig({ env: {}, cwd: root });
  config.als = { ...config.als, ...ALS_PARAMS };
  config.content = { ...config.content, ...CONTENT_SETTINGS };
  config.hybrid = { ...config.hybrid, ...HYBRID };
  config.userClusters = { clusters: 5, restarts: 2, seed: 1, smoothing: 5 };
  config.segments = structuredClone(SEGMENTS);
  change(config);
  return config;
}

/**
 * As `cinerec train` does: each model fitted (its dependencies first) and saved into its own directory as soon as
 * it is fitted, before any model fitted later can touch it (the hybrid bridges unrated movies into ALS).
 */
async function train(g: Fixture, config: Config, names: readonly ModelName[]) {
  const fitted = new FittingModels(g.data, config);
  const saved = new Map<ModelName, string>();
  for (const name of names) {
    const at = dir(name);
    const model: ModelTypes[ModelName] = await fitted.get(name);
    await modelSpec(name).save(model, at);
    saved.set(name, at);
  }
  return {
    fitted,
    saved,
    /** Strategies over the fitted models. */
    book: (c: Config = config) => new StrategyBook(g.data, c, fitted),
    /** Strategies over the saved models, loaded as a model version serves them (never fitted). */
    served: (c: Config = config) =>
      new StrategyBook(
        g.data,
        c,
        new StoredModels(
          (n) => {
            const at = saved.get(n);
            return at ? { dir: at } : null;
          },
          g.data,
          config,
        ),
      ),
  };
}

/** Creates strategies while fitting is forbidden: a strategy over loaded models must fit nothing. */
async function withoutFitting<T>(why: string, make: () => Promise<T>): Promise<T> {
  forbidFitting(why);
  try {
    return await make();
  } finally {
    allowFitting();
  }
}

function queries(g: Fixture): Query[] {
  const x = g.interactions;
  return [
    knownUser(x, 1),
    knownUser(x, 12),
    knownUser(x, 77),
    anonymous(g.catalogue, [
      [0, 5],
      [5, 4.5],
      [7, 2],
    ]),
    anonymous(g.catalogue, [
      [3, Number.NaN],
      [58, 5],
    ]),
    anonymous(g.catalogue, []),
  ];
}

/** Scores and reasons of both strategies agree exactly on every query. */
function assertSameScores(a: Strategy, b: Strategy, qs: Query[], n: number): void {
  for (const q of qs) {
    const sa = new Float32Array(n);
    const sb = new Float32Array(n);
    a.score(q, sa);
    b.score(q, sb);
    assert.deepEqual(sb, sa);
    for (const i of [0, 3, 10, n - 1]) assert.equal(b.explain?.(q, i), a.explain?.(q, i));
  }
}

describe('hybrid model', () => {
  it('a hybrid strategy from the loaded ALS, content and hybrid models scores and places as one over the fitted ones', async () => {
    const g = fixture();
    const config = configWith();
    // As training does: ALS saved on its own, the hybrid fitted on it afterwards.
    const t = await train(g, config, ['als', 'content', 'hybrid']);
    const trained = (await t.book().get('hybrid')) as HybridStrategy;
    assert.ok(trained.report.bridged >= 4, 'movies without ratings are bridged');

    // Serving: the ALS, content and hybrid models loaded separately; nothing fitted.
    const servedBook = t.served();
    const served = (await withoutFitting('the hybrid test', () => servedBook.get('hybrid'))) as HybridStrategy;
    const servedAls = (await servedBook.get('als')) as AlsStrategy;
    assert.deepEqual(served.report, trained.report);
    assert.deepEqual(servedAls.model.itemFactors, trained.als.model.itemFactors, 'bridged factors applied to ALS');
    const n = g.catalogue.size;
    assertSameScores(trained, served, queries(g), n);
    for (let i = 0; i < n; i++) assert.equal(served.clusterOf(i), trained.clusterOf(i));
    for (const i of [0, 20, n - 1]) {
      const a = new Float32Array(n);
      const b = new Float32Array(n);
      trained.similarTo(i, a);
      served.similarTo(i, b);
      assert.deepEqual(b, a);
    }

    // A movie added live is placed the same (its content vector first, as the service does).
    const index = addMovie(g, ['Horror', 'Drama']);
    const movie = {
      genres: ['Horror', 'Drama'],
      year: 2001,
      tags: new Map([['scary', 2]]),
      genome: { tagIds: [], relevance: [] },
    };
    trained.content.content.add(index, movie);
    served.content.content.add(index, movie);
    const cluster = trained.place(index);
    assert.equal(served.place(index), cluster);
    assert.equal(served.clusterOf(index), cluster);
    assert.deepEqual(servedAls.model.itemFactors, trained.als.model.itemFactors);
    assertSameScores(trained, served, queries(g), n + 1);
  });

  it('saves only the fitted rows: a loaded model places a live movie again', async () => {
    const g = fixture({ seed: 8 });
    const t = await train(g, configWith(), ['als', 'content', 'hybrid']);
    const trained = (await t.book().get('hybrid')) as HybridStrategy;
    const index = addMovie(g, ['Comedy']);
    trained.content.content.add(index, {
      genres: ['Comedy'],
      year: 1999,
      tags: new Map(),
      genome: { tagIds: [], relevance: [] },
    });
    trained.place(index);
    const at = dir('hybrid');
    await modelSpec('hybrid').save(trained.model, at);
    const loaded = HybridModel.load(at);
    assert.equal(loaded.size, index);
    assert.equal(loaded.place(index, trained.content.content.model).cluster, trained.clusterOf(index));
    assert.deepEqual(loaded.vectors, trained.model.vectors);
  });
});

describe('user cluster model', () => {
  it('a user-cluster strategy from the loaded clusters scores as the fitted one', async () => {
    const g = fixture();
    const config = configWith();
    const t = await train(g, config, ['als', 'user-clusters']);
    const trained = (await t.book().get('user-cluster')) as UserClusterStrategy;
    const loaded = UserClusterModel.load(t.saved.get('user-clusters')!);
    assert.deepEqual(loaded, trained.model);
    const served = (await withoutFitting('the user-cluster test', () =>
      t.served().get('user-cluster'),
    )) as UserClusterStrategy;
    assert.equal(served.clusters, trained.clusters);
    for (const q of queries(g)) assert.equal(served.clusterOf(q), trained.clusterOf(q));
    assertSameScores(trained, served, queries(g), g.catalogue.size);
    // The smoothing applies at scoring time: another value needs no refit.
    const smoother = (await withoutFitting('the user-cluster test', () =>
      t
        .served(
          configWith((c) => {
            c.userClusters.smoothing = 50;
          }),
        )
        .get('user-cluster'),
    )) as UserClusterStrategy;
    const a = new Float32Array(g.catalogue.size);
    const b = new Float32Array(g.catalogue.size);
    smoother.score(knownUser(g.interactions, 1), a);
    served.score(knownUser(g.interactions, 1), b);
    assert.notDeepEqual(a, b);
  });
});

describe('segment score tables', () => {
  it('a segment strategy from the loaded segmentations and tables scores as the fitted one, overrides included', async () => {
    const g = fixture();
    const config = configWith();
    const t = await train(g, config, ['movie-segments', 'user-segments', 'segment-scores']);
    const trained = (await t.book().get('segment')) as SegmentStrategy;
    const loadedTables = SegmentScores.load(t.saved.get('segment-scores')!);
    assert.deepEqual(loadedTables, trained.scoreTables);

    const other = configWith((c) => {
      c.segments.users = { ...c.segments.users, smoothing: 3, movieSegmentWeight: 0.8, lowRatingWeight: 0.25 };
    });
    const served = (await withoutFitting('the segment test', () => t.served().get('segment'))) as SegmentStrategy;
    const overridden = (await withoutFitting('the segment test', () =>
      t.served(other).get('segment'),
    )) as SegmentStrategy;
    const n = g.catalogue.size;
    assertSameScores(trained, served, queries(g), n);
    assert.deepEqual(served.overview(), trained.overview());
    for (const q of queries(g)) assert.deepEqual(served.viewer(q), trained.viewer(q));
    // Other smoothing, movie segment weight and low-rating weight: as a strategy fitted with them.
    const refitted = (await new StrategyBook(g.data, other, new FittingModels(g.data, other)).get(
      'segment',
    )) as SegmentStrategy;
    assertSameScores(refitted, overridden, queries(g), n);
  });
});

describe('the fit guard on the strategies’ models', () => {
  it('forbids fitting the hybrid, user cluster and segment models', async () => {
    const g = fixture();
    const config = configWith();
    const fitted = new FittingModels(g.data, config);
    const als = await fitted.get('als');
    const content = await fitted.get('content');
    const movies = segmentMovies(g.catalogue, g.interactions, {
      minK: 2,
      maxK: 4,
      rule: 'elbow',
      seed: 1,
      restarts: 1,
    });
    forbidFitting('the guard test');
    try {
      const counts = g.interactions.itemCounts();
      assert.throws(() => HybridModel.fit(als, content.model, counts, g.catalogue.size, HYBRID), FitForbiddenError);
      assert.throws(() => UserClusterModel.fit(als, counts, { clusters: 3, restarts: 1, seed: 1 }), FitForbiddenError);
      const users = { k: 2, userIds: g.interactions.userIds, assignment: new Int32Array(g.interactions.nUsers) };
      assert.throws(
        () => SegmentScores.fit(g.interactions, users, movies, { positiveRating: 3.5, lowRatingWeight: 0.5 }),
        FitForbiddenError,
      );
      // A strategy over models fitted on demand (evaluation, tuning) fits them when created: forbidden too.
      await assert.rejects(
        new StrategyBook(g.data, config, new FittingModels(g.data, config)).get('user-cluster'),
        FitForbiddenError,
      );
    } finally {
      allowFitting();
    }
  });
});
