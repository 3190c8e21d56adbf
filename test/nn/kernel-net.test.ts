/**
 * KernelNetwork (the nn core on the kernel layer) against the layers' own TypeScript passes: the same outputs,
 * gradients and Adam steps up to float32 rounding, weights and optimiser state written back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/math/random.ts';
import { KernelNetwork, kernelTrainable } from '../../src/nn/kernel-net.ts';
import { Dense, Dropout, Linear, ReLU, Sigmoid } from '../../src/nn/layers.ts';
import { mse } from '../../src/nn/losses.ts';
import { Sequential } from '../../src/nn/network.ts';
import { Adam, Sgd } from '../../src/nn/optim.ts';

function net(seed: number): Sequential {
  const rng = new Rng(seed);
  return new Sequential([
    new Dense(13, 21, 'he', rng),
    new ReLU(),
    new Dense(21, 9, 'he', rng),
    new Sigmoid(),
    new Dense(9, 6, 'glorot', rng),
    new Linear(),
    new Dense(6, 2, 'glorot', rng),
  ]);
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const error = Math.abs(got[i]! - want[i]!);
    assert.ok(error <= tolerance * (1 + Math.abs(want[i]!)), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

const inputs = (rows: number, seed: number) => {
  const rng = new Rng(seed);
  return Float32Array.from({ length: rows * 13 }, () => rng.normal());
};

describe('KernelNetwork', () => {
  it('runs every core layer; a custom layer is refused', () => {
    assert.ok(kernelTrainable(net(1)));
    const withDropout = new Sequential([new Dense(2, 2, 'he', new Rng(1)), new Dropout(0.5, new Rng(2))]);
    assert.ok(kernelTrainable(withDropout));
    class Doubling extends Linear {
      override forward(x: Float32Array): Float32Array {
        return x.map((v) => 2 * v);
      }
    }
    class Custom extends Doubling {}
    const custom = new Sequential([new Dense(2, 2, 'he', new Rng(1)), new Custom()]);
    // A subclass of Linear is a Linear to instanceof: only the exact core classes count.
    assert.equal(kernelTrainable(custom), false);
    assert.throws(() => new KernelNetwork(custom, null, { maxBatch: 4 }), /cannot run/);
  });

  it('forward and backward give the layers’ own outputs and gradients (float32 rounding)', () => {
    const a = net(3);
    const rows = 17;
    const x = inputs(rows, 4);
    const kn = new KernelNetwork(a, null, { maxBatch: 32 });
    kn.input(rows).set(x);
    const out = kn.forward(rows, true);
    a.setTraining(true);
    const want = a.forward(x, rows);
    close(out, want, 1e-5, 'output');
    const g = Float32Array.from({ length: rows * 2 }, (_, i) => Math.sin(i));
    kn.outputGrad().set(g);
    kn.backward();
    a.zeroGrad();
    a.forward(x, rows);
    a.backward(g);
    // The kernel's gradients, read through a weight snapshot taken after loading them as values.
    const params = a.params();
    const grads = params.map((p) => new Float32Array(p.grad));
    const kernelGrads = (kn as unknown as { kernelParams: { grad: Float32Array }[] }).kernelParams.map((p) => p.grad);
    grads.forEach((gw, i) => {
      close(kernelGrads[i]!, gw, 1e-4, `gradient of param ${i}`);
    });
  });

  it('Adam steps like the TypeScript Adam, and copyTo hands weights, moments and step count back', () => {
    const a = net(5);
    const b = net(5);
    const optA = new Adam({ lr: 0.01, weightDecay: 0.1 });
    const optB = new Adam({ lr: 0.01, weightDecay: 0.1 });
    const kn = new KernelNetwork(a, optA, { maxBatch: 8 });
    const rows = 8;
    const target = new Float32Array(rows * 2).fill(0.5);
    for (let step = 0; step < 5; step++) {
      const x = inputs(rows, 10 + step);
      kn.input(rows).set(x);
      mse.compute(kn.forward(rows, true), target, kn.outputGrad());
      kn.backward();
      kn.step();
      b.zeroGrad();
      const grad = new Float32Array(rows * 2);
      b.setTraining(true);
      mse.compute(b.forward(x, rows), target, grad);
      b.backward(grad);
      optB.step(b.params());
    }
    kn.copyTo();
    assert.equal(optA.steps, 5);
    a.params().forEach((p, i) => {
      close(p.value, b.params()[i]!.value, 1e-4, `weights of param ${i}`);
      close(optA.momentsOf(p).v, optB.momentsOf(b.params()[i]!).v, 1e-3, `second moment of param ${i}`);
    });
  });

  it('another optimiser steps on views of kernel memory; predict works through large inputs in batches', () => {
    const a = net(7);
    const reference = net(7);
    const kn = new KernelNetwork(a, new Sgd({ lr: 0.1 }), { maxBatch: 4 });
    const x = inputs(4, 8);
    kn.input(4).set(x);
    mse.compute(kn.forward(4, true), new Float32Array(8), kn.outputGrad());
    kn.backward();
    kn.step();
    kn.copyTo();
    const moved = a.params().some((p, i) => p.value.some((v, j) => v !== reference.params()[i]!.value[j]));
    assert.ok(moved, 'SGD changed the weights');
    const many = inputs(11, 9);
    close(kn.predict(many), a.predict(many), 1e-5, 'predict');
  });
});
