import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { daviesBouldin, kmeans, kmeansPlusPlus, nearestCentroid, silhouette } from '../../src/math/kmeans.ts';
import { Rng } from '../../src/math/random.ts';

/** True when a and b put the same points together (equal up to renaming the clusters). */
function samePartition(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  const forward = new Map<number, number>();
  const backward = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if ((forward.get(x) ?? y) !== y || (backward.get(y) ?? x) !== x) return false;
    forward.set(x, y);
    backward.set(y, x);
  }
  return true;
}

/** Gaussian blobs (σ = 1) around the given centres; returns the points and the generating labels. */
function blobs(centres: number[][], perBlob: number, seed: number) {
  const rng = new Rng(seed);
  const d = centres[0]!.length;
  const n = centres.length * perBlob;
  const data = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(centres.length);
    labels[i] = c;
    for (let j = 0; j < d; j++) data[i * d + j] = centres[c]![j]! + rng.normal();
  }
  return { data, labels, n, d };
}

/** Sorted "x,y" strings of the centroid rows, for order-free comparison. */
function rows(centroids: Float32Array, k: number, d: number): string[] {
  return Array.from({ length: k }, (_, c) => Array.from(centroids.subarray(c * d, c * d + d)).join(',')).sort();
}

describe('kmeans', () => {
  it('finds the optimum of a 4×1 rectangle with k = 2 (inertia 1, computed by hand)', () => {
    // Corners (0,0), (0,1), (4,0), (4,1). Splitting left | right gives centroids (0, 0.5) and (4, 0.5),
    // every point 0.5 away: inertia 4 · 0.25 = 1. Splitting bottom | top would cost 4 · 2² = 16.
    const data = Float32Array.of(0, 0, 4, 0, 0, 1, 4, 1);
    const result = kmeans(data, 4, 2, { k: 2 });
    assert.equal(result.inertia, 1);
    assert.deepEqual(rows(result.centroids, 2, 2), ['0,0.5', '4,0.5']);
    assert.ok(samePartition(result.assignment, Int32Array.of(0, 1, 0, 1)));
    assert.deepEqual(Array.from(result.sizes), [2, 2]);
    assert.equal(result.k, 2);
    assert.equal(result.d, 2);
  });

  it('finds a unit square split into two sides: inertia 4 · 0.5² = 1 for either optimum', () => {
    const data = Float32Array.of(0, 0, 1, 0, 0, 1, 1, 1);
    const result = kmeans(data, 4, 2, { k: 2 });
    assert.equal(result.inertia, 1);
    const sides = rows(result.centroids, 2, 2).join(' ');
    assert.ok(sides === '0,0.5 1,0.5' || sides === '0.5,0 0.5,1', sides);
  });

  it('recovers three separated blobs exactly: centres, assignment and inertia', () => {
    // Each blob is its centre ± 1 along each axis (4 points), so its mean is exactly the centre and
    // every point is at distance 1: inertia = 12 · 1² = 12.
    const centres = [
      [0, 0],
      [10, 0],
      [0, 10],
    ];
    const offsets = [
      [1, 0],
      [-1, 0],
      [0, 1],
      [0, -1],
    ];
    const points: number[] = [];
    const truth: number[] = [];
    for (let o = 0; o < 4; o++) {
      for (let c = 0; c < 3; c++) {
        points.push(centres[c]![0]! + offsets[o]![0]!, centres[c]![1]! + offsets[o]![1]!);
        truth.push(c);
      }
    }
    const data = Float32Array.from(points);
    const result = kmeans(data, 12, 2, { k: 3, seed: 7 });
    assert.equal(result.inertia, 12);
    assert.deepEqual(rows(result.centroids, 3, 2), ['0,0', '0,10', '10,0']);
    assert.ok(samePartition(result.assignment, Int32Array.from(truth)));
    for (let i = 0; i < 12; i++) {
      const c = result.assignment[i]!;
      assert.deepEqual(
        Array.from(result.centroids.subarray(c * 2, c * 2 + 2)),
        centres[truth[i]!],
        'each point sits in its own blob',
      );
    }
    assert.deepEqual(Array.from(result.sizes), [4, 4, 4]);
  });

  it('is deterministic per seed, and restarts are never worse than a single run', () => {
    const { data, n, d } = blobs(
      [
        [0, 0, 0],
        [3, 0, 1],
        [0, 3, 2],
        [3, 3, 0],
        [1.5, 1.5, 4],
      ],
      60,
      1,
    );
    const a = kmeans(data, n, d, { k: 5, seed: 3 });
    const b = kmeans(data, n, d, { k: 5, seed: 3 });
    assert.deepEqual(b, a);
    for (let seed = 1; seed <= 8; seed++) {
      const single = kmeans(data, n, d, { k: 8, seed, restarts: 1 });
      const several = kmeans(data, n, d, { k: 8, seed, restarts: 4 });
      assert.ok(several.inertia <= single.inertia, `seed ${seed}: ${several.inertia} > ${single.inertia}`);
      assert.ok(several.restart >= 0 && several.restart < 4);
      assert.equal(single.restart, 0);
    }
  });

  it('reports the inertia of its own assignment and stops at a Lloyd fixed point (tolerance 0)', () => {
    const { data, n, d } = blobs(
      [
        [0, 0],
        [4, 1],
        [1, 5],
      ],
      100,
      2,
    );
    const k = 6;
    const result = kmeans(data, n, d, { k, seed: 5, tolerance: 0, maxIterations: 500 });
    assert.ok(result.iterations < 500);
    const sums = new Float64Array(k * d);
    let inertia = 0;
    for (let i = 0; i < n; i++) {
      const c = result.assignment[i]!;
      let best = Number.POSITIVE_INFINITY;
      for (let o = 0; o < k; o++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (data[i * d + j]! - result.centroids[o * d + j]!) ** 2;
        best = Math.min(best, s);
        if (o === c) inertia += s;
      }
      let own = 0;
      for (let j = 0; j < d; j++) own += (data[i * d + j]! - result.centroids[c * d + j]!) ** 2;
      assert.equal(own, best, `point ${i} is assigned to its nearest centroid`);
      for (let j = 0; j < d; j++) sums[c * d + j]! += data[i * d + j]!;
    }
    assert.ok(Math.abs(inertia - result.inertia) < 1e-9 * inertia);
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < d; j++) {
        const mean = sums[c * d + j]! / result.sizes[c]!;
        assert.ok(Math.abs(result.centroids[c * d + j]! - mean) < 1e-5, 'centroids are the cluster means');
      }
    }
  });

  it('reaches a Lloyd fixed point on 85,000 points and 50 clusters (many GEMM blocks)', () => {
    const centres = Array.from({ length: 50 }, (_, c) => [10 * (c % 10), 10 * Math.floor(c / 10)]);
    const { data, n, d } = blobs(centres, 1700, 3); // n·k = 85000 · 50 > 4194304
    const k = 50;
    const result = kmeans(data, n, d, { k, seed: 1, restarts: 1, tolerance: 0, maxIterations: 300, miniBatch: false });
    assert.ok(result.iterations < 300);
    const sums = new Float64Array(k * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sums[result.assignment[i]! * d + j]! += data[i * d + j]!;
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < d; j++) {
        assert.ok(Math.abs(result.centroids[c * d + j]! - sums[c * d + j]! / result.sizes[c]!) < 1e-4);
      }
    }
  });

  it('mini-batch k-means recovers the same partition of well-separated blobs as Lloyd', () => {
    const { data, labels, n, d } = blobs(
      [
        [0, 0],
        [12, 0],
        [0, 12],
        [12, 12],
      ],
      500,
      4,
    );
    const lloyd = kmeans(data, n, d, { k: 4, miniBatch: false });
    const mini = kmeans(data, n, d, { k: 4, miniBatch: true, batchSize: 128 });
    assert.ok(samePartition(lloyd.assignment, labels));
    assert.ok(samePartition(mini.assignment, labels));
    assert.ok(Math.abs(mini.inertia - lloyd.inertia) < 1e-3 * lloyd.inertia, `${mini.inertia} vs ${lloyd.inertia}`);
  });

  it("'auto' switches to mini-batch above 20000 points", () => {
    const { data, n, d } = blobs(
      [
        [0, 0],
        [20, 0],
        [0, 20],
      ],
      6667,
      5,
    );
    assert.ok(n > 20_000);
    const auto = kmeans(data, n, d, { k: 3, restarts: 1 });
    const mini = kmeans(data, n, d, { k: 3, restarts: 1, miniBatch: true });
    assert.deepEqual(auto, mini);
    const small = kmeans(data.subarray(0, 20_000 * d), 20_000, d, { k: 3, restarts: 1 });
    const full = kmeans(data.subarray(0, 20_000 * d), 20_000, d, { k: 3, restarts: 1, miniBatch: false });
    assert.deepEqual(small, full);
  });

  it('calls onIteration per restart with a non-increasing Lloyd objective', () => {
    const { data, n, d } = blobs(
      [
        [0, 0],
        [3, 3],
      ],
      100,
      6,
    );
    const seen: [number, number, number][] = [];
    kmeans(data, n, d, { k: 4, restarts: 2, onIteration: (r, it, inertia) => seen.push([r, it, inertia]) });
    assert.deepEqual([...new Set(seen.map((s) => s[0]))], [0, 1]);
    for (let t = 0; t < seen.length; t++) {
      const [r, it, inertia] = seen[t]!;
      if (it === 1) continue;
      const [pr, pit, previous] = seen[t - 1]!;
      assert.equal(pr, r);
      assert.equal(pit, it - 1);
      assert.ok(inertia <= previous * (1 + 1e-12), `restart ${r} iteration ${it}: ${inertia} > ${previous}`);
    }
  });

  it('allows k = n (every point its own cluster, even with duplicates) and rejects k > n', () => {
    const distinct = Float32Array.of(0, 0, 1, 0, 5, 5, 2, 7);
    const own = kmeans(distinct, 4, 2, { k: 4 });
    assert.equal(own.inertia, 0);
    assert.deepEqual(Array.from(own.sizes), [1, 1, 1, 1]);
    assert.deepEqual(rows(own.centroids, 4, 2), rows(distinct, 4, 2));
    // Three identical points: k-means++ must reuse a position and Lloyd must re-seed the empty clusters.
    const duplicates = Float32Array.of(3, 3, 3, 1);
    const dup = kmeans(duplicates, 4, 1, { k: 4 });
    assert.equal(dup.inertia, 0);
    assert.deepEqual(Array.from(dup.sizes), [1, 1, 1, 1]);
    assert.throws(() => kmeans(distinct, 4, 2, { k: 5 }), /k = 5 exceeds the number of points n = 4/);
    assert.throws(() => kmeans(distinct, 4, 2, { k: 0 }), /k must be a positive integer/);
    assert.throws(() => kmeans(distinct, 3, 2, { k: 2 }), /does not hold 3×2 values/);
    assert.throws(() => kmeans(Float32Array.of(0, Number.NaN), 2, 1, { k: 1 }), /data\[1\] = NaN is not finite/);
  });
});

