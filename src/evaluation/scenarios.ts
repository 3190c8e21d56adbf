/**
 * Scenario evaluations: each of the router's situations measured on its own viewers. Held-out users are never
 * trained on (strong generalisation, every user held out once per seed through user folds); each is told only
 * what a viewer in that situation would have told us (a few watched movies, a few ratings, one movie nobody has
 * rated yet) and the recommender ranks the rest of what they liked. The protocols are in docs/evaluation.md.
 */
import { FittingModels } from '../components/fitting.ts';
import { type Params, paramsOf, strategySpec, withParams } from '../components/index.ts';
import { StrategyBook } from '../components/strategy-book.ts';
import type { Config } from '../config/config.ts';
import { Interactions } from '../data/interactions.ts';
import { Rng } from '../math/random.ts';
import type { RatedMovie, TrainingData, ViewerContext } from '../recommend/strategy.ts';
import { ValidationError } from '../util/errors.ts';
import { type Progress, silentProgress } from '../util/progress.ts';
import { aggregate, type EvalData, evaluateRanking } from './evaluator.ts';
import { measureRanking, RANKING_METRICS, type TestUser } from './measure.ts';
import type { EvaluationReport, EvaluationRun, StrategyResult } from './report-types.ts';

export const SCENARIOS = ['watched', 'few-ratings', 'new-movie', 'personalised'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ScenarioOptions {
  scenario: ScenarioName;
  strategies: string[];
  params?: Map<string, Params>;
  seeds: number[];
  k: number;
  /** Users are cut into this many folds per seed; each fold is held out once (one fit per fold). */
  userFolds?: number;
  /** Only the first this many folds are evaluated (fewer fits; default all). */
  foldsUsed?: number;
  /** How much each test user tells: watched movies (watched), ratings (few-ratings). One report per count. */
  given?: number[];
  /** A held-out movie rated at least this is relevant (liked). */
  likedRating?: number;
  /** new-movie: share of the rated movies whose ratings are all removed from training. */
  coldMovies?: number;
  progress?: Progress;
  /** Report ids are `${id}-${variant}`. */
  id: string;
  now?: Date;
}

/** What each scenario's viewer tells by default, and what the personalised comparison uses. */
export const SCENARIO_DEFAULTS: Record<ScenarioName, { given: number[]; strategies: string[] }> = {
  watched: {
    given: [1, 3, 5],
    strategies: ['most-popular', 'content', 'hybrid', 'itemknn', 'ease', 'rp3beta', 'ensemble', 'similar', 'router'],
  },
  'few-ratings': {
    given: [2, 3, 4],
    strategies: ['most-popular', 'content-popular', 'itemknn', 'ease', 'rp3beta', 'ensemble', 'similar', 'router'],
  },
  'new-movie': { given: [1], strategies: ['most-popular', 'content', 'hybrid', 'similar', 'router'] },
  personalised: {
    given: [],
    strategies: ['most-popular', 'itemknn', 'als', 'ease', 'rp3beta', 'ensemble', 'similar', 'router'],
  },
};

const TWO_32 = 4294967296;
const PURPOSE_USER_FOLDS = 11;
const PURPOSE_GIVEN = 12;
const PURPOSE_COLD = 13;

function rngFor(seed: number, purpose: number, stream = 0): Rng {
  return new Rng(seed + purpose * TWO_32, stream >>> 0);
}

/** Rows of each user (ascending user id; rows ascending within a user). */
function rowsByUser(userId: Int32Array): { ids: number[]; rows: number[][] } {
  const byUser = new Map<number, number[]>();
  for (let r = 0; r < userId.length; r++) {
    const u = userId[r]!;
    let list = byUser.get(u);
    if (!list) {
      list = [];
      byUser.set(u, list);
    }
    list.push(r);
  }
  const ids = [...byUser.keys()].sort((a, b) => a - b);
  return { ids, rows: ids.map((u) => byUser.get(u)!) };
}

interface SeedRun {
  users: number;
  sums: Record<string, number>;
  fit: number;
  predict: number;
  recommended: Uint8Array;
}

interface Fold {
  seed: number;
  fold: number;
  train: TrainingData;
  /** Per variant (given count), the fold's test users. */
  users: TestUser[][];
}

function check(o: ScenarioOptions, folds: number, given: number[], liked: number, cold: number): void {
  if (!(Number.isInteger(folds) && folds >= 2 && folds <= 100))
    throw new ValidationError(`user folds must be a whole number from 2 to 100, got ${folds}`, '--user-folds');
  const used = o.foldsUsed ?? folds;
  if (!(Number.isInteger(used) && used >= 1 && used <= folds))
    throw new ValidationError(`folds used must be a whole number from 1 to ${folds}, got ${used}`, '--folds-used');
  if (given.length === 0 || given.some((g) => !(Number.isInteger(g) && g >= 1 && g <= 1000)))
    throw new ValidationError(`--given must be whole numbers from 1 to 1000, got ${given.join(',')}`, '--given');
  if (o.scenario === 'new-movie' && given.some((g) => g !== 1))
    throw new ValidationError('the new-movie scenario gives exactly one movie (--given 1)', '--given');
  if (!Number.isFinite(liked)) throw new ValidationError('the liked rating must be a number', '--min-rating');
  if (!(cold > 0 && cold < 1))
    throw new ValidationError(`the cold-movie share must be strictly between 0 and 1, got ${cold}`, '--cold-movies');
  if (o.seeds.length === 0) throw new ValidationError('name at least one seed', '--seeds');
}

/**
 * The held-out users of one scenario and their training data, per seed and user fold.
 * - watched: the first n of a seeded shuffle of the user's rated movies are given as watched (no ratings);
 * - few-ratings: the same n movies are given with their ratings;
 * - new-movie: movies are cold (a seeded share loses every training rating); the user's first cold movie in the
 *   shuffle is given as watched.
 * Relevant: the user's movies rated ≥ likedRating after the largest given count (so every variant ranks against
 * the same movies); the shuffle's other first movies are neither given nor relevant and are not ranked.
 */
function prepareFolds(data: EvalData, o: ScenarioOptions, folds: number, given: number[], liked: number, cold: number) {
  const { rows, catalogue } = data;
  const { ids, rows: userRows } = rowsByUser(rows.userId);
  const maxGiven = Math.max(...given);
  const used = o.foldsUsed ?? folds;
  const out: Fold[] = [];
  for (const seed of o.seeds) {
    const order = Int32Array.from(ids.keys());
    rngFor(seed, PURPOSE_USER_FOLDS).shuffle(order);
    const foldOf = new Int32Array(ids.length);
    order.forEach((u, pos) => {
      foldOf[u] = pos % folds;
    });
    // new-movie: the cold movies of this seed (among movies with at least one rating).
    const isCold = new Uint8Array(catalogue.size);
    if (o.scenario === 'new-movie') {
      const rated = new Uint8Array(catalogue.size);
      for (let r = 0; r < rows.movieId.length; r++) {
        const i = catalogue.indexOf(rows.movieId[r]!);
        if (i >= 0) rated[i] = 1;
      }
      const movies = Int32Array.from(Array.from(rated.keys()).filter((i) => rated[i]));
      rngFor(seed, PURPOSE_COLD).shuffle(movies);
      const m = Math.max(1, Math.round(cold * movies.length));
      for (let t = 0; t < m; t++) isCold[movies[t]!] = 1;
    }
    const coldRow = (r: number) => {
      const i = catalogue.indexOf(rows.movieId[r]!);
      return i >= 0 && isCold[i] === 1;
    };
    for (let f = 0; f < used; f++) {
      const trainRows: number[] = [];
      const users: TestUser[][] = given.map(() => []);
      for (let u = 0; u < ids.length; u++) {
        const list = userRows[u]!;
        if (foldOf[u] !== f) {
          for (const r of list) if (o.scenario !== 'new-movie' || !coldRow(r)) trainRows.push(r);
          continue;
        }
        // A held-out user: never trained on.
        const shuffled = Int32Array.from(list);
        rngFor(seed, PURPOSE_GIVEN, ids[u]!).shuffle(shuffled);
        if (o.scenario === 'new-movie') {
          const at = shuffled.findIndex(coldRow);
          if (at < 0) continue;
          const relevant = new Set<number>();
          for (let t = 0; t < shuffled.length; t++)
            if (t !== at && rows.rating[shuffled[t]!]! >= liked) relevant.add(rows.movieId[shuffled[t]!]!);
          if (relevant.size === 0) continue;
          users[0]!.push({ userId: ids[u]!, ctx: { watched: [rows.movieId[shuffled[at]!]!] }, relevant });
          continue;
        }
        if (shuffled.length <= maxGiven) continue;
        const relevant = new Set<number>();
        for (let t = maxGiven; t < shuffled.length; t++)
          if (rows.rating[shuffled[t]!]! >= liked) relevant.add(rows.movieId[shuffled[t]!]!);
        if (relevant.size === 0) continue;
        given.forEach((n, v) => {
          const head = Array.from(shuffled.subarray(0, n));
          const ctx: ViewerContext =
            o.scenario === 'watched'
              ? { watched: head.map((r) => rows.movieId[r]!) }
              : { ratings: head.map((r): RatedMovie => ({ movieId: rows.movieId[r]!, rating: rows.rating[r]! })) };
          const exclude = Array.from(shuffled.subarray(n, maxGiven), (r) => rows.movieId[r]!);
          users[v]!.push({ userId: ids[u]!, ctx, relevant, ...(exclude.length ? { exclude } : {}) });
        });
      }
      trainRows.sort((a, b) => a - b);
      const train: TrainingData = {
        catalogue,
        interactions: Interactions.build(rows, catalogue, trainRows),
        scale: data.scale,
        ...(data.content ? { content: data.content } : {}),
      };
      out.push({ seed, fold: f, train, users });
    }
  }
  return out;
}

function describe(o: ScenarioOptions, n: number, folds: number, liked: number, cold: number): string {
  const used = o.foldsUsed ?? folds;
  const foldText = used === folds ? `${folds} user folds` : `${used} of ${folds} user folds`;
  switch (o.scenario) {
    case 'watched':
      return `scenario watched: given ${n} watched movie${n === 1 ? '' : 's'}, ${foldText}, relevant = the rest rated ≥ ${liked}`;
    case 'few-ratings':
      return `scenario few-ratings: given ${n} rating${n === 1 ? '' : 's'}, ${foldText}, relevant = the rest rated ≥ ${liked}`;
    case 'new-movie':
      return `scenario new-movie: given 1 watched movie without training ratings (${cold} of the rated movies cold), ${foldText}, relevant = the rest rated ≥ ${liked}`;
    default:
      return `scenario ${o.scenario}`;
  }
}

/**
 * One report per given count (watched, few-ratings, new-movie), or the personalised comparison: the standard
 * weak-generalisation protocol (stratified 0.75, every held-out movie relevant) that the README's table uses.
 */
export async function evaluateScenario(
  data: EvalData,
  config: Config,
  o: ScenarioOptions,
): Promise<EvaluationReport[]> {
  if (o.scenario === 'personalised') {
    const report = await evaluateRanking(data, config, {
      id: `${o.id}-personalised`,
      strategies: o.strategies,
      ...(o.params ? { params: o.params } : {}),
      split: { kind: 'stratified', ratio: 0.75 },
      seeds: o.seeds,
      k: o.k,
      relevance: o.likedRating !== undefined ? { kind: 'min-rating', minRating: o.likedRating } : { kind: 'all' },
      ...(o.progress ? { progress: o.progress } : {}),
      ...(o.now ? { now: o.now } : {}),
    });
    return [{ ...report, protocol: { ...report.protocol, split: `scenario personalised: ${report.protocol.split}` } }];
  }
  const started = performance.now();
  const progress = o.progress ?? silentProgress;
  const folds = o.userFolds ?? 5;
  const given = o.given ?? SCENARIO_DEFAULTS[o.scenario].given;
  const liked = o.likedRating ?? 4;
  const cold = o.coldMovies ?? 0.1;
  check(o, folds, given, liked, cold);
  const prepared = prepareFolds(data, o, folds, given, liked, cold);
  const total = prepared.reduce((s, p) => s + p.users.reduce((a, u) => a + u.length, 0), 0) * o.strategies.length;
  progress.start(total, `evaluate ${o.scenario}`);
  let done = 0;
  // results[variant][strategy]
  const results: StrategyResult[][] = given.map(() => []);
  try {
    for (const name of o.strategies) {
      const spec = strategySpec(name);
      const tuned = withParams(config, spec, o.params?.get(name));
      const params = paramsOf(spec, tuned);
      // Per variant, per seed: users of every fold pooled into one run (a run is a seed, as in evaluateRanking).
      const perSeed = given.map(() => new Map<number, SeedRun>());
      // One seed: intervals over users, so every user's values are kept.
      const perUser = given.map(() => new Map<string, number[]>());
      let description = spec.description;
      for (const fold of prepared) {
        const fitStart = performance.now();
        const strategy = await new StrategyBook(fold.train, tuned, new FittingModels(fold.train, tuned)).get(name);
        description = strategy.description;
        const fitSeconds = (performance.now() - fitStart) / 1000;
        given.forEach((_n, v) => {
          const users = fold.users[v]!;
          const m = measureRanking(strategy, fold.train, users, o.k, () => progress.update(++done));
          let acc = perSeed[v]!.get(fold.seed);
          if (!acc) {
            acc = { users: 0, sums: {}, fit: 0, predict: 0, recommended: new Uint8Array(data.catalogue.size) };
            perSeed[v]!.set(fold.seed, acc);
          }
          for (const [key, values] of Object.entries(m.values)) {
            acc.sums[key] = (acc.sums[key] ?? 0) + m.metrics[key]! * users.length;
            if (o.seeds.length === 1) {
              const all = perUser[v]!.get(key) ?? [];
              for (const x of values) all.push(x);
              perUser[v]!.set(key, all);
            }
          }
          for (let i = 0; i < m.recommended.length; i++) if (m.recommended[i]) acc.recommended[i] = 1;
          acc.users += users.length;
          acc.fit += v === 0 ? fitSeconds : 0;
          acc.predict += m.seconds;
        });
      }
      given.forEach((n, v) => {
        const runs: EvaluationRun[] = [];
        for (const [seed, acc] of perSeed[v]!) {
          const metrics: Record<string, number> = {};
          for (const key of RANKING_METRICS)
            metrics[key] =
              key === 'coverage'
                ? acc.recommended.reduce((s, x) => s + x, 0) / data.catalogue.size
                : (acc.sums[key] ?? 0) / Math.max(1, acc.users);
          runs.push({
            split: `${o.scenario} given ${n} seed ${seed}`,
            seed,
            evaluated: acc.users,
            metrics,
            fitSeconds: acc.fit,
            predictSeconds: acc.predict,
          });
        }
        results[v]!.push({
          name,
          description,
          params,
          metrics: aggregate(runs, perUser[v]!, RANKING_METRICS),
          runs,
          fitSeconds: runs.reduce((s, r) => s + r.fitSeconds, 0),
          predictSeconds: runs.reduce((s, r) => s + r.predictSeconds, 0),
        });
      });
    }
  } finally {
    progress.stop();
  }
  const elapsed = (performance.now() - started) / 1000;
  return given.map((n, v) => ({
    id: `${o.id}-${o.scenario}-${n}`,
    kind: 'ranking' as const,
    createdAt: (o.now ?? new Date()).toISOString(),
    dataset: data.dataset,
    protocol: {
      split: describe(o, n, folds, liked, cold),
      seeds: o.seeds,
      k: o.k,
      relevance: { kind: 'min-rating' as const, minRating: liked },
      scenario: { name: o.scenario, given: n, userFolds: folds, foldsUsed: o.foldsUsed ?? folds },
    },
    metricOrder: [...RANKING_METRICS],
    strategies: results[v]!,
    elapsedSeconds: elapsed,
  }));
}
