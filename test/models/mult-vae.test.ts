import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FittingModels } from '../../src/components/fitting.ts';
import { MODELS } from '../../src/components/index.ts';
import type { ModelName } from '../../src/components/models.ts';
import { StoredModels } from '../../src/components/stored.ts';
import { StrategyBook } from '../../src/components/strategy-book.ts';
import { loadConfig } from '../../src/config/config.ts';
import { Catalogue } from '../../src/data/catalogue.ts';
import { Interactions } from '../../src/data/interactions.ts';
import { Rng } from '../../src/math/random.ts';
import { MultVaeModel } from '../../src/models/mult-vae.ts';
import type { CsrPattern } from '../../src/nn/sparse-rows.ts';
import {
  gaussianKl,
  initMultVaeWeights,
  MULT_VAE_WEIGHT_NAMES,
  MultVaeKernel,
  type MultVaeWeights,
  multinomialNll,
  reparameterise,
  reparameteriseBackward,
  tanhBackward,
  tanhInPlace,
} from '../../src/nn/vae.ts';
import { historyOf } from '../../src/recommend/history.ts';
import { RankingPipeline } from '../../src/recommend/pipeline.ts';
import { RuleSet } from '../../src/recommend/rules.ts';
import { MultVaeStrategy } from '../../src/recommend/strategies/mult-vae.ts';
import type { ViewerContext } from '../../src/recommend/strategy.ts';
import type { Movie } from '../../src/store/types.ts';
import { testMovie } from '../helpers/records.ts';
import { fixture } from './persistence-fixture.ts';

const root = mkdtempSync(join(tmpdir(), 'cinerec-mult-vae-'));
after(() => rmSync(root, { recursive: true, force: true }));

const movie = (movieId: number): Movie => testMovie(movieId);

/** Interactions from per-user item lists over a catalogue of nCatalogue movies (ids 10·(index+1)). */
function interactions(rowsByUser: number[][], nCatalogue: number): Interactions {
  const catalogue = new Catalogue(Array.from({ length: nCatalogue }, (_, i) => movie(10 * (i + 1))));
  const userId: number[] = [];
  const movieId: number[] = [];
  rowsByUser.forEach((items, u) => {
    for (const i of items) {
      userId.push(u + 1);
      movieId.push(10 * (i + 1));
    }
  });
  return Interactions.build(
    {
      userId: Int32Array.from(userId),
      movieId: Int32Array.from(movieId),
      rating: new Float32Array(userId.length).fill(4),
      timestamp: new Float64Array(userId.length),
    },
    catalogue,
  );
}

/** Central finite differences of f at x (float64), one coordinate at a time. */
function numericGradient(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i]!;
    x[i] = keep + h;
    const up = f(x);
    x[i] = keep - h;
    const down = f(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: lengths`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}[${i}]: ${a} vs ${e}`);
  }
}

const randomVec = (n: number, rng: Rng, sd = 1): Float64Array =>
  Float64Array.from({ length: n }, () => sd * rng.normal());

