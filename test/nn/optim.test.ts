import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cholesky, choleskySolve } from '../../src/math/cholesky.ts';
import { Rng } from '../../src/math/random.ts';
import { Dense, type Param } from '../../src/nn/layers.ts';
import { mse } from '../../src/nn/losses.ts';
import { Sequential, train } from '../../src/nn/network.ts';
import { Adam, Sgd } from '../../src/nn/optim.ts';

/** Least-squares problem y ≈ X·w + b with its closed-form solution from the normal equations. */
function leastSquares(rows: number, d: number, seed: number) {
  const rng = new Rng(seed);
  const x = new Float32Array(rows * d);
  const y = new Float32Array(rows);
  const wTrue = Array.from({ length: d }, () => rng.normal());
  for (let r = 0; r < rows; r++) {
    let s = 0.4;
    for (let k = 0; k < d; k++) {
      const v = rng.normal();
      x[r * d + k] = v;
      s += v * wTrue[k]!;
    }
    y[r] = s + 0.1 * rng.normal();
  }
  // Normal equations on [X, 1] in float64, from the float32 data actually used.
  const n = d + 1;
  const a = new Float64Array(n * n);
  const b = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    const row = [...x.subarray(r * d, (r + 1) * d), 1];
    for (let i = 0; i < n; i++) {
      b[i] += row[i]! * y[r]!;
      for (let j = 0; j < n; j++) a[i * n + j] += row[i]! * row[j]!;
    }
  }
  cholesky(a, n);
  choleskySolve(a, n, b);
  return { x, y, solution: b };
}

describe('optimisers', () => {
  it('Adam converges to the closed-form least-squares solution', () => {
    const d = 3;
    const { x, y, solution } = leastSquares(200, d, 4);
    const net = new Sequential([new Dense(d, 1, 'glorot', new Rng(1))]);
    const result = train(
      net,
      { x, y },
      { epochs: 1500, batchSize: 200, loss: mse, optimizer: new Adam({ lr: 0.02 }), seed: 1 },
    );
    const [w, bias] = net.params() as [Param, Param];
    for (let k = 0; k < d; k++)
      assert.ok(Math.abs(w.value[k]! - solution[k]!) < 1e-3, `w[${k}] ${w.value[k]} vs ${solution[k]}`);
    assert.ok(Math.abs(bias.value[0]! - solution[d]!) < 1e-3, `b ${bias.value[0]} vs ${solution[d]}`);
    assert.ok(result.history.at(-1)!.trainLoss < result.history[0]!.trainLoss);
  });

  it('SGD (with momentum) converges on the same problem', () => {
    const d = 3;
    const { x, y, solution } = leastSquares(200, d, 5);
    const net = new Sequential([new Dense(d, 1, 'glorot', new Rng(2))]);
    train(
      net,
      { x, y },
      { epochs: 300, batchSize: 200, loss: mse, optimizer: new Sgd({ lr: 0.1, momentum: 0.5 }), seed: 1 },
    );
    const [w, bias] = net.params() as [Param, Param];
    for (let k = 0; k < d; k++) assert.ok(Math.abs(w.value[k]! - solution[k]!) < 1e-3);
    assert.ok(Math.abs(bias.value[0]! - solution[d]!) < 1e-3);
  });

  it('Adam first step moves each weight by lr against the gradient sign', () => {
    const p: Param = {
      name: 'w',
      value: new Float32Array([1, 1, 1]),
      grad: new Float32Array([0.5, -2, 0]),
      decay: true,
    };
    new Adam({ lr: 0.1 }).step([p]);
    assert.ok(Math.abs(p.value[0]! - 0.9) < 1e-6 && Math.abs(p.value[1]! - 1.1) < 1e-6 && p.value[2] === 1);
  });

  it('weight decay shrinks weights but not biases', () => {
    const w: Param = { name: 'w', value: new Float32Array([2]), grad: new Float32Array([0]), decay: true };
    const b: Param = { name: 'b', value: new Float32Array([2]), grad: new Float32Array([0]), decay: false };
    new Adam({ lr: 0.1, weightDecay: 0.5 }).step([w, b]);
    assert.ok(Math.abs(w.value[0]! - 2 * (1 - 0.05)) < 1e-6);
    assert.equal(b.value[0], 2);
    new Sgd({ lr: 0.1, weightDecay: 0.5 }).step([w, b]);
    assert.ok(Math.abs(w.value[0]! - 1.9 * 0.95) < 1e-6);
    assert.equal(b.value[0], 2);
  });
});
