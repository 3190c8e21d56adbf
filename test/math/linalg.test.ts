import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { orthonormalize, symmetricEigen } from '../../src/math/linalg.ts';
import { Rng } from '../../src/math/random.ts';

function randomMatrix(rows: number, cols: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const a = new Float64Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return a;
}

/** Max |QᵀQ − I| over the first `cols` columns. */
function orthogonalityError(q: Float64Array, rows: number, cols: number): number {
  let worst = 0;
  for (let a = 0; a < cols; a++) {
    for (let b = 0; b < cols; b++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += q[i * cols + a]! * q[i * cols + b]!;
      worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

/** ‖x − Q·Qᵀ·x‖ / ‖x‖ for column j of `a`: how much of it lies outside span(Q). */
function outsideSpan(q: Float64Array, a: Float64Array, rows: number, cols: number, j: number): number {
  const residual = new Float64Array(rows);
  let norm = 0;
  for (let i = 0; i < rows; i++) {
    residual[i] = a[i * cols + j]!;
    norm += residual[i]! ** 2;
  }
  for (let p = 0; p < cols; p++) {
    let r = 0;
    for (let i = 0; i < rows; i++) r += q[i * cols + p]! * a[i * cols + j]!;
    for (let i = 0; i < rows; i++) residual[i] = residual[i]! - r * q[i * cols + p]!;
  }
  let out = 0;
  for (const v of residual) out += v * v;
  return Math.sqrt(out / norm);
}

describe('orthonormalize', () => {
  it('gives QᵀQ = I, spans the input, and is triangular (the first j columns span the first j inputs)', () => {
    const rows = 50;
    const cols = 8;
    const a = randomMatrix(rows, cols, 1);
    const q = a.slice();
    orthonormalize(q, rows, cols);
    assert.ok(orthogonalityError(q, rows, cols) < 1e-13);
    for (let j = 0; j < cols; j++) assert.ok(outsideSpan(q, a, rows, cols, j) < 1e-12, `column ${j}`);
    // R = QᵀA is upper triangular: q_j ⟂ a_i for i < j.
    for (let j = 0; j < cols; j++) {
      for (let i = 0; i < j; i++) {
        let s = 0;
        for (let r = 0; r < rows; r++) s += q[r * cols + j]! * a[r * cols + i]!;
        assert.ok(Math.abs(s) < 1e-12, `q_${j} · a_${i} = ${s}`);
      }
    }
    // The first column is just a normalised copy.
    let norm = 0;
    for (let r = 0; r < rows; r++) norm += a[r * cols]! ** 2;
    for (let r = 0; r < rows; r++) assert.ok(Math.abs(q[r * cols]! - a[r * cols]! / Math.sqrt(norm)) < 1e-15);
  });

  it('stays orthogonal to working precision for nearly parallel columns (re-orthogonalisation)', () => {
    const rows = 40;
    const cols = 6;
    const base = randomMatrix(rows, 1, 2);
    const noise = randomMatrix(rows, cols, 3);
    const a = new Float64Array(rows * cols);
    // Columns differ from each other by ~1e-8: classical Gram–Schmidt would lose orthogonality badly.
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) a[i * cols + j] = base[i]! + 1e-8 * noise[i * cols + j]!;
    orthonormalize(a, rows, cols);
    assert.ok(orthogonalityError(a, rows, cols) < 1e-13, `error ${orthogonalityError(a, rows, cols)}`);
  });

  it('handles rank deficiency deterministically: dependent and zero columns are completed', () => {
    const rows = 5;
    const cols = 4;
    const a = new Float64Array(rows * cols);
    const v = [1, 2, 0, -1, 3];
    const w = [0, 1, 1, 1, 0];
    for (let i = 0; i < rows; i++) {
      a[i * cols] = v[i]!;
      a[i * cols + 1] = 2 * v[i]!; // dependent on column 0
      a[i * cols + 2] = w[i]!;
      a[i * cols + 3] = 0; // zero column
    }
    const q = a.slice();
    orthonormalize(q, rows, cols);
    assert.ok(orthogonalityError(q, rows, cols) < 1e-14);
    for (const j of [0, 1, 2]) assert.ok(outsideSpan(q, a, rows, cols, j) < 1e-14);
    const again = a.slice();
    orthonormalize(again, rows, cols);
    assert.deepEqual(again, q);
    // Column 1 became the unit vector least covered by q_0 = v/‖v‖ (its smallest |component|: index 2,
    // where v is 0), so it is exactly e_2 (already orthogonal to q_0).
    for (let i = 0; i < rows; i++) assert.equal(q[i * cols + 1], i === 2 ? 1 : 0);
  });

  it('leaves zero columns when there are more columns than rows', () => {
    const rows = 3;
    const cols = 5;
    const q = randomMatrix(rows, cols, 4);
    orthonormalize(q, rows, cols);
    const square = new Float64Array(rows * rows);
    for (let i = 0; i < rows; i++) for (let j = 0; j < rows; j++) square[i * rows + j] = q[i * cols + j]!;
    assert.ok(orthogonalityError(square, rows, rows) < 1e-14);
    for (let i = 0; i < rows; i++) for (let j = rows; j < cols; j++) assert.equal(q[i * cols + j], 0);
  });

  it('rejects a mismatched shape', () => {
    assert.throws(() => orthonormalize(new Float64Array(5), 2, 3), /does not hold a 2×3 matrix/);
  });
});

describe('symmetricEigen', () => {
  it('[[2,1],[1,2]] has eigenpairs 3 ↦ (1,1)/√2 and 1 ↦ (1,−1)/√2', () => {
    const { values, vectors } = symmetricEigen(Float64Array.of(2, 1, 1, 2), 2);
    assert.ok(Math.abs(values[0]! - 3) < 1e-15 && Math.abs(values[1]! - 1) < 1e-15, `values ${values}`);
    const h = Math.SQRT1_2;
    // Columns are eigenvectors; for (1,−1)/√2 both components tie in magnitude, so the first is positive.
    const expected = [h, h, h, -h];
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(vectors[i]! - expected[i]!) < 1e-15, `vectors ${vectors}`);
  });

  it('the 3×3 second-difference matrix has eigenvalues 2 − √2, 2, 2 + √2 with known eigenvectors', () => {
    const a = Float64Array.of(2, -1, 0, -1, 2, -1, 0, -1, 2);
    const { values, vectors } = symmetricEigen(a, 3);
    const r = Math.SQRT2;
    const expectedValues = [2 + r, 2, 2 - r];
    // Eigenvectors (1, −√2, 1)/2, (1, 0, −1)/√2, (1, √2, 1)/2, signed so the largest |component| is positive.
    const expectedVectors = [
      [-0.5, r / 2, -0.5],
      [Math.SQRT1_2, 0, -Math.SQRT1_2],
      [0.5, r / 2, 0.5],
    ];
    for (let j = 0; j < 3; j++) {
      assert.ok(Math.abs(values[j]! - expectedValues[j]!) < 1e-14, `λ${j} = ${values[j]}`);
      for (let i = 0; i < 3; i++) {
        assert.ok(
          Math.abs(vectors[i * 3 + j]! - expectedVectors[j]![i]!) < 1e-14,
          `v${j}[${i}] = ${vectors[i * 3 + j]}`,
        );
      }
    }
  });

  it('a random symmetric 6×6: A·v = λ·v, orthonormal vectors, descending values, sign convention', () => {
    const n = 6;
    const g = randomMatrix(n, n, 5);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = g[i * n + j]! + g[j * n + i]!;
    const input = a.slice();
    const { values, vectors } = symmetricEigen(a, n);
    assert.deepEqual(a, input, 'input untouched');
    let trace = 0;
    for (let i = 0; i < n; i++) trace += a[i * n + i]!;
    let sum = 0;
    for (let j = 0; j < n; j++) {
      sum += values[j]!;
      if (j > 0) assert.ok(values[j - 1]! >= values[j]!);
      let largest = 0;
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += a[i * n + k]! * vectors[k * n + j]!;
        assert.ok(Math.abs(av - values[j]! * vectors[i * n + j]!) < 1e-12, `(A v − λ v)[${i}] for λ${j}`);
        if (Math.abs(vectors[i * n + j]!) > Math.abs(largest)) largest = vectors[i * n + j]!;
      }
      assert.ok(largest > 0, 'largest component positive');
    }
    assert.ok(Math.abs(sum - trace) < 1e-12);
    assert.ok(orthogonalityError(vectors, n, n) < 1e-14);
  });

  it('sorts a diagonal matrix and handles zero and repeated eigenvalues', () => {
    const { values, vectors } = symmetricEigen(Float64Array.of(1, 0, 0, 0, 5, 0, 0, 0, 0), 3);
    assert.deepEqual(Array.from(values), [5, 1, 0]);
    assert.deepEqual(Array.from(vectors), [0, 1, 0, 1, 0, 0, 0, 0, 1]);
    const twice = symmetricEigen(Float64Array.of(4, 0, 0, 4), 2);
    assert.deepEqual(Array.from(twice.values), [4, 4]);
    assert.deepEqual(Array.from(twice.vectors), [1, 0, 0, 1]);
  });
});
