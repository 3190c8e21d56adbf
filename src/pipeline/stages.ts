import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainingDataOf, userCount } from '../components/data.ts';
import type { ModelSpec } from '../components/define.ts';
import { modelSpec, resolveNames, SERVED_MODELS, STRATEGIES, sectionsOf, settingsFor } from '../components/index.ts';
import type { ModelName } from '../components/models.ts';
import type { Section } from '../components/params.ts';
import { MODEL_DIR, SKIPPED_FILE, StoredModels, storedModelAt } from '../components/stored.ts';
import type { Config } from '../config/config.ts';
import { evaluateRanking } from '../evaluation/evaluator.ts';
import type { TrainingData } from '../recommend/strategy.ts';
import { readSnapshot, type Snapshot, writeSnapshot } from '../store/snapshot.ts';
import type { Progress } from '../util/progress.ts';
import type { Json, Stage, StageContext } from './dag.ts';
import { evalDataOf } from './training-data.ts';

/**
 * The training stages of `cinerec train`: the snapshot, one stage per trained model (generated from the model
 * declarations in components/), and the evaluation. A stage's parameters are the configuration sections its
 * component declares it reads; its code is the run-time import closure of the declaring module. A model version is
 * assembled from the stages' output directories: `<stage>/model/` holds the saved model, or `<stage>/skipped.json`
 * says why it was not trained on this data.
 */

type Ctx = StageContext<unknown>;

export interface StageDef extends Stage<unknown, Config> {
  description: string;
}

/** The data the snapshot stage freezes; supplied by the caller (from the store, or a retrain's snapshot). */
export interface SnapshotSource {
  /** The data's content fingerprint: the snapshot stage's external input. */
  fingerprint: string;
  get(): Promise<Snapshot>;
}

export function snapshotSource(s: Snapshot): SnapshotSource {
  return { fingerprint: s.fingerprint, get: async () => s };
}

/** A module beside this one, as it runs: the .ts source, or the compiled .js under dist/. */
const here = (module: string) =>
  fileURLToPath(new URL(import.meta.url.endsWith('.js') ? module.replace(/\.ts$/, '.js') : module, import.meta.url));

/**
 * The snapshot and the TrainingData built from it, kept for the process: every stage of one `cinerec train` reads
 * the same snapshot, and rebuilding the interaction matrix of 25 M ratings in each of fifteen stages cost about
 * 15 s a stage. Keyed by the snapshot's directory (its cache key), so a different snapshot is never mistaken for
 * it; one entry (a train has one snapshot), dropped when another arrives. Models treat TrainingData as read-only.
 */
let cached: { dir: string; snapshot: Snapshot; data: TrainingData | null } | null = null;

function snapshotAt(dir: string): { dir: string; snapshot: Snapshot; data: TrainingData | null } {
  if (cached?.dir !== dir) cached = { dir, snapshot: readSnapshot(dir), data: null };
  return cached;
}

function snapshotOf(io: Ctx): Snapshot {
  return snapshotAt(join(io.input('snapshot'), 'data')).snapshot;
}

function trainingDataFor(io: Ctx): TrainingData {
  const entry = snapshotAt(join(io.input('snapshot'), 'data'));
  entry.data ??= trainingDataOf(entry.snapshot);
  return entry.data;
}

/** Adapts a stage's per-iteration reporting to the Progress interface the models take. */
function progressOf(io: Ctx): Progress {
  let total = 0;
  return {
    start(t) {
      total = t;
    },
    update(done) {
      io.progress(done, total);
    },
    stop() {},
  };
}

function writeJson(dir: string, name: string, value: unknown): void {
  writeFileSync(join(dir, name), `${JSON.stringify(value, null, 1)}\n`);
}

/** The sections a component reads, without the settings it declares do not change what it fits. */
export function stageParams(reads: readonly Section[], ignore: readonly string[], config: Config): Json {
  const picked = structuredClone(settingsFor(reads, config)) as Record<string, unknown>;
  for (const path of ignore) {
    const keys = path.split('.');
    let node: unknown = picked;
    for (const key of keys.slice(0, -1)) node = (node as Record<string, unknown> | undefined)?.[key];
    if (node && typeof node === 'object') delete (node as Record<string, unknown>)[keys.at(-1)!];
  }
  return JSON.parse(JSON.stringify(picked)) as Json;
}

/** A model and every model it depends on, dependencies first. */
function withDeps(name: ModelName, out: ModelName[] = []): ModelName[] {
  for (const d of modelSpec(name).deps) withDeps(d, out);
  if (!out.includes(name)) out.push(name);
  return out;
}

