import type { Catalogue } from '../../data/catalogue.ts';
import type { AlsModel } from '../../models/als.ts';
import type { Query, ScoreResult, Strategy, TrainingData } from '../strategy.ts';

/**
 * Implicit ALS. A known user whose history has not changed since fitting uses the trained factor;
 * anyone else (a live user, new ratings, an anonymous history) is folded in: one least-squares solve
 * against the item factors, no retraining.
 */
export class AlsStrategy implements Strategy {
  readonly name: string = 'als';
  readonly description: string = 'implicit ALS (Hu, Koren & Volinsky 2008), live users folded in';
  private vector = new Float32Array(0);
  private readonly watchedRating: number;

  constructor(
    readonly model: AlsModel,
    private readonly data: TrainingData,
  ) {
    this.watchedRating = data.scale.max;
  }

  private get catalogue(): Catalogue {
    return this.data.catalogue;
  }

  /** The user's factor: trained when the history is the training row, else folded in. */
  userVector(query: Query): Float32Array | null {
    const model = this.model;
    const { ctx, history } = query;
    if (history.items.length === 0) return null;
    const anonymousExtras = (ctx.ratings?.length ?? 0) + (ctx.watched?.length ?? 0) > 0;
    if (ctx.userId !== undefined && !anonymousExtras && !this.data.live?.has(ctx.userId)) {
      const u = this.data.interactions.userOf(ctx.userId);
      if (u >= 0 && u < model.nUsers) return model.userFactors.subarray(u * model.factors, (u + 1) * model.factors);
    }
    if (this.vector.length !== model.factors) this.vector = new Float32Array(model.factors);
    return model.foldInUser(history.items, this.ratingsOf(query), this.vector);
  }

  /** Watched movies (no rating) count as a top rating. */
  private ratingsOf({ history }: Query): Float32Array {
    const r = history.ratings;
    let nan = false;
    for (let k = 0; k < r.length; k++) if (Number.isNaN(r[k]!)) nan = true;
    return nan ? Float32Array.from(r, (x) => (Number.isNaN(x) ? this.watchedRating : x)) : r;
  }

  score(query: Query, scores: Float32Array): ScoreResult | undefined {
    const model = this.model;
    const x = this.userVector(query);
    if (!x) {
      scores.fill(Number.NEGATIVE_INFINITY);
      return undefined;
    }
    model.scoreItems(x, scores);
    // Catalogue movies without factors yet (added live, not bridged) cannot be ranked by ALS.
    for (let i = model.nItems; i < scores.length; i++) scores[i] = Number.NEGATIVE_INFINITY;
    return undefined;
  }

  explain(query: Query, index: number): string | undefined {
    const model = this.model;
    if (index >= model.nItems || query.history.items.length === 0) return undefined;
    const top = model.explain(query.history.items, this.ratingsOf(query), index)[0];
    if (!top || top.weight <= 0) return undefined;
    const m = this.catalogue.movies[top.item]!;
    return `because you watched ${m.displayTitle}${m.year ? ` (${m.year})` : ''}`;
  }
}
