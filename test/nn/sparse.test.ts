import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/math/random.ts';
import { Dense, ReLU } from '../../src/nn/layers.ts';
import { mse } from '../../src/nn/losses.ts';
import { Sequential, train } from '../../src/nn/network.ts';
import { Adam } from '../../src/nn/optim.ts';
import {
  type CsrMatrix,
  GramReconstruction,
  meanOutput,
  type ReconstructionTarget,
  RowBatch,
  SimdDense,
  SparseInputDense,
  targetRow,
} from '../../src/nn/sparse.ts';

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-4);
}

/** A random CSR matrix (about `density` of the cells stored) and its dense copy. */
function randomCsr(rows: number, cols: number, density: number, rng: Rng): { m: CsrMatrix; dense: Float32Array } {
  const dense = new Float32Array(rows * cols);
  const indptr = new Int32Array(rows + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++)
      if (rng.next() < density) {
        const v = rng.normal();
        indices.push(c);
        values.push(v);
        dense[r * cols + c] = v;
      }
    indptr[r + 1] = indices.length;
  }
  return { m: { rows, cols, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) }, dense };
}

const ids = (...xs: number[]) => Float32Array.from(xs);

describe('SparseInputDense', () => {
  it('matches Dense on the densified rows: outputs and parameter gradients; untouched weight rows get none', () => {
    const rng = new Rng(1);
    const { m, dense } = randomCsr(12, 20, 0.15, rng);
    const sparse = new SparseInputDense(20, 7, 'he', rng).bind(m);
    const ref = new Dense(20, 7, 'he', new Rng(5));
    ref.weight.value.set(sparse.weight.value);
    for (let j = 0; j < 7; j++) sparse.bias.value[j] = ref.bias.value[j] = rng.normal();
    const rows = [3, 0, 7, 7, 11];
    const x = new Float32Array(rows.length * 20);
    rows.forEach((r, i) => {
      x.set(dense.subarray(r * 20, (r + 1) * 20), i * 20);
    });
    const ys = Float32Array.from(sparse.forward(ids(...rows), rows.length));
    const yd = ref.forward(x, rows.length);
    for (let i = 0; i < ys.length; i++) assert.ok(Math.abs(ys[i]! - yd[i]!) < 1e-5, `output ${i}`);
    const g = Float32Array.from({ length: ys.length }, () => rng.normal());
    sparse.backward(g, false);
    ref.backward(g, false);
    for (let i = 0; i < ref.weight.grad.length; i++)
      assert.ok(Math.abs(sparse.weight.grad[i]! - ref.weight.grad[i]!) < 1e-5, `weight grad ${i}`);
    for (let j = 0; j < 7; j++) assert.ok(Math.abs(sparse.bias.grad[j]! - ref.bias.grad[j]!) < 1e-5);
    // Columns absent from the batch's rows: their weight rows are never written.
    const present = new Set<number>();
    for (const r of rows) for (let p = m.indptr[r]!; p < m.indptr[r + 1]!; p++) present.add(m.indices[p]!);
    assert.ok(present.size < 20, 'the fixture leaves some columns out');
    for (let c = 0; c < 20; c++)
      if (!present.has(c))
        for (let j = 0; j < 7; j++) assert.equal(sparse.weight.grad[c * 7 + j], 0, `row ${c} untouched`);
  });

  it('passes central finite differences (float64 reference) inside a network', () => {
    const rng = new Rng(2);
    const { m, dense } = randomCsr(6, 9, 0.4, rng);
    const first = new SparseInputDense(9, 5, 'he', rng).bind(m);
    // SimdDense, not Dense: Sequential takes its input size from the first Dense it finds.
    const second = new SimdDense(5, 3, 'glorot', rng);
    const net = new Sequential([first, new ReLU(), second], 1);
    for (const p of net.params())
      if (!p.decay) for (let i = 0; i < p.value.length; i++) p.value[i] = 0.3 * rng.normal();
    const x = ids(0, 1, 2, 3, 4, 5);
    const y = Float32Array.from({ length: 18 }, () => rng.normal());
    net.zeroGrad();
    const pred = net.forward(x, 6);
    const g = new Float32Array(pred.length);
    mse.compute(pred, y, g);
    net.backward(g);

    const params = net.params().map((p) => Float64Array.from(p.value));
    const lossAt = (ps: Float64Array[]): number => {
      const [w1, b1, w2, b2] = ps as [Float64Array, Float64Array, Float64Array, Float64Array];
      let sum = 0;
      for (let r = 0; r < 6; r++) {
        const h = new Float64Array(5);
        for (let j = 0; j < 5; j++) {
          let s = b1[j]!;
          for (let c = 0; c < 9; c++) s += dense[r * 9 + c]! * w1[c * 5 + j]!;
          h[j] = Math.max(0, s);
        }
        for (let o = 0; o < 3; o++) {
          let s = b2[o]!;
          for (let j = 0; j < 5; j++) s += h[j]! * w2[j * 3 + o]!;
          sum += (s - y[r * 3 + o]!) ** 2;
        }
      }
      return sum / 18;
    };
    const eps = 1e-6;
    net.params().forEach((p, pi) => {
      const v = params[pi]!;
      for (let i = 0; i < v.length; i++) {
        const orig = v[i]!;
        v[i] = orig + eps;
        const up = lossAt(params);
        v[i] = orig - eps;
        const down = lossAt(params);
        v[i] = orig;
        const numeric = (up - down) / (2 * eps);
        assert.ok(relErr(p.grad[i]!, numeric) < 1e-3, `param ${pi}[${i}]: ${p.grad[i]} vs ${numeric}`);
      }
    });
  });

  it('rejects a row id outside the matrix and a backward asking for an input gradient', () => {
    const rng = new Rng(3);
    const { m } = randomCsr(4, 5, 0.5, rng);
    const layer = new SparseInputDense(5, 2, 'he', rng).bind(m);
    assert.throws(() => layer.forward(ids(4), 1), /not a row/);
    assert.throws(() => layer.forward(ids(1.5), 1), /not a row/);
    layer.forward(ids(1), 1);
    assert.throws(() => layer.backward(new Float32Array(2), true), /no input gradient/);
    assert.throws(() => new SparseInputDense(6, 2, 'he', rng).bind(m), /expects 6 columns/);
  });
});