function modelStage(spec: ModelSpec, config: Config): StageDef {
  const deps = withDeps(spec.name).filter((n) => n !== spec.name);
  return {
    name: spec.name,
    description: spec.description,
    deps: ['snapshot', ...deps],
    params: (c) => stageParams(spec.reads, spec.ignore ?? [], c),
    code: [fileURLToPath(spec.module), here('../components/data.ts')],
    async run(io) {
      const data = trainingDataFor(io);
      const settings = settingsFor(spec.reads, config);
      const skipped = spec.skip?.(data, settings) ?? null;
      if (skipped) {
        writeJson(io.outDir, SKIPPED_FILE, { reason: skipped });
        io.log(skipped);
        return { metrics: { skipped: 1 } };
      }
      const models = new StoredModels(
        (n) => (deps.includes(n) ? storedModelAt(io.dep(n)) : null),
        data,
        config,
        () => {},
        `stage ${spec.name}'s inputs`,
      );
      const model = await spec.fit({
        data,
        settings,
        models,
        progress: progressOf(io),
        log: (line) => io.log(line),
      });
      await spec.save(model, join(io.outDir, MODEL_DIR));
      const report = spec.report?.(model);
      if (report?.details !== undefined) writeJson(io.outDir, 'report.json', report.details);
      // A figure that cannot be computed on this data (e.g. the bridge's R² with no movie to hold out) is left out.
      const metrics: Record<string, number> = {};
      for (const [k, v] of Object.entries(report?.metrics ?? {})) {
        if (Number.isFinite(v)) metrics[k] = v;
        else io.log(`${k} is not defined on this data (${v}): not recorded`);
      }
      return { metrics, ...(report?.curves ? { curves: report.curves } : {}) };
    },
  };
}

/** The settings the evaluation's strategies read, so that changing any of them reruns the evaluation. */
function evaluationParams(c: Config): Json {
  const e = c.pipeline.evaluation;
  const keys = new Set<string>();
  for (const name of e.strategies) if (STRATEGIES.has(name)) for (const k of sectionsOf(name, c)) keys.add(k);
  const all = c as unknown as Record<string, unknown>;
  const sections = Object.fromEntries([...keys].sort().map((k) => [k, all[k]]));
  return JSON.parse(JSON.stringify({ evaluation: e, sections })) as Json;
}

/** The stages; `config` is the configuration the run trains with (params() picks each stage's part). */
export function stages(source: SnapshotSource, config: Config): StageDef[] {
  return [
    {
      name: 'snapshot',
      description: 'freeze the store’s movies, ratings, tags and genome',
      deps: [],
      params: () => ({}),
      external: () => source.fingerprint,
      code: [here('../store/snapshot.ts')],
      async run(io) {
        const s = await source.get();
        writeSnapshot(s, join(io.outDir, 'data'));
        // The stages after it read this one from its final directory (the cache key's), not from outDir.
        cached = null;
        return {
          metrics: {
            movies: s.movies.length,
            ratings: s.ratings.userId.length,
            users: userCount(s),
            // Distinct (movie, tag) pairs after tags are normalised (case, spacing): fewer than the imported tag
            // rows, which count every user's tagging.
            movieTagPairs: s.tags.movieId.length,
            genomeScores: s.genome.movieId.length,
          },
        };
      },
    },
    ...SERVED_MODELS.map((spec) => modelStage(spec, config)),
    {
      name: 'evaluation',
      description: 'offline evaluation on a held-out split (the quality gate)',
      deps: ['snapshot'],
      params: evaluationParams,
      code: [here('../evaluation/evaluator.ts'), here('./training-data.ts')],
      async run(io) {
        const s = snapshotOf(io);
        const e = config.pipeline.evaluation;
        resolveNames(e.strategies, STRATEGIES, 'pipeline.evaluation.strategies');
        const report = await evaluateRanking(evalDataOf(s), config, {
          id: 'train-evaluation',
          strategies: e.strategies,
          split: { kind: 'stratified', ratio: e.trainFraction },
          seeds: [e.seed],
          k: e.k,
          relevance: { kind: 'all' },
          maxUsers: e.maxUsers,
          progress: progressOf(io),
        });
        writeJson(io.outDir, 'evaluation.json', report);
        const metrics: Record<string, number> = {};
        for (const r of report.strategies)
          for (const [m, v] of Object.entries(r.metrics)) metrics[`${r.name}.${m}`] = v.mean;
        return { metrics };
      },
    },
  ];
}
