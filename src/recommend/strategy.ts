/** The one contract every recommender implements; the server and the evaluator both call it. */

export interface RatedMovie {
  movieId: number;
  rating: number;
}

/** What is known about the viewer. Every field is optional: an empty context is a cold start. */
export interface ViewerContext {
  /** A known user in the store. */
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

export interface ScoreResult {
  /** Optional rank tiers: a higher tier always ranks first (e.g. genres matched). */
  tiers?: Uint8Array;
}

export interface Strategy {
  readonly name: string;
  readonly description: string;
  /**
   * Writes a score for every catalogue index into `scores` (length = catalogue size).
   * -Infinity marks an item that must not be recommended (seen, filtered out).
   * Must be synchronous: the caller reuses one scratch buffer.
   */
  score(ctx: ViewerContext, scores: Float32Array): ScoreResult | undefined;
  /** A short human reason for one recommended index, e.g. "popular in Comedy". */
  explain?(ctx: ViewerContext, index: number): string | undefined;
}
