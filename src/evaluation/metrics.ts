/**
 * Evaluation metrics: top-k ranking accuracy, beyond-accuracy measures, rating error and confidence intervals.
 * Pure functions over array-likes that allocate nothing per call (beyond the returned object), since they run once
 * per user over hundreds of thousands of users. Formulas are given in docs/evaluation.md.
 */

export interface RankingScores {
  precision: number;
  recall: number;
  ndcg: number;
  map: number;
  mrr: number;
  hitRate: number;
}

/**
 * Top-k ranking metrics with binary relevance, r the 1-based rank:
 * - precision@k = hits / k (k, not the list length: a short list is not rewarded);
 * - recall@k = hits / |rel|;
 * - NDCG@k = DCG / IDCG, DCG = Σ_{r ≤ k} rel_r / log2(r + 1), IDCG = Σ_{r ≤ min(|rel|, k)} 1 / log2(r + 1);
 * - MAP@k: AP = Σ_{r ≤ k, rel_r} P@r / min(|rel|, k);
 * - MRR = 1 / rank of the first hit within k, else 0;
 * - hit rate = 1 if any hit within k, else 0.
 * Only the first k entries of `ranked` count; ids are assumed distinct (a recommender never repeats an item).
 * @param ranked recommended item ids, best first (length ≤ k).
 * @param relevant the held-out relevant ids; must not be empty (users without any are not scored).
 */
