import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { Catalogue } from '../../src/data/catalogue.ts';
import { Interactions } from '../../src/data/interactions.ts';
import { multiplyJs } from '../../src/math/matvec.ts';
import { Rng } from '../../src/math/random.ts';
import { ALS_DEFAULTS, AlsModel as Als, type AlsModel, type AlsParams } from '../../src/models/als.ts';
import {
  CONF_BINARY,
  CONF_LINEAR,
  CONF_RATING,
  type ConfidenceSpec,
  confidenceOf,
  gramian,
  type HalfStep,
  preferenceOf,
  RowSolver,
  SOLVER_CG,
  SOLVER_CHOLESKY,
} from '../../src/models/als-kernels.ts';
import type { Movie } from '../../src/store/types.ts';
import { testMovie } from '../helpers/records.ts';

const ROOT = resolve(import.meta.dirname, '../..');

const movie = (movieId: number): Movie => testMovie(movieId);

/** [user index, item index, rating]; user ids are index + 1, movie ids 10·(index + 1). */
type Triple = [number, number, number];

function interactions(triples: Triple[], nItems: number): Interactions {
  const catalogue = new Catalogue(Array.from({ length: nItems }, (_, i) => movie(10 * (i + 1))));
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

/** A seeded random users × items matrix, every user with at least two ratings, half-star ratings 0.5–5. */
function randomTriples(seed: number, users: number, items: number, density: number): Triple[] {
  const rng = new Rng(seed);
  const out: Triple[] = [];
  for (let u = 0; u < users; u++) {
    const row: Triple[] = [];
    for (let i = 0; i < items; i++) if (rng.next() < density) row.push([u, i, 0.5 * (1 + rng.int(10))]);
    while (row.length < 2) {
      const i = rng.int(items);
      if (!row.some((t) => t[1] === i)) row.push([u, i, 0.5 * (1 + rng.int(10))]);
    }
    out.push(...row.sort((a, b) => a[1] - b[1]));
  }
  return out;
}

const params = (p: Partial<AlsParams>): AlsParams => ({ ...ALS_DEFAULTS, threads: 1, ...p });

/** Dense Gaussian elimination with partial pivoting (the reference, independent of the Cholesky helpers). */
function solveDense(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = c + 1; r < n; r++) {
      const q = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= q * m[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= m[r]![k]! * x[k]!;
    x[r] = s / m[r]![r]!;
  }
  return x;
}

/**
 * x_u = (YᵀC_uY + λI)⁻¹ YᵀC_u p_u with C_u and p_u dense over all nItems items (unobserved: c = 1, p = 0),
 * straight from the paper, without the Gramian trick the model uses.
 */
function closedForm(
  y: Float32Array,
  nItems: number,
  f: number,
  lambda: number,
  observed: Map<number, { c: number; p: number }>,
): number[] {
  const a = Array.from({ length: f }, (_, i) => Array.from({ length: f }, (_, j) => (i === j ? lambda : 0)));
  const b = new Array<number>(f).fill(0);
  for (let i = 0; i < nItems; i++) {
    const { c, p } = observed.get(i) ?? { c: 1, p: 0 };
    for (let r = 0; r < f; r++) {
      b[r]! += c * p * y[i * f + r]!;
      for (let s = 0; s < f; s++) a[r]![s]! += c * y[i * f + r]! * y[i * f + s]!;
    }
  }
  return solveDense(a, b);
}

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let k = 0; k < expected.length; k++) {
    d += (actual[k]! - expected[k]!) ** 2;
    n += expected[k]! ** 2;
  }
  return Math.sqrt(d / n);
}

