import type { Catalogue } from '../../data/catalogue.ts';
import type { Interactions } from '../../data/interactions.ts';
import { indexInSorted } from '../../math/sorted.ts';
import type { Query, ScoreResult, Strategy } from '../strategy.ts';
import { seedsOf } from './content.ts';

export interface AlsoLikedSettings {
  /**
   * Pseudo-viewers m of the prior: a seed with n viewers, c of whom liked a movie, gives it (c + m·p) / (n + m),
   * p being the share of all viewers who liked it. Small m trusts the seed's viewers; large m tends to
   * "liked by most viewers" whatever the seed.
   */
  smoothing: number;
  /** A rating at or above this is a like (and a rated seed must be liked to count as a seed). */
  positiveRating: number;
  /** Scores are divided by (share of likes + 1 / viewers)^lift: 0 keeps the estimate, 1 ranks by lift. */
  lift: number;
}

/**
 * "Viewers of these movies also liked": for each seed the share of its viewers who liked a movie, shrunk towards
 * the movie's share of likes among all viewers, averaged over the seeds. It estimates what the scenario
 * evaluations measure (will this viewer like the movie, given one to a few movies of theirs), so with a single seed
 * it is a popularity list conditioned on that movie rather than on nobody; a seed few have rated leans on the prior.
 * A history holding a movie nobody has rated (new in the catalogue) is served by the fallback (`similar`: content
 * for such a movie).
 */
export class AlsoLikedStrategy implements Strategy {
  readonly name = 'also-liked';
  readonly description: string;
  /** Share of viewers who liked each movie (the prior). */
  private readonly prior: Float32Array;
  private seedBuffer = new Int32Array(0);
  private readonly counts: Int32Array;
  /** Whether the last query was handed to the fallback (its explanations then come from there too). */
  private delegated = false;

  constructor(
    private readonly x: Interactions,
    private readonly catalogue: Catalogue,
    private readonly fallback: Strategy | null,
    private readonly settings: AlsoLikedSettings,
  ) {
    this.counts = x.itemCounts();
    this.prior = new Float32Array(x.nItems);
    const { items, ratings } = x;
    for (let q = 0; q < items.length; q++) if (ratings[q]! >= settings.positiveRating) this.prior[items[q]!]! += 1;
    const inv = 1 / Math.max(1, x.nUsers);
    for (let i = 0; i < this.prior.length; i++) this.prior[i]! *= inv;
    this.description = `liked by the viewers of the seeds, shrunk to the share of likes (m = ${settings.smoothing})`;
  }

  score(query: Query, scores: Float32Array): ScoreResult | undefined {
    const h = query.history;
    if (this.seedBuffer.length < h.items.length) this.seedBuffer = new Int32Array(Math.ceil(h.items.length * 1.25));
    const seeds = seedsOf(h, this.settings.positiveRating, this.seedBuffer);
    this.delegated = false;
    if (this.fallback) {
      for (let t = 0; t < seeds.length; t++) {
        if ((this.counts[seeds[t]!] ?? 0) === 0) {
          this.delegated = true;
          return this.fallback.score(query, scores);
        }
      }
    }
    scores.fill(0);
    let priorWeight = seeds.length === 0 ? 1 : 0;
    for (let t = 0; t < seeds.length; t++) priorWeight += this.addSeed(seeds[t]!, scores);
    const prior = this.prior;
    const n = Math.min(scores.length, prior.length);
    for (let i = 0; i < n; i++) scores[i]! += priorWeight * prior[i]!;
    if (this.settings.lift !== 0) {
      const eps = 1 / Math.max(1, this.x.nUsers);
      const lift = this.settings.lift;
      for (let i = 0; i < n; i++) scores[i]! /= (prior[i]! + eps) ** lift;
    }
    return undefined;
  }

  /** Adds (likes among the seed's viewers) / (viewers + m); returns the weight its prior takes. */
  private addSeed(s: number, scores: Float32Array): number {
    const { indptr, items, ratings } = this.x;
    const byItem = this.x.byItem();
    const pos = this.settings.positiveRating;
    const from = s < this.x.nItems ? byItem.indptr[s]! : 0;
    const to = s < this.x.nItems ? byItem.indptr[s + 1]! : 0;
    const w = 1 / (to - from + this.settings.smoothing);
    for (let p = from; p < to; p++) {
      const u = byItem.users[p]!;
      for (let q = indptr[u]!; q < indptr[u + 1]!; q++) if (ratings[q]! >= pos) scores[items[q]!]! += w;
    }
    return this.settings.smoothing * w;
  }

  explain(query: Query, index: number): string | undefined {
    if (this.delegated) return this.fallback?.explain?.(query, index);
    const seeds = seedsOf(query.history, this.settings.positiveRating);
    let best = -1;
    let bestShare = 0;
    let bestViewers = 0;
    for (const s of seeds) {
      const { liked, viewers } = this.likedBy(s, index);
      if (viewers > 0 && liked / viewers > bestShare) {
        best = s;
        bestShare = liked / viewers;
        bestViewers = viewers;
      }
    }
    if (best < 0) {
      const share = Math.round((this.prior[index] ?? 0) * 100);
      return `liked by ${share} % of all viewers`;
    }
    const title = this.catalogue.movies[best]?.displayTitle ?? `movie ${best}`;
    return `liked by ${Math.round(bestShare * 100)} % of the ${bestViewers} viewers of ${title}`;
  }

  /** Of the viewers of `seed`, how many liked `index`. */
  private likedBy(seed: number, index: number): { liked: number; viewers: number } {
    if (seed >= this.x.nItems) return { liked: 0, viewers: 0 };
    const byItem = this.x.byItem();
    const { indptr, items, ratings } = this.x;
    const pos = this.settings.positiveRating;
    let liked = 0;
    for (let p = byItem.indptr[seed]!; p < byItem.indptr[seed + 1]!; p++) {
      const u = byItem.users[p]!;
      const k = indexInSorted(items, index, indptr[u]!, indptr[u + 1]!);
      if (k >= 0 && ratings[k]! >= pos) liked++;
    }
    return { liked, viewers: byItem.indptr[seed + 1]! - byItem.indptr[seed]! };
  }
}
