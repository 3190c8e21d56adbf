import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/math/random.ts';
import { Dense, Dropout, ReLU, Sigmoid } from '../../src/nn/layers.ts';
import { bceWithLogits, maskedMse, mse } from '../../src/nn/losses.ts';
import { type Dataset, type EpochStats, evaluate, type NetworkSpec, Sequential, train } from '../../src/nn/network.ts';
import { Adam } from '../../src/nn/optim.ts';

/** y = sin(3x) + noise on x ∈ [-1, 1]. */
function wave(rows: number, noise: number, rng: Rng): Dataset {
  const x = new Float32Array(rows);
  const y = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    x[i] = 2 * rng.next() - 1;
    y[i] = Math.sin(3 * x[i]!) + noise * rng.normal();
  }
  return { x, y };
}

function mlp(seed: number, dropout = 0): Sequential {
  const rng = new Rng(seed);
  return new Sequential([
    new Dense(1, 32, 'he', rng),
    new ReLU(),
    ...(dropout > 0 ? [new Dropout(dropout, new Rng(seed, 1))] : []),
    new Dense(32, 32, 'he', rng),
    new ReLU(),
    new Dense(32, 1, 'glorot', rng),
  ]);
}

describe('Sequential and train', () => {
  it('a tiny MLP learns XOR', () => {
    const x = new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]);
    const y = new Float32Array([0, 1, 1, 0]);
    const rng = new Rng(3);
    const net = new Sequential([new Dense(2, 8, 'he', rng), new ReLU(), new Dense(8, 1, 'glorot', rng)]);
    const result = train(
      net,
      { x, y },
      { epochs: 400, batchSize: 4, loss: bceWithLogits, optimizer: new Adam({ lr: 0.05 }), seed: 1 },
    );
    const logits = net.predict(x);
    assert.deepEqual(
      Array.from(logits, (z) => (z > 0 ? 1 : 0)),
      [0, 1, 1, 0],
    );
    assert.ok(result.history.at(-1)!.trainLoss < 0.05, `final loss ${result.history.at(-1)!.trainLoss}`);
  });

  it('early stopping restores the best epoch (validation loss of the returned net = curve minimum)', () => {
    const train_ = wave(24, 0.6, new Rng(10));
    const validation = wave(300, 0, new Rng(11));
    const net = mlp(4);
    const seen: EpochStats[] = [];
    const result = train(net, train_, {
      epochs: 600,
      batchSize: 8,
      loss: mse,
      optimizer: new Adam({ lr: 0.01 }),
      validation,
      patience: 15,
      seed: 2,
      onEpoch: (s) => seen.push(s),
    });
    assert.deepEqual(seen, result.history);
    const curve = result.history.map((h) => h.validationLoss!);
    const min = Math.min(...curve);
    assert.ok(result.stoppedEarly, 'expected to overfit and stop early');
    assert.equal(result.history.length, result.bestEpoch + 15);
    assert.equal(curve[result.bestEpoch - 1], min);
    assert.equal(result.bestValidationLoss, min);
    assert.ok(curve.at(-1)! > min, 'the last epoch is worse than the best, so restoring matters');
    // The curve is measured on the kernel layer's float32 products, evaluate() by Dense's float64 loops.
    const restored = evaluate(net, validation, mse, 1024);
    assert.ok(Math.abs(restored - min) <= 1e-6 * min, `restored ${restored} vs best ${min}`);
  });

  it('masked MSE training ignores unobserved targets', () => {
    // Unobserved targets hold garbage; with their mask at 0 they must not influence training.
    const rng = new Rng(8);
    const rows = 64;
    const x = new Float32Array(rows * 3);
    for (let i = 0; i < x.length; i++) x[i] = rng.normal();
    const y = new Float32Array(rows * 2);
    const mask = new Float32Array(rows * 2);
    for (let r = 0; r < rows; r++) {
      y[r * 2] = x[r * 3]! - x[r * 3 + 1]!;
      mask[r * 2] = 1;
      if (rng.next() < 0.5) {
        y[r * 2 + 1] = x[r * 3 + 2]!;
        mask[r * 2 + 1] = 1;
      }
    }
    const garbage = Float32Array.from(y, (v, i) => (mask[i] ? v : 1e6 * (rng.next() - 0.5)));
    const run = (targets: Float32Array) => {
      const net = new Sequential([new Dense(3, 2, 'glorot', new Rng(1))]);
      const opts = { epochs: 20, batchSize: 16, loss: maskedMse, optimizer: new Adam({ lr: 0.05 }), seed: 3 };
      const result = train(net, { x, y: targets, mask }, opts);
      return { result, prediction: net.predict(x) };
    };
    const clean = run(y);
    const dirty = run(garbage);
    assert.deepEqual(dirty.result.history, clean.result.history);
    assert.deepEqual(dirty.prediction, clean.prediction);
    assert.ok(clean.result.history.at(-1)!.trainLoss < 0.05 * clean.result.history[0]!.trainLoss);
  });

  it('save/load round trip (through JSON) gives identical predictions', () => {
    const data = wave(50, 0.1, new Rng(1));
    const net = mlp(9, 0.2);
    train(net, data, { epochs: 5, batchSize: 10, loss: mse, optimizer: new Adam({ lr: 0.01 }), seed: 1 });
    const saved = net.toArrays();
    const spec = JSON.parse(JSON.stringify(saved.spec)) as NetworkSpec;
    const arrays = saved.arrays.map((a) => new Float32Array(Array.from(a)));
    const loaded = Sequential.fromArrays(spec, arrays);
    const probe = new Float32Array(101).map((_, i) => -1.2 + i * 0.024);
    assert.deepEqual(loaded.predict(probe), net.predict(probe));
    assert.deepEqual(
      loaded.layers.map((l) => l.describe()),
      net.layers.map((l) => l.describe()),
    );
    // Saved arrays are copies: changing them later does not touch either network.
    saved.arrays[0]!.fill(0);
    arrays[0]!.fill(0);
    assert.deepEqual(loaded.predict(probe), net.predict(probe));
    assert.throws(() => Sequential.fromArrays(spec, arrays.slice(1)), RangeError);
  });

  it('is deterministic per seed (including dropout) and differs across seeds', () => {
    const data = wave(40, 0.1, new Rng(2));
    const validation = wave(40, 0, new Rng(3));
    const run = (netSeed: number, shuffleSeed: number) => {
      const net = mlp(netSeed, 0.3);
      const result = train(net, data, {
        epochs: 8,
        batchSize: 7,
        loss: mse,
        optimizer: new Adam({ lr: 0.01 }),
        validation,
        seed: shuffleSeed,
      });
      return { history: result.history, arrays: net.toArrays().arrays };
    };
    const a = run(1, 1);
    const b = run(1, 1);
    assert.deepEqual(a, b);
    assert.notDeepEqual(run(1, 2).history, a.history);
    assert.notDeepEqual(run(2, 1).history, a.history);
  });

  it('predict works batch-wise, leaves training mode off, and checks shapes', () => {
    const rng = new Rng(6);
    const net = new Sequential([
      new Dense(2, 3, 'he', rng),
      new Sigmoid(),
      new Dropout(0.5, rng),
      new Dense(3, 2, 'he', rng),
    ]);
    assert.equal(net.inputSize, 2);
    assert.equal(net.outputSize, 2);
    const x = new Float32Array(2 * 10).map(() => rng.normal());
    const all = net.predict(x);
    assert.deepEqual(net.predict(x, 3), all);
    assert.equal(all.length, 20);
    assert.throws(() => net.predict(new Float32Array(5)), RangeError);
    assert.throws(
      () =>
        train(
          net,
          { x, y: new Float32Array(3) },
          { epochs: 1, batchSize: 2, loss: mse, optimizer: new Adam(), seed: 0 },
        ),
      RangeError,
    );
  });
});
