import type { Interactions } from '../data/interactions.ts';
import { readModel, writeModel } from '../util/artifacts.ts';
import { assertMayFit } from '../util/fit-guard.ts';

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

/** Fits from per-item vote counts and mean ratings (indexed by catalogue position) and the global mean. */
export function fitPopularity(
  votes: Int32Array,
  mean: Float32Array,
  globalMean: number,
  params: PopularityParams,
): PopularityModel {
  assertMayFit('popularity');
  const n = votes.length;
  const rated = Float64Array.from(votes.filter((v) => v > 0)).sort();
  const m = params.minVotes ?? quantile(rated, params.minVotesQuantile);
  const C = globalMean;
  const score = new Float32Array(n);
  for (let i = 0; i < n; i++) score[i] = weightedRating(votes[i]!, mean[i]!, m, C);
  return { m, C, votes, mean, score };
}

export function fitPopularityFromInteractions(interactions: Interactions, params: PopularityParams): PopularityModel {
  const votes = interactions.itemCounts();
  const sums = new Float64Array(interactions.nItems);
  for (let k = 0; k < interactions.nnz; k++) sums[interactions.items[k]!]! += interactions.ratings[k]!;
  const mean = new Float32Array(interactions.nItems);
  for (let i = 0; i < mean.length; i++) mean[i] = votes[i]! > 0 ? sums[i]! / votes[i]! : 0;
  return fitPopularity(votes, mean, interactions.meanRating(), params);
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

const POPULARITY_FORMAT = 'cinerec-popularity/1';

/** Writes a popularity model (m, C and the per-movie arrays) into dir. */
export function savePopularity(dir: string, model: PopularityModel): void {
  writeModel(
    dir,
    POPULARITY_FORMAT,
    { m: model.m, C: model.C, size: model.score.length },
    {
      votes: model.votes,
      mean: model.mean,
      score: model.score,
    },
  );
}

/** The popularity model saved in dir. */
export function loadPopularity(dir: string): PopularityModel {
  const a = readModel<{ m: number; C: number; size: number }>(dir, POPULARITY_FORMAT);
  const votes = a.array('votes', 'Int32Array');
  const mean = a.array('mean', 'Float32Array');
  const score = a.array('score', 'Float32Array');
  if (votes.length !== a.meta.size || mean.length !== a.meta.size || score.length !== a.meta.size)
    throw new Error(`${dir}: popularity arrays do not hold ${a.meta.size} movies`);
  return { m: a.meta.m, C: a.meta.C, votes, mean, score };
}
