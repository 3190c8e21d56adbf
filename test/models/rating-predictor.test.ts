import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Catalogue } from '../../src/data/catalogue.ts';
import { Interactions } from '../../src/data/interactions.ts';
import { Rng } from '../../src/math/random.ts';
import { BiasModel } from '../../src/models/bias.ts';
import { RATING_PREDICTOR_DEFAULTS, RatingPredictor } from '../../src/models/rating-predictor.ts';
import { AUTOENCODER_DEFAULTS } from '../../src/models/user-autoencoder.ts';
import type { Movie, RatingColumns } from '../../src/store/types.ts';

const USERS = 200;
const ITEMS = 80;
const SCALE = { min: 0.5, max: 5, step: 0.5 };

/** Ratings μ + b_u + b_i + 0.7·p_uᵀq_i (rank 2) + noise, 30 % observed, on half stars; a fifth held out. */
function synthetic(seed: number) {
  const rng = new Rng(seed);
  const movies: Movie[] = Array.from({ length: ITEMS }, (_, i) => ({
    movieId: i + 1,
    title: `Movie ${i + 1} (2000)`,
    displayTitle: `Movie ${i + 1}`,
    year: 1980 + (i % 30),
    genres: [i % 2 ? 'Drama' : 'Comedy'],
    imdbId: null,
    tmdbId: null,
    source: 'import',
  }));
  const q = Float64Array.from({ length: ITEMS * 2 }, () => rng.normal());
  const bi = Float64Array.from({ length: ITEMS }, () => 0.4 * rng.normal());
  const userId: number[] = [];
  const movieId: number[] = [];
  const rating: number[] = [];
  for (let u = 0; u < USERS; u++) {
    const p = [rng.normal(), rng.normal()];
    const bu = 0.3 * rng.normal();
    for (let i = 0; i < ITEMS; i++) {
      if (rng.next() > 0.3) continue;
      const r = 3.4 + bu + bi[i]! + 0.7 * (p[0]! * q[2 * i]! + p[1]! * q[2 * i + 1]!) + 0.3 * rng.normal();
      userId.push(u + 1);
      movieId.push(i + 1);
      rating.push(Math.min(5, Math.max(0.5, Math.round(r * 2) / 2)));
    }
  }
  const rows: RatingColumns = {
    userId: Int32Array.from(userId),
    movieId: Int32Array.from(movieId),
    rating: Float32Array.from(rating),
    timestamp: new Float64Array(userId.length),
  };
  const order = Array.from({ length: userId.length }, (_, k) => k);
  rng.shuffle(order);
  const cut = Math.round(order.length * 0.8);
  return { rows, catalogue: new Catalogue(movies), train: order.slice(0, cut), test: order.slice(cut) };
}

const SMALL = {
  user: { ...AUTOENCODER_DEFAULTS, hidden: 32, code: 8, epochs: 20, lr: 0.003, batchSize: 16 },
  item: { ...AUTOENCODER_DEFAULTS, hidden: 32, code: 8, epochs: 20, lr: 0.003, batchSize: 16 },
  itemVectors: 'ae' as const,
  hidden: 32,
  hidden2: 0,
  epochs: 25,
  lr: 0.003,
  crossFolds: 3,
  validation: 0.1,
  patience: 4,
};

function rmseOn(
  predict: (u: number, i: number) => number,
  data: ReturnType<typeof synthetic>,
  x: Interactions,
): number {
  let se = 0;
  for (const r of data.test) {
    const e =
      data.rows.rating[r]! - predict(x.userOf(data.rows.userId[r]!), data.catalogue.indexOf(data.rows.movieId[r]!));
    se += e * e;
  }
  return Math.sqrt(se / data.test.length);
}

describe('neural rating predictor', () => {
  const data = synthetic(5);
  const x = Interactions.build(data.rows, data.catalogue, data.train);
  const model = new RatingPredictor({ ...RATING_PREDICTOR_DEFAULTS, ...SMALL });
  const report = model.fit(x, data.catalogue, SCALE);

  it('on low-rank data the MLP beats the bias baseline on held-out ratings', () => {
    const bias = new BiasModel();
    bias.fit(x);
    const clip = (v: number) => Math.min(5, Math.max(0.5, v));
    const b = rmseOn((u, i) => clip(bias.predict(u, i)), data, x);
    const m = rmseOn((u, i) => model.predict(u, i), data, x);
    assert.ok(m < 0.8 * b, `neural ${m.toFixed(4)} vs bias ${b.toFixed(4)} (best epoch ${report.bestEpoch})`);
    // Predictions stay on the scale.
    assert.ok(model.predict(0, 0) >= 0.5 && model.predict(0, 0) <= 5);
  });

  it('no leakage: user and movie vectors are computed from the training ratings alone', () => {
    // The fitted interactions hold no held-out rating at all...
    assert.equal(x.nnz, data.train.length);
    // ...and each stored vector is the encoding of the training row (user) or column (movie): the stored codes
    // come from the kernel layer's float32 encoder, encode() from the layers' own float64 sums, so they agree
    // to float32 rounding.
    const near = (got: Float32Array, want: Float32Array) => {
      got.forEach((v, f) => {
        assert.ok(Math.abs(v - want[f]!) <= 1e-5 * (1 + Math.abs(want[f]!)), `${v} vs ${want[f]}`);
      });
    };
    for (const u of [0, 17, 123]) {
      const trained = model.trainedUser(u)!;
      near(trained.code, model.userAe.encode(x.rowItems(u), x.rowRatings(u)));
      assert.equal(trained.bias, model.bias.bu[u]);
    }
    const csc = x.byItem();
    for (const i of [0, 41]) {
      const from = csc.indptr[i]!;
      const to = csc.indptr[i + 1]!;
      const col = model.itemAe.encode(csc.users.subarray(from, to), csc.ratings.subarray(from, to));
      near(model.trainedItem(i)!, col);
    }
    // Scrambling the held-out ratings changes nothing the model was fitted on: identical predictions.
    const scrambled = { ...data.rows, rating: Float32Array.from(data.rows.rating) };
    for (const r of data.test) scrambled.rating[r] = 5.5 - scrambled.rating[r]!;
    const again = new RatingPredictor({ ...RATING_PREDICTOR_DEFAULTS, ...SMALL });
    again.fit(Interactions.build(scrambled, data.catalogue, data.train), data.catalogue, SCALE);
    for (const r of data.test.slice(0, 50)) {
      const u = x.userOf(data.rows.userId[r]!);
      const i = data.catalogue.indexOf(data.rows.movieId[r]!);
      assert.equal(again.predict(u, i), model.predict(u, i));
    }
  });

  it('a new user gets a vector and predictions from their ratings at once', () => {
    // Two viewers who agree with user 0 on everything, one loving and one hating: b_u is folded in.
    const items = x.rowItems(0);
    const lover = model.userVector(items, new Float32Array(items.length).fill(5));
    const hater = model.userVector(items, new Float32Array(items.length).fill(0.5));
    assert.ok(lover.bias > 0 && hater.bias < 0);
    const unseen = [...Array(ITEMS).keys()].find((i) => !items.includes(i))!;
    assert.ok(model.predictFor(lover, unseen) > model.predictFor(hater, unseen) + 0.5);
    const batch = new Float32Array(2);
    model.predictMany(lover, Int32Array.of(unseen, 3), batch);
    assert.ok(Math.abs(batch[0]! - model.predictFor(lover, unseen)) < 1e-5);
  });
});