describe('Mult-VAE gradients (finite differences)', () => {
  it('multinomial NLL: value and gradient, in place too, a target-less row at zero', () => {
    const rng = new Rng(1);
    const width = 7;
    // Row 0: three targets; row 1: none; row 2: one column listed twice (counts twice).
    const targets: CsrPattern = {
      rows: 3,
      indptr: Int32Array.of(0, 3, 3, 5),
      indices: Int32Array.of(0, 2, 6, 4, 4),
    };
    const z = randomVec(3 * width, rng, 2);
    const scale = 1 / 3;
    // Reference value straight from the definition: −Σ_targets log softmax.
    let ref = 0;
    for (let r = 0; r < 3; r++) {
      const row = Array.from(z.subarray(r * width, (r + 1) * width));
      const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
      for (let p = targets.indptr[r]!; p < targets.indptr[r + 1]!; p++) ref -= row[targets.indices[p]!]! - lse;
    }
    const grad = new Float64Array(z.length);
    const value = multinomialNll(z, targets, width, grad, scale);
    assert.ok(Math.abs(value - scale * ref) < 1e-12, `${value} vs ${scale * ref}`);
    const numeric = numericGradient((x) => multinomialNll(x, targets, width, null, scale), z);
    assertClose(grad, numeric, 1e-7, 'dNLL/dz');
    assert.deepEqual(Array.from(grad.subarray(width, 2 * width)), new Array(width).fill(0));
    // Each row's gradient sums to 0 (softmax·n − x over n targets).
    for (let r = 0; r < 3; r++)
      assert.ok(Math.abs(grad.subarray(r * width, (r + 1) * width).reduce((s, v) => s + v, 0)) < 1e-12);
    const inPlace = Float64Array.from(z);
    assert.equal(multinomialNll(inPlace, targets, width, inPlace, scale), value);
    assert.deepEqual(inPlace, grad);
  });

  it('KL(N(μ, σ²) ‖ N(0, I)): gradient through μ and log σ², added on top of what is there', () => {
    const rng = new Rng(2);
    const rows = 3;
    const latent = 4;
    const stats = randomVec(rows * 2 * latent, rng, 0.8);
    const scale = 0.37;
    const base = randomVec(stats.length, rng);
    const grad = Float64Array.from(base);
    const value = gaussianKl(stats, rows, latent, grad, scale);
    // Closed form per coordinate: ½(σ² + μ² − 1 − log σ²).
    let ref = 0;
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < latent; j++) {
        const mu = stats[r * 2 * latent + j]!;
        const lv = stats[r * 2 * latent + latent + j]!;
        ref += 0.5 * (Math.exp(lv) + mu * mu - 1 - lv);
      }
    assert.ok(Math.abs(value - scale * ref) < 1e-12);
    const numeric = numericGradient((x) => gaussianKl(x, rows, latent, null, scale), stats);
    assertClose(
      grad.map((g, i) => g - base[i]!),
      numeric,
      1e-7,
      'dKL/d[μ | log σ²]',
    );
    // At μ = 0, σ = 1 the KL and its gradient vanish.
    const zero = new Float64Array(2 * latent);
    const g0 = new Float64Array(2 * latent);
    assert.equal(gaussianKl(zero, 1, latent, g0), 0);
    assert.deepEqual(Array.from(g0), new Array(2 * latent).fill(0));
  });

  it('reparameterisation z = μ + ε·σ: gradient to μ and log σ² for fixed ε', () => {
    const rng = new Rng(3);
    const rows = 2;
    const latent = 3;
    const stats = randomVec(rows * 2 * latent, rng, 0.7);
    const eps = randomVec(rows * latent, rng);
    const weights = randomVec(rows * latent, rng); // a linear loss Σ w·z downstream
    const loss = (s: Float64Array) => {
      const z = new Float64Array(rows * latent);
      reparameterise(s, rows, latent, eps, z);
      return z.reduce((acc, v, i) => acc + weights[i]! * v, 0);
    };
    const grad = new Float64Array(stats.length).fill(Number.NaN); // overwritten, not added to
    reparameteriseBackward(weights, stats, rows, latent, eps, grad);
    assertClose(grad, numericGradient(loss, stats), 1e-7, 'dz/d[μ | log σ²]');
  });

  it('tanh: gradient through the forward output', () => {
    const rng = new Rng(4);
    const x = randomVec(9, rng, 1.5);
    const w = randomVec(9, rng);
    const loss = (v: Float64Array) => {
      const y = Float64Array.from(v);
      tanhInPlace(y, y.length);
      return y.reduce((acc, t, i) => acc + w[i]! * t, 0);
    };
    const y = Float64Array.from(x);
    tanhInPlace(y, y.length);
    const g = Float64Array.from(w);
    tanhBackward(g, y, g.length);
    assertClose(g, numericGradient(loss, x), 1e-7, 'dtanh');
  });

  it('the whole network on the kernels: every parameter’s gradient (NLL + β·KL, fixed ε)', () => {
    const shape = { items: 12, hidden: 5, latent: 3 };
    const w0 = initMultVaeWeights(shape, new Rng(3));
    // Non-zero biases, so that their paths are exercised.
    for (const n of MULT_VAE_WEIGHT_NAMES)
      if (n.endsWith('B')) for (let i = 0; i < w0[n].length; i++) w0[n][i] = 0.1 * Math.sin(i + 1);
    const input = {
      rows: 3,
      indptr: Int32Array.of(0, 2, 5, 6),
      indices: Int32Array.of(0, 3, 1, 4, 7, 9),
      values: Float32Array.of(0.7, 0.7, 0.5, 0.5, 0.5, 1),
    };
    const targets = { rows: 3, indptr: Int32Array.of(0, 3, 6, 8), indices: Int32Array.of(0, 3, 5, 1, 4, 7, 9, 2) };
    const beta = 0.3;
    const clone = (w: MultVaeWeights) =>
      Object.fromEntries(MULT_VAE_WEIGHT_NAMES.map((n) => [n, Float32Array.from(w[n])])) as unknown as MultVaeWeights;
    const loss = (w: MultVaeWeights): number => {
      const k = new MultVaeKernel(shape, w, { lr: 1e-3 });
      k.gradients(input, targets, new Rng(9), beta);
      return (k.lastNll + beta * k.lastKl) / input.rows;
    };
    const kernel = new MultVaeKernel(shape, clone(w0), { lr: 1e-3 });
    kernel.gradients(input, targets, new Rng(9), beta);
    for (const name of MULT_VAE_WEIGHT_NAMES) {
      const g = kernel.gradientOf(name);
      // float32 network: a coarse step, a loose relative tolerance (a wiring error is off by O(1)).
      const h = 1e-2;
      for (let i = 0; i < g.length; i++) {
        const up = clone(w0);
        up[name][i]! += h;
        const down = clone(w0);
        down[name][i]! -= h;
        const fd = (loss(up) - loss(down)) / (2 * h);
        const err = Math.abs(fd - g[i]!) / Math.max(1e-2, Math.abs(fd) + Math.abs(g[i]!));
        assert.ok(err < 5e-3, `${name}[${i}]: analytic ${g[i]} vs numeric ${fd}`);
      }
    }
  });
});

