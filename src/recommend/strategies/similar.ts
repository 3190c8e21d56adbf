import type { Catalogue } from '../../data/catalogue.ts';
import type { Interactions } from '../../data/interactions.ts';
import type { ContentIndex } from '../../models/content-index.ts';
import type { HybridModel } from '../../models/hybrid.ts';
import type { Rp3BetaModel } from '../../models/rp3beta.ts';
import type { Query, ScoreResult, Strategy } from '../strategy.ts';
import { countPercentiles } from './blend.ts';
import { seedsOf } from './content.ts';

/** How a seed movie with ratings finds its neighbours. */
export type SimilarMethod = 'walk' | 'hybrid' | 'content';

export interface SimilarSettings {
  /** Rated seeds: the co-watching walk (RP3beta), hybrid cosine, or content cosine. */
  method: SimilarMethod;
  /** A seed with fewer training ratings than this is treated as unrated: content similarity. */
  minRatings: number;
  /** Weight of the popularity percentile (0..1) added to the per-seed normalised similarity. */
  popularity: number;
  /** Ratings at or above this are seeds (watched movies always are). */
  positiveRating: number;
}

/**
 * "More like the movies you watched", the method chosen per seed by what is known about it: a movie with ratings
 * by who else watched it (the co-watching walk, or the hybrid ALS ⊕ content space), a movie nobody has rated by its
 * content. Each seed's row is divided by its strongest value, so every seed counts the same whatever its method;
 * the seeds' mean plus `popularity` × the popularity percentile is the score, which also breaks ties between movies
 * a seed cannot tell apart (e.g. identical genres and year) by how widely they are watched.
 */
export class SimilarStrategy implements Strategy {
  readonly name = 'similar';
  readonly description: string;
  private pct: Float32Array;
  private readonly counts: Int32Array;
  private row = new Float32Array(0);
  private seeds: Int32Array = new Int32Array(0);
  private seedBuffer = new Int32Array(0);
  /** Per seed of the last query: its normalised row's contribution is recomputed for reasons. */
  private seedScale = new Float64Array(0);

  constructor(
    private readonly x: Interactions,
    private readonly catalogue: Catalogue,
    private readonly content: ContentIndex,
    private readonly walk: Rp3BetaModel | null,
    private readonly hybrid: HybridModel | null,
    private readonly settings: SimilarSettings,
  ) {
    if (settings.method === 'walk' && !walk) throw new Error('similar: the walk method needs the RP3beta model');
    if (settings.method === 'hybrid' && !hybrid) throw new Error('similar: the hybrid method needs the hybrid model');
    this.counts = x.itemCounts();
    this.pct = countPercentiles(this.counts, catalogue.size);
    this.description = `similar movies: ${settings.method} for movies with ≥ ${settings.minRatings} ratings, content otherwise, + ${settings.popularity} × popularity`;
  }

  /** Whether a seed is judged by its viewers (it has enough training ratings) rather than by its content. */
  rated(index: number): boolean {
    return this.settings.method !== 'content' && (this.counts[index] ?? 0) >= this.settings.minRatings;
  }

  /** Writes seed s's similarity row into out (length n); returns its strongest value over other movies. */
  private seedRow(s: number, out: Float32Array): number {
    const n = out.length;
    out.fill(0);
    let max = 0;
    if (this.rated(s) && this.settings.method === 'walk') {
      max = this.walk!.addRow(s, 1, out);
    } else if (this.rated(s) && this.settings.method === 'hybrid' && s < this.hybrid!.size) {
      this.hybrid!.similarTo(s, out);
      for (let i = 0; i < n; i++) {
        if (i === s || !Number.isFinite(out[i]!)) {
          out[i] = 0;
          continue;
        }
        if (out[i]! > max) max = out[i]!;
      }
    } else if (s < this.content.size) {
      const model = this.content.model;
      const d = model.dimensions;
      model.scoreAgainst(model.vectors.subarray(s * d, (s + 1) * d), out);
      for (let i = 0; i < n; i++) {
        if (i === s || i >= model.size) {
          out[i] = 0;
          continue;
        }
        if (out[i]! > max) max = out[i]!;
      }
    }
    // Only likeness counts: a dissimilar movie adds nothing rather than being pushed below the unknown ones.
    for (let i = 0; i < n; i++) if (out[i]! < 0) out[i] = 0;
    return max;
  }

