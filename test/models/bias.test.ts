import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalogue } from '../../src/data/catalogue.ts';
import { Interactions } from '../../src/data/interactions.ts';
import { BIAS_DEFAULTS, BiasModel } from '../../src/models/bias.ts';
import type { Movie } from '../../src/store/types.ts';
import { testMovie } from '../helpers/records.ts';

const movie = (movieId: number): Movie => testMovie(movieId);

/** Ratings as [user index, item index, rating]; user ids are index + 1, movie ids 10·(index + 1). */
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

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);
}

/** Solves a dense square system by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    assert.ok(Math.abs(m[c]![c]!) > 1e-12, 'reference system is non-singular');
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
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
 * The minimiser of Σ (r − μ − b_u − b_i)² + λ_u Σ b_u² + λ_i Σ b_i² from its normal equations:
 * (|I_u| + λ_u)·b_u + Σ_{i∈I_u} b_i = Σ_{i∈I_u} (r − μ), and likewise per item. With λ = 0 the system
 * has a one-dimensional null space (b_u + c, b_i − c); `pinFirstUser` fixes b_0 = 0, which leaves
 * every prediction μ + b_u + b_i unchanged.
 */
function normalEquations(
  triples: Triple[],
  nUsers: number,
  nItems: number,
  mu: number,
  regUser: number,
  regItem: number,
  pinFirstUser: boolean,
): { bu: number[]; bi: number[] } {
  const n = nUsers + nItems;
  const a = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const b = new Array<number>(n).fill(0);
  for (let u = 0; u < nUsers; u++) a[u]![u] = regUser;
  for (let i = 0; i < nItems; i++) a[nUsers + i]![nUsers + i] = regItem;
  for (const [u, i, r] of triples) {
    const iu = u;
    const ii = nUsers + i;
    a[iu]![iu]! += 1;
    a[iu]![ii]! += 1;
    a[ii]![ii]! += 1;
    a[ii]![iu]! += 1;
    b[iu]! += r - mu;
    b[ii]! += r - mu;
  }
  if (pinFirstUser) {
    const sol = solve(
      a.slice(1).map((row) => row.slice(1)),
      b.slice(1),
    );
    const full = [0, ...sol];
    return { bu: full.slice(0, nUsers), bi: full.slice(nUsers) };
  }
  const sol = solve(a, b);
  return { bu: sol.slice(0, nUsers), bi: sol.slice(nUsers) };
}

// Two users, three items: A rated i0 = 4, i1 = 2; B rated i0 = 5, i2 = 3.
const TINY: Triple[] = [
  [0, 0, 4],
  [0, 1, 2],
  [1, 0, 5],
  [1, 2, 3],
];

test('one ALS epoch by hand: items first (with b_u = 0), then users', () => {
  // μ = (4 + 2 + 5 + 3)/4 = 3.5; λ_i = 1, λ_u = 2.
  // b_i0 = ((4 − 3.5) + (5 − 3.5))/(1 + 2) = 2/3
  // b_i1 = (2 − 3.5)/(1 + 1) = −3/4
  // b_i2 = (3 − 3.5)/(1 + 1) = −1/4
  // b_A = ((4 − 3.5 − 2/3) + (2 − 3.5 + 3/4))/(2 + 2) = (−1/6 − 3/4)/4 = −11/48
  // b_B = ((5 − 3.5 − 2/3) + (3 − 3.5 + 1/4))/(2 + 2) = (5/6 − 1/4)/4 = 7/48
  const model = new BiasModel({ regUser: 2, regItem: 1, epochs: 1 });
  model.fit(interactions(TINY, 3));
  assert.equal(model.mu, 3.5);
  close(model.bi[0]!, 2 / 3, 1e-12, 'b_i0');
  close(model.bi[1]!, -3 / 4, 1e-12, 'b_i1');
  close(model.bi[2]!, -1 / 4, 1e-12, 'b_i2');
  close(model.bu[0]!, -11 / 48, 1e-12, 'b_A');
  close(model.bu[1]!, 7 / 48, 1e-12, 'b_B');
  close(model.predict(0, 1), 3.5 - 11 / 48 - 3 / 4, 1e-12, 'r̂(A, i1)');
});

test('a second epoch uses the first epoch’s user biases', () => {
  // b_i0 = ((0.5 + 11/48) + (1.5 − 7/48))/3 = (25/12)/3 = 25/36
  // b_i1 = (−1.5 + 11/48)/2 = −61/96;  b_i2 = (−0.5 − 7/48)/2 = −31/96
  // b_A = ((0.5 − 25/36) + (−1.5 + 61/96))/4 = (−7/36 − 83/96)/4 = −305/1152
  // b_B = ((1.5 − 25/36) + (−0.5 + 31/96))/4 = (29/36 − 17/96)/4 = 181/1152
  const model = new BiasModel({ regUser: 2, regItem: 1, epochs: 2 });
  model.fit(interactions(TINY, 3));
  close(model.bi[0]!, 25 / 36, 1e-12, 'b_i0');
  close(model.bi[1]!, -61 / 96, 1e-12, 'b_i1');
  close(model.bi[2]!, -31 / 96, 1e-12, 'b_i2');
  close(model.bu[0]!, -305 / 1152, 1e-12, 'b_A');
  close(model.bu[1]!, 181 / 1152, 1e-12, 'b_B');
});

