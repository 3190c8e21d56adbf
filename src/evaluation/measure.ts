import type { Catalogue } from '../data/catalogue.ts';
import { RankingPipeline } from '../recommend/pipeline.ts';
import { RuleSet } from '../recommend/rules.ts';
import type { Strategy, TrainingData, ViewerContext } from '../recommend/strategy.ts';
import {
  catalogueCoverage,
  intraListDiversity,
  meanPopularityPercentile,
  novelty,
  popularityPercentiles,
  rankingMetrics,
} from './metrics.ts';

/** Ranking metrics in report order: accuracy first, then beyond accuracy. */
export const RANKING_METRICS = [
  'ndcg',
  'precision',
  'recall',
  'map',
  'mrr',
  'hitRate',
  'coverage',
  'novelty',
  'diversity',
  'popularity',
] as const;

/** One test user: what the recommender is told, what counts as a hit, and what must not be ranked. */
export interface TestUser {
  userId: number;
  ctx: ViewerContext;
  relevant: Set<number>;
  /** Movie ids neither given nor relevant (e.g. a scenario's unused given movies): removed before the top k. */
  exclude?: readonly number[];
}

export interface MeasuredRun {
  /** Mean over users of every metric; coverage is one number for the run. */
  metrics: Record<string, number>;
  /** Per-user values of every metric but coverage, in user order. */
  values: Record<string, number[]>;
  /** Catalogue indices recommended to anyone (1 = recommended). */
  recommended: Uint8Array;
  seconds: number;
}

/**
 * Ranks through the served pipeline (no rules) for every test user and scores the top k: accuracy against the
 * relevant set, novelty and popularity percentile against the training interactions, genre diversity, coverage.
 */
export function measureRanking(
  strategy: Strategy,
  train: TrainingData,
  users: readonly TestUser[],
  k: number,
  onUser: () => void = () => {},
): MeasuredRun {
  const started = performance.now();
  const catalogue: Catalogue = train.catalogue;
  const pipeline = new RankingPipeline(
    () => train,
    () => new RuleSet([]),
  );
  const counts = train.interactions.itemCounts();
  const nUsers = train.interactions.nUsers;
  const percentiles = popularityPercentiles(counts);
  const share = (i: number) => (counts[i]! > 0 ? counts[i]! / nUsers : 1 / (nUsers + 1));
  const mask = (i: number) => catalogue.genreMask(i);
  const pct = (i: number) => percentiles[i]!;
  const sums: Record<string, number> = Object.fromEntries(RANKING_METRICS.map((m) => [m, 0]));
  const values: Record<string, number[]> = Object.fromEntries(
    RANKING_METRICS.filter((m) => m !== 'coverage').map((m) => [m, []]),
  );
  const recommended = new Uint8Array(catalogue.size);
  let distinct = 0;
  for (const user of users) {
    const list = pipeline.rank(strategy, {
      ctx: user.ctx,
      k,
      explain: false,
      ...(user.exclude ? { exclude: user.exclude } : {}),
    });
    const ids = list.map((r) => r.movieId);
    const idx = list.map((r) => r.index);
    for (const i of idx) {
      if (!recommended[i]) {
        recommended[i] = 1;
        distinct++;
      }
    }
    const m = rankingMetrics(ids, user.relevant, k);
    const row: Record<string, number> = {
      ndcg: m.ndcg,
      precision: m.precision,
      recall: m.recall,
      map: m.map,
      mrr: m.mrr,
      hitRate: m.hitRate,
      novelty: novelty(idx, share),
      diversity: intraListDiversity(idx, mask),
      popularity: meanPopularityPercentile(idx, pct),
    };
    for (const [key, v] of Object.entries(row)) {
      sums[key]! += v;
      values[key]!.push(v);
    }
    onUser();
  }
  const n = Math.max(1, users.length);
  const metrics: Record<string, number> = {};
  for (const key of RANKING_METRICS) metrics[key] = sums[key]! / n;
  metrics.coverage = catalogueCoverage(distinct, catalogue.size);
  return { metrics, values, recommended, seconds: (performance.now() - started) / 1000 };
}
