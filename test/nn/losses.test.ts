import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/math/random.ts';
import { bce, bceWithLogits, type Loss, lossAndGradient, maskedMse, mse } from '../../src/nn/losses.ts';

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-6);
}

/** Checks the float32 analytic gradient against central differences of the float64 loss. */
function checkGradient(loss: Loss, pred: Float64Array, target: Float64Array, mask?: Float64Array): void {
  const g32 = new Float32Array(pred.length);
  const l32 = loss.compute(
    Float32Array.from(pred),
    Float32Array.from(target),
    g32,
    mask ? Float32Array.from(mask) : undefined,
  );
  const scratch = new Float64Array(pred.length);
  const l64 = loss.compute(pred, target, scratch, mask);
  assert.ok(relErr(l32, l64) < 1e-5, `${loss.name}: float32 loss ${l32} vs float64 ${l64}`);
  const h = 1e-6;
  for (let i = 0; i < pred.length; i++) {
    const orig = pred[i]!;
    pred[i] = orig + h;
    const up = loss.compute(pred, target, scratch, mask);
    pred[i] = orig - h;
    const down = loss.compute(pred, target, scratch, mask);
    pred[i] = orig;
    const numeric = (up - down) / (2 * h);
    if (Math.abs(numeric) < 1e-9) assert.ok(Math.abs(g32[i]!) < 1e-7, `${loss.name}[${i}] should be 0`);
    else assert.ok(relErr(g32[i]!, numeric) < 1e-3, `${loss.name}[${i}]: analytic ${g32[i]} vs numeric ${numeric}`);
  }
}

function random(n: number, rng: Rng, f: () => number = () => rng.normal()): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = f();
  return a;
}

describe('loss gradients vs central finite differences', () => {
  const rng = new Rng(21);
  const n = 24;

  it('mse', () => {
    checkGradient(mse, random(n, rng), random(n, rng));
  });

  it('maskedMse', () => {
    const mask = random(n, rng, () => (rng.next() < 0.6 ? 1 : 0));
    checkGradient(maskedMse, random(n, rng), random(n, rng), mask);
  });

  it('bceWithLogits, with and without a mask', () => {
    const target = random(n, rng, () => (rng.next() < 0.5 ? 1 : 0));
    checkGradient(
      bceWithLogits,
      random(n, rng, () => 3 * rng.normal()),
      target,
    );
    const mask = random(n, rng, () => (rng.next() < 0.6 ? 1 : 0));
    checkGradient(
      bceWithLogits,
      random(n, rng, () => 3 * rng.normal()),
      target,
      mask,
    );
  });

  it('bce on probabilities', () => {
    const target = random(n, rng, () => (rng.next() < 0.5 ? 1 : 0));
    checkGradient(
      bce,
      random(n, rng, () => 0.05 + 0.9 * rng.next()),
      target,
    );
  });
});

describe('loss values', () => {
  it('mse is the mean squared difference', () => {
    const { loss, grad } = lossAndGradient(mse, new Float32Array([1, 2, 3]), new Float32Array([1, 0, 0]));
    assert.ok(Math.abs(loss - 13 / 3) < 1e-6);
    assert.deepEqual(Array.from(grad), [0, (2 * 2) / 3, (2 * 3) / 3].map(Math.fround));
  });

  it('maskedMse ignores unobserved entries: zero gradient there, loss unaffected, mean over observed', () => {
    const mask = new Float32Array([1, 0, 1, 0]);
    const pred = new Float32Array([1, 5, 2, -7]);
    const target = new Float32Array([0, 0, 0, 0]);
    const a = lossAndGradient(maskedMse, pred, target, mask);
    assert.ok(Math.abs(a.loss - (1 + 4) / 2) < 1e-6);
    assert.equal(a.grad[1], 0);
    assert.equal(a.grad[3], 0);
    assert.ok(Math.abs(a.grad[0]! - 1) < 1e-6 && Math.abs(a.grad[2]! - 2) < 1e-6);
    // Changing unobserved predictions or targets changes nothing.
    const b = lossAndGradient(maskedMse, new Float32Array([1, -100, 2, 42]), new Float32Array([0, 9, 0, 9]), mask);
    assert.equal(b.loss, a.loss);
    assert.deepEqual(b.grad, a.grad);
    // Nothing observed: zero loss and gradient.
    const c = lossAndGradient(maskedMse, pred, target, new Float32Array(4));
    assert.equal(c.loss, 0);
    assert.ok(c.grad.every((v) => v === 0));
    assert.throws(() => lossAndGradient(maskedMse, pred, target), TypeError);
  });

  it('bceWithLogits stays finite for extreme logits and matches bce on probabilities', () => {
    const z = new Float32Array([1000, -1000, 0, 2.5]);
    const y = new Float32Array([0, 1, 1, 0]);
    const r = lossAndGradient(bceWithLogits, z, y);
    assert.ok(Number.isFinite(r.loss));
    assert.ok(Math.abs(r.grad[0]! - 0.25) < 1e-7 && Math.abs(r.grad[1]! + 0.25) < 1e-7);
    const zs = new Float64Array([-2, 0.3, 1.7]);
    const ys = new Float64Array([1, 0, 1]);
    const p = zs.map((v) => 1 / (1 + Math.exp(-v)));
    const a = lossAndGradient(bceWithLogits, zs, ys).loss;
    const b = lossAndGradient(bce, p, ys).loss;
    assert.ok(Math.abs(a - b) < 1e-9);
    assert.ok(Number.isFinite(lossAndGradient(bce, new Float32Array([0, 1]), new Float32Array([1, 0])).loss));
  });

  it('rejects mismatched shapes', () => {
    assert.throws(() => lossAndGradient(mse, new Float32Array(3), new Float32Array(4)), RangeError);
  });
});
