import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalogue } from '../../src/data/catalogue.ts';
import { Interactions } from '../../src/data/interactions.ts';
import { EaseModel } from '../../src/models/ease.ts';
import type { Movie } from '../../src/store/types.ts';
import { ValidationError } from '../../src/util/errors.ts';
import { testMovie } from '../helpers/records.ts';

const movie = (movieId: number): Movie => testMovie(movieId);

/** Interactions from per-user item lists; movie ids are 10·(index+1), ratings vary (EASE must ignore them). */
function interactions(rowsByUser: number[][], nCatalogue: number): Interactions {
  const catalogue = new Catalogue(Array.from({ length: nCatalogue }, (_, i) => movie(10 * (i + 1))));
  const userId: number[] = [];
  const movieId: number[] = [];
  const rating: number[] = [];
  rowsByUser.forEach((items, u) => {
    for (const i of items) {
      userId.push(u + 1);
      movieId.push(10 * (i + 1));
      rating.push(0.5 + ((u + i) % 10) * 0.5);
    }
  });
  return Interactions.build(
    {
      userId: Int32Array.from(userId),
      movieId: Int32Array.from(movieId),
      rating: Float32Array.from(rating),
      timestamp: new Float64Array(userId.length),
    },
    catalogue,
  );
}

/** Gauss–Jordan inverse with partial pivoting of a dense n×n matrix (array of rows). */
function gaussJordanInverse(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[pivot]![c]!)) pivot = r;
    [m[c], m[pivot]] = [m[pivot]!, m[c]!];
    const d = m[c]![c]!;
    assert.ok(Math.abs(d) > 1e-12, 'reference matrix is invertible');
    for (let k = 0; k < 2 * n; k++) m[c]![k]! /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      if (f === 0) continue;
      for (let k = 0; k < 2 * n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row) => row.slice(n));
}

/** Reference EASE: dense binary X, G = XᵀX, P = (G + λI)⁻¹, B = I − P·diag(1/diag(P)). */
function referenceEase(rowsByUser: number[][], nItems: number, lambda: number): { g: number[][]; b: number[][] } {
  const x = rowsByUser.map((items) => Array.from({ length: nItems }, (_, i) => (items.includes(i) ? 1 : 0)));
  const g = Array.from({ length: nItems }, (_, i) =>
    Array.from({ length: nItems }, (_, j) => x.reduce((s, row) => s + row[i]! * row[j]!, 0)),
  );
  const reg = g.map((row, i) => row.map((v, j) => v + (i === j ? lambda : 0)));
  const p = gaussJordanInverse(reg);
  // Sanity of the reference itself: (G + λI)·P = I.
  for (let i = 0; i < nItems; i++)
    for (let j = 0; j < nItems; j++) {
      const s = reg[i]!.reduce((acc, v, k) => acc + v * p[k]![j]!, 0);
      assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-12, 'reference inverse');
    }
  const b = p.map((row, i) => row.map((v, j) => (i === j ? 0 : -v / p[j]![j]!)));
  return { g, b };
}

/** x·B for a binary history x. */
function referenceScores(b: number[][], history: number[], nItems: number): number[] {
  return Array.from({ length: nItems }, (_, j) => history.reduce((s, i) => s + b[i]![j]!, 0));
}

