import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/math/random.ts';
import { Dense, Dropout, type Layer, Linear, ReLU, Sigmoid } from '../../src/nn/layers.ts';
import { mse } from '../../src/nn/losses.ts';
import { Sequential } from '../../src/nn/network.ts';

function randomArray(n: number, rng: Rng, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/** Float64 reference forward pass over the same layer stack, with parameters given as float64 arrays. */
function referenceForward(
  layers: readonly Layer[],
  params: Float64Array[],
  x: Float64Array,
  rows: number,
): Float64Array {
  let h = x;
  let p = 0;
  for (const layer of layers) {
    const spec = layer.describe();
    if (spec.type === 'dense') {
      const w = params[p++]!;
      const b = params[p++]!;
      const out = new Float64Array(rows * spec.outputs);
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < spec.outputs; j++) {
          let s = b[j]!;
          for (let k = 0; k < spec.inputs; k++) s += h[r * spec.inputs + k]! * w[k * spec.outputs + j]!;
          out[r * spec.outputs + j] = s;
        }
      h = out;
    } else if (spec.type === 'relu') h = h.map((v) => Math.max(v, 0));
    else if (spec.type === 'sigmoid') h = h.map((v) => 1 / (1 + Math.exp(-v)));
    else if (spec.type === 'linear') h = h.slice();
    else throw new Error(`no reference for ${spec.type}`);
  }
  return h;
}

function relErr(a: number, b: number): number {
  // Relative error with a small floor so entries that are (numerically) zero compare absolutely.
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-4);
}

describe('Dense + activation stacks: gradients vs central finite differences (float64 reference)', () => {
  const stacks: Record<string, (rng: Rng) => Layer[]> = {
    'Dense-ReLU-Dense': (rng) => [new Dense(4, 6, 'he', rng), new ReLU(), new Dense(6, 3, 'glorot', rng)],
    'Dense-Sigmoid-Dense-Sigmoid': (rng) => [
      new Dense(4, 5, 'glorot', rng),
      new Sigmoid(),
      new Dense(5, 3, 'glorot', rng),
      new Sigmoid(),
    ],
    'Dense-Linear': (rng) => [new Dense(4, 3, 'glorot', rng), new Linear()],
    'Dense-ReLU-Dense-Sigmoid-Dense-Linear': (rng) => [
      new Dense(4, 7, 'he', rng),
      new ReLU(),
      new Dense(7, 5, 'he', rng),
      new Sigmoid(),
      new Dense(5, 3, 'glorot', rng),
      new Linear(),
    ],
  };

  for (const [name, build] of Object.entries(stacks)) {
    it(name, () => {
      const rng = new Rng(7);
      const layers = build(rng);
      const net = new Sequential(layers);
      // Non-zero biases so they matter in the check.
      for (const p of net.params()) if (!p.decay) p.value.set(randomArray(p.value.length, rng, 0.3));
      const rows = 6;
      const x = randomArray(rows * 4, rng);
      const y = randomArray(rows * 3, rng);

      // Analytic gradients (float32), including the input gradient.
      net.setTraining(true);
      net.zeroGrad();
      const pred = net.forward(x, rows);
      const g = new Float32Array(pred.length);
      mse.compute(pred, y, g);
      let gin: Float32Array = g;
      for (let i = layers.length - 1; i >= 0; i--) gin = layers[i]!.backward(gin, true);

      const params64 = net.params().map((p) => Float64Array.from(p.value));
      const x64 = Float64Array.from(x);
      const y64 = Float64Array.from(y);
      const lossAt = (ps: Float64Array[], xin: Float64Array): number => {
        const out = referenceForward(layers, ps, xin, rows);
        return mse.compute(out, y64, new Float64Array(out.length));
      };
      const h = 1e-6;
      let worst = 0;
      net.params().forEach((p, pi) => {
        const v = params64[pi]!;
        for (let i = 0; i < v.length; i++) {
          const orig = v[i]!;
          v[i] = orig + h;
          const up = lossAt(params64, x64);
          v[i] = orig - h;
          const down = lossAt(params64, x64);
          v[i] = orig;
          const numeric = (up - down) / (2 * h);
          const e = relErr(p.grad[i]!, numeric);
          worst = Math.max(worst, e);
          assert.ok(e < 1e-3, `${p.name}[${i}] of param ${pi}: analytic ${p.grad[i]} vs numeric ${numeric}`);
        }
      });
      for (let i = 0; i < x64.length; i++) {
        const orig = x64[i]!;
        x64[i] = orig + h;
        const up = lossAt(params64, x64);
        x64[i] = orig - h;
        const down = lossAt(params64, x64);
        x64[i] = orig;
        const numeric = (up - down) / (2 * h);
        assert.ok(relErr(gin[i]!, numeric) < 1e-3, `input[${i}]: analytic ${gin[i]} vs numeric ${numeric}`);
      }
      assert.ok(worst < 1e-3);
    });
  }

  it('accumulates parameter gradients across backward calls', () => {
    const rng = new Rng(3);
    const d = new Dense(3, 2, 'he', rng);
    const x = randomArray(6, rng);
    const g = randomArray(4, rng);
    d.forward(x, 2);
    d.backward(g);
    const once = Float32Array.from(d.weight.grad);
    d.backward(g);
    for (let i = 0; i < once.length; i++) assert.ok(Math.abs(d.weight.grad[i]! - 2 * once[i]!) < 1e-6);
  });
});

describe('Dense', () => {
  it('initialises with the requested scale and zero biases', () => {
    const rng = new Rng(11);
    const he = new Dense(200, 100, 'he', rng);
    let ss = 0;
    for (const v of he.weight.value) ss += v * v;
    const sd = Math.sqrt(ss / he.weight.value.length);
    assert.ok(Math.abs(sd - Math.sqrt(2 / 200)) < 0.01, `he sd ${sd}`);
    const gl = new Dense(200, 100, 'glorot', rng);
    const a = Math.sqrt(6 / 300);
    assert.ok(gl.weight.value.every((v) => Math.abs(v) <= a));
    assert.ok(he.bias.value.every((v) => v === 0));
  });

  it('reuses its output buffer for the same batch size and checks shapes', () => {
    const rng = new Rng(1);
    const d = new Dense(3, 2, 'he', rng);
    const x = randomArray(9, rng);
    const a = d.forward(x, 3);
    const b = d.forward(x, 3);
    assert.equal(a, b);
    assert.throws(() => d.forward(x, 2), RangeError);
  });
});

describe('Dropout', () => {
  it('is the identity in evaluation mode', () => {
    const rng = new Rng(5);
    const drop = new Dropout(0.5, rng);
    const x = randomArray(100, rng);
    assert.equal(drop.forward(x, 10), x);
    const g = randomArray(100, rng);
    assert.equal(drop.backward(g), g);
  });

  it('zeroes about p of the entries, scales survivors by 1/(1-p), and masks the gradient alike', () => {
    const rng = new Rng(5);
    const p = 0.3;
    const drop = new Dropout(p, new Rng(99));
    drop.setTraining(true);
    const n = 20000;
    const x = new Float32Array(n).fill(1);
    const y = drop.forward(x, 100);
    let zeros = 0;
    for (const v of y) {
      if (v === 0) zeros++;
      else assert.ok(Math.abs(v - 1 / (1 - p)) < 1e-6);
    }
    assert.ok(Math.abs(zeros / n - p) < 0.02, `dropped fraction ${zeros / n}`);
    const g = randomArray(n, rng);
    const gi = drop.backward(g);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(gi[i]! - g[i]! * y[i]!) < 1e-5);
  });
});