describe('MultVaeModel', () => {
  // Two taste groups: movies 0–5 and 6–11, each user watching four movies of one group; movies 12–13 unwatched.
  const groupA = [0, 1, 2, 3, 4, 5];
  const groupB = [6, 7, 8, 9, 10, 11];
  const rows: number[][] = [];
  const rng = new Rng(11);
  for (let u = 0; u < 40; u++) {
    const g = u % 2 === 0 ? groupA : groupB;
    rows.push(rng.shuffle([...g]).slice(0, 4));
  }
  const x = interactions(rows, 14);
  const params = { latent: 4, hidden: 16, epochs: 150, batchSize: 8, lr: 0.01, annealSteps: 100, seed: 5 };

  const fitted = (seed = 5) => {
    const m = new MultVaeModel({ ...params, seed });
    m.fit(x);
    return m;
  };
  const model = fitted();
  const scores = (m: MultVaeModel, history: number[]) => {
    const out = new Float32Array(x.nItems);
    m.scoreInto(Int32Array.from(history), out);
    return out;
  };

  it('ranks the planted co-occurrence: a viewer of one group is shown the rest of that group first', () => {
    for (const [history, own, other] of [
      [[0, 1, 2], [3, 4, 5], groupB],
      [[7, 9], [6, 8, 10, 11], groupA],
    ] as const) {
      const s = scores(model, [...history]);
      const worstOwn = Math.min(...own.map((i) => s[i]!));
      const bestOther = Math.max(...other.map((i) => s[i]!));
      assert.ok(worstOwn > bestOther, `history ${history}: own group ${worstOwn} vs other ${bestOther}`);
      for (let i = 0; i < s.length; i++) assert.ok(Number.isFinite(s[i]!));
    }
    const report = model.report!;
    assert.equal(report.curve.length, params.epochs);
    assert.ok(report.curve.at(-1)!.nll < report.curve[0]!.nll, 'the likelihood improved');
  });

  it('serves any history: an empty one, and movies beyond its catalogue score −∞ through the strategy', () => {
    const empty = scores(model, []);
    for (const v of empty) assert.ok(Number.isFinite(v));
    const strategy = new MultVaeStrategy(model);
    const wider = new Float32Array(x.nItems + 3).fill(Number.NaN);
    const history = { items: Int32Array.of(0, 1, x.nItems + 1), ratings: new Float32Array(3) };
    strategy.score({ ctx: {}, history }, wider);
    assert.deepEqual(Array.from(wider.subarray(0, x.nItems)), Array.from(scores(model, [0, 1])));
    assert.deepEqual(Array.from(wider.subarray(x.nItems)), [-Infinity, -Infinity, -Infinity]);
    assert.ok(strategy.explain({ ctx: {}, history }, 3));
  });

  it('save and load give identical scores', () => {
    const dir = join(root, 'saved');
    model.save(dir);
    const loaded = MultVaeModel.load(dir);
    assert.equal(loaded.nItems, model.nItems);
    assert.deepEqual(loaded.params, model.params);
    for (const h of [[0, 1, 2], [7, 9], [], [13]]) assert.deepEqual(scores(loaded, h), scores(model, h));
  });

  it('the same seed gives the same weights, another seed others', () => {
    const weightsOf = (m: MultVaeModel, name: string) => {
      const dir = join(root, name);
      m.save(dir);
      return readFileSync(join(dir, 'arrays.bin'));
    };
    const a = weightsOf(model, 'a');
    assert.ok(a.equals(weightsOf(fitted(), 'b')), 'refit with the same seed');
    assert.ok(!a.equals(weightsOf(fitted(6), 'c')), 'another seed');
  });
});