function row(m: Float32Array, i: number, f: number): Float32Array {
  return m.subarray(i * f, (i + 1) * f);
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

const BINARY: ConfidenceSpec = { kind: CONF_BINARY, alpha: 2, ratingMax: 5, negativeBelow: Number.NEGATIVE_INFINITY };

test('user half-step: the Cholesky solve equals the dense closed form; CG with enough steps converges to it', () => {
  const f = 4;
  const nItems = 7;
  const lambda = 0.3;
  const triples: Triple[] = [
    [0, 0, 4],
    [0, 2, 5],
    [0, 5, 1],
    [1, 1, 3],
    [1, 2, 2.5],
    [1, 3, 4],
    [1, 4, 5],
    [1, 6, 0.5],
    [2, 6, 3],
  ];
  const x = interactions(triples, nItems);
  const rng = new Rng(3);
  const y = Float32Array.from({ length: nItems * f }, () => rng.normal());
  for (const conf of [
    BINARY,
    { ...BINARY, kind: CONF_RATING },
    { ...BINARY, kind: CONF_LINEAR, negativeBelow: 2.6 },
  ] satisfies ConfidenceSpec[]) {
    const step = (solver: number, cgSteps: number, target: Float32Array): HalfStep => ({
      f,
      lambda,
      solver,
      cgSteps,
      conf,
      rows: { indptr: x.indptr, index: x.items, ratings: x.ratings },
      fixed: y,
      target,
      gram: gramian(y, nItems, f, new Float64Array(f * f)),
      rowLoss: null,
    });
    const exact = new Float32Array(x.nUsers * f);
    new RowSolver(f).solveRange(step(SOLVER_CHOLESKY, 0, exact), 0, x.nUsers);
    const cg = new Float32Array(x.nUsers * f).fill(0.01);
    new RowSolver(f).solveRange(step(SOLVER_CG, 50, cg), 0, x.nUsers);
    for (let u = 0; u < x.nUsers; u++) {
      const observed = new Map<number, { c: number; p: number }>();
      const items = x.rowItems(u);
      const ratings = x.rowRatings(u);
      for (let k = 0; k < items.length; k++) {
        observed.set(items[k]!, { c: confidenceOf(ratings[k]!, conf), p: preferenceOf(ratings[k]!, conf) });
      }
      const expected = closedForm(y, nItems, f, lambda, observed);
      assert.ok(relativeError(row(exact, u, f), expected) < 1e-6, `cholesky user ${u} (conf kind ${conf.kind})`);
      assert.ok(relativeError(row(cg, u, f), expected) < 1e-5, `cg user ${u} (conf kind ${conf.kind})`);
    }
  }
});

test('orientation: users are rows of userFactors, catalogue items rows of itemFactors; co-occurring items rank first', async () => {
  // Users 0–2 share items 0–3, users 3–4 share items 4–8.
  const triples: Triple[] = [
    [0, 0, 5],
    [0, 1, 4],
    [0, 2, 4],
    [1, 0, 4],
    [1, 1, 5],
    [1, 2, 4],
    [1, 3, 5],
    [2, 0, 3],
    [2, 1, 4],
    [2, 2, 5],
    [2, 3, 4],
    [3, 4, 5],
    [3, 5, 4],
    [3, 6, 4],
    [3, 7, 5],
    [4, 4, 4],
    [4, 5, 5],
    [4, 6, 4],
    [4, 7, 3],
    [4, 8, 5],
  ];
  const x = interactions(triples, 9);
  const f = 2; // the data's rank: one dimension per group
  const m = await Als.fit(x, params({ factors: f, regularization: 0.1, iterations: 10, solver: 'cholesky' }));
  assert.equal(m.nUsers, 5);
  assert.equal(m.nItems, 9);
  assert.equal(m.userFactors.length, 5 * f);
  assert.equal(m.itemFactors.length, 9 * f);
  const scores = new Float32Array(9);
  const topUnseen = (u: number): number => {
    m.scoreItems(row(m.userFactors, u, f), scores);
    const seen = new Set(x.rowItems(u));
    let best = -1;
    for (let i = 0; i < 9; i++) if (!seen.has(i) && (best < 0 || scores[i]! > scores[best]!)) best = i;
    return best;
  };
  assert.equal(topUnseen(0), 3, 'user 0 is recommended the item its group co-rated');
  assert.equal(topUnseen(3), 8, 'user 3 is recommended the item its group co-rated');
  // A user's own items outscore the other group's items.
  m.scoreItems(row(m.userFactors, 0, f), scores);
  assert.ok(Math.min(scores[0]!, scores[1]!, scores[2]!) > Math.max(...scores.subarray(4)));
});

test('the loss decreases monotonically with the Cholesky solver and matches the objective computed directly', async () => {
  const triples = randomTriples(11, 40, 30, 0.2);
  const x = interactions(triples, 30);
  const lambda = 0.1;
  const alpha = 3;
  const m = await Als.fit(
    x,
    params({ factors: 5, regularization: lambda, alpha, iterations: 12, solver: 'cholesky', confidence: 'rating' }),
  );
  const losses = m.report.iterations.map((i) => i.loss);
  assert.equal(losses.length, 12);
  for (let k = 1; k < losses.length; k++) {
    assert.ok(losses[k]! <= losses[k - 1]! * (1 + 1e-9), `iteration ${k + 1}: ${losses[k]} > ${losses[k - 1]}`);
  }
  assert.ok(losses.at(-1)! < losses[0]!);
  // Σ over all users × items, computed the slow way.
  const f = m.factors;
  const observed = new Map(triples.map(([u, i, r]) => [`${u},${i}`, r]));
  let direct = 0;
  for (let u = 0; u < m.nUsers; u++) {
    for (let i = 0; i < m.nItems; i++) {
      let s = 0;
      for (let k = 0; k < f; k++) s += m.userFactors[u * f + k]! * m.itemFactors[i * f + k]!;
      const r = observed.get(`${u},${i}`);
      const c = r === undefined ? 1 : 1 + alpha * r;
      const p = r === undefined ? 0 : 1;
      direct += c * (p - s) ** 2;
    }
  }
  for (const v of m.userFactors) direct += lambda * v * v;
  for (const v of m.itemFactors) direct += lambda * v * v;
  assert.ok(Math.abs(losses.at(-1)! - direct) < 1e-6 * direct, `${losses.at(-1)} vs ${direct}`);
});

test('fold-in reproduces trained factors: users after convergence, items exactly', async () => {
  const x = interactions(randomTriples(5, 30, 25, 0.25), 25);
  const m = await Als.fit(x, params({ factors: 4, regularization: 0.5, iterations: 200, solver: 'cholesky' }));
  const f = m.factors;
  let worst = 0;
  for (let u = 0; u < x.nUsers; u++) {
    const folded = m.foldInUser(x.rowItems(u), x.rowRatings(u));
    worst = Math.max(worst, relativeError(folded, row(m.userFactors, u, f)));
  }
  assert.ok(worst < 1e-4, `worst relative error ${worst}`);
  // The last half-step solved the items against the final users: folding an item in repeats it bit for bit.
  const csc = x.byItem();
  for (let i = 0; i < x.nItems; i++) {
    const users = csc.users.subarray(csc.indptr[i]!, csc.indptr[i + 1]!);
    const ratings = csc.ratings.subarray(csc.indptr[i]!, csc.indptr[i + 1]!);
    assert.ok(sameBits(m.foldInItem(users, ratings), row(m.itemFactors, i, f)), `item ${i}`);
  }
  // The fold-in matches the paper's closed form against the final item factors.
  const items = x.rowItems(3);
  const ratings = x.rowRatings(3);
  const observed = new Map(Array.from(items, (i, k) => [i, { c: confidenceOf(ratings[k]!, BINARY_1), p: 1 }]));
  const expected = closedForm(m.itemFactors, m.nItems, f, 0.5, observed);
  assert.ok(relativeError(m.foldInUser(items, ratings), expected) < 1e-5);
});

const BINARY_1: ConfidenceSpec = { ...BINARY, alpha: 1 };

test('threads 1 and 2 give identical factors and losses; the same seed gives the same model', async () => {
  const x = interactions(randomTriples(7, 60, 45, 0.15), 45);
  for (const solver of ['cg', 'cholesky'] as const) {
    const p = params({ factors: 6, iterations: 4, solver });
    const one = await Als.fit(x, p);
    const two = await Als.fit(x, { ...p, threads: 2 });
    assert.equal(one.report.threads, 1);
    assert.equal(two.report.threads, 2);
    assert.ok(sameBits(one.userFactors, two.userFactors), `${solver}: user factors`);
    assert.ok(sameBits(one.itemFactors, two.itemFactors), `${solver}: item factors`);
    assert.deepEqual(
      one.report.iterations.map((i) => i.loss),
      two.report.iterations.map((i) => i.loss),
    );
    const again = await Als.fit(x, p);
    assert.ok(sameBits(one.userFactors, again.userFactors) && sameBits(one.itemFactors, again.itemFactors));
    const other = await Als.fit(x, { ...p, seed: 2 });
    assert.ok(!sameBits(one.userFactors, other.userFactors), `${solver}: another seed, another model`);
  }
});

test('workers start when tsx is registered programmatically, as bin/cinerec.js does', async () => {
  const als = new URL('../../src/models/als.ts', import.meta.url).href;
  const code = [
    "import { register } from 'tsx/esm/api';",
    'register();',
    `const { AlsModel, ALS_DEFAULTS } = await import(${JSON.stringify(als)});`,
    `const { Catalogue } = await import(${JSON.stringify(new URL('../../src/data/catalogue.ts', import.meta.url).href)});`,
    `const { Interactions } = await import(${JSON.stringify(new URL('../../src/data/interactions.ts', import.meta.url).href)});`,
    "const movies = [1, 2, 3].map((movieId) => ({ movieId, title: 't', displayTitle: 't', year: null, genres: [], imdbId: null, tmdbId: null, source: 'import' }));",
    'const x = Interactions.build({ userId: Int32Array.of(1, 1, 2, 3), movieId: Int32Array.of(1, 2, 2, 3), rating: Float32Array.of(4, 5, 3, 2), timestamp: new Float64Array(4) }, new Catalogue(movies));',
    'const m = await AlsModel.fit(x, { ...ALS_DEFAULTS, factors: 2, iterations: 2, threads: 2 });',
    'console.log(JSON.stringify({ threads: m.report.threads, finite: [...m.userFactors].every(Number.isFinite) }));',
  ].join('\n');
  const stdout = await new Promise<string>((done, fail) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', code],
      { cwd: ROOT, timeout: 60_000 },
      (err, out, errOut) => (err ? fail(new Error(`${err.message}\n${errOut}`)) : done(out)),
    );
  });
  assert.deepEqual(JSON.parse(stdout.trim()), { threads: 2, finite: true });
});