describe('SimdDense', () => {
  it('matches Dense: outputs, parameter and input gradients, also on a smaller (padded) batch', () => {
    const rng = new Rng(4);
    const simd = new SimdDense(13, 9, 'he', rng);
    const ref = new Dense(13, 9, 'he', new Rng(99));
    ref.weight.value.set(simd.weight.value);
    for (let j = 0; j < 9; j++) simd.bias.value[j] = ref.bias.value[j] = rng.normal();
    for (const rows of [6, 4]) {
      const x = Float32Array.from({ length: rows * 13 }, () => (rng.next() < 0.3 ? 0 : rng.normal()));
      const g = Float32Array.from({ length: rows * 9 }, () => rng.normal());
      simd.weight.grad.fill(0);
      simd.bias.grad.fill(0);
      ref.weight.grad.fill(0);
      ref.bias.grad.fill(0);
      const ys = Float32Array.from(simd.forward(x, rows));
      const yd = ref.forward(x, rows);
      for (let i = 0; i < ys.length; i++) assert.ok(Math.abs(ys[i]! - yd[i]!) < 1e-4, `output ${i}`);
      const gs = Float32Array.from(simd.backward(g, true));
      const gd = ref.backward(g, true);
      for (let i = 0; i < gs.length; i++) assert.ok(Math.abs(gs[i]! - gd[i]!) < 1e-4, `input grad ${i}`);
      for (let i = 0; i < ref.weight.grad.length; i++)
        assert.ok(Math.abs(simd.weight.grad[i]! - ref.weight.grad[i]!) < 1e-4, `weight grad ${i}`);
      for (let j = 0; j < 9; j++) assert.ok(Math.abs(simd.bias.grad[j]! - ref.bias.grad[j]!) < 1e-4);
    }
  });

  it('saves and loads through Sequential toArrays/fromArrays as a dense layer', () => {
    const rng = new Rng(5);
    const net = new Sequential([new SimdDense(4, 3, 'he', rng), new ReLU(), new SimdDense(3, 2, 'glorot', rng)], 4);
    const saved = net.toArrays();
    assert.deepEqual(
      saved.spec.layers.map((l) => l.type),
      ['dense', 'relu', 'dense'],
    );
    const loaded = Sequential.fromArrays(JSON.parse(JSON.stringify(saved.spec)), saved.arrays);
    const x = Float32Array.from({ length: 8 }, () => rng.normal());
    const a = Float32Array.from(net.forward(x, 2));
    const b = loaded.forward(x, 2);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-5);
  });
});

