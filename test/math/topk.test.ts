import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/math/random.ts';
import { topK, topKInto } from '../../src/math/topk.ts';

function bruteForce(scores: Float32Array, k: number, tiers?: Uint8Array): number[] {
  return Array.from(scores.keys())
    .filter((i) => scores[i] !== Number.NEGATIVE_INFINITY)
    .sort((a, b) => (tiers ? tiers[b]! - tiers[a]! : 0) || scores[b]! - scores[a]! || a - b)
    .slice(0, k);
}

test('topK matches a full sort on random scores, with ties and excluded entries', () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 50; trial++) {
    const n = 1 + rng.int(300);
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const r = rng.next();
      scores[i] = r < 0.1 ? Number.NEGATIVE_INFINITY : Math.round(r * 20) / 4; // many ties
    }
    const k = 1 + rng.int(40);
    assert.deepEqual(Array.from(topK(scores, k)), bruteForce(scores, k));
    const tiers = new Uint8Array(n);
    for (let i = 0; i < n; i++) tiers[i] = rng.int(3);
    assert.deepEqual(Array.from(topK(scores, k, tiers)), bruteForce(scores, k, tiers));
  }
});

test('topK returns fewer than k when fewer are eligible, and nothing for k = 0', () => {
  const scores = Float32Array.from([1, Number.NEGATIVE_INFINITY, 3]);
  assert.deepEqual(Array.from(topK(scores, 5)), [2, 0]);
  assert.deepEqual(Array.from(topK(scores, 0)), []);
});

test('topKInto writes topK into a reused buffer and never returns NaN', () => {
  const rng = new Rng(11);
  const out = new Int32Array(50);
  for (let trial = 0; trial < 30; trial++) {
    const n = 1 + rng.int(200);
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const r = rng.next();
      scores[i] = r < 0.05 ? Number.NaN : r < 0.1 ? Number.NEGATIVE_INFINITY : Math.round(r * 12) / 4;
    }
    const k = 1 + rng.int(40);
    out.fill(-7);
    const count = topKInto(scores, k, out);
    const expected = bruteForce(
      scores.map((s) => (Number.isNaN(s) ? Number.NEGATIVE_INFINITY : s)),
      k,
    );
    assert.deepEqual(Array.from(out.subarray(0, count)), expected);
    assert.deepEqual(Array.from(topK(scores, k)), expected);
  }
  assert.throws(() => topKInto(new Float32Array(5), 3, new Int32Array(2)), RangeError);
});
