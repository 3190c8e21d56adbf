import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  catalogueCoverage,
  intraListDiversity,
  mae,
  meanInterval,
  meanPopularityPercentile,
  novelty,
  popularityPercentiles,
  rankingMetrics,
  rmse,
  tCritical95,
} from '../../src/evaluation/metrics.ts';

const close = (actual: number, expected: number, message: string, eps = 1e-6) =>
  assert.ok(Math.abs(actual - expected) <= eps, `${message}: expected ${expected}, got ${actual}`);

describe('rankingMetrics', () => {
  it('scores a list with two hits out of three relevant', () => {
    // ranked 1 2 3 4 5, relevant {2, 4, 9}, k = 5: hits at ranks 2 and 4.
    const s = rankingMetrics([1, 2, 3, 4, 5], new Set([2, 4, 9]), 5);
    close(s.precision, 2 / 5, 'precision = 2/5');
    close(s.recall, 2 / 3, 'recall = 2/3');
    // DCG = 1/log2(3) + 1/log2(5) = 0.6309298 + 0.4306766 = 1.0616064
    // IDCG = 1/log2(2) + 1/log2(3) + 1/log2(4) = 1 + 0.6309298 + 0.5 = 2.1309298
    close(s.ndcg, 1.0616064 / 2.1309298, 'ndcg = 0.498189');
    close(s.ndcg, 0.498189, 'ndcg numeric', 1e-6);
    // AP = (P@2 + P@4) / min(3, 5) = (1/2 + 2/4) / 3 = 1/3
    close(s.map, 1 / 3, 'map');
    close(s.mrr, 1 / 2, 'mrr = first hit at rank 2');
    assert.equal(s.hitRate, 1);
  });

  it('gives zeros without hits', () => {
    const s = rankingMetrics([1, 2, 3], new Set([7]), 3);
    assert.deepEqual(s, { precision: 0, recall: 0, ndcg: 0, map: 0, mrr: 0, hitRate: 0 });
  });

  it('gives ones when every slot is a hit', () => {
    const s = rankingMetrics([7, 8, 9], new Set([9, 8, 7]), 3);
    for (const [name, value] of Object.entries(s)) close(value, 1, name);
  });

  it('normalises by min(|rel|, k) when fewer items are relevant than k', () => {
    // ranked 1 2 3 4, relevant {3}, k = 4: one hit at rank 3.
    const s = rankingMetrics([1, 2, 3, 4], new Set([3]), 4);
    close(s.precision, 1 / 4, 'precision = 1/4');
    close(s.recall, 1, 'recall = 1/1');
    // DCG = 1/log2(4) = 0.5; IDCG = 1/log2(2) = 1 (only one relevant item)
    close(s.ndcg, 0.5, 'ndcg = 0.5');
    // AP = P@3 / min(1, 4) = 1/3
    close(s.map, 1 / 3, 'map');
    close(s.mrr, 1 / 3, 'mrr');
  });

  it('divides precision by k, not by a shorter list', () => {
    // ranked 5 6, relevant {6, 10}, k = 10: one hit at rank 2.
    const s = rankingMetrics([5, 6], new Set([6, 10]), 10);
    close(s.precision, 1 / 10, 'precision = 1/10');
    close(s.recall, 1 / 2, 'recall = 1/2');
    // DCG = 1/log2(3) = 0.6309298; IDCG = 1 + 1/log2(3) = 1.6309298 (min(2, 10) = 2 ideal slots)
    close(s.ndcg, 0.6309298 / 1.6309298, 'ndcg = 0.386853');
    // AP = P@2 / min(2, 10) = (1/2) / 2 = 1/4
    close(s.map, 1 / 4, 'map');
    close(s.mrr, 1 / 2, 'mrr');
    assert.equal(s.hitRate, 1);
  });

  it('ignores entries beyond k', () => {
    const s = rankingMetrics([1, 2, 3], new Set([3]), 2);
    assert.equal(s.hitRate, 0);
    assert.equal(s.precision, 0);
  });

  it('counts a hit at rank 1 fully', () => {
    // ranked 4 5, relevant {4, 5, 6}, k = 2: DCG = 1 + 1/log2(3) = IDCG (min(3, 2) = 2 slots) → 1
    const s = rankingMetrics([4, 5], new Set([4, 5, 6]), 2);
    close(s.ndcg, 1, 'ndcg');
    close(s.map, 1, 'map = (1/1 + 2/2) / 2');
    close(s.recall, 2 / 3, 'recall');
    close(s.precision, 1, 'precision');
  });

  it('rejects an empty relevant set and a bad k', () => {
    assert.throws(() => rankingMetrics([1], new Set(), 1), RangeError);
    assert.throws(() => rankingMetrics([1], new Set([1]), 0), RangeError);
    assert.throws(() => rankingMetrics([1], new Set([1]), 1.5), RangeError);
  });
});