describe('the mult-vae component', () => {
  const { config } = loadConfig({
    env: {},
    cwd: root,
    overrides: { 'multVae.epochs': '5', 'multVae.hidden': '16', 'multVae.latent': '4' },
  });
  const data = fixture({ users: 50, movies: 40, unrated: 3 }).data;
  const n = data.catalogue.size;
  const queries: ViewerContext[] = [
    { userId: data.interactions.userIds[0]! },
    { ratings: [1, 6, 11].map((movieId) => ({ movieId, rating: 4.5 })) },
    { watched: [3, 8] },
    {},
  ];
  const rank = (book: StrategyBook, ctx: ViewerContext) =>
    book.get('mult-vae').then((s) =>
      new RankingPipeline(
        () => data,
        () => new RuleSet([]),
      ).rank(s, { ctx, k: 10 }),
    );

  it('is fitted from its settings, scores every movie, never lists the history, says why', async () => {
    const models = new FittingModels(data, config);
    const book = new StrategyBook(data, config, models);
    const strategy = await book.get('mult-vae');
    assert.ok(strategy instanceof MultVaeStrategy);
    const model = await models.get('mult-vae');
    assert.equal(model.params.epochs, 5);
    assert.equal(model.params.latent, 4);
    for (const ctx of queries) {
      const history = historyOf(ctx, data);
      const scores = new Float32Array(n).fill(Number.NaN);
      strategy.score({ ctx, history }, scores);
      for (let i = 0; i < n; i++) assert.ok(!Number.isNaN(scores[i]!), `movie index ${i}`);
      const seen = new Set(Array.from(history.items, (i) => data.catalogue.movies[i]!.movieId));
      const list = await rank(book, ctx);
      assert.ok(list.length > 0);
      for (const item of list) {
        assert.ok(!seen.has(item.movieId), `recommended ${item.movieId}, which the viewer has`);
        assert.ok(item.reason, `movie ${item.movieId} has no reason`);
      }
    }
  });

  it('loads from a saved model with identical scores; a served version refuses it as evaluation only', async () => {
    const models = new FittingModels(data, config);
    const book = new StrategyBook(data, config, models);
    const dir = join(root, 'component', 'mult-vae');
    await MODELS.get('mult-vae')!.save(await models.get('mult-vae'), dir);
    const stored = (present: boolean) =>
      new StrategyBook(
        data,
        config,
        new StoredModels((m: ModelName) => (m === 'mult-vae' && present ? { dir } : null), data, config),
      );
    const a = await book.get('mult-vae');
    const b = new MultVaeStrategy(MultVaeModel.load(dir));
    for (const ctx of queries) {
      const history = historyOf(ctx, data);
      const sa = new Float32Array(n);
      const sb = new Float32Array(n);
      a.score({ ctx, history }, sa);
      b.score({ ctx, history }, sb);
      assert.deepEqual(sb, sa);
    }
    // Model versions never hold it: serving says so rather than fitting or standing in.
    await assert.rejects(stored(true).get('mult-vae'), /mult-vae is not available: evaluation only/);
  });
});