describe('kmeansPlusPlus', () => {
  it('picks k distinct data points, deterministically for an Rng seed', () => {
    const { data, n, d } = blobs(
      [
        [0, 0],
        [8, 8],
      ],
      50,
      8,
    );
    const a = kmeansPlusPlus(data, n, d, 6, new Rng(1));
    assert.deepEqual(kmeansPlusPlus(data, n, d, 6, new Rng(1)), a);
    const points = new Set(Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * d, i * d + d)).join(',')));
    const picked = rows(a, 6, d);
    assert.equal(new Set(picked).size, 6);
    for (const p of picked) assert.ok(points.has(p));
    // Two far-apart blobs: the first two centres come from different blobs (d² ≈ 128 vs ≈ 4).
    const blobOf = (c: number) => (a[c * d]! > 4 ? 1 : 0);
    assert.notEqual(blobOf(0), blobOf(1));
  });
});

describe('nearestCentroid', () => {
  it('returns the closest centroid, reads at an offset and breaks ties by the lower index', () => {
    const centroids = Float32Array.of(0, 0, 10, 0, 0, 10);
    assert.equal(nearestCentroid(centroids, 3, 2, Float32Array.of(9, 1)), 1);
    assert.equal(nearestCentroid(centroids, 3, 2, Float32Array.of(9, 9, 1, 8), 2), 2);
    assert.equal(nearestCentroid(centroids, 3, 2, Float32Array.of(5, 0)), 0, 'tie between 0 and 1');
    assert.throws(() => nearestCentroid(centroids, 3, 2, Float32Array.of(1, 2), 1), /outside x/);
  });
});

