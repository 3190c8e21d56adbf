/**
 * Every fitted model saved into a directory and loaded back gives exactly the outputs of the model that
 * was saved (bit for bit: deepEqual on typed arrays), and no model fits while fitting is forbidden.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { kmeans } from '../../src/math/kmeans.ts';
import { Rng } from '../../src/math/random.ts';
import { AlsModel } from '../../src/models/als.ts';
import { BiasModel } from '../../src/models/bias.ts';
import { Bridge } from '../../src/models/bridge.ts';
import {
  AUTOENCODER_DEFAULTS as CONTENT_AUTOENCODER_DEFAULTS,
  fitAutoencoder,
} from '../../src/models/content-autoencoder.ts';
import { ContentIndex } from '../../src/models/content-index.ts';
import { EaseModel } from '../../src/models/ease.ts';
import { ItemKnnModel } from '../../src/models/itemknn.ts';
import { MfModel } from '../../src/models/mf.ts';
import {
  loadMovieSegments,
  type MovieSegmentation,
  placeMovie,
  saveMovieSegments,
  segmentMovies,
} from '../../src/models/movie-segments.ts';
import { fitPopularityFromInteractions, loadPopularity, savePopularity } from '../../src/models/popularity.ts';
import { RatingPredictor, type RatingPredictorParams } from '../../src/models/rating-predictor.ts';
import { AUTOENCODER_DEFAULTS, RatingAutoencoder } from '../../src/models/user-autoencoder.ts';
import { UserSegmentModel, type UserSegmentSettings } from '../../src/models/user-segments.ts';
import { Dense, ReLU } from '../../src/nn/layers.ts';
import { mse } from '../../src/nn/losses.ts';
import { Sequential, train } from '../../src/nn/network.ts';
import { Adam } from '../../src/nn/optim.ts';
import { allowFitting, FitForbiddenError, forbidFitting } from '../../src/util/fit-guard.ts';
import { ALS_PARAMS, addMovie, CONTENT_SETTINGS, fixture, SCALE } from './persistence-fixture.ts';

const root = mkdtempSync(join(tmpdir(), 'cinerec-persist-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const dir = (name: string) => join(root, `${name}-${++dirs}`);

const f = fixture();
const x = f.interactions;

/** Catalogue-index histories to score: a few users' rows and two made-up ones. */
const histories: Int32Array[] = [
  x.rowItems(0),
  x.rowItems(7),
  x.rowItems(x.nUsers - 1),
  Int32Array.of(0, 5, 10),
  Int32Array.of(3, 58),
];

