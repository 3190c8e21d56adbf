import { topKInto } from '../../math/topk.ts';
import type { RatingPredictor, UserVector } from '../../models/rating-predictor.ts';
import { isStoredUser } from '../history.ts';
import { UserStates } from '../live-users.ts';
import type { Query, ScoreResult, Strategy, TrainingData } from '../strategy.ts';

/**
 * Ranks by predicted rating (the neural RatingPredictor). Candidates are every movie ('all') or the top
 * `pool` of another strategy, re-ranked (the rest follow in that strategy's order). A known user whose history is the training row uses the trained
 * code; anyone else (a live user, anonymous ratings, extra ratings) is encoded from their ratings by one
 * autoencoder forward pass, with b_u folded in from the same ratings: no retraining.
 */
export class NeuralStrategy implements Strategy {
  readonly name = 'neural';
  readonly description: string;
  private candidateScores = new Float32Array(0);
  private predicted = new Float32Array(0);
  /** The pool of the last score() (its first poolSize entries) and, when `exact` holds them, its predictions unrounded. */
  private poolIndex = new Int32Array(0);
  private poolSize = 0;
  private poolExact = new Float64Array(0);
  private exact = false;
  /** The viewer of the last score(), for explain() right after it (the ranking pipeline's order). */
  private lastUser: UserVector | null = null;
  /** Live users' vectors, encoded when their history is written. */
  private readonly encoded: UserStates<UserVector>;

  constructor(
    readonly predictor: RatingPredictor,
    /** The candidate strategy (null: every movie). */
    private readonly candidates: Strategy | null,
    /** How many of the candidates' best are re-ranked by predicted rating. */
    private readonly pool: number,
    private readonly data: TrainingData,
  ) {
    if (!(Number.isInteger(pool) && pool >= 1)) throw new RangeError('neural: pool must be a whole number ≥ 1');
    this.description = candidates
      ? `predicted rating (neural) over the top ${pool} of ${candidates.name}`
      : 'predicted rating (neural) over every movie';
    this.encoded = new UserStates<UserVector>(data.live, (h) => predictor.userVector(h.items, h.ratings));
  }

  /** The viewer's vector: trained when the history is the training row, else encoded from it. */
  userVector(query: Query): UserVector {
    const { ctx, history } = query;
    const data = this.data;
    if (isStoredUser(ctx)) {
      if (!data.live?.has(ctx.userId)) {
        const trained = this.predictor.trainedUser(data.interactions.userOf(ctx.userId));
        if (trained) return trained;
      }
      return this.encoded.get(ctx.userId, history);
    }
    // Watched-only entries (rating NaN) carry no rating: the encoder skips them.
    return this.predictor.userVector(history.items, history.ratings);
  }

  score(query: Query, scores: Float32Array): ScoreResult | undefined {
    const user = this.userVector(query);
    this.lastUser = user;
    this.exact = false;
    this.poolSize = 0;
    const n = scores.length;
    if (!this.candidates) {
      this.predictor.predictMany(user, null, scores);
      return undefined;
    }
    if (this.candidateScores.length < n) this.candidateScores = new Float32Array(Math.ceil(n * 1.25));
    const c = this.candidateScores.subarray(0, n);
    const result = this.candidates.score(query, c);
    // The pool: the candidate strategy's best outside the history (the pipeline drops the history later).
    const h = query.history.items;
    for (let k = 0; k < h.length; k++) if (h[k]! < n) c[h[k]!] = Number.NEGATIVE_INFINITY;
    const size = Math.min(this.pool, n);
    if (this.poolIndex.length < size) {
      this.poolIndex = new Int32Array(size);
      this.predicted = new Float32Array(size);
      this.poolExact = new Float64Array(size);
    }
    const count = topKInto(c, size, this.poolIndex, result?.tiers);
    const pool = this.poolIndex.subarray(0, count);
    const predicted = this.predicted.subarray(0, count);
    this.exact = this.predictor.predictMany(user, pool, predicted, this.poolExact);
    this.poolSize = count;
    // Below the pool the candidate order continues (shifted under the lowest prediction), so a list
    // longer than the pool is still full and still the candidate strategy's beyond it.
    let maxC = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) if (c[i]! > maxC) maxC = c[i]!;
    let minP = Number.POSITIVE_INFINITY;
    for (let t = 0; t < pool.length; t++) minP = Math.min(minP, predicted[t]!);
    const floor = (Number.isFinite(minP) ? minP : 0) - 1;
    for (let i = 0; i < n; i++) scores[i] = Number.isFinite(c[i]!) ? c[i]! - maxC + floor : Number.NEGATIVE_INFINITY;
    for (let t = 0; t < pool.length; t++) scores[pool[t]!] = predicted[t]!;
    return result;
  }

  /** The predicted rating of `index` for the viewer of the last score(): from the pool when it was predicted there. */
  private predictedFor(user: UserVector, index: number): number {
    if (this.exact && this.lastUser === user) {
      for (let t = 0; t < this.poolSize; t++) if (this.poolIndex[t] === index) return this.poolExact[t]!;
    }
    return this.predictor.predictFor(user, index);
  }

  explain(query: Query, index: number): string | undefined {
    const user = this.lastUser ?? this.userVector(query);
    const predicted = `predicted ${this.predictedFor(user, index).toFixed(1)} stars for you`;
    const because = this.candidates?.explain?.(query, index);
    return because ? `${predicted}; ${because}` : predicted;
  }
}
