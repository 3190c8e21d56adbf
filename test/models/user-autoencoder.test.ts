import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/math/random.ts';
import { type RatingRows, UserAutoencoder } from '../../src/models/user-autoencoder.ts';

/**
 * A toy rank-2 rating matrix: r = 3 + 0.8·p_uᵀq_i + noise, 35 % observed. Per user, a fifth of the
 * observed ratings go to a test set; `extra` more users are generated but kept out of the training rows.
 */
function lowRank(users: number, items: number, extra: number, seed: number) {
  const rng = new Rng(seed);
  const k = 2;
  const q = Float64Array.from({ length: items * k }, () => rng.normal());
  const rows: { cols: number[]; ratings: number[]; test: [number, number][] }[] = [];
  for (let u = 0; u < users + extra; u++) {
    const p = [rng.normal(), rng.normal()];
    const row = { cols: [] as number[], ratings: [] as number[], test: [] as [number, number][] };
    for (let i = 0; i < items; i++) {
      if (rng.next() > 0.35) continue;
      const r = 3 + 0.8 * (p[0]! * q[i * k]! + p[1]! * q[i * k + 1]!) + 0.2 * rng.normal();
      if (rng.next() < 0.2) row.test.push([i, r]);
      else {
        row.cols.push(i);
        row.ratings.push(r);
      }
    }
    rows.push(row);
  }
  const train = rows.slice(0, users);
  const indptr = [0];
  for (const r of train) indptr.push(indptr.at(-1)! + r.cols.length);
  const data: RatingRows = {
    rows: users,
    width: items,
    indptr: Int32Array.from(indptr),
    cols: Int32Array.from(train.flatMap((r) => r.cols)),
    ratings: Float32Array.from(train.flatMap((r) => r.ratings)),
  };
  // Item means of the training ratings (the baseline to beat), and μ.
  const sum = new Float64Array(items);
  const cnt = new Float64Array(items);
  for (let t = 0; t < data.cols.length; t++) {
    sum[data.cols[t]!]! += data.ratings[t]!;
    cnt[data.cols[t]!]!++;
  }
  const mu = data.ratings.reduce((a, b) => a + b, 0) / data.ratings.length;
  const itemMean = Float64Array.from(sum, (s, i) => (cnt[i]! > 0 ? s / cnt[i]! : mu));
  return { data, rows, mu, itemMean };
}

const SMALL = { hidden: 32, code: 8, batchSize: 16, lr: 0.003, epochs: 40, patience: 6, seed: 1 };

function rmse(pairs: [number, number][]): number {
  return Math.sqrt(pairs.reduce((s, [a, b]) => s + (a - b) ** 2, 0) / pairs.length);
}

describe('user autoencoder', () => {
  const toy = lowRank(240, 60, 20, 4);
  const ae = new UserAutoencoder(SMALL);
  // Centred on μ only (no column biases), so everything the model adds over μ is learned.
  ae.fit(toy.data, { mu: toy.mu, colBias: new Float64Array(60), rowReg: 5 });

  it('reconstructs held-out ratings of a low-rank matrix better than item means', () => {
    const byAe: [number, number][] = [];
    const byMean: [number, number][] = [];
    for (let u = 0; u < 240; u++) {
      const row = toy.rows[u]!;
      if (row.test.length === 0) continue;
      const pred = ae.predict(
        row.cols,
        row.ratings,
        row.test.map(([i]) => i),
      );
      row.test.forEach(([i, r], t) => {
        byAe.push([pred[t]!, r]);
        byMean.push([toy.itemMean[i]!, r]);
      });
    }
    const a = rmse(byAe);
    const m = rmse(byMean);
    assert.ok(a < 0.8 * m, `autoencoder RMSE ${a.toFixed(3)} vs item means ${m.toFixed(3)}`);
  });

  it('encode() gives a code for a new user at once, and it carries their taste', () => {
    const byAe: [number, number][] = [];
    const byMean: [number, number][] = [];
    for (let u = 240; u < 260; u++) {
      const row = toy.rows[u]!;
      const code = ae.encode(row.cols, row.ratings);
      assert.equal(code.length, 8);
      assert.ok(code.every(Number.isFinite));
      const pred = ae.predict(
        row.cols,
        row.ratings,
        row.test.map(([i]) => i),
      );
      row.test.forEach(([i, r], t) => {
        byAe.push([pred[t]!, r]);
        byMean.push([toy.itemMean[i]!, r]);
      });
    }
    assert.ok(rmse(byAe) < 0.8 * rmse(byMean), `new users: ${rmse(byAe).toFixed(3)} vs ${rmse(byMean).toFixed(3)}`);
    // A training row encodes the same whether one at a time or in bulk (in bulk on the kernel layer's float32
    // sums, one at a time on the layers' float64 ones: equal to float32 rounding).
    const all = ae.encodeRows(toy.data);
    const n = toy.data.indptr[1]!;
    const cols = toy.data.cols.subarray(0, n);
    const ratings = toy.data.ratings.subarray(0, n);
    const first = ae.encode(cols, ratings);
    first.forEach((v, f) => {
      assert.ok(Math.abs(all[f]! - v) <= 1e-5 * (1 + Math.abs(v)), `${all[f]} vs ${v}`);
    });
    // Movies beyond the fitted catalogue (added later) are ignored rather than breaking the encoder.
    assert.deepEqual([...ae.encode([...cols, 999], [...ratings, 5])], [...first]);
  });

  it('early stopping restores the best epoch’s weights', () => {
    // A large, fast-learning model on few users overfits: the validation loss turns up.
    const small = lowRank(60, 60, 0, 8);
    const params = { hidden: 64, code: 16, batchSize: 8, lr: 0.01, epochs: 30, patience: 3, seed: 2 };
    const centring = { mu: small.mu, colBias: new Float64Array(60), rowReg: 5 };
    const stopped = new UserAutoencoder(params);
    const report = stopped.fit(small.data, centring);
    const best = report.bestEpoch;
    assert.ok(best < report.curve.length, `best epoch ${best} of ${report.curve.length}: no overfitting to undo`);
    const bestLoss = Math.min(...report.curve.map((c) => c.validationLoss));
    assert.equal(report.curve[best - 1]!.validationLoss, bestLoss);
    // The same run cut at the best epoch holds exactly the restored weights (training is deterministic).
    const cut = new UserAutoencoder({ ...params, epochs: best, patience: 100 });
    cut.fit(small.data, centring);
    const row = small.rows[0]!;
    assert.deepEqual([...stopped.encode(row.cols, row.ratings)], [...cut.encode(row.cols, row.ratings)]);
  });

  it('names bad parameters', () => {
    assert.throws(() => new UserAutoencoder({ inputDropout: 1 }), /inputDropout must be in \[0, 1\)/);
    assert.throws(() => new UserAutoencoder({ code: 0 }), /code must be a whole number/);
    assert.throws(() => new UserAutoencoder().encode([1], [4]), /fit\(\) before use/);
  });
});