describe('silhouette and Davies–Bouldin on a hand-worked example', () => {
  // Five points on a line, clusters {0, 2}, {6, 8}, {20}.
  const data = Float32Array.of(0, 0, 2, 0, 6, 0, 8, 0, 20, 0);
  const assignment = Int32Array.of(0, 0, 1, 1, 2);

  it('silhouette = 92/175', () => {
    // s = (b − a) / max(a, b), a = mean distance within the own cluster, b = lowest mean distance to another:
    //   x=0:  a = 2, b = min((6+8)/2, 20) = 7   → 5/7
    //   x=2:  a = 2, b = min((4+6)/2, 18) = 5   → 3/5
    //   x=6:  a = 2, b = min((6+4)/2, 14) = 5   → 3/5
    //   x=8:  a = 2, b = min((8+6)/2, 12) = 7   → 5/7
    //   x=20: alone in its cluster              → 0
    // mean = (5/7 + 3/5 + 3/5 + 5/7 + 0) / 5 = (50/35 + 42/35) / 5 = 92/175 ≈ 0.5257
    assert.ok(Math.abs(silhouette(data, 5, 2, assignment, 3) - 92 / 175) < 1e-15);
    // A sample of 2 averages two of the per-point values; the seed fixes which.
    const values = [5 / 7, 3 / 5, 3 / 5, 5 / 7, 0];
    const pairs = new Set<number>();
    for (let i = 0; i < 5; i++)
      for (let j = i + 1; j < 5; j++) pairs.add(Math.round(((values[i]! + values[j]!) / 2) * 1e9));
    const sampled = silhouette(data, 5, 2, assignment, 3, { sample: 2, seed: 4 });
    assert.ok(pairs.has(Math.round(sampled * 1e9)), `${sampled}`);
    assert.equal(silhouette(data, 5, 2, assignment, 3, { sample: 2, seed: 4 }), sampled);
    assert.throws(() => silhouette(data, 5, 2, new Int32Array(5), 3), /between 2 and n − 1/);
  });

  it('Davies–Bouldin = 29/117', () => {
    // Centroids 1, 7, 20; scatter S = mean distance to the centroid = 1, 1, 0; M = |c_i − c_j|:
    //   R_0 = max((1+1)/6, (1+0)/19) = 1/3
    //   R_1 = max((1+1)/6, (1+0)/13) = 1/3
    //   R_2 = max((0+1)/19, (0+1)/13) = 1/13
    // DB = (1/3 + 1/3 + 1/13) / 3 = (13 + 13 + 3) / 117 = 29/117 ≈ 0.2479
    const centroids = Float32Array.of(1, 0, 7, 0, 20, 0);
    assert.ok(Math.abs(daviesBouldin(data, 5, 2, assignment, centroids, 3) - 29 / 117) < 1e-15);
    assert.throws(() => daviesBouldin(data, 5, 2, assignment, centroids.subarray(0, 4), 3), /centroids/);
  });

  it('matches the k-means result it scores: well-separated blobs score high silhouette and low DB', () => {
    const {
      data: points,
      n,
      d,
    } = blobs(
      [
        [0, 0],
        [15, 0],
        [0, 15],
      ],
      100,
      9,
    );
    const result = kmeans(points, n, d, { k: 3 });
    assert.ok(silhouette(points, n, d, result.assignment, 3) > 0.8);
    assert.ok(daviesBouldin(points, n, d, result.assignment, result.centroids, 3) < 0.3);
  });
});