function assertClose(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

/** Scores of items not in the history (seen items are removed by the pipeline before ranking). */
function checkScores(model: EaseModel, b: number[][], history: number[], nItems: number, label: string): void {
  const out = new Float32Array(nItems);
  model.scoreInto(Int32Array.from(history), out);
  const expected = referenceScores(b, history, nItems);
  for (let j = 0; j < nItems; j++) {
    if (history.includes(j)) continue;
    assertClose(out[j]!, expected[j]!, `${label}: score of item ${j} for history [${history}]`);
  }
}

// 5 users × 7 items: fewer users than items → the dual (Woodbury) path.
const WIDE = [
  [0, 1, 2],
  [1, 3, 4],
  [0, 2, 5, 6],
  [3, 4, 6],
  [0, 1, 5],
];
// 8 users × 4 items: at least as many users as items → the primal path.
const TALL = [[0, 1], [1, 2], [2, 3], [0, 3], [0, 1, 2], [1, 3], [0], [0, 2, 3]];
const HISTORIES_WIDE = [[0], [1, 3], [0, 2, 5], [6], [0, 1, 2, 3, 4, 5], []];
const HISTORIES_TALL = [[0], [1, 3], [0, 2], [3], [0, 1, 2], []];

test('dual path (5 users × 7 items): scores equal x·B from a dense Gauss–Jordan reference', () => {
  for (const lambda of [0.5, 2, 300]) {
    const model = new EaseModel({ lambda, maxDense: 100 });
    model.fit(interactions(WIDE, 7));
    const { b } = referenceEase(WIDE, 7, lambda);
    for (const h of HISTORIES_WIDE) checkScores(model, b, h, 7, `dual λ=${lambda}`);
    for (let i = 0; i < 7; i++)
      for (let j = 0; j < 7; j++) assertClose(model.weight(i, j), b[i]![j]!, `dual λ=${lambda}: B[${i},${j}]`);
  }
});

test('primal path (8 users × 4 items): scores equal x·B from a dense Gauss–Jordan reference', () => {
  for (const lambda of [0.5, 2, 300]) {
    const model = new EaseModel({ lambda, maxDense: 100 });
    model.fit(interactions(TALL, 4));
    const { b } = referenceEase(TALL, 4, lambda);
    for (const h of HISTORIES_TALL) checkScores(model, b, h, 4, `primal λ=${lambda}`);
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++) assertClose(model.weight(i, j), b[i]![j]!, `primal λ=${lambda}: B[${i},${j}]`);
  }
});

test('B satisfies the EASE optimality conditions: diag(B) = 0 and ((XᵀX + λI)·B)_ij = (XᵀX)_ij for i ≠ j', () => {
  // Lagrangian stationarity of min ‖X − XB‖² + λ‖B‖² s.t. diag(B) = 0, independent of any inverse.
  for (const [rows, n] of [
    [WIDE, 7],
    [TALL, 4],
  ] as const) {
    const lambda = 2;
    const model = new EaseModel({ lambda, maxDense: 100 });
    model.fit(interactions(rows as number[][], n));
    const { g } = referenceEase(rows as number[][], n, lambda);
    for (let i = 0; i < n; i++) {
      assert.equal(model.weight(i, i), 0);
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        let s = lambda * model.weight(i, j);
        for (let k = 0; k < n; k++) s += g[i]![k]! * model.weight(k, j);
        assertClose(s, g[i]![j]!, `n=${n}: ((G + λI)B)[${i},${j}]`);
      }
    }
  }
});

test('dual and primal agree on the same data (the catalogue padded with unrated items forces the dual)', () => {
  const lambda = 1.5;
  const primal = new EaseModel({ lambda, maxDense: 100 });
  primal.fit(interactions(TALL, 4)); // 8 users ≥ 4 items
  const dual = new EaseModel({ lambda, maxDense: 100 });
  dual.fit(interactions(TALL, 11)); // 8 users < 11 items; items 4..10 have no interactions
  for (const h of HISTORIES_TALL) {
    const a = new Float32Array(4);
    const b = new Float32Array(11);
    primal.scoreInto(Int32Array.from(h), a);
    dual.scoreInto(Int32Array.from(h), b);
    for (let j = 0; j < 4; j++) if (!h.includes(j)) assertClose(b[j]!, a[j]!, `item ${j} for [${h}]`);
    for (let j = 4; j < 11; j++) assert.equal(b[j], 0, 'an item nobody interacted with scores 0');
  }
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) assertClose(dual.weight(i, j), primal.weight(i, j), `B[${i},${j}]`);
  // And both equal the reference on the 4 rated items.
  const { b } = referenceEase(TALL, 4, lambda);
  for (const h of HISTORIES_TALL) checkScores(dual, b, h, 4, 'padded dual');
});

test('history items beyond the fitted catalogue are ignored and extra output slots score 0', () => {
  for (const [rows, n] of [
    [WIDE, 7],
    [TALL, 4],
  ] as const) {
    const model = new EaseModel({ lambda: 2, maxDense: 100 });
    model.fit(interactions(rows as number[][], n));
    const plain = new Float32Array(n + 3);
    const extended = new Float32Array(n + 3).fill(42);
    model.scoreInto(Int32Array.from([0, 1]), plain);
    model.scoreInto(Int32Array.from([0, 1, n, n + 2]), extended);
    assert.deepEqual(Array.from(extended), Array.from(plain));
    for (let j = n; j < n + 3; j++) assert.equal(extended[j], 0);
    assert.equal(model.weight(0, n), 0);
    assert.equal(model.weight(n, 0), 0);
  }
});

