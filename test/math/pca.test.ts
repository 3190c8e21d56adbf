import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { denseOperator, type LinearOperator, randomizedSvd } from '../../src/math/pca.ts';
import { Rng } from '../../src/math/random.ts';

/**
 * The first `cols` columns of H1·H2 (two Householder reflections I − 2wwᵀ/wᵀw with seeded w), m×cols
 * row-major: an orthonormal set known exactly up to rounding.
 */
function householderColumns(m: number, cols: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const q = new Float64Array(m * m);
  for (let i = 0; i < m; i++) q[i * m + i] = 1;
  for (let h = 0; h < 2; h++) {
    const w = Float64Array.from({ length: m }, () => rng.normal());
    let ww = 0;
    for (const x of w) ww += x * x;
    // q ← q · (I − 2wwᵀ/ww)
    for (let i = 0; i < m; i++) {
      let qw = 0;
      for (let j = 0; j < m; j++) qw += q[i * m + j]! * w[j]!;
      for (let j = 0; j < m; j++) q[i * m + j] = q[i * m + j]! - (2 * qw * w[j]!) / ww;
    }
  }
  const out = new Float64Array(m * cols);
  for (let i = 0; i < m; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = q[i * m + j]!;
  return out;
}

/** A = U·diag(s)·Vᵀ with U m×r and V n×r from householderColumns. */
function synthetic(m: number, n: number, s: number[]) {
  const r = s.length;
  const u = householderColumns(m, r, 11);
  const v = householderColumns(n, r, 12);
  const a = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let x = 0;
      for (let p = 0; p < r; p++) x += u[i * r + p]! * s[p]! * v[j * r + p]!;
      a[i * n + j] = x;
    }
  }
  return { a, u, v };
}

function gramError(x: Float64Array, count: number, length: number, rowsAreVectors: boolean): number {
  let worst = 0;
  const at = (vector: number, i: number) => (rowsAreVectors ? x[vector * length + i]! : x[i * count + vector]!);
  for (let p = 0; p < count; p++) {
    for (let q = 0; q < count; q++) {
      let s = 0;
      for (let i = 0; i < length; i++) s += at(p, i) * at(q, i);
      worst = Math.max(worst, Math.abs(s - (p === q ? 1 : 0)));
    }
  }
  return worst;
}

describe('denseOperator', () => {
  it('multiplies by A and Aᵀ like the naive triple loop, for Float32 and Float64 data and ragged sizes', () => {
    const rows = 7;
    const cols = 5;
    const l = 3;
    const rng = new Rng(3);
    const data = Float64Array.from({ length: rows * cols }, () => rng.normal());
    const b = Float64Array.from({ length: cols * l }, () => rng.normal());
    const c = Float64Array.from({ length: rows * l }, () => rng.normal());
    for (const stored of [data, Float32Array.from(data)]) {
      const op = denseOperator(stored, rows, cols);
      const out = new Float64Array(rows * l);
      op.multiply(b, l, out);
      for (let i = 0; i < rows; i++) {
        for (let t = 0; t < l; t++) {
          let s = 0;
          for (let j = 0; j < cols; j++) s += stored[i * cols + j]! * b[j * l + t]!;
          assert.ok(Math.abs(out[i * l + t]! - s) < 1e-12);
        }
      }
      const outT = new Float64Array(cols * l);
      op.multiplyTranspose(c, l, outT);
      for (let j = 0; j < cols; j++) {
        for (let t = 0; t < l; t++) {
          let s = 0;
          for (let i = 0; i < rows; i++) s += stored[i * cols + j]! * c[i * l + t]!;
          assert.ok(Math.abs(outT[j * l + t]! - s) < 1e-12);
        }
      }
    }
    assert.throws(() => denseOperator(data, 6, 5), /does not hold a 6×5 matrix/);
    assert.throws(() => denseOperator(data, rows, cols).multiply(b, 2, new Float64Array(rows * 2)), /multiply b/);
  });
});

