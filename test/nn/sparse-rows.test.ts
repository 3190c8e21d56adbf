import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/math/random.ts';
import { Dense, ReLU } from '../../src/nn/layers.ts';
import { Adam } from '../../src/nn/optim.ts';
import {
  type CsrPattern,
  type CsrRows,
  LazyAdam,
  SparseDense,
  SparseOutput,
  TouchedRows,
} from '../../src/nn/sparse-rows.ts';

const WIDTH = 12;
const HIDDEN = 5;

/** Three rows over 12 columns, one of them empty; column 3 appears twice. */
function input(rng: Rng): CsrRows {
  return {
    rows: 3,
    indptr: Int32Array.of(0, 3, 3, 6),
    indices: Int32Array.of(1, 3, 7, 0, 3, 11),
    values: Float32Array.from({ length: 6 }, () => rng.normal()),
  };
}

const PATTERN: CsrPattern = { rows: 3, indptr: Int32Array.of(0, 2, 4, 5), indices: Int32Array.of(2, 5, 5, 9, 0) };

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-4);
}

/**
 * Float64 reference of SparseDense → ReLU → Dense → SparseOutput and the masked squared error on the
 * requested outputs, with every parameter read from float64 copies.
 */
function referenceLoss(
  p: { w1: Float64Array; b1: Float64Array; w2: Float64Array; b2: Float64Array; w3: Float64Array; b3: Float64Array },
  x: CsrRows,
  targets: Float64Array,
): number {
  let loss = 0;
  for (let r = 0; r < x.rows; r++) {
    const h = new Float64Array(HIDDEN);
    for (let j = 0; j < HIDDEN; j++) h[j] = p.b1[j]!;
    for (let q = x.indptr[r]!; q < x.indptr[r + 1]!; q++)
      for (let j = 0; j < HIDDEN; j++) h[j]! += x.values[q]! * p.w1[x.indices[q]! * HIDDEN + j]!;
    for (let j = 0; j < HIDDEN; j++) h[j] = Math.max(0, h[j]!);
    const g = new Float64Array(HIDDEN);
    for (let j = 0; j < HIDDEN; j++) {
      let s = p.b2[j]!;
      for (let k = 0; k < HIDDEN; k++) s += h[k]! * p.w2[k * HIDDEN + j]!;
      g[j] = s;
    }
    for (let q = PATTERN.indptr[r]!; q < PATTERN.indptr[r + 1]!; q++) {
      const c = PATTERN.indices[q]!;
      let y = p.b3[c]!;
      for (let k = 0; k < HIDDEN; k++) y += g[k]! * p.w3[c * HIDDEN + k]!;
      loss += (y - targets[q]!) ** 2;
    }
  }
  return loss;
}

