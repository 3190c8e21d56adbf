import { daviesBouldin, kmeans, silhouette } from './kmeans.ts';

/**
 * Choosing the number of clusters: k-means for every k in a range, four validity scores per k, and a
 * documented rule that picks one. Nothing overrides the rule's choice.
 */

export type KRule = 'silhouette' | 'davies-bouldin' | 'calinski-harabasz' | 'elbow';

export interface KScore {
  k: number;
  inertia: number;
  silhouette: number;
  daviesBouldin: number;
  calinskiHarabasz: number;
}

export interface KSelection {
  k: number;
  rule: KRule;
  scores: KScore[];
  /** The elbow (knee of the inertia curve), whatever the rule. */
  elbow: number;
  assignment: Int32Array;
  centroids: Float32Array;
}

/** Calinski–Harabasz: (between-cluster dispersion / (k − 1)) / (within-cluster dispersion / (n − k)). */
export function calinskiHarabasz(
  data: Float32Array,
  n: number,
  d: number,
  assignment: Int32Array,
  centroids: Float32Array,
  k: number,
): number {
  if (k < 2 || k >= n) return 0;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) mean[t]! += data[i * d + t]!;
  for (let t = 0; t < d; t++) mean[t]! /= n;
  const size = new Int32Array(k);
  let within = 0;
  for (let i = 0; i < n; i++) {
    const c = assignment[i]!;
    size[c]!++;
    for (let t = 0; t < d; t++) within += (data[i * d + t]! - centroids[c * d + t]!) ** 2;
  }
  let between = 0;
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += (centroids[c * d + t]! - mean[t]!) ** 2;
    between += size[c]! * s;
  }
  return within > 0 ? between / (k - 1) / (within / (n - k)) : Number.POSITIVE_INFINITY;
}

/**
 * Knee of a decreasing curve: the point farthest below the straight line from its first to its last
 * point, both axes scaled to [0, 1] (the Kneedle idea, Satopää et al. 2011, without smoothing).
 */
export function knee(ks: readonly number[], values: readonly number[]): number {
  const n = ks.length;
  if (n <= 2) return ks[0] ?? 0;
  const k0 = ks[0]!;
  const k1 = ks[n - 1]!;
  const v0 = values[0]!;
  const v1 = values[n - 1]!;
  let best = ks[0]!;
  let bestGap = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const x = (ks[i]! - k0) / (k1 - k0 || 1);
    const y = (values[i]! - v1) / (v0 - v1 || 1);
    // The line from (0, 1) to (1, 0) is y = 1 − x; the knee lies farthest below it.
    const gap = 1 - x - y;
    if (gap > bestGap) {
      bestGap = gap;
      best = ks[i]!;
    }
  }
  return best;
}

export function selectK(
  data: Float32Array,
  n: number,
  d: number,
  options: {
    minK: number;
    maxK: number;
    rule: KRule;
    seed: number;
    restarts: number;
    sample: number;
    /** Told after each k is scored (long on big catalogues: a bar shows it). */
    onK?: (done: number, total: number) => void;
  },
): KSelection {
  const maxK = Math.min(options.maxK, n - 1);
  const minK = Math.max(2, options.minK);
  if (maxK < minK) throw new Error(`selectK: need at least ${minK + 1} points for k from ${minK}`);
  const scores: KScore[] = [];
  const runs = new Map<number, { assignment: Int32Array; centroids: Float32Array }>();
  for (let k = minK; k <= maxK; k++) {
    options.onK?.(k - minK, maxK - minK + 1);
    const km = kmeans(data, n, d, { k, seed: options.seed, restarts: options.restarts });
    runs.set(k, { assignment: km.assignment, centroids: km.centroids });
    scores.push({
      k,
      inertia: km.inertia,
      silhouette: silhouette(data, n, d, km.assignment, k, { seed: options.seed, sample: options.sample }),
      daviesBouldin: daviesBouldin(data, n, d, km.assignment, km.centroids, k),
      calinskiHarabasz: calinskiHarabasz(data, n, d, km.assignment, km.centroids, k),
    });
  }
  const elbow = knee(
    scores.map((s) => s.k),
    scores.map((s) => s.inertia),
  );
  const pick = (better: (a: KScore, b: KScore) => boolean) =>
    scores.reduce((best, s) => (better(s, best) ? s : best)).k;
  const k =
    options.rule === 'silhouette'
      ? pick((a, b) => a.silhouette > b.silhouette)
      : options.rule === 'davies-bouldin'
        ? pick((a, b) => a.daviesBouldin < b.daviesBouldin)
        : options.rule === 'calinski-harabasz'
          ? pick((a, b) => a.calinskiHarabasz > b.calinskiHarabasz)
          : elbow;
  const run = runs.get(k)!;
  return { k, rule: options.rule, scores, elbow, assignment: run.assignment, centroids: run.centroids };
}
