import type { Catalogue } from '../../data/catalogue.ts';
import type { AlsModel } from '../../models/als.ts';
import { isStoredUser } from '../history.ts';
import { type History, UserStates } from '../live-users.ts';
import type { Query, ScoreResult, Strategy, TrainingData } from '../strategy.ts';

/** Watched movies (rating NaN) count as `watched`; the ratings themselves when there is none. */
function ratingsWithWatched(r: Float32Array, watched: number): Float32Array {
  let nan = false;
  for (let k = 0; k < r.length; k++) if (Number.isNaN(r[k]!)) nan = true;
  return nan ? Float32Array.from(r, (x) => (Number.isNaN(x) ? watched : x)) : r;
}

/**
 * Live users' folded-in factors, one cache per ALS model (the strategies built over one model share it): folded in
 * when the user's history is written, and again only when an item factor changed since (model.revision).
 */
const foldedIn = new WeakMap<AlsModel, UserStates<Float32Array | null>>();

function foldedInStates(model: AlsModel, data: TrainingData): UserStates<Float32Array | null> {
  let states = foldedIn.get(model);
  if (!states) {
    const watched = data.scale.max;
    states = new UserStates<Float32Array | null>(
      data.live,
      (h: History) => (h.items.length === 0 ? null : model.foldInUser(h.items, ratingsWithWatched(h.ratings, watched))),
      () => model.revision,
    );
    foldedIn.set(model, states);
  }
  return states;
}

/**
 * Implicit ALS. A known user whose history has not changed since fitting uses the trained factor; a live
 * user's factor is folded in when their history is written (and kept until it changes); an anonymous history
 * (or a user's with anonymous ratings on top) is folded in per request: one least-squares solve against the
 * item factors, no retraining.
 */
export class AlsStrategy implements Strategy {
  readonly name: string = 'als';
  readonly description: string = 'implicit ALS (Hu, Koren & Volinsky 2008), live users folded in';
  private vector = new Float32Array(0);
  private readonly watchedRating: number;
  private readonly states: UserStates<Float32Array | null>;
  /** The query whose history the model's explanation is prepared for, and the model's token for it. */
  private explained: { query: Query; token: number } | null = null;

  constructor(
    readonly model: AlsModel,
    private readonly data: TrainingData,
  ) {
    this.watchedRating = data.scale.max;
    this.states = foldedInStates(model, data);
  }

  private get catalogue(): Catalogue {
    return this.data.catalogue;
  }

  /**
   * The user's factor: trained when the history is the training row, the live user's (folded in on their last
   * write), else folded in now. A view of model or cached state: read it, do not keep or change it.
   */
  userVector(query: Query): Float32Array | null {
    const model = this.model;
    const { ctx, history } = query;
    if (history.items.length === 0) return null;
    if (isStoredUser(ctx)) {
      if (!this.data.live?.has(ctx.userId)) {
        const u = this.data.interactions.userOf(ctx.userId);
        if (u >= 0 && u < model.nUsers) return model.userFactors.subarray(u * model.factors, (u + 1) * model.factors);
      }
      return this.states.get(ctx.userId, history);
    }
    if (this.vector.length !== model.factors) this.vector = new Float32Array(model.factors);
    return model.foldInUser(history.items, this.ratingsOf(query), this.vector);
  }

  /** Watched movies (no rating) count as a top rating. */
  private ratingsOf({ history }: Query): Float32Array {
    return ratingsWithWatched(history.ratings, this.watchedRating);
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

  /** "because you watched X": the history item contributing most to the score (one factorisation per list). */
  explain(query: Query, index: number): string | undefined {
    const model = this.model;
    if (index >= model.nItems || query.history.items.length === 0) return undefined;
    const e = this.explained;
    if (!e || e.query !== query || model.explanationToken !== e.token) {
      const token = model.prepareExplanation(query.history.items, this.ratingsOf(query));
      this.explained = { query, token };
    }
    const top = model.strongestContribution(index);
    if (!top || top.weight <= 0) return undefined;
    const m = this.catalogue.movies[top.item]!;
    return `because you watched ${m.displayTitle}${m.year ? ` (${m.year})` : ''}`;
  }
}
