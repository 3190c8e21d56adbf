/**
 * k-means clustering on row-major Float32Array data (n points × d dimensions) and two internal
 * validity indices. Everything random is drawn from a caller-seeded Rng, so a seed fixes the result;
 * buffers are allocated once per run and the loops over points allocate nothing.
 *
 * Full-batch k-means is Lloyd's algorithm; large inputs can use mini-batch k-means (Sculley 2010). The seeding
 * (greedy k-means++), every assignment step and the sampled silhouette run on the kernel layer
 * (src/math/kernels, WebAssembly SIMD where available) as float32 GEMMs in the expanded form
 * ‖x‖² + ‖c‖² − 2·x·c, as scikit-learn does; unlike it, an assignment step re-checks every point whose two best
 * centroids are within the form's rounding bound with exact float64 distances, so the assignment is exactly
 * the nearest centroid's (lowest index on ties) and the inertia is summed exactly.
 */

import { assertMayFit } from '../util/fit-guard.ts';
import { GEMM_SCRATCH_BYTES, type KernelArena, kernelArena, transposeCentroids } from './kernels/index.ts';
import { Rng } from './random.ts';

export interface KMeansOptions {
  /** Number of clusters, 1 ≤ k ≤ n. */
  k: number;
  /** Default 1. Restart r draws from `new Rng(seed, r)`, so restart 0 is the same with any `restarts`. */
  seed?: number;
  /** Independent runs from different k-means++ seedings; the lowest final inertia wins. Default 3. */
  restarts?: number;
  /** Lloyd iterations, or mini-batch steps, per restart. Default 100. */
  maxIterations?: number;
  /**
   * Relative inertia change below which a run stops; default 1e-4. Lloyd: |prev − cur| ≤ tolerance·prev
   * between iterations (a run also stops as soon as no point changes cluster). Mini-batch: the smoothed
   * batch inertia must improve on its best by more than this fraction within 10 consecutive steps.
   */
  tolerance?: number;
  /** Mini-batch k-means (Sculley 2010) for large inputs: 'auto' uses it when n > 20000. */
  miniBatch?: boolean | 'auto';
  /** Points per mini-batch step, drawn with replacement; default 1024. */
  batchSize?: number;
  /**
   * Called after every Lloyd iteration or mini-batch step; `iteration` counts from 1, `restart` from 0.
   * Lloyd reports the sum of squared distances of the points to the means of their (new) clusters;
   * mini-batch reports the batch's sum of squared distances to the nearest centre before the step.
   */
  onIteration?: (restart: number, iteration: number, inertia: number) => void;
}

export interface KMeansResult {
  k: number;
  d: number;
  /** k×d, row-major. */
  centroids: Float32Array;
  /**
   * Cluster of each point: its nearest centroid (lowest index on ties), except for a point moved into
   * a cluster that would otherwise be empty (see kmeans), which can only happen in degenerate data.
   */
  assignment: Int32Array;
  /** Points per cluster; never 0 (see kmeans). */
  sizes: Int32Array;
  /** Sum of squared distances of the points to their assigned (returned) centroids. */
  inertia: number;
  /** Lloyd iterations or mini-batch steps run by the winning restart. */
  iterations: number;
  /** Which restart won (0-based). */
  restart: number;
}

/** With miniBatch 'auto', mini-batch k-means is used above this many points. */
const AUTO_MINI_BATCH_ABOVE = 20_000;
/** Mini-batch runs stop after this many steps without improvement of the smoothed batch inertia. */
const MAX_NO_IMPROVEMENT = 10;

