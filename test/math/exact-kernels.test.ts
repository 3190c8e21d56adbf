/**
 * The exact kernels of src/math/matvec.ts (ExactRows, PairRows64, ColumnSums, dotRows): each output is one sum
 * taken in order in float64, so the WebAssembly SIMD path, the JS fallback and a plain scalar loop must agree bit
 * for bit (the request path relies on it: scores are the same whichever kernel ran).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ColumnSums,
  dotRows,
  ExactRows,
  multiplyJs,
  PairRows64,
  rowDots64,
  simdAvailable,
} from '../../src/math/matvec.ts';
import { Rng } from '../../src/math/random.ts';

function floats32(length: number, rng: Rng): Float32Array {
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = rng.normal();
  return a;
}

function floats64(length: number, rng: Rng): Float64Array {
  const a = new Float64Array(length);
  for (let i = 0; i < length; i++) a[i] = rng.normal() * 10 ** (rng.int(7) - 3);
  return a;
}

/** Scalar reference: Σ_k v[i·d + k]·q[k] in order, in float64, rounded to float32. */
function scalarProducts(v: Float32Array, n: number, d: number, q: Float32Array): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += v[i * d + k]! * q[k]!;
    out[i] = s;
  }
  return out;
}

function assertSameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]), `${what}: entry ${i}: ${a[i]} vs ${b[i]}`);
}

const paths = [
  { name: 'WebAssembly SIMD', simd: true },
  { name: 'JS fallback', simd: false },
] as const;

it('SIMD is available on this Node (the SIMD suites below would otherwise test the fallback twice)', () => {
  assert.ok(simdAvailable);
});

