import { FittingModels } from '../components/fitting.ts';
import { type Params, paramsOf, ratingSpec, strategySpec, withParams } from '../components/index.ts';
import { StrategyBook } from '../components/strategy-book.ts';
import type { Config } from '../config/config.ts';
import type { Catalogue } from '../data/catalogue.ts';
import { Interactions } from '../data/interactions.ts';
import type { ContentInputs } from '../features/content-features.ts';
import { Rng } from '../math/random.ts';
import type { RatedMovie, TrainingData } from '../recommend/strategy.ts';
import type { RatingColumns, RatingScale } from '../store/types.ts';
import { type Progress, silentProgress } from '../util/progress.ts';
import { measureRanking, RANKING_METRICS, type TestUser } from './measure.ts';
import { mae, meanInterval, rmse } from './metrics.ts';
import type { EvaluationReport, EvaluationRun, MetricInterval, StrategyResult } from './report-types.ts';
import { formatSplit, makeSplits, type Split, type SplitSpec, type StrongGeneralization } from './splits.ts';

export interface EvalData {
  rows: RatingColumns;
  catalogue: Catalogue;
  scale: RatingScale;
  dataset: { name: string; users: number; movies: number; ratings: number };
  /** Tags and genome, needed by the content strategies. */
  content?: ContentInputs;
}

export interface RankingEvalOptions {
  strategies: string[];
  params?: Map<string, Params>;
  split: SplitSpec;
  seeds: number[];
  k: number;
  relevance: { kind: 'all' } | { kind: 'min-rating'; minRating: number };
  strong?: StrongGeneralization;
  /** At most this many test users per split, a seeded sample (on large data sets); absent or 0: all of them. */
  maxUsers?: number;
  progress?: Progress;
  /** Report id and time; the caller names the report. */
  id: string;
  now?: Date;
}

export interface RatingEvalOptions {
  models: string[];
  params?: Map<string, Params>;
  split: SplitSpec;
  seeds: number[];
  progress?: Progress;
  id: string;
  now?: Date;
}

export { RANKING_METRICS };

const seconds = (from: number) => (performance.now() - from) / 1000;

/** A seeded sample of at most max users, in their original order (max 0: all). */
function sampleUsers(users: TestUser[], max: number, seed: number): TestUser[] {
  if (max <= 0 || users.length <= max) return users;
  const index = Int32Array.from(users, (_, i) => i);
  new Rng(seed, 7).shuffle(index);
  return Array.from(index.subarray(0, max).sort(), (i) => users[i]!);
}

/** One interval per metric: over users when there is one run, over run means when there are several. */
export function aggregate(
  runs: EvaluationRun[],
  perUser: Map<string, number[]> | null,
  metricNames: readonly string[],
) {
  const metrics: Record<string, MetricInterval> = {};
  for (const m of metricNames) {
    const values = runs.length === 1 && perUser?.has(m) ? perUser.get(m)! : runs.map((r) => r.metrics[m]!);
    metrics[m] = meanInterval(values);
  }
  return metrics;
}

function testUsers(rows: RatingColumns, split: Split, relevance: RankingEvalOptions['relevance']): TestUser[] {
  const relevant = new Map<number, Set<number>>();
  for (const r of split.test) {
    if (relevance.kind === 'min-rating' && rows.rating[r]! < relevance.minRating) continue;
    const u = rows.userId[r]!;
    let set = relevant.get(u);
    if (!set) {
      set = new Set();
      relevant.set(u, set);
    }
    set.add(rows.movieId[r]!);
  }
  // Strong generalisation: held-out users are anonymous, known only through their fold-in ratings.
  const foldIn = new Map<number, RatedMovie[]>();
  for (const r of split.foldIn ?? []) {
    const u = rows.userId[r]!;
    let list = foldIn.get(u);
    if (!list) {
      list = [];
      foldIn.set(u, list);
    }
    list.push({ movieId: rows.movieId[r]!, rating: rows.rating[r]! });
  }
  return [...relevant.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([userId, rel]) => {
      const anon = foldIn.get(userId);
      return { userId, relevant: rel, ctx: anon ? { ratings: anon } : { userId } };
    });
}

