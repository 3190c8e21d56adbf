import type { Config } from '../config/config.ts';
import { evaluateRanking, evaluateRating } from '../evaluation/evaluator.ts';
import { Rng } from '../math/random.ts';
import { defaultsOf, type Params, RATING_MODELS, STRATEGIES } from '../recommend/registry.ts';
import { ValidationError } from '../util/errors.ts';
import type { RunTracker } from './runs.ts';
import type { Snapshot } from './snapshot.ts';
import { evalDataOf } from './training-data.ts';

/**
 * `cinerec tune <name>`: seeded random search over a strategy's parameters, each trial scored on a
 * validation split and recorded as a run. The split's seed is not an evaluation seed, so a later
 * `cinerec eval` with the usual seeds is not the data the parameters were picked on.
 */

type Dim =
  | { kind: 'log'; min: number; max: number; integer?: boolean }
  | { kind: 'uniform'; min: number; max: number; integer?: boolean };

/** Search spaces; ranges around what is known to work on MovieLens. */
export const SEARCH_SPACES: Readonly<Record<string, Record<string, Dim>>> = {
  als: {
    factors: { kind: 'log', min: 16, max: 256, integer: true },
    regularization: { kind: 'log', min: 0.01, max: 100 },
    alpha: { kind: 'log', min: 0.1, max: 40 },
    iterations: { kind: 'uniform', min: 5, max: 25, integer: true },
  },
  ease: { lambda: { kind: 'log', min: 10, max: 5000 } },
  hybrid: {
    alsWeight: { kind: 'uniform', min: 0, max: 1 },
    contentWeight: { kind: 'uniform', min: 0, max: 1 },
  },
  'user-cluster': {
    clusters: { kind: 'log', min: 4, max: 100, integer: true },
    smoothing: { kind: 'log', min: 0.5, max: 50 },
  },
  'content-popular': { contentWeight: { kind: 'uniform', min: 0, max: 1 } },
  mf: {
    factors: { kind: 'log', min: 8, max: 256, integer: true },
    lr: { kind: 'log', min: 0.001, max: 0.05 },
    reg: { kind: 'log', min: 0.005, max: 0.2 },
  },
};

export interface TuneOptions {
  name: string;
  trials: number;
  seed: number;
  /** Validation split: share of each user's ratings kept for training. */
  trainFraction: number;
  k: number;
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
  const space = SEARCH_SPACES[o.name];
  const rating = o.name in RATING_MODELS && !(o.name in STRATEGIES);
  const entry = rating ? RATING_MODELS[o.name] : STRATEGIES[o.name];
  if (!space || !entry)
    throw new ValidationError(`cannot tune "${o.name}"; tunable: ${Object.keys(SEARCH_SPACES).join(', ')}`, 'name');
  if (!(Number.isInteger(o.trials) && o.trials >= 1))
    throw new ValidationError('--trials must be a whole number ≥ 1', '--trials');
  const defaults = rating ? defaultsOf(RATING_MODELS[o.name]!, config) : defaultsOf(STRATEGIES[o.name]!, config);
  const data = evalDataOf(snapshot);
  const metric = rating ? 'rmse' : 'ndcg';
  const parent = o.tracker.start({
    kind: `tune:${o.name}`,
    params: { name: o.name, trials: o.trials, seed: o.seed, trainFraction: o.trainFraction, k: o.k },
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

/** The tuned parameters that are settings of the configuration (section.key), e.g. als.factors. */
export function configUpdates(config: Config, name: string, params: Params): Record<string, number> {
  const section = (config as unknown as Record<string, unknown>)[name === 'user-cluster' ? 'userClusters' : name];
  const out: Record<string, number> = {};
  if (typeof section !== 'object' || section === null) return out;
  for (const [k, v] of Object.entries(params))
    if (k in section) out[`${name === 'user-cluster' ? 'userClusters' : name}.${k}`] = v;
  return out;
}