for (const path of paths) {
  describe(`ExactRows (${path.name})`, () => {
    it('gives multiplyJs and a scalar loop bit for bit, for d and n around the 4-row blocks', () => {
      const rng = new Rng(3);
      for (const d of [1, 3, 8, 64, 65]) {
        for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 17, 1001]) {
          const v = floats32(n * d, rng);
          const q = floats32(d, rng);
          const m = ExactRows.create(n, d, { simd: path.simd });
          assert.equal(m.simd, path.simd);
          m.set(v, n);
          const out = new Float32Array(n + 3).fill(7);
          m.multiply(q, out);
          const js = new Float32Array(n);
          multiplyJs(v, d, n, q, js);
          assertSameBits(out.subarray(0, n), js, `d ${d} n ${n} vs multiplyJs`);
          assertSameBits(out.subarray(0, n), scalarProducts(v, n, d, q), `d ${d} n ${n} vs scalar`);
          assertSameBits(out.subarray(n), [7, 7, 7], `d ${d} n ${n}: slots past n`);
        }
      }
    });

    it('keeps rows set one at a time, grows past its capacity, and a smaller set() forgets the old rows', () => {
      const rng = new Rng(4);
      const d = 6;
      const m = ExactRows.create(8, d, { simd: path.simd });
      const v = floats32(40 * d, rng);
      m.set(v, 10);
      m.multiply(floats32(d, rng), new Float32Array(10)); // leaves sums in the scratch that growth turns into rows
      const row = floats32(d, rng);
      v.set(row, 3 * d);
      m.setRow(3, row);
      const far = floats32(d, rng);
      m.setRow(37, far); // rows 10..36 are zero
      const expect = new Float32Array(38 * d);
      expect.set(v.subarray(0, 10 * d));
      expect.set(far, 37 * d);
      assert.equal(m.rows, 38);
      const q = floats32(d, rng);
      const out = new Float32Array(38);
      m.multiply(q, out);
      assertSameBits(out, scalarProducts(expect, 38, d, q), 'after setRow and growth');
      m.set(v, 5);
      assert.equal(m.rows, 5);
      const fewer = new Float32Array(8).fill(9);
      m.multiply(q, fewer);
      assertSameBits(fewer.subarray(0, 5), scalarProducts(v, 5, d, q), 'after a smaller set()');
      assertSameBits(fewer.subarray(5), [9, 9, 9], 'slots past the rows');
    });
  });

  describe(`PairRows64 (${path.name})`, () => {
    it('gives rowDots64 and a scalar loop bit for bit over listed columns, with a vector or ones', () => {
      const rng = new Rng(5);
      for (const [rows, cols] of [
        [1, 1],
        [2, 5],
        [3, 3],
        [7, 11],
        [64, 64],
        [65, 40],
      ] as const) {
        const m = floats64(rows * cols, rng);
        const x = floats64(cols, rng);
        const listed = Int32Array.from({ length: cols }, (_, c) => c).filter(() => rng.next() < 0.6);
        const kernel = new PairRows64(m, rows, cols, { simd: path.simd });
        assert.equal(kernel.simd, path.simd);
        for (const vector of [x, null]) {
          const from = listed.length > 2 ? 1 : 0;
          const to = listed.length;
          const out = new Float64Array(rows);
          kernel.dots(listed, from, to, vector, out);
          const js = new Float64Array(rows);
          rowDots64(m, rows, cols, listed, from, to, vector, js);
          const scalar = new Float64Array(rows);
          for (let a = 0; a < rows; a++) {
            let s = 0;
            for (let t = from; t < to; t++)
              s += vector ? m[a * cols + listed[t]!]! * vector[listed[t]!]! : m[a * cols + listed[t]!]!;
            scalar[a] = s;
          }
          assertSameBits(out, js, `${rows}×${cols} vs rowDots64`);
          assertSameBits(out, scalar, `${rows}×${cols} vs scalar`);
        }
        const none = new Float64Array(rows).fill(3);
        kernel.dots(listed, 0, 0, x, none);
        assertSameBits(none, new Float64Array(rows), `${rows}×${cols}: no columns`);
      }
    });
  });

  describe(`ColumnSums (${path.name})`, () => {
    it('sums a vector over each column of a sparse matrix, in order, bit for bit', () => {
      const rng = new Rng(6);
      const width = 37;
      const n = 50;
      const indptr = new Int32Array(n + 1);
      const index: number[] = [];
      for (let j = 0; j < n; j++) {
        const count = rng.int(9); // some empty columns
        for (let t = 0; t < count; t++) index.push(rng.int(width));
        indptr[j + 1] = index.length;
      }
      const w = floats64(width, rng);
      const kernel = new ColumnSums(indptr, Int32Array.from(index), n, width, { simd: path.simd });
      const out = new Float64Array(n);
      kernel.sums(w, out);
      const scalar = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = indptr[j]!; p < indptr[j + 1]!; p++) s += w[index[p]!]!;
        scalar[j] = s;
      }
      assertSameBits(out, scalar, 'column sums');
      const listed = Int32Array.from([3, 0, 49, 7, 7, 12, 30, 1]);
      for (const [from, to] of [
        [0, listed.length],
        [2, 5],
        [4, 4],
      ] as const) {
        const some = new Float64Array(to - from);
        kernel.sumsOf(listed, from, to, w, some);
        assertSameBits(
          some,
          Array.from(listed.subarray(from, to), (j) => scalar[j]!),
          `sums of listed columns [${from}, ${to})`,
        );
      }
    });
  });
}

describe('dotRows', () => {
  it('gives the one-pair loop bit for bit, and NaN for a row outside the matrix', () => {
    const rng = new Rng(7);
    const d = 13;
    const n = 20;
    const v = floats32(n * d, rng);
    const rows = Int32Array.from([0, 5, 19, 3, 3, 25, 7, 11, 2]);
    const out = new Float64Array(rows.length);
    dotRows(v, d, rows, 0, rows.length, v, 4 * d, out);
    for (let t = 0; t < rows.length; t++) {
      const a = rows[t]!;
      if (a >= n) {
        assert.ok(Number.isNaN(out[t]!));
        continue;
      }
      let s = 0;
      for (let k = 0; k < d; k++) s += v[a * d + k]! * v[4 * d + k]!;
      assert.ok(Object.is(out[t], s), `row ${a}`);
    }
    const part = new Float64Array(3);
    dotRows(v, d, rows, 2, 5, v, 4 * d, part);
    assertSameBits(part, out.subarray(2, 5), 'a range of the list');
  });
});
