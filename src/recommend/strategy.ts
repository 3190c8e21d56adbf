import type { Catalogue } from '../data/catalogue.ts';
import type { Interactions } from '../data/interactions.ts';
import type { ContentInputs } from '../features/content-features.ts';
import type { RatingScale } from '../store/types.ts';
import type { History, LiveUsers } from './live-users.ts';

export type { History };

/**
 * The one contract every recommender implements; the server and the evaluator both call it. A strategy is created
 * ready to score from trained models (components/*.ts declares how): it never fits anything itself, so serving a
 * strategy costs only what loading its models costs.
 */

export interface RatedMovie {
  movieId: number;
  rating: number;
}

/** What is known about the viewer. Every field is optional: an empty context is a cold start. */
export interface ViewerContext {
  /** A known user in the training data. */
  userId?: number;
  /** Anonymous ratings. */
  ratings?: readonly RatedMovie[];
  /** Movies watched, without ratings. */
  watched?: readonly number[];
  /** Canonical genre names. */
  genres?: readonly string[];
  /** 'any' (default): at least one genre; 'all': every genre. */
  genreMatch?: 'any' | 'all';
}

/** The data models are fitted on and strategies score over: interactions indexed by catalogue position. */
export interface TrainingData {
  catalogue: Catalogue;
  interactions: Interactions;
  scale: RatingScale;
  /** Tags and tag-genome relevance, for content strategies. */
  content?: ContentInputs;
  /** Users created or changed since the interactions were built (served, not yet trained on). */
  live?: LiveUsers;
}

export interface Query {
  ctx: ViewerContext;
  history: History;
}

export interface ScoreResult {
  /** Optional rank tiers: a higher tier always ranks first (e.g. genres matched). */
  tiers?: Uint8Array;
}

export interface Strategy {
  readonly name: string;
  readonly description: string;
  /**
   * Writes a score for every catalogue index into `scores` (length = catalogue size).
   * -Infinity marks an item that must not be recommended. The pipeline removes the history itself.
   * Must be synchronous: the caller reuses one scratch buffer.
   */
  score(query: Query, scores: Float32Array): ScoreResult | undefined;
  /** A short human reason for one recommended index, e.g. "because you liked Toy Story". */
  explain?(query: Query, index: number): string | undefined;
  /**
   * Creates what the strategy otherwise builds on first use (the router's parts), so that `score` can run for any
   * query. StrategyBook.get calls it; StrategyBook.created does not.
   */
  prepare?(): Promise<void>;
}

/** Predicts explicit ratings (RMSE/MAE, and predictions served), created from a trained model. */
export interface RatingModel {
  readonly name: string;
  readonly description: string;
  /** Predicted rating of a catalogue item by a training user (dense index, or -1 if unknown). */
  predict(user: number, item: number): number;
}