export function rankingMetrics(ranked: ArrayLike<number>, relevant: ReadonlySet<number>, k: number): RankingScores {
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be an integer ≥ 1, got ${k}`);
  const rel = relevant.size;
  if (rel === 0) throw new RangeError('rankingMetrics needs a non-empty relevant set; skip users without one');
  const depth = Math.min(ranked.length, k);
  let hits = 0;
  let dcg = 0;
  let apSum = 0;
  let firstHit = 0;
  for (let i = 0; i < depth; i++) {
    if (!relevant.has(ranked[i]!)) continue;
    const rank = i + 1;
    hits++;
    dcg += 1 / Math.log2(rank + 1);
    apSum += hits / rank;
    if (firstHit === 0) firstHit = rank;
  }
  const ideal = Math.min(rel, k);
  let idcg = 0;
  for (let r = 1; r <= ideal; r++) idcg += 1 / Math.log2(r + 1);
  return {
    precision: hits / k,
    recall: hits / rel,
    ndcg: dcg / idcg,
    map: apSum / ideal,
    mrr: firstHit === 0 ? 0 : 1 / firstHit,
    hitRate: hits > 0 ? 1 : 0,
  };
}

/** Share of the catalogue that appears in at least one user's list: distinct recommended / catalogue size. */
export function catalogueCoverage(recommendedDistinct: number, catalogueSize: number): number {
  if (!(catalogueSize > 0)) throw new RangeError(`catalogueSize must be > 0, got ${catalogueSize}`);
  if (!(recommendedDistinct >= 0 && recommendedDistinct <= catalogueSize)) {
    throw new RangeError(`recommendedDistinct must be in [0, ${catalogueSize}], got ${recommendedDistinct}`);
  }
  return recommendedDistinct / catalogueSize;
}

/**
 * Novelty (self-information): mean over the list of −log2(p_i), p_i the share of training users who interacted
 * with item i. `userShare` must give items nobody interacted with 1 / (users + 1), so they are the most novel
 * rather than infinitely so. An empty list scores 0.
 */
export function novelty(ranked: ArrayLike<number>, userShare: (item: number) => number): number {
  const n = ranked.length;
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = userShare(ranked[i]!);
    if (!(p > 0 && p <= 1)) throw new RangeError(`user share of item ${ranked[i]} must be in (0, 1], got ${p}`);
    sum -= Math.log2(p);
  }
  return sum / n;
}

/** Number of set bits in the low 32 bits. */
function popcount32(x: number): number {
  x >>>= 0;
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * Intra-list diversity: mean over the L(L−1)/2 pairs of (1 − Jaccard(genres_i, genres_j)), Jaccard = |A ∩ B| / |A ∪ B|.
 * Genres are bitmasks of up to 32 genres; two genre-less items count as identical (distance 0). A list of fewer
 * than 2 items scores 0.
 */
export function intraListDiversity(ranked: ArrayLike<number>, genreMask: (item: number) => number): number {
  const n = ranked.length;
  if (n < 2) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const a = genreMask(ranked[i]!);
    for (let j = i + 1; j < n; j++) {
      const b = genreMask(ranked[j]!);
      const union = popcount32(a | b);
      if (union !== 0) sum += 1 - popcount32(a & b) / union;
    }
  }
  return sum / ((n * (n - 1)) / 2);
}

/** Mean popularity percentile of the listed items (0 = least, 100 = most popular). An empty list scores 0. */
export function meanPopularityPercentile(ranked: ArrayLike<number>, percentile: (item: number) => number): number {
  const n = ranked.length;
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += percentile(ranked[i]!);
  return sum / n;
}

/**
 * Percentile rank of each item by its count: items sorted by count ascending get ranks 0 … n−1, tied items share
 * their average rank, and percentile = 100 · rank / (n − 1). A single item (like a fully tied catalogue) gets 50.
 */
export function popularityPercentiles(counts: ArrayLike<number>): Float32Array {
  const n = counts.length;
  const out = new Float32Array(n);
  if (n === 0) return out;
  if (n === 1) {
    out[0] = 50;
    return out;
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => counts[a]! - counts[b]!);
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && counts[order[j]!] === counts[order[i]!]) j++;
    // Ranks i … j−1 are tied: their mean is (i + j − 1) / 2.
    const percentile = (100 * ((i + j - 1) / 2)) / (n - 1);
    for (let t = i; t < j; t++) out[order[t]!] = percentile;
    i = j;
  }
  return out;
}

function checkPairs(predicted: ArrayLike<number>, actual: ArrayLike<number>): void {
  if (predicted.length !== actual.length) {
    throw new RangeError(`predicted (${predicted.length}) and actual (${actual.length}) differ in length`);
  }
  if (predicted.length === 0) throw new RangeError('no predictions to score');
}

/** Root mean squared error: sqrt(Σ (p_i − a_i)² / n). */
export function rmse(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  checkPairs(predicted, actual);
  let sum = 0;
  for (let i = 0; i < predicted.length; i++) {
    const d = predicted[i]! - actual[i]!;
    sum += d * d;
  }
  return Math.sqrt(sum / predicted.length);
}

/** Mean absolute error: Σ |p_i − a_i| / n. */
export function mae(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  checkPairs(predicted, actual);
  let sum = 0;
  for (let i = 0; i < predicted.length; i++) sum += Math.abs(predicted[i]! - actual[i]!);
  return sum / predicted.length;
}

export interface Interval {
  mean: number;
  low: number;
  high: number;
  n: number;
}

/** Two-sided 95% Student t critical values t_{0.975, df} for df = 1 … 30. */
const T_975 = [
  12.7062047, 4.30265273, 3.18244631, 2.77644511, 2.57058184, 2.44691185, 2.36462425, 2.30600414, 2.26215716,
  2.22813885, 2.20098516, 2.17881283, 2.16036866, 2.14478669, 2.13144955, 2.1199053, 2.10981558, 2.10092204, 2.09302405,
  2.08596345, 2.07961384, 2.07387307, 2.06865761, 2.06389856, 2.05953855, 2.05552944, 2.05183052, 2.04840714,
  2.04522964, 2.04227246,
];

/** t_{0.975, df}: the exact table up to 30 degrees of freedom, the normal 1.96 beyond. */
export function tCritical95(df: number): number {
  if (!(Number.isInteger(df) && df >= 1)) throw new RangeError(`degrees of freedom must be an integer ≥ 1, got ${df}`);
  return df <= T_975.length ? T_975[df - 1]! : 1.96;
}

/**
 * 95% confidence interval of the mean: mean ± t_{0.975, n−1} · s / √n, s the sample standard deviation (n − 1
 * denominator). n = 1 gives low = high = mean; no values is an error.
 */
export function meanInterval(values: ArrayLike<number>): Interval {
  const n = values.length;
  if (n === 0) throw new RangeError('meanInterval needs at least one value');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const mean = sum / n;
  if (n === 1) return { mean, low: mean, high: mean, n };
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mean;
    ss += d * d;
  }
  const half = (tCritical95(n - 1) * Math.sqrt(ss / (n - 1))) / Math.sqrt(n);
  return { mean, low: mean - half, high: mean + half, n };
}
