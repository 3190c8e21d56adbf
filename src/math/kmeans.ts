/**
 * k-means clustering on row-major Float32Array data (n points × d dimensions) and two internal
 * validity indices. Everything random is drawn from a caller-seeded Rng, so a seed fixes the result;
 * buffers are allocated once per run and the loops over points allocate nothing.
 *
 * Full-batch k-means is Lloyd's algorithm with its assignment step accelerated by triangle-inequality
 * bounds (Elkan 2003, "Using the triangle inequality to accelerate k-means"; Hamerly 2010, "Making
 * k-means even faster" when Elkan's n·k bounds would not fit in 32 MiB): points whose bounds prove their
 * centroid unchanged skip the distance computations, with the same result as plain Lloyd (up to ties
 * between equidistant centroids). Large inputs can use mini-batch k-means (Sculley 2010).
 *
 * The assignment step's distances to all centroids run on the kernel layer (src/math/kernels: `sqdist` and
 * `nearest`, WebAssembly SIMD where available): float64 sums in the same order as a scalar loop, so the
 * assignment and inertia do not depend on the backend.
 */

import { assertMayFit } from '../util/fit-guard.ts';
import { type KernelArena, kernelArena, transposeCentroids } from './kernels/index.ts';
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
/** Lloyd keeps Elkan's k lower bounds per point (8 bytes each, 32 MiB here) up to this many, else Hamerly's one. */
const ELKAN_MAX_BOUNDS = 1 << 22;
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

/** Squared distance between two points of the data. */
function sqDistPoints(x: Float32Array, a: number, b: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let j = 0;
  for (; j + 1 < d; j += 2) {
    const t0 = x[a + j]! - x[b + j]!;
    const t1 = x[a + j + 1]! - x[b + j + 1]!;
    s0 += t0 * t0;
    s1 += t1 * t1;
  }
  if (j < d) {
    const t = x[a + j]! - x[b + j]!;
    s0 += t * t;
  }
  return s0 + s1;
}

/** Squared distance between rows a and b (offsets) of the same Float64 matrix. */
function sqDist64(c: Float64Array, a: number, b: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const t = c[a + j]! - c[b + j]!;
    s += t * t;
  }
  return s;
}

/** Squared distance between the rows at offset o of two Float64 matrices. */
function sqDist64Pair(x: Float64Array, y: Float64Array, o: number, d: number): number {
  let s = 0;
  for (let j = o; j < o + d; j++) {
    const t = x[j]! - y[j]!;
    s += t * t;
  }
  return s;
}

/** Points copied into kernel memory per kernel call (the data itself stays where it is). */
const DISTANCE_BLOCK = 1024;

/**
 * Distances from points to the current centroids on the kernel layer. The centroids are transposed into
 * kernel memory once per change (setCentroids); points go in blocks of DISTANCE_BLOCK (or one at a time),
 * so the data is never copied whole. Allocates in the thread's kernel arena: create it inside arena.scope().
 */
class Distances {
  private readonly arena: KernelArena = kernelArena();
  private readonly kp: number;
  private readonly xs: number;
  private readonly ct: number;
  private readonly out: number;
  private readonly near: number;
  private readonly best: number;
  private readonly row: number;
  private readonly transposed: Float64Array;

  constructor(
    private readonly data: Float32Array,
    private readonly d: number,
    private readonly k: number,
  ) {
    const mem = this.arena.mem;
    this.kp = Math.ceil(k / 8) * 8;
    this.transposed = new Float64Array(d * this.kp);
    this.xs = mem.alloc(4 * DISTANCE_BLOCK * d);
    this.ct = mem.alloc(8 * d * this.kp);
    this.out = mem.alloc(8 * DISTANCE_BLOCK * k);
    this.near = mem.alloc(4 * DISTANCE_BLOCK);
    this.best = mem.alloc(16 * DISTANCE_BLOCK);
    this.row = mem.alloc(8 * this.kp);
  }

  setCentroids(cent: Float64Array): void {
    transposeCentroids(cent, this.k, this.d, this.transposed);
    this.arena.mem.f64At(this.ct, this.transposed.length).set(this.transposed);
  }

  /** Copies points [from, from + count) into kernel memory. */
  private load(from: number, count: number): void {
    const d = this.d;
    this.arena.mem.f32At(this.xs, count * d).set(this.data.subarray(from * d, (from + count) * d));
  }