test('negativeBelow: ratings under the threshold get p = 0 and c = 1 + α(t − r); the confidence kinds', async () => {
  const neg: ConfidenceSpec = { kind: CONF_BINARY, alpha: 2, ratingMax: 5, negativeBelow: 3 };
  assert.equal(preferenceOf(1, neg), 0);
  assert.equal(confidenceOf(1, neg), 1 + 2 * (3 - 1));
  assert.equal(preferenceOf(2.5, neg), 0);
  assert.equal(confidenceOf(2.5, neg), 1 + 2 * 0.5);
  assert.equal(preferenceOf(3, neg), 1, 'the threshold itself is positive');
  assert.equal(confidenceOf(3, neg), 1 + 2);
  assert.equal(confidenceOf(4.5, { ...neg, kind: CONF_RATING }), 1 + 2 * 4.5);
  assert.equal(confidenceOf(4, { ...neg, kind: CONF_LINEAR }), 1 + (2 * 4) / 5);
  const off: ConfidenceSpec = { ...neg, negativeBelow: Number.NEGATIVE_INFINITY };
  assert.equal(preferenceOf(0.5, off), 1, 'off by default: every rating is positive');
  assert.equal(confidenceOf(0.5, off), 3);

  // Through the model: the fold-in solves the closed form with those p and c.
  const x = interactions(randomTriples(9, 25, 20, 0.3), 20);
  const base = params({ factors: 4, alpha: 2, regularization: 0.2, iterations: 5, solver: 'cholesky' });
  const withNeg = await Als.fit(x, { ...base, negativeBelow: 3 });
  const without = await Als.fit(x, base);
  assert.ok(!sameBits(withNeg.userFactors, without.userFactors), 'the option changes the model');
  const items = [0, 3, 7, 12];
  const ratings = [5, 1, 4, 2];
  const observed = new Map(
    items.map((i, k) => [i, { c: confidenceOf(ratings[k]!, neg), p: preferenceOf(ratings[k]!, neg) }]),
  );
  const expected = closedForm(withNeg.itemFactors, withNeg.nItems, 4, 0.2, observed);
  assert.ok(relativeError(withNeg.foldInUser(items, ratings), expected) < 1e-5);
  // Negative items explain nothing.
  const explained = withNeg.explain(items, ratings, 5).map((e) => e.item);
  assert.deepEqual(
    [...explained].sort((a, b) => a - b),
    [0, 7],
  );
  assert.deepEqual(withNeg.toArrays().meta.params.negativeBelow, 3);
});

