import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { Rng } from '../../src/math/random.ts';

const N = 200_000;

function draws(rng: Rng, n: number, f: (r: Rng) => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = f(rng);
  return out;
}

function moments(xs: Float64Array): { mean: number; variance: number; skew: number; kurtosis: number } {
  let mean = 0;
  for (const x of xs) mean += x;
  mean /= xs.length;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (const x of xs) {
    const d = x - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= xs.length;
  m3 /= xs.length;
  m4 /= xs.length;
  return { mean, variance: m2, skew: m3 / m2 ** 1.5, kurtosis: m4 / (m2 * m2) };
}

describe('Rng', () => {
  it('is deterministic for a seed and differs across seeds and streams', () => {
    const seq = (seed: number, stream?: number) => Array.from(draws(new Rng(seed, stream), 20, (r) => r.nextUint32()));
    assert.deepEqual(seq(42), seq(42));
    assert.deepEqual(seq(42, 3), seq(42, 3));
    assert.notDeepEqual(seq(42), seq(43));
    assert.notDeepEqual(seq(0), seq(1), 'small seeds are mixed');
    assert.notDeepEqual(seq(42), seq(42, 1));
    assert.notDeepEqual(seq(2 ** 40), seq(2 ** 40 + 2 ** 33), 'high bits of large seeds count');
  });

  it('next() is uniform on [0, 1)', () => {
    const xs = draws(new Rng(1), N, (r) => r.next());
    for (const x of xs) assert.ok(x >= 0 && x < 1);
    const { mean, variance } = moments(xs);
    assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1 / 12) < 0.002, `variance ${variance}`);
    // Chi-square over 20 equal bins: 19 degrees of freedom, 99.9th percentile ≈ 43.8.
    const bins = new Float64Array(20);
    for (const x of xs) bins[Math.floor(x * 20)]++;
    const expected = N / 20;
    let chi2 = 0;
    for (const b of bins) chi2 += (b - expected) ** 2 / expected;
    assert.ok(chi2 < 43.8, `chi-square ${chi2}`);
  });

  it('int(n) covers 0..n-1 evenly and rejects bad n', () => {
    const rng = new Rng(7);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) {
      const k = rng.int(7);
      assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
      counts[k]!++;
    }
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `bucket ${c}`);
    assert.equal(rng.int(1), 0);
    assert.throws(() => rng.int(0), RangeError);
    assert.throws(() => rng.int(2.5), RangeError);
    assert.throws(() => new Rng(Number.NaN), RangeError);
  });

  it('normal() has the moments of N(0, 1)', () => {
    const { mean, variance, skew, kurtosis } = moments(draws(new Rng(3), N, (r) => r.normal()));
    assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.02, `variance ${variance}`);
    assert.ok(Math.abs(skew) < 0.03, `skew ${skew}`);
    assert.ok(Math.abs(kurtosis - 3) < 0.08, `kurtosis ${kurtosis}`);
  });

  it('exponential() has mean and variance 1', () => {
    const xs = draws(new Rng(5), N, (r) => r.exponential());
    for (const x of xs) assert.ok(x >= 0 && Number.isFinite(x));
    const { mean, variance } = moments(xs);
    assert.ok(Math.abs(mean - 1) < 0.015, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
  });

  it('shuffle() permutes arrays and typed arrays in place, reproducibly', () => {
    const a = Array.from({ length: 100 }, (_, i) => i);
    const shuffled = new Rng(9).shuffle([...a]);
    assert.notDeepEqual(shuffled, a);
    assert.deepEqual(
      [...shuffled].sort((x, y) => x - y),
      a,
    );
    assert.deepEqual(new Rng(9).shuffle([...a]), shuffled);

    const typed = Int32Array.from(a);
    const same = new Rng(9).shuffle(typed);
    assert.equal(same, typed, 'in place');
    assert.deepEqual(Array.from(typed), shuffled);
    assert.deepEqual(new Rng(1).shuffle([]), []);

    // Every position is equally likely for an element: first element's landing spot over many runs.
    const rng = new Rng(11);
    const landed = new Array<number>(5).fill(0);
    for (let i = 0; i < 50_000; i++) landed[rng.shuffle([0, 1, 2, 3, 4]).indexOf(0)]!++;
    for (const c of landed) assert.ok(Math.abs(c - 10_000) < 500, `position count ${c}`);
  });
});

test('shuffleFirst draws count entries into the front and keeps a permutation, seeded', () => {
  const draw = (seed: number) =>
    new Rng(seed).shuffleFirst(
      Int32Array.from({ length: 50 }, (_, i) => i),
      10,
    );
  const a = draw(3);
  assert.deepEqual(
    Array.from(a).sort((x, y) => x - y),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.deepEqual(draw(3), a);
  assert.notDeepEqual(Array.from(draw(4).subarray(0, 10)), Array.from(a.subarray(0, 10)));
  // Each front place takes a uniformly random remaining entry: over many seeds every id reaches place 0.
  const first = new Set<number>();
  for (let s = 0; s < 2000; s++) first.add(draw(s)[0]!);
  assert.equal(first.size, 50);
});
