import type { Catalogue } from '../../data/catalogue.ts';
import type { Query, ScoreResult, Strategy, TrainingData } from '../strategy.ts';
import type { ContentStrategy } from './content.ts';

/** Percentile rank (0..1, ties averaged) of each item's number of ratings. */
export function countPercentiles(counts: ArrayLike<number>, size: number): Float32Array {
  const order = Array.from({ length: size }, (_, i) => i).sort((a, b) => (counts[a] ?? 0) - (counts[b] ?? 0));
  const out = new Float32Array(size);
  let k = 0;
  while (k < size) {
    let e = k;
    while (e + 1 < size && (counts[order[e + 1]!] ?? 0) === (counts[order[k]!] ?? 0)) e++;
    const pct = size > 1 ? (k + e) / 2 / (size - 1) : 1;
    for (let t = k; t <= e; t++) out[order[t]!] = pct;
    k = e + 1;
  }
  return out;
}

/**
 * Few ratings: content similarity to the liked movies, leaning on popularity so that a thin
 * history does not surface obscure look-alikes. score = w·cos + (1 − w)·popularity percentile.
 */
export class BlendStrategy implements Strategy {
  readonly name = 'content-popular';
  readonly description = 'content similarity to the liked movies blended with popularity';
  private pct: Float32Array;
  private readonly counts: Int32Array;
  private readonly catalogue: Catalogue;
  private contentScores = new Float32Array(0);

  constructor(
    private readonly content: ContentStrategy,
    /** Weight of content similarity (the rest is popularity). */
    private readonly contentWeight: number,
    data: TrainingData,
  ) {
    this.catalogue = data.catalogue;
    this.counts = data.interactions.itemCounts();
    this.pct = countPercentiles(this.counts, data.catalogue.size);
  }

  score(query: Query, scores: Float32Array): ScoreResult | undefined {
    const n = scores.length;
    if (this.contentScores.length < n) this.contentScores = new Float32Array(Math.ceil(n * 1.25));
    const c = this.contentScores.subarray(0, n);
    this.content.score(query, c);
    // Live movies beyond the fitted counts have popularity 0.
    if (this.pct.length < n) {
      const grown = new Float32Array(this.catalogue.size);
      grown.set(this.pct);
      this.pct = grown;
    }
    const w = this.contentWeight;
    // No usable seed (e.g. every rating low): popularity alone.
    const seeded = c.some(Number.isFinite);
    for (let i = 0; i < n; i++) {
      const sim = seeded ? c[i]! : 0;
      scores[i] = sim === Number.NEGATIVE_INFINITY ? sim : w * sim + (1 - w) * (this.pct[i] ?? 0);
    }
    return undefined;
  }

  explain(query: Query, index: number): string | undefined {
    const n = this.counts[index] ?? 0;
    const because = this.content.explain(query, index);
    const popular = `rated by ${n} viewer${n === 1 ? '' : 's'}`;
    return because ? `${because}; ${popular}` : `popular: ${popular}`;
  }
}