function positiveInteger(what: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${what}: ${name} must be a positive integer, got ${value}`);
}

function checkData(what: string, data: Float32Array, n: number, d: number): void {
  positiveInteger(what, 'n', n);
  positiveInteger(what, 'd', d);
  if (data.length !== n * d) throw new Error(`${what}: data of length ${data.length} does not hold ${n}×${d} values`);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) throw new Error(`${what}: data[${i}] = ${data[i]} is not finite`);
  }
}

function checkK(what: string, k: number, n: number): void {
  positiveInteger(what, 'k', k);
  if (k > n) throw new Error(`${what}: k = ${k} exceeds the number of points n = ${n}`);
}

/** Squared distance between point `xo` of x and row `co` of the (Float64) centroids. */
function sqDist(x: Float32Array, xo: number, c: Float64Array, co: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < d; j += 4) {
    const t0 = x[xo + j]! - c[co + j]!;
    const t1 = x[xo + j + 1]! - c[co + j + 1]!;
    const t2 = x[xo + j + 2]! - c[co + j + 2]!;
    const t3 = x[xo + j + 3]! - c[co + j + 3]!;
    s0 += t0 * t0;
    s1 += t1 * t1;
    s2 += t2 * t2;
    s3 += t3 * t3;
  }
  for (; j < d; j++) {
    const t = x[xo + j]! - c[co + j]!;
    s0 += t * t;
  }
  return s0 + s1 + s2 + s3;
}

/** Points per GEMM block of the assignment step. */
const DISTANCE_BLOCK = 1024;

/**
 * The points in kernel memory (float32 rows) with their squared norms: what the GEMM-based distances read.
 * Allocates in the thread's kernel arena: create it inside arena.scope().
 */
class PointSet {
  readonly arena: KernelArena = kernelArena();
  /** n × d float32 rows. */
  readonly x: number;
  /** n float32 squared norms. */
  readonly xn: number;
  private normsView: Float32Array | null = null;

  constructor(
    readonly data: Float32Array,
    readonly n: number,
    readonly d: number,
  ) {
    const mem = this.arena.mem;
    this.x = mem.copyIn(data.subarray(0, n * d));
    this.xn = mem.alloc(4 * n);
    this.arena.fn.sqnorms(this.x, n, d, d, this.xn);
  }

  /** The squared norms (a view of kernel memory; stays valid, the memory is shared). */
  norms(): Float32Array {
    this.normsView ??= this.arena.mem.f32At(this.xn, this.n);
    return this.normsView;
  }
}

/**
 * Nearest centroids on the kernel layer. The bulk of the work is a float32 GEMM (points × centroidsᵀ) turned into
 * squared distances in the expanded form ‖x‖² + ‖c‖² − 2·x·c (argmin2). That form carries rounding error, so a
 * point whose best two distances are within twice a bound on that error is decided again exactly: float64
 * distances summed in order (the `nearest` kernel), lowest index on ties. Every other point's nearest centroid
 * is provably the exact one: the assignment equals a scalar float64 loop's (up to exact ties), at GEMM speed.
 * The bound: each expanded distance is within (d + 8)·2⁻²⁴·(‖x‖ + max‖c‖)² of the exact one (float32 dot
 * products of d terms, float32 norms, the centroids rounded to float32 for the GEMM).
 */
class Assigner {
  private readonly arena: KernelArena;
  private readonly kp: number;
  private readonly kp8: number;
  /** Centroids for the GEMM: d × kp float32 (transposed, zero padding), and their norms (+∞ padding). */
  private readonly ct: number;
  private readonly cn: number;
  /** Centroids for the exact check: d × kp8 float64 (transposed). */
  private readonly ct64: number;
  private readonly dots: number;
  private readonly near: number;
  private readonly best: number;
  private readonly index: number;
  private readonly xs: number;
  private readonly xsn: number;
  private readonly one: number;
  private readonly oneNear: number;
  private readonly oneBest: number;
  private readonly oneRow: number;
  private readonly pack: number;
  private readonly transposed: Float64Array;
  private readonly centroid32: Float32Array;
  private readonly norms32: Float32Array;
  private maxCentroidNorm = 0;
  /** Points decided by the exact check in the last calls (a figure for tests and benchmarks). */
  rechecked = 0;

  constructor(
    private readonly points: PointSet,
    private readonly k: number,
  ) {
    this.arena = points.arena;
    const mem = this.arena.mem;
    const d = points.d;
    this.kp = Math.ceil(k / 4) * 4;
    this.kp8 = Math.ceil(k / 8) * 8;
    this.ct = mem.alloc(4 * d * this.kp);
    this.cn = mem.alloc(4 * this.kp);
    this.ct64 = mem.alloc(8 * d * this.kp8);
    this.dots = mem.alloc(4 * DISTANCE_BLOCK * this.kp);
    // Padding columns of the products stay zero (the GEMM writes k columns), so their distances are +∞.
    mem.f32At(this.dots, DISTANCE_BLOCK * this.kp).fill(0);
    this.near = mem.alloc(4 * DISTANCE_BLOCK);
    this.best = mem.alloc(8 * DISTANCE_BLOCK);
    this.index = mem.alloc(4 * DISTANCE_BLOCK);
    this.xs = mem.alloc(4 * DISTANCE_BLOCK * d);
    this.xsn = mem.alloc(4 * DISTANCE_BLOCK);
    this.one = mem.alloc(4 * d);
    this.oneNear = mem.alloc(16);
    this.oneBest = mem.alloc(16);
    this.oneRow = mem.alloc(8 * this.kp8);
    this.pack = mem.alloc(GEMM_SCRATCH_BYTES);
    this.transposed = new Float64Array(d * this.kp8);
    this.centroid32 = new Float32Array(d * this.kp);
    this.norms32 = new Float32Array(this.kp);
  }

  setCentroids(cent: Float64Array): void {
    const { k, kp } = this;
    const d = this.points.d;
    const mem = this.arena.mem;
    const ct = this.centroid32;
    let maxNorm = 0;
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const v = Math.fround(cent[c * d + j]!);
        ct[j * kp + c] = v;
        s += v * v;
      }
      this.norms32[c] = s;
      if (s > maxNorm) maxNorm = s;
    }
    for (let c = k; c < kp; c++) this.norms32[c] = Number.POSITIVE_INFINITY;
    this.maxCentroidNorm = maxNorm;
    mem.f32At(this.ct, d * kp).set(ct);
    mem.f32At(this.cn, kp).set(this.norms32);
    transposeCentroids(cent, k, d, this.transposed);
    mem.f64At(this.ct64, this.transposed.length).set(this.transposed);
  }

  /**
   * Nearest centroids of `count` ≤ DISTANCE_BLOCK points whose rows are at `rows` (float32, d per row) with
   * norms at `norms`; `ids` (point indices, for the exact check) or null when they are points from..from+count.
   * Writes assignment[t] and, when given, approx[t] = the (approximate, clamped) squared distance.
   */
  private block(
    rows: number,
    norms: Float32Array,
    normsAt: number,
    count: number,
    id: (t: number) => number,
    assignment: Int32Array,
    approx: Float64Array | null,
  ): void {
    const { kp, k } = this;
    const { d, data } = this.points;
    const fn = this.arena.fn;
    const mem = this.arena.mem;
    fn.gemm_strided(count, k, d, rows, 4 * d, 4, this.ct, 4 * kp, 4, this.dots, kp, 0, this.pack);
    fn.argmin2(this.dots, kp, normsAt, this.cn, count, kp, this.near, this.best);
    const near = mem.i32At(this.near, count);
    const best = mem.f32At(this.best, 2 * count);
    const factor = (d + 8) * 2 ** -24;
    const cMax = this.maxCentroidNorm;
    for (let t = 0; t < count; t++) {
      const xn = norms[t]!;
      const bound = factor * (xn + cMax + 2 * Math.sqrt(xn * cMax));
      const b1 = best[2 * t]!;
      if (best[2 * t + 1]! - b1 > 2 * bound) {
        assignment[t] = near[t]!;
        if (approx) approx[t] = Math.max(b1, 0);
        continue;
      }
      // Too close to call in float32: exact float64 distances for this point.
      this.rechecked++;
      const i = id(t);
      mem.f32At(this.one, d).set(data.subarray(i * d, i * d + d));
      fn.nearest(this.one, 1, d, this.ct64, k, this.kp8, this.oneNear, this.oneBest, this.oneRow);
      assignment[t] = mem.i32At(this.oneNear, 1)[0]!;
      if (approx) approx[t] = mem.f64At(this.oneBest, 1)[0]!;
    }
  }

  /** Nearest centroid of every point (exact, lowest index on ties). */
  nearestAll(assignment: Int32Array): void {
    const { n, d, x, xn } = this.points;
    const norms = this.points.norms();
    for (let from = 0; from < n; from += DISTANCE_BLOCK) {
      const count = Math.min(DISTANCE_BLOCK, n - from);
      this.block(
        x + 4 * from * d,
        norms.subarray(from, from + count),
        xn + 4 * from,
        count,
        (t) => from + t,
        assignment.subarray(from, from + count),
        null,
      );
    }
  }

  /**
   * Nearest centroid of the listed points (count ≤ DISTANCE_BLOCK), gathered into one block; approx gets each
   * one's squared distance to it (float32 expanded form, clamped at 0; exact for rechecked points).
   */
  nearestOfList(points: Int32Array, count: number, assignment: Int32Array, approx: Float64Array): void {
    const { d, x } = this.points;
    const all = this.points.norms();
    const mem = this.arena.mem;
    mem.i32At(this.index, count).set(points.subarray(0, count));
    this.arena.fn.gather_rows(x, 4 * d, this.index, count, this.xs, 4 * d, 4 * d);
    const norms = mem.f32At(this.xsn, count);
    for (let t = 0; t < count; t++) norms[t] = all[points[t]!]!;
    this.block(this.xs, norms, this.xsn, count, (t) => points[t]!, assignment, approx);
  }
}

/** Index of the nearest of k centroids (k×d, row-major) to the point x[offset .. offset + d); lowest index on ties. */
export function nearestCentroid(centroids: Float32Array, k: number, d: number, x: Float32Array, offset = 0): number {
  positiveInteger('nearestCentroid', 'k', k);
  positiveInteger('nearestCentroid', 'd', d);
  if (centroids.length < k * d)
    throw new Error(`nearestCentroid: ${centroids.length} values cannot hold ${k}×${d} centroids`);
  if (!Number.isInteger(offset) || offset < 0 || offset + d > x.length) {
    throw new Error(`nearestCentroid: offset ${offset} + d ${d} is outside x (length ${x.length})`);
  }
  let bi = 0;
  let bd = Number.POSITIVE_INFINITY;
  for (let c = 0; c < k; c++) {
    const co = c * d;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = x[offset + j]! - centroids[co + j]!;
      s += t * t;
    }
    if (s < bd) {
      bd = s;
      bi = c;
    }
  }
  return bi;
}

/**
 * k-means++ seeding (Arthur & Vassilvitskii 2007) in its greedy form as in scikit-learn: the first
 * centre is a uniformly drawn point; each further centre is the best of 2 + ⌊ln k⌋ candidates drawn
 * with probability ∝ squared distance to the nearest centre so far, "best" meaning the lowest
 * resulting potential (sum of squared distances), first candidate on ties. If every point already
 * coincides with a centre, candidates are drawn uniformly. Returns k×d centroids (copies of points).
 * The candidates of a step are measured against all points at once on the kernel layer: one float32 GEMM
 * (points × up to 8 candidates) in the expanded form, the potentials summed in float64 (kpp_potentials).
 */
export function kmeansPlusPlus(data: Float32Array, n: number, d: number, k: number, rng: Rng): Float32Array {
  checkData('kmeansPlusPlus', data, n, d);
  checkK('kmeansPlusPlus', k, n);
  return kernelArena().scope(() => plusPlus(new PointSet(data, n, d), k, rng));
}

function plusPlus(points: PointSet, k: number, rng: Rng): Float32Array {
  const { n, d, data, x, xn } = points;
  const { mem, fn } = points.arena;
  const centers = new Float32Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const cand = mem.alloc(4 * 8 * d);
  const candNorms = mem.alloc(4 * 8);
  const dots = mem.alloc(4 * 8 * n);
  const closestAt = mem.alloc(8 * n);
  const sums = mem.alloc(8 * 8);
  const index = mem.alloc(4 * 8);
  const pack = mem.alloc(GEMM_SCRATCH_BYTES);
  const norms = points.norms();
  const closest = mem.f64At(closestAt, n);
  const cumulative = new Float64Array(n);
  const ids = new Int32Array(8);
  /** Products of every point with the (up to 8) candidates ids[0..count), padded with the first. */
  const measure = (count: number) => {
    for (let t = count; t < 8; t++) ids[t] = ids[0]!;
    mem.i32At(index, 8).set(ids);
    fn.gather_rows(x, 4 * d, index, 8, cand, 4 * d, 4 * d);
    const cn = mem.f32At(candNorms, 8);
    for (let t = 0; t < 8; t++) cn[t] = norms[ids[t]!]!;
    fn.gemm_strided(n, 8, d, x, 4 * d, 4, cand, 4, 4 * d, dots, 8, 0, pack);
  };

  const first = rng.int(n);
  centers.set(data.subarray(first * d, first * d + d), 0);
  ids[0] = first;
  measure(1);
  closest.fill(Number.POSITIVE_INFINITY);
  fn.kpp_update(dots, 0, xn, norms[first]!, closestAt, n);

  const chosen = new Int32Array(trials);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      total += closest[i]!;
      cumulative[i] = total;
    }
    for (let t = 0; t < trials; t++) {
      if (total > 0) {
        // First index whose cumulative weight exceeds r: a point with positive weight.
        const r = rng.next() * total;
        let lo = 0;
        let hi = n - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (cumulative[mid]! > r) hi = mid;
          else lo = mid + 1;
        }
        chosen[t] = lo;
      } else {
        chosen[t] = rng.int(n);
      }
    }
    let bestPotential = Number.POSITIVE_INFINITY;
    let bestTrial = 0;
    let measured = -1; // the group whose products `dots` holds
    for (let g = 0; g < trials; g += 8) {
      const count = Math.min(8, trials - g);
      ids.set(chosen.subarray(g, g + count));
      measure(count);
      measured = g;
      fn.kpp_potentials(dots, xn, candNorms, closestAt, n, sums);
      const potential = mem.f64At(sums, 8);
      for (let t = 0; t < count; t++) {
        if (potential[t]! < bestPotential) {
          bestPotential = potential[t]!;
          bestTrial = g + t;
        }
      }
    }
    const bestId = chosen[bestTrial]!;
    if (bestTrial < measured || bestTrial >= measured + 8) {
      ids[0] = bestId;
      measure(1);
      measured = bestTrial;
    }
    centers.set(data.subarray(bestId * d, bestId * d + d), c * d);
    fn.kpp_update(dots, bestTrial - measured, xn, norms[bestId]!, closestAt, n);
  }
  return centers;
}

interface Run {
  centroids: Float32Array;
  assignment: Int32Array;
  sizes: Int32Array;
  inertia: number;
  iterations: number;
}

/**
 * Gives every empty cluster a point: the one farthest from its centroid (squared distances in `far`,
 * lowest index on ties) among clusters that keep at least one point. Returns the moved points' count.
 * Moved points get far = -1 and are reported through `onMove`.
 */
function reseedEmpty(
  assignment: Int32Array,
  counts: Int32Array,
  far: Float64Array,
  n: number,
  k: number,
  onMove: (point: number, cluster: number) => void,
): number {
  let moves = 0;
  for (let c = 0; c < k; c++) {
    if (counts[c] !== 0) continue;
    let pick = -1;
    let pickDist = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      if (far[i]! > pickDist && counts[assignment[i]!]! > 1) {
        pickDist = far[i]!;
        pick = i;
      }
    }
    // k ≤ n guarantees a cluster with two or more points while another is empty.
    counts[assignment[pick]!]!--;
    assignment[pick] = c;
    counts[c] = 1;
    far[pick] = -1;
    onMove(pick, c);
    moves++;
  }
  return moves;
}

/**
 * Final pass shared by both algorithms: rounds the centroids to Float32 (the returned values), assigns
 * every point to its nearest one, fills empty clusters and computes the exact inertia.
 */
function finish(points: PointSet, k: number, cent: Float64Array, iterations: number, assigner: Assigner): Run {
  const { data, n, d } = points;
  const centroids = Float32Array.from(cent);
  cent.set(centroids);
  const assignment = new Int32Array(n);
  const sizes = new Int32Array(k);
  const dist = new Float64Array(n);
  assigner.setCentroids(cent);
  assigner.nearestAll(assignment);
  for (let i = 0; i < n; i++) {
    dist[i] = sqDist(data, i * d, cent, assignment[i]! * d, d);
    sizes[assignment[i]!]!++;
  }
  reseedEmpty(assignment, sizes, dist, n, k, (point, cluster) => {
    centroids.set(data.subarray(point * d, point * d + d), cluster * d);
    dist[point] = 0;
  });
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += dist[i]!;
  return { centroids, assignment, sizes, inertia, iterations };
}

/**
 * Lloyd's algorithm from a k-means++ start. Each assignment step is a full pass on the kernel layer (float32
 * GEMM blocks, with the exact float64 check of points near a tie: see Assigner), which on this layer costs
 * less than maintaining Elkan's or Hamerly's bounds in TypeScript; the result is plain Lloyd's.
 */
function lloyd(
  points: PointSet,
  k: number,
  rng: Rng,
  maxIterations: number,
  tolerance: number,
  restart: number,
  onIteration: KMeansOptions['onIteration'],
): Run {
  const { data, n, d } = points;
  const cent = Float64Array.from(plusPlus(points, k, rng));
  const assigner = new Assigner(points, k);
  const sums = new Float64Array(k * d);
  const counts = new Int32Array(k);
  const assignment = new Int32Array(n);
  const next = new Int32Array(n);
  let far: Float64Array | undefined;

  // Objective from cluster sums: Σ‖x − μ_c‖² = Σ‖x − m‖² − Σ_c ‖S_c − n_c·m‖² / n_c, with m the data
  // mean subtracted so that data far from the origin do not cancel catastrophically.
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = mean[j]! + data[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / n;
  let spread = 0;
  for (let i = 0; i < n; i++) spread += sqDist(data, i * d, mean, 0, d);

  let previousObjective = Number.POSITIVE_INFINITY;
  let iterations = 0;
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    iterations = iteration;
    assigner.setCentroids(cent);
    assigner.nearestAll(next);
    let changed = 0;
    for (let i = 0; i < n; i++) {
      if (iteration === 1 || next[i] !== assignment[i]) changed++;
      assignment[i] = next[i]!;
    }

    counts.fill(0);
    for (let i = 0; i < n; i++) counts[assignment[i]!]!++;
    let empty = false;
    for (let c = 0; c < k; c++) if (counts[c] === 0) empty = true;
    if (empty) {
      far ??= new Float64Array(n);
      for (let i = 0; i < n; i++) far[i] = sqDist(data, i * d, cent, assignment[i]! * d, d);
      changed += reseedEmpty(assignment, counts, far, n, k, () => {});
    }

    sums.fill(0);
    for (let i = 0; i < n; i++) {
      const so = assignment[i]! * d;
      const xo = i * d;
      for (let j = 0; j < d; j++) sums[so + j] = sums[so + j]! + data[xo + j]!;
    }
    let explained = 0;
    for (let c = 0; c < k; c++) {
      const count = counts[c]!;
      const co = c * d;
      let centred = 0;
      for (let j = 0; j < d; j++) {
        const sum = sums[co + j]!;
        cent[co + j] = sum / count;
        const t = sum - count * mean[j]!;
        centred += t * t;
      }
      explained += centred / count;
    }
    const objective = Math.max(0, spread - explained);

    onIteration?.(restart, iteration, objective);
    if (changed === 0) break;
    if (iteration > 1 && Math.abs(previousObjective - objective) <= tolerance * previousObjective) break;
    previousObjective = objective;
  }
  return finish(points, k, cent, iterations, assigner);
}

/** Mini-batch k-means (Sculley 2010) from a k-means++ start on a subsample, then one full assignment pass. */
function miniBatch(
  points: PointSet,
  k: number,
  rng: Rng,
  maxIterations: number,
  tolerance: number,
  batchSize: number,
  restart: number,
  onIteration: KMeansOptions['onIteration'],
): Run {
  const { data, n, d } = points;
  // Seeding on all points would cost O(n·k·d·log k); like scikit-learn, seed on 3·batchSize points.
  const initSize = Math.min(n, Math.max(3 * batchSize, 3 * k));
  let init: Float32Array;
  if (initSize === n) {
    init = plusPlus(points, k, rng);
  } else {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const sample = new Float32Array(initSize * d);
    rng.shuffleFirst(order, initSize);
    for (let t = 0; t < initSize; t++) sample.set(data.subarray(order[t]! * d, order[t]! * d + d), t * d);
    init = plusPlus(new PointSet(sample, initSize, d), k, rng);
  }
  const cent = Float64Array.from(init);
  const seen = new Float64Array(k); // per-centre count v[c]; learning rate 1 / v[c]
  const batch = new Int32Array(batchSize);
  const batchCluster = new Int32Array(batchSize);
  const batchBest = new Float64Array(Math.min(batchSize, DISTANCE_BLOCK));
  const assigner = new Assigner(points, k);
  const alpha = Math.min(1, (2 * batchSize) / (n + 1));
  let smoothed = 0;
  let bestSmoothed = Number.POSITIVE_INFINITY;
  let stale = 0;
  let iterations = 0;
  for (let step = 1; step <= maxIterations; step++) {
    iterations = step;
    let batchInertia = 0;
    for (let b = 0; b < batchSize; b++) batch[b] = rng.int(n);
    assigner.setCentroids(cent);
    for (let from = 0; from < batchSize; from += DISTANCE_BLOCK) {
      const count = Math.min(DISTANCE_BLOCK, batchSize - from);
      assigner.nearestOfList(batch.subarray(from), count, batchCluster.subarray(from), batchBest);
      for (let t = 0; t < count; t++) batchInertia += batchBest[t]!;
    }
    for (let b = 0; b < batchSize; b++) {
      const c = batchCluster[b]!;
      const count = seen[c]! + 1;
      seen[c] = count;
      const eta = 1 / count;
      const co = c * d;
      const xo = batch[b]! * d;
      for (let j = 0; j < d; j++) cent[co + j] = cent[co + j]! + eta * (data[xo + j]! - cent[co + j]!);
    }
    onIteration?.(restart, step, batchInertia);
    const perPoint = batchInertia / batchSize;
    smoothed = step === 1 ? perPoint : smoothed * (1 - alpha) + perPoint * alpha;
    if (smoothed < bestSmoothed * (1 - tolerance)) {
      bestSmoothed = smoothed;
      stale = 0;
    } else if (++stale >= MAX_NO_IMPROVEMENT) {
      break;
    }
  }
  return finish(points, k, cent, iterations, assigner);
}

/**
 * k-means: `restarts` independent runs (k-means++ seeding, then Lloyd or mini-batch), keeping the run
 * with the lowest inertia (the earliest on ties).
 *
 * Lloyd: iterate assignment (accelerated by Elkan's or Hamerly's bounds) and mean update until no point
 * changes cluster, the relative inertia change is ≤ tolerance, or maxIterations. A cluster left empty
 * by the assignment is re-seeded with the point farthest from its centroid (lowest index on ties) taken
 * from a cluster that keeps other points, so the result is deterministic.
 *
 * Mini-batch (Sculley 2010): k-means++ on min(n, max(3·batchSize, 3·k)) points drawn without
 * replacement, then steps of `batchSize` points drawn with replacement, each assigned to its nearest
 * centre, which then moves towards the point with per-centre learning rate 1/count. Stops after
 * maxIterations steps or when an exponentially weighted average of the per-point batch inertia (weight
 * min(1, 2·batchSize/(n+1)), as scikit-learn) has not improved by a relative `tolerance` for 10 steps.
 *
 * Both end with a full pass: centroids are rounded to Float32, every point is assigned to the nearest
 * one, and the inertia is computed exactly for that assignment. Should a cluster still be empty then,
 * it gets the farthest point as above (its centroid becomes that point), so no size is ever 0.
 */
export function kmeans(data: Float32Array, n: number, d: number, options: KMeansOptions): KMeansResult {
  assertMayFit('k-means');
  checkData('kmeans', data, n, d);
  const { k } = options;
  checkK('kmeans', k, n);
  const seed = options.seed ?? 1;
  if (!Number.isFinite(seed)) throw new Error(`kmeans: seed must be a finite number, got ${seed}`);
  const restarts = options.restarts ?? 3;
  positiveInteger('kmeans', 'restarts', restarts);
  const maxIterations = options.maxIterations ?? 100;
  positiveInteger('kmeans', 'maxIterations', maxIterations);
  const tolerance = options.tolerance ?? 1e-4;
  if (!(tolerance >= 0)) throw new Error(`kmeans: tolerance must be ≥ 0, got ${tolerance}`);
  const batchSize = options.batchSize ?? 1024;
  positiveInteger('kmeans', 'batchSize', batchSize);
  const mode = options.miniBatch ?? 'auto';
  if (mode !== 'auto' && typeof mode !== 'boolean') throw new Error(`kmeans: miniBatch must be a boolean or 'auto'`);
  const useMiniBatch = mode === 'auto' ? n > AUTO_MINI_BATCH_ABOVE : mode;

  let best: Run | undefined;
  let bestRestart = 0;
  // The points go into kernel memory once; every run's buffers are freed when the fit ends.
  kernelArena().scope(() => {
    const points = new PointSet(data, n, d);
    for (let r = 0; r < restarts; r++) {
      const rng = new Rng(seed, r);
      const mark = points.arena.mem.used;
      const run = useMiniBatch
        ? miniBatch(points, k, rng, maxIterations, tolerance, batchSize, r, options.onIteration)
        : lloyd(points, k, rng, maxIterations, tolerance, r, options.onIteration);
      points.arena.mem.release(mark);
      if (best === undefined || run.inertia < best.inertia) {
        best = run;
        bestRestart = r;
      }
    }
  });
  const winner = best!;
  return {
    k,
    d,
    centroids: winner.centroids,
    assignment: winner.assignment,
    sizes: winner.sizes,
    inertia: winner.inertia,
    iterations: winner.iterations,
    restart: bestRestart,
  };
}

function checkAssignment(what: string, assignment: Int32Array, n: number, k: number): Int32Array {
  positiveInteger(what, 'k', k);
  if (assignment.length !== n)
    throw new Error(`${what}: assignment has length ${assignment.length}, expected n = ${n}`);
  const sizes = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const c = assignment[i]!;
    if (c < 0 || c >= k) throw new Error(`${what}: assignment[${i}] = ${c} is outside 0..${k - 1}`);
    sizes[c]!++;
  }
  let labels = 0;
  for (let c = 0; c < k; c++) if (sizes[c]! > 0) labels++;
  if (labels < 2 || labels > n - 1) {
    throw new Error(`${what}: needs between 2 and n − 1 = ${n - 1} non-empty clusters, got ${labels}`);
  }
  return sizes;
}

/**
 * Mean silhouette coefficient (Rousseeuw 1987) with Euclidean distances, as scikit-learn's
 * silhouette_score: for a point in cluster A, a = mean distance to the other points of A, b = the lowest
 * mean distance to the points of another (non-empty) cluster, s = (b − a) / max(a, b), and s = 0 for a
 * point alone in its cluster (or when a = b = 0). Averaged over a seeded sample of `sample` distinct
 * points (default 2000; all points, in order, when sample ≥ n), each compared with ALL n points, so the
 * cost is O(sample·n·d). (scikit-learn's sample_size instead restricts the distances to the sample too.)
 * Needs 2 ≤ non-empty clusters ≤ n − 1. Empty cluster ids are ignored.
 */
export function silhouette(
  data: Float32Array,
  n: number,
  d: number,
  assignment: Int32Array,
  k: number,
  options: { sample?: number; seed?: number } = {},
): number {
  checkData('silhouette', data, n, d);
  const sizes = checkAssignment('silhouette', assignment, n, k);
  const sample = options.sample ?? 2000;
  positiveInteger('silhouette', 'sample', sample);
  const seed = options.seed ?? 1;
  if (!Number.isFinite(seed)) throw new Error(`silhouette: seed must be a finite number, got ${seed}`);

  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const m = Math.min(sample, n);
  if (m < n) new Rng(seed).shuffleFirst(order, m);
  // Distances of a block of sampled points to all n points on the kernel layer: one float32 GEMM against the
  // transposed data, then per-cluster sums of the distances (silhouette_sums, float64 sums in point order).
  let total = 0;
  kernelArena().scope(() => {
    const points = new PointSet(data, n, d);
    const { mem, fn } = points.arena;
    const xt = new Float32Array(d * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xt[j * n + i] = data[i * d + j]!;
    const xtAt = mem.copyIn(xt);
    const blockRows = Math.max(8, Math.min(128, Math.floor((1 << 25) / (4 * n))));
    const rowsAt = mem.alloc(4 * blockRows * d);
    const rowNorms = mem.alloc(4 * blockRows);
    const self = mem.alloc(4 * blockRows);
    const dots = mem.alloc(4 * blockRows * n);
    const sums = mem.alloc(8 * blockRows * k);
    const assign = mem.copyIn(assignment);
    const pack = mem.alloc(GEMM_SCRATCH_BYTES);
    const norms = points.norms();
    for (let from = 0; from < m; from += blockRows) {
      const count = Math.min(blockRows, m - from);
      const ids = mem.i32At(self, count);
      ids.set(order.subarray(from, from + count));
      fn.gather_rows(points.x, 4 * d, self, count, rowsAt, 4 * d, 4 * d);
      const rn = mem.f32At(rowNorms, count);
      for (let t = 0; t < count; t++) rn[t] = norms[ids[t]!]!;
      fn.gemm_strided(count, n, d, rowsAt, 4 * d, 4, xtAt, 4 * n, 4, dots, n, 0, pack);
      fn.silhouette_sums(dots, n, count, rowNorms, points.xn, assign, n, self, k, sums);
      const sv = mem.f64At(sums, count * k);
      for (let t = 0; t < count; t++) {
        const own = assignment[order[from + t]!]!;
        if (sizes[own] === 1) continue; // s = 0
        const o = t * k;
        const a = sv[o + own]! / (sizes[own]! - 1);
        let b = Number.POSITIVE_INFINITY;
        for (let c = 0; c < k; c++) {
          if (c === own || sizes[c] === 0) continue;
          const mean = sv[o + c]! / sizes[c]!;
          if (mean < b) b = mean;
        }
        const denominator = Math.max(a, b);
        if (denominator > 0) total += (b - a) / denominator;
      }
    }
  });
  return total / m;
}

/**
 * Davies–Bouldin index (Davies & Bouldin 1979), as scikit-learn's davies_bouldin_score: with S_c the
 * mean Euclidean distance of cluster c's points to its centroid and M_ij the distance between
 * centroids, the mean over clusters i of max_{j≠i} (S_i + S_j) / M_ij; a pair of coincident centroids
 * contributes 0, and the index is 0 when all S are ≈ 0 or all centroids coincide (|·| ≤ 1e-8).
 * Lower is better. The given centroids are used as they are; scikit-learn recomputes them as the
 * cluster means, so pass the means (kmeans' centroids after convergence) to reproduce its values.
 * Empty cluster ids are ignored; needs 2 ≤ non-empty clusters ≤ n − 1.
 */
export function daviesBouldin(
  data: Float32Array,
  n: number,
  d: number,
  assignment: Int32Array,
  centroids: Float32Array,
  k: number,
): number {
  checkData('daviesBouldin', data, n, d);
  const sizes = checkAssignment('daviesBouldin', assignment, n, k);
  if (centroids.length !== k * d) {
    throw new Error(`daviesBouldin: centroids of length ${centroids.length} do not hold ${k}×${d} values`);
  }
  const cent = Float64Array.from(centroids);
  const scatter = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const c = assignment[i]!;
    scatter[c] = scatter[c]! + Math.sqrt(sqDist(data, i * d, cent, c * d, d));
  }
  let allTight = true;
  for (let c = 0; c < k; c++) {
    if (sizes[c] === 0) continue;
    scatter[c] = scatter[c]! / sizes[c]!;
    if (scatter[c]! > 1e-8) allTight = false;
  }
  const separation = new Float64Array(k * k);
  let allCoincide = true;
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      if (sizes[a] === 0 || sizes[b] === 0) continue;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const t = cent[a * d + j]! - cent[b * d + j]!;
        s += t * t;
      }
      const m = Math.sqrt(s);
      separation[a * k + b] = m;
      separation[b * k + a] = m;
      if (m > 1e-8) allCoincide = false;
    }
  }
  if (allTight || allCoincide) return 0;
  let total = 0;
  let labels = 0;
  for (let a = 0; a < k; a++) {
    if (sizes[a] === 0) continue;
    labels++;
    let worst = 0;
    for (let b = 0; b < k; b++) {
      if (b === a || sizes[b] === 0) continue;
      const m = separation[a * k + b]!;
      if (m === 0) continue;
      const r = (scatter[a]! + scatter[b]!) / m;
      if (r > worst) worst = r;
    }
    total += worst;
  }
  return total / labels;
}