describe('randomizedSvd', () => {
  const s = [10, 5, 2, 1, 0.5, 0.25, 0.125, 0.0625];
  const m = 60;
  const n = 40;
  const { a, u, v } = synthetic(m, n, s);

  it('recovers known singular values and vectors of U·diag(s)·Vᵀ', () => {
    const svd = randomizedSvd(denseOperator(a, m, n), 3);
    assert.equal(svd.rank, 3);
    assert.equal(svd.u.length, m * 3);
    assert.equal(svd.vt.length, 3 * n);
    for (let i = 0; i < 3; i++) {
      assert.ok(Math.abs(svd.s[i]! - s[i]!) < 1e-6, `σ${i} = ${svd.s[i]}`);
      let vDot = 0;
      for (let j = 0; j < n; j++) vDot += svd.vt[i * n + j]! * v[j * s.length + i]!;
      let uDot = 0;
      for (let r = 0; r < m; r++) uDot += svd.u[r * 3 + i]! * u[r * s.length + i]!;
      assert.ok(Math.abs(Math.abs(vDot) - 1) < 1e-6, `|vt_${i} · v_${i}| = ${Math.abs(vDot)}`);
      assert.ok(Math.abs(uDot - vDot) < 1e-6, 'u flipped together with v');
    }
    assert.ok(gramError(svd.u, 3, m, false) < 1e-12);
    assert.ok(gramError(svd.vt, 3, n, true) < 1e-12);
  });

  it('is exact when the sketch covers the whole rank, including the zero singular values', () => {
    // rank 12 > the 8 non-zero singular values: s[8..12) must be ~0 and the vectors still orthonormal.
    const svd = randomizedSvd(denseOperator(a, m, n), 12);
    for (let i = 0; i < s.length; i++) assert.ok(Math.abs(svd.s[i]! - s[i]!) < 1e-12, `σ${i} = ${svd.s[i]}`);
    for (let i = s.length; i < 12; i++) assert.ok(svd.s[i]! < 1e-12, `σ${i} = ${svd.s[i]}`);
    assert.ok(gramError(svd.u, 12, m, false) < 1e-12);
    assert.ok(gramError(svd.vt, 12, n, true) < 1e-12);
    // Reconstruction: U·diag(s)·Vᵀ = A.
    let worst = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let x = 0;
        for (let p = 0; p < 12; p++) x += svd.u[i * 12 + p]! * svd.s[p]! * svd.vt[p * n + j]!;
        worst = Math.max(worst, Math.abs(x - a[i * n + j]!));
      }
    }
    assert.ok(worst < 1e-12, `reconstruction error ${worst}`);
  });

  it('follows the sign convention: the largest |entry| of each vt row is positive', () => {
    const svd = randomizedSvd(denseOperator(a, m, n), 5);
    for (let i = 0; i < 5; i++) {
      let largest = 0;
      for (let j = 0; j < n; j++) if (Math.abs(svd.vt[i * n + j]!) > Math.abs(largest)) largest = svd.vt[i * n + j]!;
      assert.ok(largest > 0);
    }
  });

  it('finds the direction of 2-D points on a line through an implicitly centred operator', () => {
    // Points p_i = (1, 2) + t_i·(3, 4) with t = [-1, 0, 2, 3]; mean t = 1, so after centring the data are
    // (t_i − 1)·(3, 4) = τ_i·5·(0.6, 0.8) with τ = [-2, -1, 1, 2]: rank 1, σ₁ = 5·‖τ‖ = 5·√10,
    // v₁ = (0.6, 0.8), u₁ = ±τ/‖τ‖, σ₂ = 0.
    const t = [-1, 0, 2, 3];
    const points = Float64Array.from(t.flatMap((ti) => [1 + 3 * ti, 2 + 4 * ti]));
    const raw = denseOperator(points, 4, 2);
    const mean = [0, 0];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 2; j++) mean[j]! += points[i * 2 + j]! / 4;
    // (A − 1·μᵀ)·b = A·b − 1·(μᵀ·b);  (A − 1·μᵀ)ᵀ·b = Aᵀ·b − μ·(1ᵀ·b)
    const centred: LinearOperator = {
      rows: 4,
      cols: 2,
      multiply(b, l, out) {
        raw.multiply(b, l, out);
        for (let c = 0; c < l; c++) {
          const shift = mean[0]! * b[c]! + mean[1]! * b[l + c]!;
          for (let i = 0; i < 4; i++) out[i * l + c] = out[i * l + c]! - shift;
        }
      },
      multiplyTranspose(b, l, out) {
        raw.multiplyTranspose(b, l, out);
        for (let c = 0; c < l; c++) {
          let total = 0;
          for (let i = 0; i < 4; i++) total += b[i * l + c]!;
          for (let j = 0; j < 2; j++) out[j * l + c] = out[j * l + c]! - mean[j]! * total;
        }
      },
    };
    const svd = randomizedSvd(centred, 2);
    assert.ok(Math.abs(svd.s[0]! - 5 * Math.sqrt(10)) < 1e-12, `σ₁ = ${svd.s[0]}`);
    assert.ok(svd.s[1]! < 1e-12, `σ₂ = ${svd.s[1]}`);
    assert.ok(Math.abs(svd.vt[0]! - 0.6) < 1e-12 && Math.abs(svd.vt[1]! - 0.8) < 1e-12, `v₁ = ${svd.vt.slice(0, 2)}`);
    const tau = [-2, -1, 1, 2];
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(svd.u[i * 2]! - tau[i]! / Math.sqrt(10)) < 1e-12);
    // The second right vector completes an orthonormal basis: ±(0.8, −0.6), largest |entry| positive.
    assert.ok(Math.abs(svd.vt[2]! - 0.8) < 1e-9 && Math.abs(svd.vt[3]! + 0.6) < 1e-9, `v₂ = ${svd.vt.slice(2)}`);
  });

  it('power iterations sharpen the subspace when the spectrum decays slowly', () => {
    // Slowly decaying tail: σ_i = 1/(1 + i)^0.3 for 60 components; compare the top-5 values.
    const big = synthetic(
      80,
      70,
      Array.from({ length: 60 }, (_, i) => 1 / (1 + i) ** 0.3),
    );
    const op = denseOperator(big.a, 80, 70);
    const error = (q: number) => {
      const svd = randomizedSvd(op, 5, { powerIterations: q, oversample: 2, seed: 4 });
      let e = 0;
      for (let i = 0; i < 5; i++) e += Math.abs(svd.s[i]! - 1 / (1 + i) ** 0.3);
      return e;
    };
    const none = error(0);
    const four = error(4);
    assert.ok(four < none / 3, `error without power iterations ${none}, with 4: ${four}`);
  });

  it('is deterministic for a seed and clamps the rank to min(rows, cols)', () => {
    const op = denseOperator(a, m, n);
    const first = randomizedSvd(op, 4, { seed: 9 });
    const second = randomizedSvd(op, 4, { seed: 9 });
    assert.deepEqual(second, first);
    const other = randomizedSvd(op, 4, { seed: 10 });
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(other.s[i]! - first.s[i]!) < 1e-9);
    const small = randomizedSvd(denseOperator(a.subarray(0, 6 * 4), 6, 4), 100);
    assert.equal(small.rank, 4);
    assert.equal(small.s.length, 4);
    assert.equal(small.u.length, 24);
    assert.equal(small.vt.length, 16);
  });

  it('rejects invalid arguments with clear messages', () => {
    const op = denseOperator(a, m, n);
    assert.throws(() => randomizedSvd(op, 0), /rank must be an integer ≥ 1, got 0/);
    assert.throws(() => randomizedSvd(op, 1.5), /rank must be an integer ≥ 1/);
    assert.throws(() => randomizedSvd(op, 2, { oversample: -1 }), /oversample must be a non-negative integer/);
    assert.throws(() => randomizedSvd(op, 2, { powerIterations: 0.5 }), /powerIterations must be/);
    assert.throws(() => randomizedSvd(op, 2, { seed: Number.NaN }), /seed must be a finite number/);
  });
});