/** Top-k evaluation of ranking strategies; what is evaluated is the served pipeline (rules empty). */
export async function evaluateRanking(
  data: EvalData,
  config: Config,
  options: RankingEvalOptions,
): Promise<EvaluationReport> {
  const started = performance.now();
  const progress = options.progress ?? silentProgress;
  const { catalogue, rows } = data;
  const splits = options.seeds.flatMap((seed) =>
    makeSplits(rows, options.split, seed, options.strong).map((s) => ({ seed, split: s })),
  );
  const prepared = splits.map(({ seed, split }) => {
    const train: TrainingData = {
      catalogue,
      interactions: Interactions.build(rows, catalogue, split.train),
      scale: data.scale,
      ...(data.content ? { content: data.content } : {}),
    };
    const users = sampleUsers(testUsers(rows, split, options.relevance), options.maxUsers ?? 0, seed);
    return { seed, split, train, users };
  });
  const total = prepared.reduce((s, p) => s + p.users.length, 0) * options.strategies.length;
  progress.start(total, 'evaluate');
  let done = 0;
  const results: StrategyResult[] = [];
  try {
    for (const name of options.strategies) {
      const spec = strategySpec(name);
      // A strategy's parameters name settings: overriding one is evaluating with that setting.
      const tuned = withParams(config, spec, options.params?.get(name));
      const params = paramsOf(spec, tuned);
      const runs: EvaluationRun[] = [];
      const perUser = new Map<string, number[]>();
      let description = spec.description;
      for (const { seed, split, train, users } of prepared) {
        const fitStart = performance.now();
        // Fresh models per split: fitted here, on the training part only.
        const strategy = await new StrategyBook(train, tuned, new FittingModels(train, tuned)).get(name);
        description = strategy.description;
        const fitSeconds = seconds(fitStart);
        const measured = measureRanking(strategy, train, users, options.k, () => progress.update(++done));
        const { metrics, values } = measured;
        const predictSeconds = measured.seconds;
        runs.push({ split: split.name, seed, evaluated: users.length, metrics, fitSeconds, predictSeconds });
        if (prepared.length === 1) for (const [key, v] of Object.entries(values)) perUser.set(key, v);
      }
      results.push({
        name,
        description,
        params,
        metrics: aggregate(runs, perUser, RANKING_METRICS),
        runs,
        fitSeconds: runs.reduce((s, r) => s + r.fitSeconds, 0),
        predictSeconds: runs.reduce((s, r) => s + r.predictSeconds, 0),
      });
    }
  } finally {
    progress.stop();
  }
  return {
    id: options.id,
    kind: 'ranking',
    createdAt: (options.now ?? new Date()).toISOString(),
    dataset: data.dataset,
    protocol: {
      split: formatSplit(options.split),
      seeds: options.seeds,
      k: options.k,
      relevance: options.relevance,
      ...(options.strong ? { strongGeneralization: options.strong } : {}),
    },
    metricOrder: [...RANKING_METRICS],
    strategies: results,
    elapsedSeconds: seconds(started),
  };
}

/** RMSE/MAE of rating predictors on held-out ratings (Surprise's protocol with kfold). */
export async function evaluateRating(
  data: EvalData,
  config: Config,
  options: RatingEvalOptions,
): Promise<EvaluationReport> {
  const started = performance.now();
  const progress = options.progress ?? silentProgress;
  const { catalogue, rows } = data;
  const splits = options.seeds.flatMap((seed) =>
    makeSplits(rows, options.split, seed).map((s) => ({ seed, split: s })),
  );
  progress.start(splits.length * options.models.length, 'evaluate ratings');
  let done = 0;
  const results: StrategyResult[] = [];
  const prepared = splits.map(({ seed, split }) => ({
    seed,
    split,
    train: {
      catalogue,
      interactions: Interactions.build(rows, catalogue, split.train),
      scale: data.scale,
    } as TrainingData,
  }));
  try {
    for (const name of options.models) {
      const spec = ratingSpec(name);
      const tuned = withParams(config, spec, options.params?.get(name));
      const params = paramsOf(spec, tuned);
      const runs: EvaluationRun[] = [];
      let description = spec.description;
      for (const { seed, split, train } of prepared) {
        const fitStart = performance.now();
        const model = await new StrategyBook(train, tuned, new FittingModels(train, tuned)).rating(name);
        description = model.description;
        const fitSeconds = seconds(fitStart);
        const predictStart = performance.now();
        const predicted = new Float64Array(split.test.length);
        const actual = new Float64Array(split.test.length);
        for (let t = 0; t < split.test.length; t++) {
          const r = split.test[t]!;
          predicted[t] = model.predict(train.interactions.userOf(rows.userId[r]!), catalogue.indexOf(rows.movieId[r]!));
          actual[t] = rows.rating[r]!;
        }
        const predictSeconds = seconds(predictStart);
        runs.push({
          split: split.name,
          seed,
          evaluated: split.test.length,
          metrics: { rmse: rmse(predicted, actual), mae: mae(predicted, actual) },
          fitSeconds,
          predictSeconds,
        });
        progress.update(++done);
      }
      results.push({
        name,
        description,
        params,
        metrics: aggregate(runs, null, ['rmse', 'mae']),
        runs,
        fitSeconds: runs.reduce((s, r) => s + r.fitSeconds, 0),
        predictSeconds: runs.reduce((s, r) => s + r.predictSeconds, 0),
      });
    }
  } finally {
    progress.stop();
  }
  return {
    id: options.id,
    kind: 'rating',
    createdAt: (options.now ?? new Date()).toISOString(),
    dataset: data.dataset,
    protocol: { split: formatSplit(options.split), seeds: options.seeds },
    metricOrder: ['rmse', 'mae'],
    strategies: results,
    elapsedSeconds: seconds(started),
  };
}
