import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalogue } from '../../src/data/catalogue.ts';
import { Interactions } from '../../src/data/interactions.ts';
import { Rng } from '../../src/math/random.ts';
import { BIAS_DEFAULTS, BiasModel } from '../../src/models/bias.ts';
import { MF_DEFAULTS, MfModel, type MfState, sampleLoss, sgdStep } from '../../src/models/mf.ts';
import { MfRatingModel } from '../../src/recommend/rating-models.ts';
import type { Movie } from '../../src/store/types.ts';
import { testMovie } from '../helpers/records.ts';

const SCALE = { min: 0.5, max: 5, step: 0.5 };

const movie = (movieId: number): Movie => testMovie(movieId);

/** Ratings as [user index, item index, rating]; user ids are index + 1, movie ids 10·(index + 1). */
type Triple = [number, number, number];

function catalogueOf(nItems: number): Catalogue {
  return new Catalogue(Array.from({ length: nItems }, (_, i) => movie(10 * (i + 1))));
}

function interactions(triples: Triple[], catalogue: Catalogue): Interactions {
  return Interactions.build(
    {
      userId: Int32Array.from(triples, (t) => t[0] + 1),
      movieId: Int32Array.from(triples, (t) => 10 * (t[1] + 1)),
      rating: Float32Array.from(triples, (t) => t[2]),
      timestamp: new Float64Array(triples.length),
    },
    catalogue,
  );
}

const N_USERS = 120;
const N_ITEMS = 80;

/**
 * Ratings from known biases + rank-2 factors + a little noise, clipped to [0.5, 5]; a seeded 60% of the
 * cells observed, split into train (80%) and held-out test (20%). Every user and item is in train.
 */
function synthetic(seed: number): { train: Triple[]; test: Triple[] } {
  const rng = new Rng(seed);
  const bu = Array.from({ length: N_USERS }, () => 0.4 * rng.normal());
  const bi = Array.from({ length: N_ITEMS }, () => 0.4 * rng.normal());
  const p = Array.from({ length: N_USERS }, () => [rng.normal(), rng.normal()]);
  const q = Array.from({ length: N_ITEMS }, () => [rng.normal(), rng.normal()]);
  const train: Triple[] = [];
  const test: Triple[] = [];
  for (let u = 0; u < N_USERS; u++) {
    for (let i = 0; i < N_ITEMS; i++) {
      if (rng.next() > 0.6) continue;
      const r = 3.2 + bu[u]! + bi[i]! + 0.6 * (p[u]![0]! * q[i]![0]! + p[u]![1]! * q[i]![1]!) + 0.1 * rng.normal();
      const t: Triple = [u, i, Math.min(5, Math.max(0.5, r))];
      (rng.next() < 0.2 && u > 0 && i > 0 ? test : train).push(t);
    }
  }
  return { train, test };
}

function rmseOf(test: Triple[], x: Interactions, predict: (u: number, i: number) => number): number {
  let se = 0;
  for (const [u, i, r] of test) se += (r - predict(x.userOf(u + 1), i)) ** 2;
  return Math.sqrt(se / test.length);
}

const DATA = synthetic(7);
const CATALOGUE = catalogueOf(N_ITEMS);
const TRAIN = interactions(DATA.train, CATALOGUE);
const FAST = { factors: 4, epochs: 60, lr: 0.02, reg: 0.02, regBias: 0.02, lrDecay: 0.99, initStd: 0.1 };

test('sgdStep moves each parameter by −lr · ∂L/∂θ, matching central finite differences of sampleLoss', () => {
  const rng = new Rng(3);
  const k = 5;
  const rand = (n: number) => Float64Array.from({ length: n }, () => 0.5 * rng.normal());
  const s: MfState = { k, mu: 3.4, bu: rand(3), bi: rand(4), p: rand(3 * k), q: rand(4 * k) };
  const reg = 0.07;
  const regBias = 0.03;
  const u = 2;
  const i = 1;
  const r = 4.5;
  const lr = 0.01;
  const copy = (x: MfState): MfState => ({
    ...x,
    bu: x.bu.slice(),
    bi: x.bi.slice(),
    p: x.p.slice(),
    q: x.q.slice(),
  });
  const after = copy(s);
  sgdStep(after, reg, regBias, u, i, r, lr);
  const h = 1e-6;
  const check = (what: string, arr: (x: MfState) => Float64Array, j: number) => {
    const plus = copy(s);
    arr(plus)[j]! += h;
    const minus = copy(s);
    arr(minus)[j]! -= h;
    const numeric = (sampleLoss(plus, reg, regBias, u, i, r) - sampleLoss(minus, reg, regBias, u, i, r)) / (2 * h);
    const analytic = (arr(s)[j]! - arr(after)[j]!) / lr;
    assert.ok(Math.abs(numeric - analytic) < 1e-6, `${what}[${j}]: numeric ${numeric} vs step ${analytic}`);
  };
  check('bu', (x) => x.bu, u);
  check('bi', (x) => x.bi, i);
  for (let f = 0; f < k; f++) {
    check('p', (x) => x.p, u * k + f);
    check('q', (x) => x.q, i * k + f);
  }
  // Other rows are untouched.
  assert.deepEqual(after.bu[0], s.bu[0]);
  assert.deepEqual(after.p.subarray(0, k), s.p.subarray(0, k));
  assert.deepEqual(after.q.subarray(0, k), s.q.subarray(0, k));
});

