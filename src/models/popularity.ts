import type { Catalogue } from '../data/catalogue.ts';
import type { MovieStats } from '../store/types.ts';

export interface PopularityParams {
  /** m is this quantile of the vote counts of rated movies... */
  minVotesQuantile: number;
  /** ...unless fixed here. */
  minVotes?: number;
}

/**
 * Bayesian weighted rating (IMDb's Top-250 formula): WR = v/(v+m)·R + m/(v+m)·C, where v is the
 * movie's vote count, R its mean rating, C the mean of all ratings and m the votes a movie needs
 * before its own mean outweighs the prior. Arrays are indexed by catalogue index.
 */
export interface PopularityModel {
  readonly m: number;
  readonly C: number;
  readonly votes: Int32Array;
  readonly mean: Float32Array;
  readonly score: Float32Array;
}

export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function weightedRating(v: number, R: number, m: number, C: number): number {
  return v + m === 0 ? C : (v / (v + m)) * R + (m / (v + m)) * C;
}

export function fitPopularity(catalogue: Catalogue, stats: MovieStats, params: PopularityParams): PopularityModel {
  const n = catalogue.size;
  const votes = new Int32Array(n);
  const mean = new Float32Array(n);
  for (let j = 0; j < stats.movieId.length; j++) {
    const i = catalogue.indexOf(stats.movieId[j]!);
    if (i < 0) continue;
    votes[i] = stats.count[j]!;
    mean[i] = stats.mean[j]!;
  }
  const counts = Float64Array.from(stats.count).sort();
  const m = params.minVotes ?? quantile(counts, params.minVotesQuantile);
  const C = stats.globalMean;
  const score = new Float32Array(n);
  for (let i = 0; i < n; i++) score[i] = weightedRating(votes[i]!, mean[i]!, m, C);
  return { m, C, votes, mean, score };
}

/** Scores for a movie added after fitting: no votes yet, so the prior C. */
export function extendPopularity(model: PopularityModel, size: number): PopularityModel {
  if (size <= model.score.length) return model;
  const grow = <T extends Int32Array | Float32Array>(a: T, fill: number): T => {
    const out = new (a.constructor as new (n: number) => T)(size);
    out.set(a);
    out.fill(fill, a.length);
    return out;
  };
  return { ...model, votes: grow(model.votes, 0), mean: grow(model.mean, 0), score: grow(model.score, model.C) };
}
