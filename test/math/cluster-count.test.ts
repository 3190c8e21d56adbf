import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { calinskiHarabasz, knee, selectK } from '../../src/math/cluster-count.ts';
import { Rng } from '../../src/math/random.ts';

/** Four well-separated 2-D blobs of 30 points each. */
function blobs(): Float32Array {
  const rng = new Rng(5);
  const centres = [
    [0, 0],
    [10, 0],
    [0, 10],
    [10, 10],
  ];
  const out = new Float32Array(120 * 2);
  centres.forEach(([x, y], c) => {
    for (let i = 0; i < 30; i++) {
      out[(c * 30 + i) * 2] = x! + (rng.next() - 0.5);
      out[(c * 30 + i) * 2 + 1] = y! + (rng.next() - 0.5);
    }
  });
  return out;
}

describe('choosing k', () => {
  it('Calinski–Harabasz by hand: points 0, 2 | 10, 12 in one dimension', () => {
    // Centroids 1 and 11, overall mean 6. Between: 2·25 + 2·25 = 100, over k − 1 = 1.
    // Within: 1 + 1 + 1 + 1 = 4, over n − k = 2. CH = 100 / 2 = 50.
    const data = Float32Array.from([0, 2, 10, 12]);
    const ch = calinskiHarabasz(data, 4, 1, Int32Array.from([0, 0, 1, 1]), Float32Array.from([1, 11]), 2);
    assert.ok(Math.abs(ch - 50) < 1e-9, `${ch}`);
  });

  it('the knee of a curve that drops steeply then flattens', () => {
    assert.equal(knee([1, 2, 3, 4, 5, 6], [100, 40, 12, 10, 9, 8]), 3);
  });

  it('every rule finds the true k = 4 on well-separated blobs, and all scores are kept', () => {
    const data = blobs();
    for (const rule of ['silhouette', 'davies-bouldin', 'calinski-harabasz', 'elbow'] as const) {
      const sel = selectK(data, 120, 2, { minK: 2, maxK: 8, rule, seed: 1, restarts: 2, sample: 120 });
      assert.equal(sel.k, 4, rule);
      assert.equal(sel.rule, rule);
      assert.deepEqual(
        sel.scores.map((s) => s.k),
        [2, 3, 4, 5, 6, 7, 8],
      );
      assert.equal(sel.assignment.length, 120);
      for (let c = 0; c < 4; c++) {
        const first = sel.assignment[c * 30]!;
        for (let i = 1; i < 30; i++)
          assert.equal(sel.assignment[c * 30 + i], first, `${rule}: blob ${c} is one segment`);
      }
    }
  });

  it('refuses a range the data cannot support', () => {
    assert.throws(() =>
      selectK(Float32Array.from([0, 1]), 2, 1, { minK: 2, maxK: 5, rule: 'elbow', seed: 1, restarts: 1, sample: 2 }),
    );
  });
});
