import {
  type Params,
  paramsOf,
  RATING_MODELS,
  STRATEGIES,
  searchSpaceOf,
  settingUpdates,
  tunable,
} from '../components/index.ts';
import type { SearchRange } from '../components/params.ts';
import type { Config } from '../config/config.ts';
import { evaluateRanking, evaluateRating } from '../evaluation/evaluator.ts';
import { evaluateScenario, type ScenarioName } from '../evaluation/scenarios.ts';
import { Rng } from '../math/random.ts';
import type { Snapshot } from '../store/snapshot.ts';
import type { RunTracker } from '../tracking/runs.ts';
import { ValidationError } from '../util/errors.ts';
import { evalDataOf } from './training-data.ts';

/**
 * `cinerec tune <name>`: seeded random search over a strategy's parameters, each trial scored on a
 * validation split and recorded as a run. The split's seed is not an evaluation seed, so a later
 * `cinerec eval` with the usual seeds is not the data the parameters were picked on.
 */

type Dim = SearchRange & { integer: boolean };

export interface TuneOptions {
  name: string;
  trials: number;
  seed: number;
  /** Validation split: share of each user's ratings kept for training. */
  trainFraction: number;
  k: number;
  /**
   * Score each trial in a scenario's own evaluation (its held-out viewers, seeded by `seed`, one fold of
   * `userFolds`) instead of the weak-generalisation split: NDCG@k averaged over the given counts.
   */
  scenario?: { name: Exclude<ScenarioName, 'personalised'>; given?: number[]; userFolds?: number };
  tracker: RunTracker;
  codeVersion: string;
  onTrial?: (t: Trial, best: Trial) => void;
}

export interface Trial {
  trial: number;
  params: Params;
  /** NDCG@k (ranking) or RMSE (rating). */
  score: number;
  metrics: Record<string, number>;
  runId: string;
}

export interface TuneResult {
  name: string;
  kind: 'ranking' | 'rating';
  metric: string;
  runId: string;
  trials: Trial[];
  best: Trial;
  /** The configuration's own parameters, scored the same way: what the best must beat. */
  baseline: Trial;
}

function sample(dim: Dim, rng: Rng): number {
  const u = rng.next();
  let x =
    dim.kind === 'log'
      ? Math.exp(Math.log(dim.min) + u * (Math.log(dim.max) - Math.log(dim.min)))
      : dim.min + u * (dim.max - dim.min);
  if (dim.integer) x = Math.round(x);
  return Number(x.toPrecision(4));
}