describe('beyond-accuracy metrics', () => {
  it('catalogue coverage is distinct / catalogue', () => {
    assert.equal(catalogueCoverage(25, 100), 0.25);
    assert.equal(catalogueCoverage(0, 10), 0);
    assert.throws(() => catalogueCoverage(1, 0), RangeError);
    assert.throws(() => catalogueCoverage(11, 10), RangeError);
  });

  it('novelty is the mean self-information', () => {
    const share = new Map([
      [1, 0.5],
      [2, 0.25],
      [3, 0.125],
    ]);
    // −log2(1/2) = 1, −log2(1/4) = 2, −log2(1/8) = 3 → mean 2
    assert.equal(
      novelty([1, 2, 3], (i) => share.get(i)!),
      2,
    );
    // An unseen item with 1/(users + 1), users = 7: −log2(1/8) = 3
    assert.equal(
      novelty([9], () => 1 / 8),
      3,
    );
    assert.equal(
      novelty([], () => 1),
      0,
    );
    assert.throws(() => novelty([1], () => 0), RangeError);
  });

  it('intra-list diversity averages 1 − Jaccard over pairs', () => {
    const masks = new Map([
      [1, 0b011],
      [2, 0b110],
      [3, 0b011],
      [4, 0],
      [5, 0],
      [6, 1 << 31],
    ]);
    const mask = (i: number) => masks.get(i)!;
    // (1,2): |011 & 110| = 1, |011 | 110| = 3 → 1 − 1/3 = 2/3
    // (1,3): identical → 0;  (2,3): 2/3.  Mean over 3 pairs = (4/3) / 3 = 4/9
    close(intraListDiversity([1, 2, 3], mask), 4 / 9, 'three items');
    close(intraListDiversity([1, 2], mask), 2 / 3, 'two items');
    assert.equal(intraListDiversity([4, 5], mask), 0, 'two genre-less items are identical');
    // (1,4): union 2 bits, intersection 0 → 1
    assert.equal(intraListDiversity([1, 4], mask), 1);
    // The 32nd bit counts: {bit 31} vs {bit 0, bit 1} share nothing → 1
    assert.equal(intraListDiversity([6, 1], mask), 1);
    assert.equal(intraListDiversity([1], mask), 0, 'a single item');
    assert.equal(intraListDiversity([], mask), 0, 'an empty list');
  });

  it('popularity percentiles share average ranks among ties', () => {
    // counts 5 1 1 10 → ascending ranks: the two 1s take 0 and 1 (average 0.5), 5 → 2, 10 → 3; n − 1 = 3.
    const p = popularityPercentiles([5, 1, 1, 10]);
    close(p[0]!, (100 * 2) / 3, 'count 5 → 66.67', 1e-4);
    close(p[1]!, (100 * 0.5) / 3, 'count 1 → 16.67', 1e-4);
    close(p[2]!, (100 * 0.5) / 3, 'count 1 → 16.67', 1e-4);
    close(p[3]!, 100, 'count 10 → 100');
    assert.deepEqual(Array.from(popularityPercentiles([3, 3, 3])), [50, 50, 50]);
    assert.deepEqual(Array.from(popularityPercentiles([7])), [50]);
    assert.deepEqual(Array.from(popularityPercentiles([2, 1])), [100, 0]);
    assert.equal(popularityPercentiles([]).length, 0);
  });

  it('mean popularity percentile averages the lookup', () => {
    const p = popularityPercentiles([5, 1, 1, 10]);
    // items 0 and 3: (66.67 + 100) / 2 = 83.33
    close(
      meanPopularityPercentile([0, 3], (i) => p[i]!),
      250 / 3,
      'mean',
      1e-4,
    );
    assert.equal(
      meanPopularityPercentile([], () => 1),
      0,
    );
  });
});

describe('rating error', () => {
  it('rmse and mae', () => {
    // differences −1, 0, −2: squares 1, 0, 4 → rmse = √(5/3) = 1.2909944; |d| 1, 0, 2 → mae = 1
    close(rmse([1, 2, 3], [2, 2, 5]), Math.sqrt(5 / 3), 'rmse');
    close(rmse([1, 2, 3], [2, 2, 5]), 1.2909944, 'rmse numeric');
    assert.equal(mae([1, 2, 3], [2, 2, 5]), 1);
    assert.equal(rmse(new Float32Array([3.5]), new Float32Array([3.5])), 0);
    assert.throws(() => rmse([1], [1, 2]), RangeError);
    assert.throws(() => mae([], []), RangeError);
  });
});

describe('meanInterval', () => {
  it('uses the Student t table', () => {
    assert.equal(tCritical95(1), 12.7062047);
    assert.equal(tCritical95(4), 2.77644511);
    assert.equal(tCritical95(9), 2.26215716);
    assert.equal(tCritical95(30), 2.04227246);
    assert.equal(tCritical95(31), 1.96);
    assert.throws(() => tCritical95(0), RangeError);
  });

  it('computes mean ± t·s/√n', () => {
    // 1..5: mean 3, s² = (4 + 1 + 0 + 1 + 4) / 4 = 2.5, s/√n = √(2.5/5) = 0.7071068, t(4) = 2.7764451
    // half-width = 1.9632432
    const iv = meanInterval([1, 2, 3, 4, 5]);
    assert.equal(iv.n, 5);
    assert.equal(iv.mean, 3);
    close(iv.low, 3 - 1.9632432, 'low');
    close(iv.high, 3 + 1.9632432, 'high');

    // 0, 2: mean 1, s = √2, s/√2 = 1, t(1) = 12.7062047
    const two = meanInterval([0, 2]);
    close(two.low, 1 - 12.7062047, 'low n=2');
    close(two.high, 1 + 12.7062047, 'high n=2');
  });

  it('uses 1.96 beyond 30 degrees of freedom', () => {
    // 40 values alternating 0, 1: mean 0.5, s² = 40 · 0.25 / 39 = 0.2564103, s/√40 = 0.0800641
    // half-width = 1.96 · 0.0800641 = 0.1569256
    const values = Array.from({ length: 40 }, (_, i) => i % 2);
    const iv = meanInterval(values);
    close(iv.mean, 0.5, 'mean');
    close(iv.high - iv.mean, 0.1569256, 'half-width');
  });

  it('collapses for one value and rejects none', () => {
    assert.deepEqual(meanInterval([0.42]), { mean: 0.42, low: 0.42, high: 0.42, n: 1 });
    assert.deepEqual(meanInterval([2, 2, 2]), { mean: 2, low: 2, high: 2, n: 3 });
    assert.throws(() => meanInterval([]), RangeError);
  });
});
