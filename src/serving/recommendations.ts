import { historyOf } from '../recommend/history.ts';
import type { Strategy } from '../recommend/strategy.ts';
import type { CatalogueService } from './catalogue.ts';
import { checkK, checkRatings, knownIds, resolveGenres } from './checks.ts';
import type { Served } from './served.ts';
import type { RecommendRequest, RoutedList } from './views.ts';

/** Ranked lists for every viewer, through the scenario router or a named strategy. */
export class RecommendationService {
  constructor(
    private readonly served: Served,
    private readonly catalogue: CatalogueService,
  ) {}

  /**
   * One entry for every viewer: the router decides from what is known (a user's history, anonymous ratings,
   * watched movies, genres) unless `strategy` overrides it.
   */
  recommend(req: RecommendRequest): Promise<RoutedList> {
    const s = this.served;
    const key = JSON.stringify(['recommend', s.stateStamp(), s.viewerStamp(req.userId), req]);
    return s.cache.get(key, () => this.compute(req));
  }

  private async compute(req: RecommendRequest): Promise<RoutedList> {
    const { served } = this;
    const catalogue = served.catalogue;
    const warnings: string[] = [];
    const k = checkK(served.config, req.k);
    if (req.userId !== undefined) served.requireUser(req.userId);
    const watched = knownIds(catalogue, req.watched ?? [], 'watched', warnings);
    const rated = req.ratings ?? [];
    checkRatings(served.data.scale, rated, 'ratings');
    const ratedIds = knownIds(
      catalogue,
      rated.map((r) => r.movieId),
      'ratings',
      warnings,
    );
    const ratings = rated.filter((r) => ratedIds.includes(r.movieId));
    const genres = resolveGenres(catalogue, req.genres ?? []);
    const ctx = {
      ...(req.userId !== undefined ? { userId: req.userId } : {}),
      ...(watched.length ? { watched } : {}),
      ...(ratings.length ? { ratings } : {}),
      ...(genres.length ? { genres, genreMatch: req.match ?? 'any' } : {}),
    };
    let strategy: Strategy;
    let scenario: RoutedList['scenario'];
    let reason: string;
    let name: string;
    if (req.strategy !== undefined) {
      strategy = await served.strategy(req.strategy);
      scenario = 'override';
      reason = `strategy ${req.strategy} requested`;
      name = strategy.name;
    } else {
      const router = await served.router();
      const d = await router.route({ ctx, history: historyOf(ctx, served.data) });
      strategy = router;
      scenario = d.scenario;
      reason = d.reason;
      name = d.strategy.name;
    }
    const ranked = served.pipeline.rank(strategy, { ctx, k, ...(req.exclude ? { exclude: req.exclude } : {}) });
    return { scenario, strategy: name, reason, items: ranked.map((r) => this.catalogue.recommended(r)), warnings };
  }
}