export async function tune(config: Config, snapshot: Snapshot, o: TuneOptions): Promise<TuneResult> {
  const rating = RATING_MODELS.has(o.name) && !STRATEGIES.has(o.name);
  if (rating && o.scenario)
    throw new ValidationError(`"${o.name}" is a rating model: a scenario tunes ranking strategies`, '--scenario');
  const entry = rating ? RATING_MODELS.get(o.name) : STRATEGIES.get(o.name);
  const space = entry ? searchSpaceOf(entry) : {};
  if (!entry || Object.keys(space).length === 0)
    throw new ValidationError(`cannot tune "${o.name}"; tunable: ${tunable().join(', ')}`, 'name');
  if (!(Number.isInteger(o.trials) && o.trials >= 1))
    throw new ValidationError('--trials must be a whole number ≥ 1', '--trials');
  const defaults = paramsOf(entry, config);
  const data = evalDataOf(snapshot);
  const metric = rating ? 'rmse' : 'ndcg';
  const parent = o.tracker.start({
    kind: `tune:${o.name}`,
    params: {
      name: o.name,
      trials: o.trials,
      seed: o.seed,
      trainFraction: o.trainFraction,
      k: o.k,
      ...(o.scenario ? { scenario: o.scenario.name, given: (o.scenario.given ?? []).join(',') } : {}),
    },
    dataFingerprint: snapshot.fingerprint,
    codeVersion: o.codeVersion,
  });
  const score = async (trial: number, params: Params): Promise<Trial> => {
    const run = o.tracker.start({
      kind: `trial:${o.name}`,
      parentId: parent.id,
      params: { trial, ...params },
      dataFingerprint: snapshot.fingerprint,
      codeVersion: o.codeVersion,
    });
    try {
      const p = new Map([[o.name, params]]);
      if (o.scenario) {
        const metrics = await scenarioMetrics(data, config, o, p, trial);
        o.tracker.finish(run.id, { metrics });
        return { trial, params, score: metrics[metric]!, metrics, runId: run.id };
      }
      const report = rating
        ? await evaluateRating(data, config, {
            id: `tune-${o.name}-${trial}`,
            models: [o.name],
            params: p,
            split: { kind: 'stratified', ratio: o.trainFraction },
            seeds: [o.seed],
          })
        : await evaluateRanking(data, config, {
            id: `tune-${o.name}-${trial}`,
            strategies: [o.name],
            params: p,
            split: { kind: 'stratified', ratio: o.trainFraction },
            seeds: [o.seed],
            k: o.k,
            relevance: { kind: 'all' },
          });
      const metrics = Object.fromEntries(Object.entries(report.strategies[0]!.metrics).map(([k, v]) => [k, v.mean]));
      o.tracker.finish(run.id, { metrics });
      return { trial, params, score: metrics[metric]!, metrics, runId: run.id };
    } catch (err) {
      o.tracker.fail(run.id, err);
      throw err;
    }
  };
  try {
    const better = (a: Trial, b: Trial) => (rating ? a.score < b.score : a.score > b.score);
    const baseline = await score(0, { ...defaults });
    let best = baseline;
    const trials: Trial[] = [];
    const rng = new Rng(o.seed, 7);
    for (let t = 1; t <= o.trials; t++) {
      const params: Params = { ...defaults };
      for (const [key, dim] of Object.entries(space)) params[key] = sample(dim, rng);
      const trial = await score(t, params);
      trials.push(trial);
      if (better(trial, best)) best = trial;
      o.onTrial?.(trial, best);
    }
    o.tracker.finish(parent.id, {
      metrics: { [`best.${metric}`]: best.score, [`baseline.${metric}`]: baseline.score, bestTrial: best.trial },
      curves: { [metric]: trials.map((t) => ({ step: t.trial, value: t.score })) },
      note: `best ${Object.entries(best.params)
        .map(([k, v]) => `${o.name}.${k}=${v}`)
        .join(' ')}`,
    });
    return { name: o.name, kind: rating ? 'rating' : 'ranking', metric, runId: parent.id, trials, best, baseline };
  } catch (err) {
    o.tracker.fail(parent.id, err);
    throw err;
  }
}

/**
 * A trial in a scenario: the viewers of the first of `userFolds` user folds under the tuning seed (a seed the
 * scenario reports do not use), ranked by the strategy fitted on everyone else; metrics averaged over the counts.
 */
async function scenarioMetrics(
  data: ReturnType<typeof evalDataOf>,
  config: Config,
  o: TuneOptions,
  params: Map<string, Params>,
  trial: number,
): Promise<Record<string, number>> {
  const s = o.scenario!;
  const reports = await evaluateScenario(data, config, {
    scenario: s.name,
    id: `tune-${o.name}-${trial}`,
    strategies: [o.name],
    params,
    seeds: [o.seed],
    k: o.k,
    userFolds: s.userFolds ?? 3,
    foldsUsed: 1,
    ...(s.given ? { given: s.given } : {}),
  });
  const sums: Record<string, number> = {};
  for (const r of reports)
    for (const [key, v] of Object.entries(r.strategies[0]!.metrics)) sums[key] = (sums[key] ?? 0) + v.mean;
  return Object.fromEntries(Object.entries(sums).map(([key, v]) => [key, v / reports.length]));
}

/** The settings a tuned parameter set stands for, e.g. als.factors (every parameter names a setting). */
export function configUpdates(name: string, params: Params): Record<string, number> {
  const spec = STRATEGIES.get(name) ?? RATING_MODELS.get(name);
  return spec ? settingUpdates(spec, params) : {};
}