test('explain: contributions sum to the score of the folded-in user; sorted by weight', async () => {
  const x = interactions(randomTriples(13, 40, 30, 0.2), 30);
  const m = await Als.fit(x, params({ factors: 5, iterations: 6, confidence: 'rating', alpha: 0.5 }));
  const items = x.rowItems(2);
  const ratings = x.rowRatings(2);
  const user = m.foldInUser(items, ratings);
  const scores = new Float32Array(m.nItems);
  m.scoreItems(user, scores);
  for (const target of [0, 9, 29]) {
    const parts = m.explain(items, ratings, target);
    assert.equal(parts.length, items.length);
    const sum = parts.reduce((s, p) => s + p.weight, 0);
    assert.ok(
      Math.abs(sum - scores[target]!) < 1e-5 * (1 + Math.abs(sum)),
      `item ${target}: ${sum} vs ${scores[target]}`,
    );
    for (let k = 1; k < parts.length; k++) assert.ok(parts[k - 1]!.weight >= parts[k]!.weight);
  }
});

test('setItemFactor grows the catalogue and keeps YᵀY current; toArrays/fromArrays round-trip', async () => {
  const x = interactions(randomTriples(17, 20, 12, 0.3), 12);
  const m: AlsModel = await Als.fit(x, params({ factors: 3, iterations: 3 }));
  const f = m.factors;
  m.gramian();
  m.setItemFactor(14, Float32Array.of(0.5, -1, 2));
  m.setItemFactor(4, Float32Array.of(0.25, 0.125, -3));
  assert.equal(m.nItems, 15);
  assert.equal(m.itemFactors.length, 15 * f);
  assert.deepEqual([...row(m.itemFactors, 13, f)], [0, 0, 0], 'rows in between are zero');
  assert.deepEqual([...row(m.itemFactors, 14, f)], [0.5, -1, 2]);
  const fresh = gramian(m.itemFactors, m.nItems, f, new Float64Array(f * f));
  const cached = m.gramian();
  for (let k = 0; k < f * f; k++) assert.ok(Math.abs(cached[k]! - fresh[k]!) < 1e-9 * (1 + Math.abs(fresh[k]!)));

  const { meta, arrays } = m.toArrays();
  const copy = Als.fromArrays(JSON.parse(JSON.stringify(meta)), {
    userFactors: Float32Array.from(arrays.userFactors),
    itemFactors: Float32Array.from(arrays.itemFactors),
  });
  assert.equal(copy.nItems, 15);
  const user = m.foldInUser([1, 2, 14], [4, 5, 3]);
  assert.ok(sameBits(copy.foldInUser([1, 2, 14], [4, 5, 3]), user));
  const a = new Float32Array(15);
  const b = new Float32Array(15);
  m.scoreItems(user, a);
  copy.scoreItems(user, b);
  assert.ok(sameBits(a, b));
});

