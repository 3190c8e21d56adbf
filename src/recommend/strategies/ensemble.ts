import type { Query, ScoreResult, Strategy } from '../strategy.ts';

export interface EnsemblePart {
  strategy: Strategy;
  weight: number;
}

/**
 * A weighted sum of several strategies' scores, each standardised per query (z-scores over the movies the viewer
 * has not seen), so that scales as different as EASE's, ALS's and a random walk's add up. A part that cannot score
 * a movie (−∞) leaves it at −∞. The reason is the reason of the part that contributed most to the movie.
 */
export class EnsembleStrategy implements Strategy {
  readonly name = 'ensemble';
  readonly description: string;
  private buffers: Float32Array[] = [];
  private contributions: Float64Array;
  private means: Float64Array;
  private scales: Float64Array;
  private seen = new Uint8Array(0);

  constructor(private readonly parts: readonly EnsemblePart[]) {
    if (parts.length === 0) throw new Error('an ensemble needs at least one part with a weight above 0');
    this.description = `ensemble of ${parts.map((p) => `${p.weight} × ${p.strategy.name}`).join(' + ')} (per-query z-scores)`;
    this.contributions = new Float64Array(parts.length);
    this.means = new Float64Array(parts.length);
    this.scales = new Float64Array(parts.length);
  }

  score(query: Query, scores: Float32Array): ScoreResult | undefined {
    const n = scores.length;
    const items = query.history.items;
    if (this.seen.length < n) this.seen = new Uint8Array(Math.ceil(n * 1.25));
    const seen = this.seen;
    for (let k = 0; k < items.length; k++) if (items[k]! < n) seen[items[k]!] = 1;
    scores.fill(0);
    this.parts.forEach((part, p) => {
      if (!this.buffers[p] || this.buffers[p]!.length < n) this.buffers[p] = new Float32Array(Math.ceil(n * 1.25));
      const b = this.buffers[p]!.subarray(0, n);
      b.fill(0);
      part.strategy.score(query, b);
      let count = 0;
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < n; i++) {
        const v = b[i]!;
        if (seen[i] || !Number.isFinite(v)) continue;
        count++;
        sum += v;
        sq += v * v;
      }
      const mean = count > 0 ? sum / count : 0;
      const sd = count > 1 ? Math.sqrt(Math.max(0, sq / count - mean * mean)) : 0;
      const scale = sd > 0 ? part.weight / sd : 0;
      this.means[p] = mean;
      this.scales[p] = scale;
      for (let i = 0; i < n; i++) {
        const v = b[i]!;
        scores[i] = v === Number.NEGATIVE_INFINITY ? v : scores[i]! + (v - mean) * scale;
      }
    });
    for (let k = 0; k < items.length; k++) if (items[k]! < n) seen[items[k]!] = 0;
    return undefined;
  }

  explain(query: Query, index: number): string | undefined {
    let best = -1;
    let bestC = Number.NEGATIVE_INFINITY;
    this.parts.forEach((_part, p) => {
      const b = this.buffers[p];
      const c = b && index < b.length ? (b[index]! - this.means[p]!) * this.scales[p]! : Number.NEGATIVE_INFINITY;
      this.contributions[p] = c;
      if (c > bestC) {
        bestC = c;
        best = p;
      }
    });
    return best >= 0 ? this.parts[best]!.strategy.explain?.(query, index) : undefined;
  }
}