/** A target z = S + P·C over `width` columns with two basis rows on disjoint column ranges (two groups). */
function randomTarget(rows: number, width: number, rng: Rng): ReconstructionTarget {
  const { m } = randomCsr(rows, width, 0.3, rng);
  const basis = new Float32Array(2 * width);
  for (let j = 0; j < width; j++) basis[(j < width / 2 ? 0 : 1) * width + j] = rng.normal() * 0.5;
  const coefficients = new Float32Array(rows * 2);
  for (let i = 0; i < coefficients.length; i++) coefficients[i] = rng.next() < 0.7 ? 1 : 0;
  return { sparse: m, coefficients, basis, k: 2 };
}

describe('GramReconstruction', () => {
  const H = 4;
  const D = 7;
  const rows = [2, 0, 5, 2];

  function setup(seed: number) {
    const rng = new Rng(seed);
    const target = randomTarget(6, D, rng);
    const batch = new RowBatch();
    const layer = new GramReconstruction(H, D, rng).bind(target, batch);
    for (let j = 0; j < D; j++) layer.bias.value[j] = rng.normal() * 0.3;
    const h = Float32Array.from({ length: rows.length * H }, () => rng.normal());
    batch.set(ids(...rows), rows.length, 6);
    return { rng, target, batch, layer, h };
  }

  /** Direct float64 errors ‖z_r − V h_r − b‖² per batch row. */
  function direct(target: ReconstructionTarget, v: Float64Array, b: Float64Array, h: Float64Array): number[] {
    const z = new Float64Array(D);
    return rows.map((id, r) => {
      targetRow(target, id, z);
      let e = 0;
      for (let j = 0; j < D; j++) {
        let a = b[j]!;
        for (let k = 0; k < H; k++) a += v[j * H + k]! * h[r * H + k]!;
        e += (z[j]! - a) ** 2;
      }
      return e;
    });
  }

  it('outputs the per-row squared error of the direct product', () => {
    const { target, layer, h } = setup(6);
    const e = layer.forward(h, rows.length);
    const ref = direct(
      target,
      Float64Array.from(layer.weight.value),
      Float64Array.from(layer.bias.value),
      Float64Array.from(h),
    );
    ref.forEach((x, r) => {
      assert.ok(relErr(e[r]!, x) < 1e-4, `row ${r}: ${e[r]} vs ${x}`);
    });
  });

  it('its Gram-trick gradients (weights, biases, inputs) match central finite differences of the direct loss', () => {
    const { target, layer, h } = setup(7);
    // A weighted loss, so every row's gradient scale differs: L = Σ_r c_r e_r.
    const c = [0.5, -1.25, 2, 0.75];
    layer.weight.grad.fill(0);
    layer.bias.grad.fill(0);
    layer.forward(h, rows.length);
    const gin = Float32Array.from(layer.backward(Float32Array.from(c), true));
    const v = Float64Array.from(layer.weight.value);
    const b = Float64Array.from(layer.bias.value);
    const h64 = Float64Array.from(h);
    const loss = () => direct(target, v, b, h64).reduce((s, e, r) => s + c[r]! * e, 0);
    const eps = 1e-6;
    const check = (arr: Float64Array, analytic: Float32Array, what: string) => {
      for (let i = 0; i < arr.length; i++) {
        const orig = arr[i]!;
        arr[i] = orig + eps;
        const up = loss();
        arr[i] = orig - eps;
        const down = loss();
        arr[i] = orig;
        const numeric = (up - down) / (2 * eps);
        assert.ok(relErr(analytic[i]!, numeric) < 1e-3, `${what}[${i}]: analytic ${analytic[i]} vs numeric ${numeric}`);
      }
    };
    check(v, layer.weight.grad, 'weight');
    check(b, layer.bias.grad, 'bias');
    check(h64, gin, 'input');
  });

  it('decode() gives the dense reconstructions', () => {
    const { layer, h } = setup(8);
    const out = new Float32Array(rows.length * D);
    layer.decode(h, rows.length, out);
    for (let r = 0; r < rows.length; r++)
      for (let j = 0; j < D; j++) {
        let a = layer.bias.value[j]!;
        for (let k = 0; k < H; k++) a += layer.weight.value[j * H + k]! * h[r * H + k]!;
        assert.ok(Math.abs(out[r * D + j]! - a) < 1e-5);
      }
  });

  it('trains with train() and meanOutput: a sparse-in, Gram-out network learns to reconstruct its rows', () => {
    const rng = new Rng(9);
    const target = randomTarget(40, 12, rng);
    const batch = new RowBatch();
    // The input is the target's sparse part plus the two coefficients as extra columns.
    const n = 40;
    const indptr = new Int32Array(n + 1);
    const ind: number[] = [];
    const val: number[] = [];
    for (let r = 0; r < n; r++) {
      for (let p = target.sparse.indptr[r]!; p < target.sparse.indptr[r + 1]!; p++) {
        ind.push(target.sparse.indices[p]!);
        val.push(target.sparse.values[p]!);
      }
      for (let g = 0; g < 2; g++)
        if (target.coefficients[r * 2 + g]) {
          ind.push(12 + g);
          val.push(1);
        }
      indptr[r + 1] = ind.length;
    }
    const input: CsrMatrix = {
      rows: n,
      cols: 14,
      indptr,
      indices: Int32Array.from(ind),
      values: Float32Array.from(val),
    };
    const net = new Sequential(
      [
        new SparseInputDense(14, 32, 'he', rng, { fanIn: 6 }).bind(input, batch),
        new ReLU(),
        new SimdDense(32, 32, 'he', rng),
        new ReLU(),
        new GramReconstruction(32, 12, rng).bind(target, batch),
      ],
      1,
    );
    const x = Float32Array.from({ length: n }, (_, i) => i);
    const data = { x, y: new Float32Array(n) };
    let total = 0;
    const z = new Float64Array(12);
    for (let r = 0; r < n; r++) {
      targetRow(target, r, z);
      for (const v of z) total += v * v;
    }
    const result = train(net, data, {
      epochs: 300,
      batchSize: 16,
      loss: meanOutput,
      optimizer: new Adam({ lr: 3e-3 }),
      seed: 1,
    });
    const first = result.history[0]!.trainLoss;
    const last = result.history[result.history.length - 1]!.trainLoss;
    // Loss is the mean per-row squared error: relative to the mean ‖z‖² it ends far below where it started.
    assert.ok(last < 0.05 * (total / n), `final loss ${last} vs mean ‖z‖² ${total / n} (first ${first})`);
  });
});

describe('meanOutput', () => {
  it('averages the outputs and spreads 1/N as gradient', () => {
    const g = new Float32Array(4);
    assert.equal(meanOutput.compute(Float32Array.of(1, 2, 3, 6), new Float32Array(4), g), 3);
    assert.deepEqual(Array.from(g), [0.25, 0.25, 0.25, 0.25]);
  });
});