test('strongestContribution is explain()’s first entry, one factorisation serving many items', async () => {
  const x = interactions(randomTriples(19, 40, 30, 0.2), 30);
  const m = await Als.fit(x, params({ factors: 5, iterations: 6, confidence: 'rating', alpha: 0.5, negativeBelow: 2 }));
  for (const u of [1, 2, 3]) {
    const items = x.rowItems(u);
    const ratings = x.rowRatings(u);
    const token = m.prepareExplanation(items, ratings);
    assert.ok(token > 0);
    assert.equal(m.explanationToken, token);
    for (const target of [0, 9, 29]) {
      const best = m.strongestContribution(target);
      const first = m.explain(items, ratings, target)[0] ?? null;
      assert.deepEqual(best, first, `user ${u}, item ${target}`);
      m.prepareExplanation(items, ratings); // explain() prepared the same history again
    }
    assert.notEqual(m.explanationToken, token);
  }
  assert.equal(m.prepareExplanation([], []), 0);
  assert.equal(m.strongestContribution(0), null);
});

test('scoreItems stays x·y_i in float64 sums (multiplyJs bit for bit) as item factors change; revision counts the changes', async () => {
  const x = interactions(randomTriples(23, 30, 20, 0.3), 20);
  const m: AlsModel = await Als.fit(x, params({ factors: 6, iterations: 3 }));
  const f = m.factors;
  const user = m.userFactors.subarray(0, f);
  const check = () => {
    const got = new Float32Array(m.nItems);
    m.scoreItems(user, got);
    const want = new Float32Array(m.nItems);
    multiplyJs(m.itemFactors, f, m.nItems, user, want);
    assert.ok(sameBits(got, want));
  };
  check();
  const r0 = m.revision;
  m.setItemFactor(
    3,
    Float32Array.from({ length: f }, (_, k) => k - 2.5),
  );
  m.setItemFactor(
    25,
    Float32Array.from({ length: f }, (_, k) => 0.1 * k),
  );
  assert.equal(m.revision, r0 + 2);
  assert.equal(m.nItems, 26);
  check();
});