  /** out[i·k + c] = squared distance from point i to centroid c, for all n points (n×k). */
  all(n: number, out: Float64Array): void {
    const { d, k, kp } = this;
    for (let from = 0; from < n; from += DISTANCE_BLOCK) {
      const count = Math.min(DISTANCE_BLOCK, n - from);
      this.load(from, count);
      this.arena.fn.sqdist(this.xs, count, d, this.ct, k, kp, this.out, k);
      out.set(this.arena.mem.f64At(this.out, count * k), from * k);
    }
  }

  /** Nearest centroid of every point (lowest index on ties); best[2i] its squared distance, best[2i + 1] the runner-up's. */
  nearestAll(n: number, assignment: Int32Array, best: Float64Array): void {
    const { d, k, kp } = this;
    for (let from = 0; from < n; from += DISTANCE_BLOCK) {
      const count = Math.min(DISTANCE_BLOCK, n - from);
      this.load(from, count);
      this.arena.fn.nearest(this.xs, count, d, this.ct, k, kp, this.near, this.best, this.row);
      assignment.set(this.arena.mem.i32At(this.near, count), from);
      best.set(this.arena.mem.f64At(this.best, 2 * count), 2 * from);
    }
  }

  /** nearestAll for the listed points (count ≤ DISTANCE_BLOCK), gathered into one kernel call. */
  nearestOfList(points: Int32Array, count: number, assignment: Int32Array, best: Float64Array): void {
    const { d, k, kp } = this;
    const xs = this.arena.mem.f32At(this.xs, count * d);
    for (let t = 0; t < count; t++) xs.set(this.data.subarray(points[t]! * d, points[t]! * d + d), t * d);
    this.arena.fn.nearest(this.xs, count, d, this.ct, k, kp, this.near, this.best, this.row);
    assignment.set(this.arena.mem.i32At(this.near, count));
    best.set(this.arena.mem.f64At(this.best, 2 * count));
  }

  /** Nearest centroid of point i; best[0] = its squared distance, best[1] = the runner-up's. */
  nearestOf(i: number, best: Float64Array): number {
    const { d, k, kp } = this;
    this.load(i, 1);
    this.arena.fn.nearest(this.xs, 1, d, this.ct, k, kp, this.near, this.best, this.row);
    const b = this.arena.mem.f64At(this.best, 2);
    best[0] = b[0]!;
    best[1] = b[1]!;
    return this.arena.mem.i32At(this.near, 1)[0]!;
  }
}

/** Index of the smallest of dist[o .. o + k) (lowest index on ties); best[0] = that value, best[1] = the runner-up. */
function smallestTwo(dist: Float64Array, o: number, k: number, best: Float64Array): number {
  let b1 = Number.POSITIVE_INFINITY;
  let b2 = Number.POSITIVE_INFINITY;
  let bi = 0;
  for (let c = 0; c < k; c++) {
    const v = dist[o + c]!;
    if (v < b1) {
      b2 = b1;
      b1 = v;
      bi = c;
    } else if (v < b2) {
      b2 = v;
    }
  }
  best[0] = b1;
  best[1] = b2;
  return bi;
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
 * For the listed points i: out[i] = min(closest[i], squared distance to `point`); returns the sum of
 * those values. Four points are compared per pass over `point` (independent sums in flight).
 */
function distancesToPoint(
  x: Float32Array,
  d: number,
  point: Float64Array,
  list: Int32Array,
  count: number,
  closest: Float64Array,
  out: Float64Array,
): number {
  let total = 0;
  let t = 0;
  for (; t + 3 < count; t += 4) {
    const i0 = list[t]!;
    const i1 = list[t + 1]!;
    const i2 = list[t + 2]!;
    const i3 = list[t + 3]!;
    const o0 = i0 * d;
    const o1 = i1 * d;
    const o2 = i2 * d;
    const o3 = i3 * d;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let j = 0; j < d; j++) {
      const v = point[j]!;
      const t0 = x[o0 + j]! - v;
      const t1 = x[o1 + j]! - v;
      const t2 = x[o2 + j]! - v;
      const t3 = x[o3 + j]! - v;
      s0 += t0 * t0;
      s1 += t1 * t1;
      s2 += t2 * t2;
      s3 += t3 * t3;
    }
    s0 = Math.min(s0, closest[i0]!);
    s1 = Math.min(s1, closest[i1]!);
    s2 = Math.min(s2, closest[i2]!);
    s3 = Math.min(s3, closest[i3]!);
    out[i0] = s0;
    out[i1] = s1;
    out[i2] = s2;
    out[i3] = s3;
    total += s0 + s1 + s2 + s3;
  }
  for (; t < count; t++) {
    const i = list[t]!;
    const v = Math.min(sqDist(x, i * d, point, 0, d), closest[i]!);
    out[i] = v;
    total += v;
  }
  return total;
}