test('fit refuses a dense solve above maxDense with a ValidationError naming maxDense', () => {
  const x = interactions(WIDE, 7); // min(5 users, 7 items) = 5
  const model = new EaseModel({ lambda: 1, maxDense: 4 });
  assert.throws(
    () => model.fit(x),
    (e: unknown) =>
      e instanceof ValidationError && e.field === 'maxDense' && /maxDense/.test(e.message) && /5×5/.test(e.message),
  );
  const tall = new EaseModel({ lambda: 1, maxDense: 3 });
  assert.throws(
    () => tall.fit(interactions(TALL, 4)),
    (e: unknown) => e instanceof ValidationError && e.field === 'maxDense',
  );
  // The limit is inclusive.
  assert.doesNotThrow(() => new EaseModel({ lambda: 1, maxDense: 5 }).fit(x));
});

test('lambda must be above 0', () => {
  for (const lambda of [0, -1, Number.NaN]) {
    assert.throws(
      () => new EaseModel({ lambda, maxDense: 100 }),
      (e: unknown) => e instanceof ValidationError && e.field === 'lambda',
      `lambda ${lambda}`,
    );
  }
  assert.doesNotThrow(() => new EaseModel({ lambda: 1e-3, maxDense: 100 }));
});

/** 30 users × 90 items (dual), random rows; and the same rows over 12 items (primal). */
function randomRows(users: number, items: number, seed: number): number[][] {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  return Array.from({ length: users }, () => Array.from({ length: items }, (_, i) => i).filter(() => next() < 0.2));
}

test('dual scoreInto is the full K·v and a pass over the users’ rows, bit for bit (the exact kernels change no score)', () => {
  const rows = randomRows(30, 90, 3);
  const x = interactions(rows, 90);
  const model = new EaseModel({ lambda: 5, maxDense: 1000 });
  model.fit(x);
  const { k, diagP } = model as unknown as { k: Float64Array; diagP: Float64Array };
  const nu = x.nUsers;
  for (const history of [[0], [1, 5, 7, 30, 88], rows[4]!, [], Array.from({ length: 90 }, (_, i) => i)]) {
    // The former arithmetic: v over all users, w = K·v over every b, then a scatter over the users' rows.
    const v = new Float64Array(nu);
    const csc = x.byItem();
    for (const i of history) for (let p = csc.indptr[i]!; p < csc.indptr[i + 1]!; p++) v[csc.users[p]!]! += 1;
    const w = new Float64Array(nu);
    for (let a = 0; a < nu; a++) {
      let s = 0;
      for (let b = 0; b < nu; b++) s += k[a * nu + b]! * v[b]!;
      w[a] = s;
    }
    const t = new Float64Array(90);
    for (let u = 0; u < nu; u++) {
      if (w[u] === 0) continue;
      for (let p = x.indptr[u]!; p < x.indptr[u + 1]!; p++) t[x.items[p]!]! += w[u]!;
    }
    const expected = Float32Array.from(t, (tj, j) => tj / (5 * diagP[j]!));
    const out = new Float32Array(92).fill(3);
    model.scoreInto(Int32Array.from(history), out);
    for (let j = 0; j < 90; j++) assert.ok(Object.is(out[j], expected[j]), `item ${j}: ${out[j]} vs ${expected[j]}`);
    assert.deepEqual(Array.from(out.subarray(90)), [0, 0]);
  }
});

test('weightsTo gives weight(i, j) for every listed history item, in both modes', () => {
  for (const [rows, items] of [
    [randomRows(30, 90, 5), 90],
    [randomRows(30, 12, 6), 12],
  ] as const) {
    const model = new EaseModel({ lambda: 3, maxDense: 1000 });
    model.fit(interactions(rows, items));
    const history = Int32Array.from([0, 2, 3, 5, 7, 11, items - 1, items + 4]);
    const out = new Float64Array(history.length);
    for (const j of [0, 1, 4, 9, items - 1, items + 2]) {
      model.weightsTo(j, history, 1, history.length, out);
      for (let k = 1; k < history.length; k++) {
        const expected = model.weight(history[k]!, j);
        const got = out[k - 1]!;
        assert.ok(
          Math.abs(got - expected) <= 1e-12 * Math.max(1, Math.abs(expected)),
          `${items} items: B[${history[k]}][${j}] ${got} vs ${expected}`,
        );
      }
    }
  }
});