test('on rank-2 synthetic data the held-out RMSE is well below the bias-only model', () => {
  const bias = new BiasModel(BIAS_DEFAULTS);
  bias.fit(TRAIN);
  const biasRmse = rmseOf(DATA.test, TRAIN, (u, i) => Math.min(5, Math.max(0.5, bias.predict(u, i))));
  const mf = new MfModel({ ...FAST, seed: 1 });
  mf.fit(TRAIN, SCALE);
  const mfRmse = rmseOf(DATA.test, TRAIN, (u, i) => mf.predict(u, i));
  assert.ok(mfRmse < 0.6 * biasRmse, `mf ${mfRmse.toFixed(4)} vs bias ${biasRmse.toFixed(4)}`);
  assert.ok(mfRmse < 0.3, `mf ${mfRmse.toFixed(4)}`);
});

test('early stopping restores the best epoch: the returned model scores the minimum of the validation curve', () => {
  // A learning rate high enough to overfit, so the validation curve turns up and patience triggers.
  const mf = new MfModel({
    ...FAST,
    factors: 20,
    lr: 0.05,
    reg: 0,
    lrDecay: 1,
    epochs: 200,
    validation: 0.1,
    patience: 3,
  });
  const report = mf.fit(TRAIN, SCALE);
  assert.equal(report.validationRatings, Math.round(TRAIN.nnz * 0.1));
  assert.equal(report.trainRatings + report.validationRatings, TRAIN.nnz);
  const curve = report.curve.map((e) => e.validationRmse);
  const min = Math.min(...curve);
  assert.ok(report.stoppedEarly, `ran all ${curve.length} epochs`);
  assert.equal(report.curve.length, report.bestEpoch + 3);
  assert.equal(curve[report.bestEpoch - 1], min);
  assert.ok(curve.at(-1)! > min);
  // Recompute the validation RMSE of the returned parameters: the same held-out ratings (same seed).
  const held = heldOut(TRAIN, 0.1, MF_DEFAULTS.seed);
  let se = 0;
  for (const [u, i, r] of held) se += (r - mf.predict(u, i)) ** 2;
  assert.ok(Math.abs(Math.sqrt(se / held.length) - min) < 1e-12, `${Math.sqrt(se / held.length)} vs ${min}`);
  for (const e of report.curve) assert.ok(Number.isFinite(e.trainRmse));
});

/** The held-out ratings MfModel picks: the first share of a seeded shuffle of the CSR positions. */
function heldOut(x: Interactions, share: number, seed: number): Triple[] {
  const order = new Uint32Array(x.nnz);
  for (let t = 0; t < order.length; t++) order[t] = t;
  new Rng(seed).shuffle(order);
  const out: Triple[] = [];
  for (let t = 0; t < Math.round(x.nnz * share); t++) {
    const j = order[t]!;
    let u = 0;
    while (x.indptr[u + 1]! <= j) u++;
    out.push([u, x.items[j]!, x.ratings[j]!]);
  }
  return out;
}

test('the same seed gives the same model; another seed a different one', () => {
  const fit = (seed: number) => {
    const m = new MfModel({ ...FAST, epochs: 10, validation: 0.05, seed });
    m.fit(TRAIN, SCALE);
    return m;
  };
  const a = fit(5);
  const b = fit(5);
  const c = fit(6);
  assert.deepEqual(a.state.p, b.state.p);
  assert.deepEqual(a.state.q, b.state.q);
  assert.deepEqual(a.state.bu, b.state.bu);
  assert.deepEqual(a.report!.curve, b.report!.curve);
  assert.notDeepEqual(a.state.q, c.state.q);
});

test('predictions stay within the scale; unknown users and items fall back to μ + known biases', () => {
  // Extreme ratings and a huge learning rate push raw scores far outside the scale.
  const model = new MfModel({ ...FAST, epochs: 5, lr: 0.2, reg: 0 });
  model.fit(TRAIN, SCALE);
  const m = new MfRatingModel(model);
  for (let u = -1; u < N_USERS; u++)
    for (let i = 0; i < N_ITEMS + 2; i++) {
      const r = m.predict(u, i);
      assert.ok(r >= SCALE.min && r <= SCALE.max, `(${u}, ${i}) → ${r}`);
    }
  const { mu, bu, bi } = m.model.state;
  const clip = (x: number) => Math.min(5, Math.max(0.5, x));
  assert.equal(m.predict(-1, 3), clip(mu + bi[3]!));
  assert.equal(m.predict(4, N_ITEMS + 5), clip(mu + bu[4]!));
  assert.equal(m.predict(-1, -1), clip(mu));
  assert.equal(m.name, 'mf');
});

test('an item with no training ratings predicts μ + b_u, not random factor noise', () => {
  const cat = catalogueOf(4);
  const x = interactions(
    [
      [0, 0, 4],
      [0, 1, 3],
      [1, 0, 5],
      [1, 2, 2],
    ],
    cat,
  );
  const m = new MfModel({ ...FAST, epochs: 3, initBiases: 0 });
  m.fit(x, SCALE);
  const { mu, bu, bi } = m.state;
  assert.equal(bi[3], 0);
  assert.ok(Math.abs(m.predict(0, 3) - (mu + bu[0]!)) < 1e-12);
});