  score(query: Query, scores: Float32Array): ScoreResult | undefined {
    const n = scores.length;
    const h = query.history;
    if (this.seedBuffer.length < h.items.length) this.seedBuffer = new Int32Array(Math.ceil(h.items.length * 1.25));
    const seeds = seedsOf(h, this.settings.positiveRating, this.seedBuffer);
    this.seeds = seeds;
    if (this.seedScale.length < seeds.length) this.seedScale = new Float64Array(Math.ceil(seeds.length * 1.25));
    if (this.pct.length < n) {
      const grown = new Float32Array(this.catalogue.size);
      grown.set(this.pct);
      this.pct = grown;
    }
    if (this.row.length < n) this.row = new Float32Array(Math.ceil(n * 1.25));
    const row = this.row.subarray(0, n);
    scores.fill(0);
    let used = 0;
    for (let t = 0; t < seeds.length; t++) {
      const max = this.seedRow(seeds[t]!, row);
      this.seedScale[t] = max > 0 ? 1 / max : 0;
      if (max <= 0) continue;
      used++;
      const inv = 1 / max;
      for (let i = 0; i < n; i++) scores[i]! += row[i]! * inv;
    }
    const w = this.settings.popularity;
    const norm = used > 0 ? 1 / used : 0;
    for (let i = 0; i < n; i++) scores[i] = scores[i]! * norm + w * (this.pct[i] ?? 0);
    return undefined;
  }

  /** Viewers who rated both movies (merge of the two sorted rater lists). */
  private coViewers(a: number, b: number): number {
    if (a >= this.x.nItems || b >= this.x.nItems) return 0;
    const { indptr, users } = this.x.byItem();
    let p = indptr[a]!;
    let q = indptr[b]!;
    const pe = indptr[a + 1]!;
    const qe = indptr[b + 1]!;
    let common = 0;
    while (p < pe && q < qe) {
      const u = users[p]!;
      const v = users[q]!;
      if (u === v) {
        common++;
        p++;
        q++;
      } else if (u < v) p++;
      else q++;
    }
    return common;
  }

  /** What a seed and a recommended movie share, in words: viewers, series, genres, tags. */
  shared(seed: number, index: number): string {
    const parts: string[] = [];
    if (this.rated(seed)) {
      const both = this.coViewers(seed, index);
      if (both > 0) parts.push(`${both} viewer${both === 1 ? '' : 's'} watched both`);
    }
    const s = this.content.shared(seed, index);
    if (s.series) parts.push(`same series (${s.series})`);
    if (s.genres.length > 0) parts.push(s.genres.join(', '));
    if (s.tags.length > 0) parts.push(`tags ${s.tags.join(', ')}`);
    return parts.join('; ');
  }

  explain(_query: Query, index: number): string | undefined {
    const seeds = this.seeds;
    if (seeds.length === 0) {
      const c = this.counts[index] ?? 0;
      return `popular: rated by ${c} viewer${c === 1 ? '' : 's'}`;
    }
    // The seed whose normalised row scores this movie highest (the first of equals).
    let best = -1;
    let bestV = 0;
    for (let t = 0; t < seeds.length; t++) {
      const scale = this.seedScale[t]!;
      if (scale === 0) continue;
      const s = seeds[t]!;
      const v = this.seedValue(s, index) * scale;
      if (v > bestV) {
        bestV = v;
        best = s;
      }
    }
    if (best < 0) {
      const c = this.counts[index] ?? 0;
      return `popular: rated by ${c} viewer${c === 1 ? '' : 's'}`;
    }
    const m = this.catalogue.movies[best]!;
    const what = this.shared(best, index);
    return `because you watched ${m.displayTitle}${m.year ? ` (${m.year})` : ''}${what ? `: ${what}` : ''}`;
  }

  /** One value of a seed's row (before normalisation), without a full row where the method allows. */
  private seedValue(seed: number, index: number): number {
    if (this.rated(seed) && this.settings.method === 'walk') return Math.max(0, this.walk!.weight(seed, index));
    if (this.rated(seed) && this.settings.method === 'hybrid' && seed < this.hybrid!.size && index < this.hybrid!.size)
      return Math.max(0, this.hybrid!.similarity(seed, index));
    if (seed < this.content.size && index < this.content.size)
      return Math.max(0, this.content.model.similarity(seed, index));
    return 0;
  }
}
