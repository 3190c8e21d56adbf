import type { UserClusterStrategy } from '../recommend/strategies/user-cluster.ts';
import { checkStoredRatings } from './checks.ts';
import type { Served } from './served.ts';
import { round4, summary, type UserRatingInput, type UserView } from './views.ts';

/** Viewers: users created and rated while serving (stored, then folded in at once), and a user's view. */
export class ViewerService {
  constructor(private readonly served: Served) {}

  /** Ratings to store: at least one, valid values, every movie in the catalogue (the same rule for both writes). */
  private checkStored(ratings: readonly UserRatingInput[]): void {
    checkStoredRatings(this.served.data.scale, this.served.catalogue, ratings, 'ratings');
  }

  /** Merges the new ratings into the user's history, serves it live, and tells the other serving processes. */
  private async applyRatings(userId: number, ratings: readonly UserRatingInput[]): Promise<void> {
    const { served } = this;
    const catalogue = served.catalogue;
    const merged = new Map<number, number>();
    const h = served.historyOf(userId);
    for (let k = 0; k < h.items.length; k++) merged.set(catalogue.movies[h.items[k]!]!.movieId, h.ratings[k]!);
    for (const r of ratings) merged.set(r.movieId, r.rating);
    const movieIds = [...merged.keys()];
    const values = movieIds.map((id) => merged.get(id)!);
    served.setHistory(userId, movieIds, values);
    await served.refoldMovies(ratings.map((r) => r.movieId));
    // Refolding moved item factors: redo this user's derived state now (the write's cost), not on their next read.
    served.live.refresh(userId);
    await served.changes.publish({ kind: 'ratings', userId, movieIds, ratings: values });
  }

  /** Creates a user with ratings; the next recommendation for them reflects the ratings. */
  addUser(ratings: readonly UserRatingInput[]): Promise<UserView> {
    return this.served.writes.run(async () => {
      this.checkStored(ratings);
      const userId = await this.served.store.addUser(ratings);
      this.served.live.set(userId, { items: new Int32Array(0), ratings: new Float32Array(0) });
      await this.applyRatings(userId, ratings);
      return this.user(userId);
    });
  }

  /** Adds or changes ratings of an existing user. */
  rate(userId: number, ratings: readonly UserRatingInput[]): Promise<UserView> {
    return this.served.writes.run(async () => {
      this.served.requireUser(userId);
      this.checkStored(ratings);
      await this.served.store.putRatings(userId, ratings);
      await this.applyRatings(userId, ratings);
      return this.user(userId);
    });
  }

  /** A user's history (latest first), counts, taste cluster and the scenario the router would choose. */
  async user(userId: number, historyLimit = 50): Promise<UserView> {
    const { served } = this;
    served.requireUser(userId);
    const rows = await served.store.userRatings(userId);
    const positive = rows.filter((r) => r.rating >= served.config.router.positiveRating).length;
    const router = await served.router();
    const query = { ctx: { userId }, history: served.historyOf(userId) };
    const scenario = router.scenarioOf(query);
    const users = (await served.strategy('user-cluster')) as UserClusterStrategy;
    return {
      cluster: users.clusterOf(query),
      userId,
      ratings: rows.length,
      positive,
      meanRating: rows.length ? round4(rows.reduce((a, r) => a + r.rating, 0) / rows.length) : null,
      scenario,
      live: served.live.has(userId),
      history: rows
        .slice()
        .sort((a, b) => b.timestamp - a.timestamp || a.movieId - b.movieId)
        .slice(0, historyLimit)
        .map((r) => ({ ...summary(served.catalogue.get(r.movieId)!), rating: r.rating, timestamp: r.timestamp })),
    };
  }
}