/** The saved meta must be plain JSON: no NaN or Infinity anywhere. */
function assertPlainJson(at: string): void {
  const text = readFileSync(join(at, 'manifest.json'), 'utf8');
  assert.doesNotMatch(text, /[:[,]\s*-?(NaN|Infinity)/);
  JSON.parse(text);
}

describe('popularity', () => {
  it('round-trips m, C and every array', () => {
    const model = fitPopularityFromInteractions(x, { minVotesQuantile: 0.9 });
    const at = dir('popularity');
    savePopularity(at, model);
    assert.deepEqual(loadPopularity(at), model);
  });
});

describe('EASE', () => {
  for (const [mode, data] of [
    ['dual', fixture({ users: 40, movies: 80, unrated: 2, seed: 9 })],
    ['primal', f],
  ] as const) {
    it(`scores and weights as fitted (${mode})`, () => {
      const xi = data.interactions;
      assert.equal(mode === 'dual', xi.nUsers < xi.nItems);
      const model = new EaseModel({ lambda: 50, maxDense: 1000 });
      model.fit(xi);
      const at = dir(`ease-${mode}`);
      model.save(at);
      assertPlainJson(at);
      const loaded = EaseModel.load(at, xi);
      for (const h of [...histories, xi.rowItems(3)]) {
        const a = new Float32Array(xi.nItems + 2);
        const b = new Float32Array(xi.nItems + 2);
        model.scoreInto(h, a);
        loaded.scoreInto(h, b);
        assert.deepEqual(b, a);
      }
      for (const [i, j] of [
        [0, 5],
        [3, 7],
        [10, 1],
      ] as const)
        assert.equal(loaded.weight(i, j), model.weight(i, j));
      // Prepared for serving, the loaded model explains from a kept K·X; the fitted one forms K·x_j per call: the
      // same weights.
      loaded.prepareExplanations();
      const history = xi.rowItems(3);
      const a = new Float64Array(history.length);
      const b = new Float64Array(history.length);
      for (const j of [0, 1, 7, xi.nItems - 1]) {
        model.weightsTo(j, history, 0, history.length, a);
        loaded.weightsTo(j, history, 0, history.length, b);
        assert.deepEqual(b, a, `weights towards item ${j}`);
      }
    });
  }

  it('refuses other interactions', () => {
    const model = new EaseModel({ lambda: 50, maxDense: 1000 });
    model.fit(x);
    const at = dir('ease');
    model.save(at);
    assert.throws(() => EaseModel.load(at, fixture({ users: 30 }).interactions), /fitted on/);
  });
});

describe('item kNN and the bias baseline', () => {
  it('item kNN scores and similarities as fitted', () => {
    const model = new ItemKnnModel();
    model.fit(x);
    const at = dir('itemknn');
    model.save(at);
    const loaded = ItemKnnModel.load(at, x);
    for (const h of histories) {
      const a = new Float32Array(x.nItems);
      const b = new Float32Array(x.nItems);
      model.scoreInto(h, a);
      loaded.scoreInto(h, b);
      assert.deepEqual(b, a);
    }
    assert.equal(loaded.similarity(0, 5), model.similarity(0, 5));
  });

  it('biases predict as fitted', () => {
    const model = new BiasModel();
    model.fit(x);
    const at = dir('bias');
    model.save(at);
    const loaded = BiasModel.load(at);
    for (let u = -1; u <= x.nUsers; u += 7)
      for (let i = -1; i <= x.nItems; i += 5) assert.equal(loaded.predict(u, i), model.predict(u, i));
  });
});

describe('matrix factorisation', () => {
  for (const [name, validation, scale] of [
    ['early stopping, clipped', 0.1, SCALE],
    ['no validation (NaN in the curve), unclipped (±Infinity bounds)', 0, undefined],
  ] as const) {
    it(`predicts and reports as fitted: ${name}`, () => {
      const model = new MfModel({ factors: 6, epochs: 8, validation, seed: 3 });
      model.fit(x, scale);
      const at = dir('mf');
      model.save(at);
      assertPlainJson(at);
      const loaded = MfModel.load(at);
      assert.deepEqual(loaded.params, model.params);
      assert.deepEqual(loaded.report, model.report);
      assert.deepEqual(loaded.state, model.state);
      for (let u = -1; u <= x.nUsers; u++)
        for (let i = -1; i <= x.nItems; i += 3) assert.equal(loaded.predict(u, i), model.predict(u, i));
    });
  }
});

describe('the content → ALS bridge', () => {
  it('predicts as fitted; a NaN R² (nothing held out) survives', () => {
    const rng = new Rng(2);
    const n = 40;
    const content = Float32Array.from({ length: n * 5 }, () => rng.normal());
    const factors = Float32Array.from({ length: n * 3 }, () => rng.normal());
    const items = Array.from({ length: 30 }, (_, i) => i);
    for (const holdout of [0.2, 0]) {
      const bridge = Bridge.fit(content, 5, factors, 3, items, { lambda: 1, holdout, seed: 1 });
      const at = dir('bridge');
      bridge.save(at);
      assertPlainJson(at);
      const loaded = Bridge.load(at);
      assert.deepEqual(loaded.report, bridge.report);
      if (holdout === 0) assert.ok(Number.isNaN(loaded.report.r2OutOfSample));
      for (let i = 0; i < n; i++)
        assert.deepEqual(loaded.predict(content, undefined, i * 5), bridge.predict(content, undefined, i * 5));
    }
  });
});

const segmentSettings = { minK: 2, maxK: 6, rule: 'calinski-harabasz' as const, seed: 1, restarts: 2 };

describe('movie segments', () => {
  it('round-trip; a movie added later is placed the same from the loaded segmentation', () => {
    const g = fixture();
    const seg = segmentMovies(g.catalogue, g.interactions, segmentSettings);
    const at = dir('movie-segments');
    saveMovieSegments(at, seg);
    assertPlainJson(at);
    const loaded = loadMovieSegments(at);
    assert.deepEqual(loaded, seg);
    const placed = [addMovie(g, ['Horror']), addMovie(g, ['Comedy', 'Romance']), addMovie(g, [])];
    for (const index of placed) {
      const s = placeMovie(loaded, g.catalogue, index);
      assert.equal(s, placeMovie(seg, g.catalogue, index, seg.globalMean));
      assert.ok(s >= 0 && s < seg.k);
    }
    // The segments stay as fitted.
    assert.deepEqual(loaded.segments, seg.segments);
  });

  it('places a fitted movie without ratings where the fit put it', () => {
    const seg: MovieSegmentation = segmentMovies(f.catalogue, x, segmentSettings);
    const counts = x.itemCounts();
    const unrated = Array.from({ length: f.catalogue.size }, (_, i) => i).filter((i) => counts[i] === 0);
    assert.ok(unrated.length > 0);
    for (const i of unrated) assert.equal(placeMovie(seg, f.catalogue, i), seg.assignment[i]);
  });
});

describe('user segments', () => {
  const settings: UserSegmentSettings = {
    ...segmentSettings,
    positiveRating: 3.5,
    hidden: 12,
    code: 4,
    epochs: 20,
    patience: 5,
    batchSize: 16,
    learningRate: 0.01,
    validationShare: 0.1,
    meanShrinkage: 2,
  };

  it('places, encodes and profiles as fitted; fitted users keep their segment', () => {
    const g = fixture();
    const movies = segmentMovies(g.catalogue, g.interactions, segmentSettings);
    const model = UserSegmentModel.fit(g.catalogue, g.interactions, movies, settings);
    const at = dir('user-segments');
    model.save(at);
    assertPlainJson(at);
    // A movie added after saving: it has no movie segment in either model.
    const added = addMovie(g, ['Horror', 'Action']);
    const loaded = UserSegmentModel.load(at, g.catalogue);
    assert.equal(loaded.k, model.k);
    assert.equal(loaded.rule, model.rule);
    assert.equal(loaded.elbow, model.elbow);
    assert.deepEqual(loaded.scores, model.scores);
    assert.deepEqual(loaded.segments, model.segments);
    assert.deepEqual(loaded.report, model.report);
    assert.deepEqual(loaded.userIds, model.userIds);
    assert.deepEqual(loaded.assignment, model.assignment);
    assert.deepEqual(loaded.centroids, model.centroids);
    for (const id of [1, 2, 17, 90, 1000]) assert.equal(loaded.fittedSegmentOf(id), model.fittedSegmentOf(id));
    const xi = g.interactions;
    const cases: [Int32Array, Float32Array][] = [
      [xi.rowItems(0), xi.rowRatings(0)],
      [xi.rowItems(33), xi.rowRatings(33)],
      [Int32Array.of(3, 8, 13, added), Float32Array.of(5, 4.5, Number.NaN, 5)],
      [Int32Array.of(1), Float32Array.of(2)],
      [new Int32Array(0), new Float32Array(0)],
    ];
    for (const [items, ratings] of cases) {
      assert.equal(loaded.place(items, ratings), model.place(items, ratings));
      const a = model.encode(items, ratings);
      const b = loaded.encode(items, ratings);
      assert.deepEqual(b && Float32Array.from(b), a && Float32Array.from(a));
      assert.deepEqual(loaded.profile(items, ratings), model.profile(items, ratings));
    }
  });
});

describe('the neural rating predictor', () => {
  const small = (over: Partial<RatingPredictorParams>): Partial<RatingPredictorParams> => ({
    user: { ...AUTOENCODER_DEFAULTS, hidden: 12, code: 4, epochs: 4, batchSize: 16, lr: 0.003 },
    item: { ...AUTOENCODER_DEFAULTS, hidden: 12, code: 4, epochs: 4, batchSize: 16, lr: 0.003 },
    hidden: 12,
    hidden2: 6,
    epochs: 4,
    crossFolds: 2,
    validation: 0.1,
    patience: 2,
    ...over,
  });

  for (const [name, params] of [
    ['both item vectors, product', small({ itemVectors: 'both', product: true })],
    [
      'autoencoder item vectors, split first layer, dropout',
      small({ itemVectors: 'ae', product: false, dropout: 0.2 }),
    ],
    ['content item vectors (no item autoencoder)', small({ itemVectors: 'content', product: false, hidden2: 0 })],
  ] as const) {
    it(`predicts as fitted: ${name}`, () => {
      const g = fixture();
      const model = new RatingPredictor(params);
      model.fit(g.interactions, g.catalogue, SCALE);
      const at = dir('neural');
      model.save(at);
      assertPlainJson(at);
      const added = addMovie(g, ['Drama']);
      const loaded = RatingPredictor.load(at, g.catalogue);
      assert.deepEqual(loaded.report, model.report);
      assert.deepEqual(loaded.params, model.params);
      assert.deepEqual(loaded.network(), model.network());
      const xi = g.interactions;
      for (let u = -1; u < xi.nUsers; u += 4)
        for (let i = 0; i <= added; i += 3) assert.equal(loaded.predict(u, i), model.predict(u, i));
      for (const u of [0, 5, xi.nUsers - 1, xi.nUsers]) {
        assert.deepEqual(loaded.trainedUser(u), model.trainedUser(u));
        assert.deepEqual(loaded.trainedItem(u), model.trainedItem(u));
      }
      const items = Int32Array.of(2, 9, 4, 30, 21);
      const ratings = Float32Array.of(5, 1.5, 4, 3.5, Number.NaN);
      const va = model.userVector(items, ratings);
      const vb = loaded.userVector(items, ratings);
      assert.deepEqual(vb, va);
      const all = new Float32Array(g.catalogue.size);
      const allLoaded = new Float32Array(g.catalogue.size);
      model.predictMany(va, null, all);
      loaded.predictMany(vb, null, allLoaded);
      assert.deepEqual(allLoaded, all);
      const some = Int32Array.of(added, 0, 11, 57);
      const a = new Float32Array(some.length);
      const b = new Float32Array(some.length);
      model.predictMany(va, some, a);
      loaded.predictMany(vb, some, b);
      assert.deepEqual(b, a);
      assert.equal(loaded.predictFor(vb, added), model.predictFor(va, added));
    });
  }

  it('the rating autoencoder alone round-trips', () => {
    const ae = new RatingAutoencoder({ hidden: 8, code: 3, epochs: 3, batchSize: 16 });
    const colBias = new Float64Array(x.nItems).fill(0.1);
    ae.fit(
      { rows: x.nUsers, width: x.nItems, indptr: x.indptr, cols: x.items, ratings: x.ratings },
      { mu: x.meanRating(), colBias, rowReg: 15 },
    );
    const at = dir('autoencoder');
    ae.save(at);
    const loaded = RatingAutoencoder.load(at);
    assert.deepEqual(loaded.report, ae.report);
    const cols = Int32Array.of(1, 4, 9);
    const ratings = Float32Array.of(4, 2, 5);
    assert.deepEqual(loaded.encode(cols, ratings), ae.encode(cols, ratings));
    assert.deepEqual(loaded.predict(cols, ratings, [0, 2, 77]), ae.predict(cols, ratings, [0, 2, 77]));
  });
});

describe('the fit guard', () => {
  it('forbidFitting makes every model fit throw FitForbiddenError', async () => {
    forbidFitting('this test');
    try {
      const seg = segmentMovies.bind(null, f.catalogue, x, segmentSettings);
      const fits: [string, () => unknown][] = [
        ['ease', () => new EaseModel().fit(x)],
        ['itemknn', () => new ItemKnnModel().fit(x)],
        ['mf', () => new MfModel({ factors: 2, epochs: 1 }).fit(x)],
        ['bias', () => new BiasModel().fit(x)],
        ['popularity', () => fitPopularityFromInteractions(x, { minVotesQuantile: 0.9 })],
        ['content', () => ContentIndex.fit(f.catalogue, f.data.content!, CONTENT_SETTINGS)],
        [
          'content autoencoder',
          () =>
            fitAutoencoder(
              {
                rows: 0,
                cols: 0,
                indptr: Int32Array.of(0),
                indices: new Int32Array(0),
                values: new Float32Array(0),
                present: new Uint8Array(0),
              },
              [],
              { mean: new Float32Array(0), scale: new Float32Array(0) },
              2,
              CONTENT_AUTOENCODER_DEFAULTS,
            ),
        ],
        [
          'bridge',
          () => Bridge.fit(new Float32Array(4), 2, new Float32Array(4), 2, [0, 1], { lambda: 1, holdout: 0, seed: 1 }),
        ],
        ['movie segments', seg],
        ['kmeans', () => kmeans(new Float32Array(8), 4, 2, { k: 2 })],
        [
          'train',
          () =>
            train(
              new Sequential([new Dense(2, 2, 'glorot', new Rng(1)), new ReLU()]),
              { x: new Float32Array(4), y: new Float32Array(4) },
              {
                epochs: 1,
                batchSize: 2,
                loss: mse,
                optimizer: new Adam({ lr: 0.01 }),
                seed: 1,
              },
            ),
        ],
        ['rating predictor', () => new RatingPredictor().fit(x, f.catalogue, SCALE)],
        [
          'rating autoencoder',
          () =>
            new RatingAutoencoder().fit(
              { rows: x.nUsers, width: x.nItems, indptr: x.indptr, cols: x.items, ratings: x.ratings },
              { mu: 3, colBias: new Float64Array(x.nItems), rowReg: 1 },
            ),
        ],
        [
          'user segments',
          () =>
            UserSegmentModel.fit(
              f.catalogue,
              x,
              { k: 1, assignment: new Int32Array(f.catalogue.size), segments: [{ segment: 0, topGenres: [] }] },
              {
                ...segmentSettings,
                positiveRating: 3.5,
                hidden: 4,
                code: 2,
                epochs: 1,
                patience: 1,
                batchSize: 8,
                learningRate: 0.01,
                validationShare: 0,
                meanShrinkage: 1,
              },
            ),
        ],
      ];
      for (const [what, fit] of fits) assert.throws(fit, FitForbiddenError, what);
      await assert.rejects(AlsModel.fit(x, ALS_PARAMS), FitForbiddenError);
    } finally {
      allowFitting();
    }
    // Allowed again.
    new EaseModel({ lambda: 10, maxDense: 1000 }).fit(x);
  });
});