/**
 * k-means++ seeding (Arthur & Vassilvitskii 2007) in its greedy form as in scikit-learn: the first
 * centre is a uniformly drawn point; each further centre is the best of 2 + ⌊ln k⌋ candidates drawn
 * with probability ∝ squared distance to the nearest centre so far, "best" meaning the lowest
 * resulting potential (sum of squared distances), first candidate on ties. If every point already
 * coincides with a centre, candidates are drawn uniformly. Returns k×d centroids (copies of points).
 * Exact, but points that the triangle inequality shows a candidate cannot bring closer (distance from
 * their nearest centre to the candidate ≥ twice their own) are not measured against it.
 */
export function kmeansPlusPlus(data: Float32Array, n: number, d: number, k: number, rng: Rng): Float32Array {
  checkData('kmeansPlusPlus', data, n, d);
  checkK('kmeansPlusPlus', k, n);
  const centers = new Float64Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const point = new Float64Array(d);
  let closest = new Float64Array(n); // squared distance to the nearest centre so far
  let candidate = new Float64Array(n);
  let best = new Float64Array(n);
  const owner = new Int32Array(n); // which centre that is
  const cumulative = new Float64Array(n);
  const toCandidate = new Float64Array(k); // squared distances from the centres to the candidate
  const pending = new Int32Array(n); // points the candidate may be closer to

  const first = rng.int(n);
  for (let j = 0; j < d; j++) centers[j] = data[first * d + j]!;
  for (let i = 0; i < n; i++) closest[i] = sqDist(data, i * d, centers, 0, d);

  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      total += closest[i]!;
      cumulative[i] = total;
    }
    let bestPotential = Number.POSITIVE_INFINITY;
    let bestId = 0;
    for (let t = 0; t < trials; t++) {
      let id: number;
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
        id = lo;
      } else {
        id = rng.int(n);
      }
      for (let j = 0; j < d; j++) point[j] = data[id * d + j]!;
      for (let o = 0; o < c; o++) toCandidate[o] = sqDist(data, id * d, centers, o * d, d);
      let potential = 0;
      let open = 0;
      for (let i = 0; i < n; i++) {
        const current = closest[i]!;
        // Triangle inequality: ‖centre − candidate‖ ≥ 2‖x − centre‖ means the candidate is no closer.
        if (toCandidate[owner[i]!]! >= 4 * current) {
          candidate[i] = current;
          potential += current;
        } else {
          pending[open++] = i;
        }
      }
      potential += distancesToPoint(data, d, point, pending, open, closest, candidate);
      if (potential < bestPotential) {
        bestPotential = potential;
        bestId = id;
        const swap = best;
        best = candidate;
        candidate = swap;
      }
    }
    for (let j = 0; j < d; j++) centers[c * d + j] = data[bestId * d + j]!;
    for (let i = 0; i < n; i++) if (best[i]! < closest[i]!) owner[i] = c;
    const swap = closest;
    closest = best;
    best = swap;
  }
  return Float32Array.from(centers);
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
function finish(
  data: Float32Array,
  n: number,
  d: number,
  k: number,
  cent: Float64Array,
  iterations: number,
  distances: Distances,
): Run {
  const centroids = Float32Array.from(cent);
  cent.set(centroids);
  const assignment = new Int32Array(n);
  const sizes = new Int32Array(k);
  const dist = new Float64Array(n);
  const best = new Float64Array(2 * n);
  distances.setCentroids(cent);
  distances.nearestAll(n, assignment, best);
  for (let i = 0; i < n; i++) {
    dist[i] = best[2 * i]!;
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
 * Lloyd's algorithm from a k-means++ start, with the assignment step accelerated by triangle-inequality
 * bounds that give the same assignment as a full scan (up to ties between equidistant centroids):
 * Elkan's (2003) k lower bounds per point while n·k ≤ ELKAN_MAX_BOUNDS, which prune well even in
 * high dimension, otherwise Hamerly's (2010) single lower bound, which needs O(n) memory.
 */
function lloyd(
  data: Float32Array,
  n: number,
  d: number,
  k: number,
  rng: Rng,
  maxIterations: number,
  tolerance: number,
  restart: number,
  onIteration: KMeansOptions['onIteration'],
): Run {
  const cent = Float64Array.from(kmeansPlusPlus(data, n, d, k, rng));
  const distances = new Distances(data, d, k);
  const previous = new Float64Array(k * d);
  const sums = new Float64Array(k * d);
  const counts = new Int32Array(k);
  const assignment = new Int32Array(n);
  const upper = new Float64Array(n); // ≥ distance to the assigned centroid
  const elkan = n * k <= ELKAN_MAX_BOUNDS;
  // Elkan: lower[i·k + c] ≤ distance to centroid c. Hamerly: lower[i] ≤ distance to every other centroid.
  const lower = new Float64Array(elkan ? n * k : n);
  const between = new Float64Array(elkan ? k * k : 0); // half the distances between centroids (Elkan)
  const half = new Float64Array(k); // half the distance to the nearest other centroid
  const moved = new Float64Array(k);
  const best = new Float64Array(2);
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
    let changed = 0;
    distances.setCentroids(cent);
    if (iteration === 1) {
      // Exact distances to every centroid seed the bounds.
      if (elkan) {
        distances.all(n, lower);
        for (let i = 0; i < n; i++) {
          const o = i * k;
          for (let c = 0; c < k; c++) lower[o + c] = Math.sqrt(lower[o + c]!);
          assignment[i] = smallestTwo(lower, o, k, best);
          upper[i] = best[0]!;
        }
      } else {
        const pairs = new Float64Array(2 * n);
        distances.nearestAll(n, assignment, pairs);
        for (let i = 0; i < n; i++) {
          upper[i] = Math.sqrt(pairs[2 * i]!);
          lower[i] = Math.sqrt(pairs[2 * i + 1]!);
        }
      }
      changed = n;
    } else {
      half.fill(Number.POSITIVE_INFINITY);
      for (let a = 0; a < k; a++) {
        for (let b = a + 1; b < k; b++) {
          const h = 0.5 * Math.sqrt(sqDist64(cent, a * d, b * d, d));
          if (elkan) {
            between[a * k + b] = h;
            between[b * k + a] = h;
          }
          if (h < half[a]!) half[a] = h;
          if (h < half[b]!) half[b] = h;
        }
      }
      for (let i = 0; i < n; i++) {
        const xo = i * d;
        const original = assignment[i]!;
        let u = upper[i]!;
        if (u <= half[original]!) continue;
        if (elkan) {
          const o = i * k;
          let a = original;
          let exact = false;
          for (let c = 0; c < k; c++) {
            if (c === a || u <= lower[o + c]! || u <= between[a * k + c]!) continue;
            if (!exact) {
              u = Math.sqrt(sqDist(data, xo, cent, a * d, d));
              lower[o + a] = u;
              exact = true;
              if (u <= lower[o + c]! || u <= between[a * k + c]!) continue;
            }
            const dc = Math.sqrt(sqDist(data, xo, cent, c * d, d));
            lower[o + c] = dc;
            if (dc < u) {
              a = c;
              u = dc;
            }
          }
          upper[i] = u;
          if (a !== original) {
            assignment[i] = a;
            changed++;
          }
        } else {
          const bound = Math.max(half[original]!, lower[i]!);
          if (u <= bound) continue;
          u = Math.sqrt(sqDist(data, xo, cent, original * d, d));
          upper[i] = u;
          if (u <= bound) continue;
          const a = distances.nearestOf(i, best);
          upper[i] = Math.sqrt(best[0]!);
          lower[i] = Math.sqrt(best[1]!);
          if (a !== original) {
            assignment[i] = a;
            changed++;
          }
        }
      }
    }

    counts.fill(0);
    for (let i = 0; i < n; i++) counts[assignment[i]!]!++;
    let empty = false;
    for (let c = 0; c < k; c++) if (counts[c] === 0) empty = true;
    if (empty) {
      far ??= new Float64Array(n);
      for (let i = 0; i < n; i++) far[i] = sqDist(data, i * d, cent, assignment[i]! * d, d);
      changed += reseedEmpty(assignment, counts, far, n, k, (moved) => {
        // An unknown upper bound forces an exact check of this point next iteration.
        upper[moved] = Number.POSITIVE_INFINITY;
        if (!elkan) lower[moved] = 0;
      });
    }

    sums.fill(0);
    for (let i = 0; i < n; i++) {
      const so = assignment[i]! * d;
      const xo = i * d;
      for (let j = 0; j < d; j++) sums[so + j] = sums[so + j]! + data[xo + j]!;
    }
    previous.set(cent);
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

    let max1 = 0;
    let max2 = 0;
    let argMax = -1;
    for (let c = 0; c < k; c++) {
      const m = Math.sqrt(sqDist64Pair(cent, previous, c * d, d));
      moved[c] = m;
      if (m > max1) {
        max2 = max1;
        max1 = m;
        argMax = c;
      } else if (m > max2) {
        max2 = m;
      }
    }
    for (let i = 0; i < n; i++) {
      const a = assignment[i]!;
      upper[i] = upper[i]! + moved[a]!;
      if (elkan) {
        const o = i * k;
        for (let c = 0; c < k; c++) lower[o + c] = lower[o + c]! - moved[c]!;
      } else {
        lower[i] = lower[i]! - (a === argMax ? max2 : max1);
      }
    }

    onIteration?.(restart, iteration, objective);
    if (changed === 0) break;
    if (iteration > 1 && Math.abs(previousObjective - objective) <= tolerance * previousObjective) break;
    previousObjective = objective;
  }
  return finish(data, n, d, k, cent, iterations, distances);
}

/** Mini-batch k-means (Sculley 2010) from a k-means++ start on a subsample, then one full assignment pass. */
function miniBatch(
  data: Float32Array,
  n: number,
  d: number,
  k: number,
  rng: Rng,
  maxIterations: number,
  tolerance: number,
  batchSize: number,
  restart: number,
  onIteration: KMeansOptions['onIteration'],
): Run {
  // Seeding on all points would cost O(n·k·d·log k); like scikit-learn, seed on 3·batchSize points.
  const initSize = Math.min(n, Math.max(3 * batchSize, 3 * k));
  let init: Float32Array;
  if (initSize === n) {
    init = kmeansPlusPlus(data, n, d, k, rng);
  } else {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const sample = new Float32Array(initSize * d);
    for (let t = 0; t < initSize; t++) {
      const j = t + rng.int(n - t);
      const chosen = order[j]!;
      order[j] = order[t]!;
      order[t] = chosen;
      sample.set(data.subarray(chosen * d, chosen * d + d), t * d);
    }
    init = kmeansPlusPlus(sample, initSize, d, k, rng);
  }
  const cent = Float64Array.from(init);
  const seen = new Float64Array(k); // per-centre count v[c]; learning rate 1 / v[c]
  const batch = new Int32Array(batchSize);
  const batchCluster = new Int32Array(batchSize);
  const batchBest = new Float64Array(2 * Math.min(batchSize, DISTANCE_BLOCK));
  const distances = new Distances(data, d, k);
  const alpha = Math.min(1, (2 * batchSize) / (n + 1));
  let smoothed = 0;
  let bestSmoothed = Number.POSITIVE_INFINITY;
  let stale = 0;
  let iterations = 0;
  for (let step = 1; step <= maxIterations; step++) {
    iterations = step;
    let batchInertia = 0;
    for (let b = 0; b < batchSize; b++) batch[b] = rng.int(n);
    distances.setCentroids(cent);
    for (let from = 0; from < batchSize; from += DISTANCE_BLOCK) {
      const count = Math.min(DISTANCE_BLOCK, batchSize - from);
      distances.nearestOfList(batch.subarray(from), count, batchCluster.subarray(from), batchBest);
      for (let t = 0; t < count; t++) batchInertia += batchBest[2 * t]!;
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
  return finish(data, n, d, k, cent, iterations, distances);
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
  for (let r = 0; r < restarts; r++) {
    const rng = new Rng(seed, r);
    // Each run's kernel buffers are freed when it ends.
    const run = kernelArena().scope(() =>
      useMiniBatch
        ? miniBatch(data, n, d, k, rng, maxIterations, tolerance, batchSize, r, options.onIteration)
        : lloyd(data, n, d, k, rng, maxIterations, tolerance, r, options.onIteration),
    );
    if (best === undefined || run.inertia < best.inertia) {
      best = run;
      bestRestart = r;
    }
  }
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
  if (m < n) {
    const rng = new Rng(seed);
    for (let t = 0; t < m; t++) {
      const j = t + rng.int(n - t);
      const chosen = order[j]!;
      order[j] = order[t]!;
      order[t] = chosen;
    }
  }
  const sums = new Float64Array(k);
  let total = 0;
  for (let t = 0; t < m; t++) {
    const i = order[t]!;
    const own = assignment[i]!;
    if (sizes[own] === 1) continue; // s = 0
    sums.fill(0);
    const xo = i * d;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const c = assignment[j]!;
      sums[c] = sums[c]! + Math.sqrt(sqDistPoints(data, xo, j * d, d));
    }
    const a = sums[own]! / (sizes[own]! - 1);
    let b = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      if (c === own || sizes[c] === 0) continue;
      const mean = sums[c]! / sizes[c]!;
      if (mean < b) b = mean;
    }
    const denominator = Math.max(a, b);
    if (denominator > 0) total += (b - a) / denominator;
  }
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