test('with zero epochs every prediction is μ; unknown users and items add no bias', () => {
  const zero = new BiasModel({ regUser: 2, regItem: 1, epochs: 0 });
  zero.fit(interactions(TINY, 3));
  assert.equal(zero.predict(0, 0), 3.5);
  const model = new BiasModel({ regUser: 2, regItem: 1, epochs: 1 });
  model.fit(interactions(TINY, 4)); // item 3 is in the catalogue but unrated: b = 0/(λ_i + 0) = 0
  assert.equal(model.bi[3], 0);
  close(model.predict(-1, 0), 3.5 + 2 / 3, 1e-12, 'unknown user');
  close(model.predict(0, -1), 3.5 - 11 / 48, 1e-12, 'unknown item');
  close(model.predict(0, 99), 3.5 - 11 / 48, 1e-12, 'item beyond the fitted range');
  close(model.predict(5, 3), 3.5, 1e-12, 'both unknown');
});

test('reg = 0 on a complete matrix: predictions are row mean + column mean − grand mean', () => {
  // 3 users × 4 items, every cell rated.
  const r = [
    [4, 3.5, 5, 1],
    [2, 2.5, 4, 0.5],
    [3, 5, 4.5, 2],
  ];
  const triples: Triple[] = r.flatMap((row, u) => row.map((v, i): Triple => [u, i, v]));
  const model = new BiasModel({ regUser: 0, regItem: 0, epochs: 20 });
  model.fit(interactions(triples, 4));
  const grand = triples.reduce((s, t) => s + t[2], 0) / triples.length;
  close(model.mu, grand, 1e-12, 'μ');
  for (let u = 0; u < 3; u++) {
    const rowMean = r[u]!.reduce((s, v) => s + v, 0) / 4;
    for (let i = 0; i < 4; i++) {
      const colMean = r.reduce((s, row) => s + row[i]!, 0) / 3;
      close(model.predict(u, i), rowMean + colMean - grand, 1e-9, `r̂(${u},${i})`);
    }
  }
});

test('reg = 0 on an incomplete matrix: predictions converge to the least-squares optimum (normal equations)', () => {
  // 4 users × 4 items, 10 of 16 cells, connected: u0–i0,i1; u1–i1,i2,i3; u2–i0,i3; u3–i0,i1,i2.
  const triples: Triple[] = [
    [0, 0, 5],
    [0, 1, 3],
    [1, 1, 4],
    [1, 2, 1.5],
    [1, 3, 2],
    [2, 0, 4.5],
    [2, 3, 3],
    [3, 0, 2],
    [3, 1, 1],
    [3, 2, 0.5],
  ];
  const x = interactions(triples, 4);
  const model = new BiasModel({ regUser: 0, regItem: 0, epochs: 500 });
  model.fit(x);
  const ref = normalEquations(triples, 4, 4, model.mu, 0, 0, true);
  let sse = 0;
  let refSse = 0;
  for (const [u, i, rating] of triples) {
    sse += (rating - model.predict(u, i)) ** 2;
    refSse += (rating - (model.mu + ref.bu[u]! + ref.bi[i]!)) ** 2;
  }
  for (let u = 0; u < 4; u++)
    for (let i = 0; i < 4; i++)
      close(model.predict(u, i), model.mu + ref.bu[u]! + ref.bi[i]!, 1e-6, `r̂(${u},${i}) incl. unobserved`);
  close(sse, refSse, 1e-9, 'residual sum of squares');
  // Not a perfect fit: this data is not additive, so the test is not trivially satisfied.
  assert.ok(refSse > 0.1);
});

test('with regularisation the ALS fixed point is the regularised least-squares minimiser', () => {
  const triples: Triple[] = [
    [0, 0, 5],
    [0, 1, 3],
    [1, 1, 4],
    [1, 2, 1.5],
    [2, 0, 4.5],
    [2, 2, 3],
    [3, 1, 1],
  ];
  const { regUser, regItem } = BIAS_DEFAULTS;
  const model = new BiasModel({ regUser, regItem, epochs: 200 });
  model.fit(interactions(triples, 3));
  const ref = normalEquations(triples, 4, 3, model.mu, regUser, regItem, false);
  for (let u = 0; u < 4; u++) close(model.bu[u]!, ref.bu[u]!, 1e-9, `b_u${u}`);
  for (let i = 0; i < 3; i++) close(model.bi[i]!, ref.bi[i]!, 1e-9, `b_i${i}`);
});
