import type { RouterStrategy } from '../recommend/router.ts';
import type { AlsStrategy } from '../recommend/strategies/als.ts';
import type { UserClusterStrategy } from '../recommend/strategies/user-cluster.ts';
import { ValidationError } from '../util/errors.ts';
import { checkRatings } from './checks.ts';
import type { Served } from './served.ts';
import { round4, summary, type UserRatingInput, type UserView } from './views.ts';

/** Viewers: users created and rated while serving (stored, then folded in at once), and a user's view. */
export class ViewerService {
  constructor(private readonly served: Served) {}

  /** Ratings to store: valid values, and every movie in the catalogue. */
  private checkStored(ratings: readonly UserRatingInput[]): void {
    checkRatings(this.served.data.scale, ratings, 'ratings');
    const unknown = ratings.filter((r) => this.served.catalogue.indexOf(r.movieId) < 0).map((r) => r.movieId);
    if (unknown.length)
      throw new ValidationError(`unknown movie id${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`, 'ratings');
  }

  private applyRatings(userId: number, ratings: readonly UserRatingInput[]): void {
    const catalogue = this.served.catalogue;
    const merged = new Map<number, number>();
    const h = this.served.historyOf(userId);
    for (let k = 0; k < h.items.length; k++) merged.set(h.items[k]!, h.ratings[k]!);
    for (const r of ratings) merged.set(catalogue.indexOf(r.movieId), r.rating);
    const items = Int32Array.from([...merged.keys()].sort((a, b) => a - b));
    this.served.live.set(userId, { items, ratings: Float32Array.from(items, (i) => merged.get(i)!) });
  }

  /**
   * A movie with few training ratings (new, or bridged) that gains ratings gets its ALS factor folded in from its
   * raters' factors (trained rows, and live users folded in), replacing the bridge estimate.
   */
  private async refoldItems(movieIds: readonly number[]): Promise<void> {
    const model = this.served.models.loaded('als');
    if (!model) return;
    const { data, config } = this.served;
    const als = (await this.served.strategy('als')) as AlsStrategy;
    const f = model.factors;
    const counts = data.interactions.itemCounts();
    const csc = data.interactions.byItem();
    for (const id of movieIds) {
      const i = data.catalogue.indexOf(id);
      if (i < 0 || (counts[i] ?? 0) >= config.hybrid.bridgeMinRatings) continue;
      const rows: Float32Array[] = [];
      const ratings: number[] = [];
      if (i < counts.length) {
        for (let p = csc.indptr[i]!; p < csc.indptr[i + 1]!; p++) {
          const u = csc.users[p]!;
          if (data.live?.has(data.interactions.userIds[u]!)) continue;
          rows.push(model.userFactors.subarray(u * f, (u + 1) * f));
          ratings.push(csc.ratings[p]!);
        }
      }
      for (const userId of data.live?.ids() ?? []) {
        const h = data.live!.get(userId)!;
        const k = h.items.indexOf(i);
        if (k < 0) continue;
        const v = als.userVector({ ctx: { userId }, history: h });
        if (!v) continue;
        rows.push(Float32Array.from(v));
        ratings.push(h.ratings[k]!);
      }
      if (rows.length === 0) continue;
      const vectors = new Float32Array(rows.length * f);
      rows.forEach((r, k) => {
        vectors.set(r, k * f);
      });
      model.setItemFactor(i, model.foldInItemFromVectors(vectors, ratings));
    }
  }

  /** Creates a user with ratings; the next recommendation for them reflects the ratings. */
  addUser(ratings: readonly UserRatingInput[]): Promise<UserView> {
    return this.served.writes.run(async () => {
      this.checkStored(ratings);
      const userId = await this.served.store.addUser(ratings);
      this.served.live.set(userId, { items: new Int32Array(0), ratings: new Float32Array(0) });
      this.applyRatings(userId, ratings);
      await this.refoldItems(ratings.map((r) => r.movieId));
      return this.user(userId);
    });
  }

  /** Adds or changes ratings of an existing user. */
  rate(userId: number, ratings: readonly UserRatingInput[]): Promise<UserView> {
    return this.served.writes.run(async () => {
      this.served.requireUser(userId);
      if (ratings.length === 0) throw new ValidationError('give at least one rating', 'ratings');
      this.checkStored(ratings);
      await this.served.store.putRatings(userId, ratings);
      this.applyRatings(userId, ratings);
      await this.refoldItems(ratings.map((r) => r.movieId));
      return this.user(userId);
    });
  }

  /** A user's history (latest first), counts, taste cluster and the scenario the router would choose. */
  async user(userId: number, historyLimit = 50): Promise<UserView> {
    const { served } = this;
    served.requireUser(userId);
    const rows = await served.store.userRatings(userId);
    const positive = rows.filter((r) => r.rating >= served.config.router.positiveRating).length;
    const router = (await served.strategy('router')) as RouterStrategy;
    const query = { ctx: { userId }, history: served.historyOf(userId) };
    const decision = router.decide(query);
    const users = (await served.strategy('user-cluster')) as UserClusterStrategy;
    return {
      cluster: users.clusterOf(query),
      userId,
      ratings: rows.length,
      positive,
      meanRating: rows.length ? round4(rows.reduce((a, r) => a + r.rating, 0) / rows.length) : null,
      scenario: decision.scenario,
      live: served.live.has(userId),
      history: rows
        .slice()
        .sort((a, b) => b.timestamp - a.timestamp || a.movieId - b.movieId)
        .slice(0, historyLimit)
        .map((r) => ({ ...summary(served.catalogue.get(r.movieId)!), rating: r.rating, timestamp: r.timestamp })),
    };
  }
}