describe('sparse rows: SparseDense and SparseOutput', () => {
  it('gradients match central finite differences of a float64 reference', () => {
    const rng = new Rng(11);
    const enc = new SparseDense(WIDTH, HIDDEN, rng, 3);
    const relu = new ReLU();
    const mid = new Dense(HIDDEN, HIDDEN, 'glorot', rng);
    const dec = new SparseOutput(HIDDEN, WIDTH, rng);
    for (const b of [enc.bias, mid.bias, dec.bias])
      for (let i = 0; i < b.value.length; i++) b.value[i] = rng.normal() * 0.3;
    const x = input(rng);
    const targets = Float64Array.from({ length: 5 }, () => rng.normal());

    enc.zeroGrad();
    dec.zeroGrad();
    mid.weight.grad.fill(0);
    mid.bias.grad.fill(0);
    const h = relu.forward(enc.forward(x), x.rows);
    const y = dec.forward(mid.forward(h, x.rows), PATTERN);
    const g = Float32Array.from(y, (v, q) => 2 * (v - targets[q]!));
    enc.backward(relu.backward(mid.backward(dec.backward(g))));

    const params = {
      w1: Float64Array.from(enc.weight.value),
      b1: Float64Array.from(enc.bias.value),
      w2: Float64Array.from(mid.weight.value),
      b2: Float64Array.from(mid.bias.value),
      w3: Float64Array.from(dec.weight.value),
      b3: Float64Array.from(dec.bias.value),
    };
    const analytic: Record<keyof typeof params, Float32Array> = {
      w1: enc.weight.grad,
      b1: enc.bias.grad,
      w2: mid.weight.grad,
      b2: mid.bias.grad,
      w3: dec.weight.grad,
      b3: dec.bias.grad,
    };
    const eps = 1e-6;
    let checked = 0;
    for (const key of Object.keys(params) as (keyof typeof params)[]) {
      const a = params[key];
      for (let i = 0; i < a.length; i++) {
        const keep = a[i]!;
        a[i] = keep + eps;
        const up = referenceLoss(params, x, targets);
        a[i] = keep - eps;
        const down = referenceLoss(params, x, targets);
        a[i] = keep;
        const numeric = (up - down) / (2 * eps);
        assert.ok(
          relErr(analytic[key][i]!, numeric) < 2e-3,
          `${key}[${i}]: analytic ${analytic[key][i]} vs numeric ${numeric}`,
        );
        if (numeric !== 0) checked++;
      }
    }
    assert.ok(checked > 40, `only ${checked} non-zero gradients checked`);
  });

  it('gradients touch only the rows present: input columns and requested outputs', () => {
    const rng = new Rng(3);
    const enc = new SparseDense(WIDTH, HIDDEN, rng);
    const dec = new SparseOutput(HIDDEN, WIDTH, rng);
    const x = input(rng);
    enc.backward(new Float32Array(enc.forward(x).length).fill(1));
    const h = new Float32Array(3 * HIDDEN).fill(0.5);
    dec.forward(h, PATTERN);
    dec.backward(new Float32Array(5).fill(1));
    assert.deepEqual(
      [...enc.touched.rows()].sort((a, b) => a - b),
      [0, 1, 3, 7, 11],
    );
    assert.deepEqual(
      [...dec.touched.rows()].sort((a, b) => a - b),
      [0, 2, 5, 9],
    );
    for (let c = 0; c < WIDTH; c++) {
      const row = enc.weight.grad.subarray(c * HIDDEN, (c + 1) * HIDDEN);
      assert.equal(
        row.some((v) => v !== 0),
        [0, 1, 3, 7, 11].includes(c),
        `encoder row ${c}`,
      );
    }
    enc.zeroGrad();
    dec.zeroGrad();
    assert.ok(enc.weight.grad.every((v) => v === 0) && dec.weight.grad.every((v) => v === 0));
    assert.equal(enc.touched.rows().length, 0);
  });

  it('SparseOutput evaluates exactly h·W[c] + b[c] for each requested column', () => {
    const rng = new Rng(5);
    const dec = new SparseOutput(HIDDEN, WIDTH, rng);
    const h = Float32Array.from({ length: 3 * HIDDEN }, () => rng.normal());
    const y = dec.forward(h, PATTERN);
    for (let r = 0; r < 3; r++)
      for (let q = PATTERN.indptr[r]!; q < PATTERN.indptr[r + 1]!; q++) {
        const c = PATTERN.indices[q]!;
        let s = dec.bias.value[c]!;
        for (let k = 0; k < HIDDEN; k++) s += h[r * HIDDEN + k]! * dec.weight.value[c * HIDDEN + k]!;
        assert.ok(Math.abs(s - y[q]!) < 1e-5);
      }
    assert.throws(() => dec.forward(h, { ...PATTERN, indices: Int32Array.of(2, 5, 5, 9, 12) }), /column 12 outside/);
  });

  it('LazyAdam equals Adam when every row is touched, and leaves untouched rows alone', () => {
    const rng = new Rng(9);
    const a = new SparseDense(4, 3, rng);
    const b = new SparseDense(4, 3, new Rng(9));
    const full: CsrRows = {
      rows: 2,
      indptr: Int32Array.of(0, 4, 8),
      indices: Int32Array.of(0, 1, 2, 3, 0, 1, 2, 3),
      values: Float32Array.from({ length: 8 }, () => rng.normal()),
    };
    const lazy = new LazyAdam({ lr: 0.01 });
    const adam = new Adam({ lr: 0.01 });
    for (let step = 0; step < 3; step++) {
      a.zeroGrad();
      a.backward(Float32Array.from(a.forward(full), (v) => v - 1));
      lazy.step(a.denseParams(), a.sparseParams());
      b.zeroGrad();
      b.backward(Float32Array.from(b.forward(full), (v) => v - 1));
      adam.step(b.params());
    }
    for (let i = 0; i < a.weight.value.length; i++) assert.ok(Math.abs(a.weight.value[i]! - b.weight.value[i]!) < 1e-6);

    const before = Float32Array.from(a.weight.value);
    const one: CsrRows = {
      rows: 1,
      indptr: Int32Array.of(0, 1),
      indices: Int32Array.of(2),
      values: Float32Array.of(1),
    };
    a.zeroGrad();
    a.backward(Float32Array.from(a.forward(one), (v) => v - 1));
    lazy.step(a.denseParams(), a.sparseParams());
    for (let r = 0; r < 4; r++) {
      const changed = a.weight.value.subarray(r * 3, r * 3 + 3).some((v, j) => v !== before[r * 3 + j]);
      assert.equal(changed, r === 2, `row ${r}`);
    }
  });

  it('TouchedRows keeps each row once and clears in O(touched)', () => {
    const t = new TouchedRows(5000);
    for (const r of [4, 4, 4999, 0, 4]) t.add(r);
    assert.deepEqual([...t.rows()], [4, 4999, 0]);
    t.clear();
    assert.equal(t.rows().length, 0);
    t.add(4);
    assert.deepEqual([...t.rows()], [4]);
  });
});
