import type { Config } from '../config/config.ts';
import type { Snapshot } from '../store/snapshot.ts';
import type { RunTracker } from '../tracking/runs.ts';
import { trackerFor } from '../tracking/tracker.ts';
import { pointerFor } from '../versions/pointer-for.ts';
import { versionsFor } from '../versions/versions.ts';
import { type ExecuteResult, flattenParams, type Json, Pipeline, type PipelineEvent, type PlanStep } from './dag.ts';
import { snapshotSource, stages } from './stages.ts';

/** `cinerec train`: the DAG over a data snapshot, a model version from its outputs, and the activation. */

export interface TrainOptions {
  only?: string;
  force?: boolean | string[];
  dryRun?: boolean;
  /** Activate the new version: 'always' (cinerec train), 'gate' (scheduled retraining), or 'never'. */
  activate: 'always' | 'gate' | 'never';
  /** Kind of the parent run: 'train' or 'retrain'. */
  kind?: string;
  onEvent?: (e: PipelineEvent) => void;
  log?: (line: string) => void;
}

export interface GateOutcome {
  metric: string;
  candidate: number | null;
  active: number | null;
  maxDrop: number;
  passed: boolean;
  reason: string;
}

export interface TrainOutcome {
  plan: PlanStep[];
  /** Absent on a dry run. */
  result?: ExecuteResult;
  /** The version holding the outputs (new, or the existing one with exactly these outputs). */
  version: string | null;
  created: boolean;
  activated: boolean;
  gate: GateOutcome | null;
}

/** Where runs, the stage cache and versions live. */
export function pipelineRoot(config: Config): string {
  return config.modelsDir;
}

export function pipelineFor(config: Config, snapshot: Snapshot, tracker: RunTracker): Pipeline<Config> {
  return new Pipeline<Config>({
    root: pipelineRoot(config),
    stages: stages(snapshotSource(snapshot), config),
    input: config,
    tracker,
    dataFingerprint: snapshot.fingerprint,
  });
}

/** The quality gate: the candidate's metric may be at most `maxDrop` below the active version's. */
export function gate(
  config: Config,
  candidate: Record<string, number>,
  active: Record<string, number> | null,
): GateOutcome {
  const { metric, maxDrop } = config.pipeline.gate;
  const c = candidate[metric] ?? null;
  const a = active?.[metric] ?? null;
  if (c === null)
    return { metric, candidate: c, active: a, maxDrop, passed: false, reason: `the new version has no ${metric}` };
  if (a === null)
    return {
      metric,
      candidate: c,
      active: a,
      maxDrop,
      passed: true,
      reason: `no active version to compare ${metric} with`,
    };
  const passed = c >= a - maxDrop;
  return {
    metric,
    candidate: c,
    active: a,
    maxDrop,
    passed,
    reason: passed
      ? `${metric} ${c.toFixed(4)} vs active ${a.toFixed(4)} (allowed drop ${maxDrop})`
      : `${metric} ${c.toFixed(4)} is more than ${maxDrop} below the active version's ${a.toFixed(4)}`,
  };
}

export async function train(config: Config, snapshot: Snapshot, opts: TrainOptions): Promise<TrainOutcome> {
  const log = opts.log ?? (() => {});
  const { tracker, mlflow } = trackerFor(config);
  try {
    return await trainWith(config, snapshot, opts, tracker, log);
  } finally {
    await mlflow?.flush();
  }
}

async function trainWith(
  config: Config,
  snapshot: Snapshot,
  opts: TrainOptions,
  tracker: RunTracker,
  log: (line: string) => void,
): Promise<TrainOutcome> {
  const recovered = tracker.recoverInterrupted();
  for (const r of recovered) log(`run ${r.id} (${r.kind}) was left running by a process that ended: marked failed`);
  const versions = versionsFor(config);
  versions.cleanup();
  const pipeline = pipelineFor(config, snapshot, tracker);
  const planOpts = { ...(opts.only ? { only: opts.only } : {}), ...(opts.force ? { force: opts.force } : {}) };
  const plan = pipeline.plan(planOpts);
  if (opts.dryRun) return { plan, version: null, created: false, activated: false, gate: null };

  const parent = tracker.start({
    kind: opts.kind ?? 'train',
    params: {
      only: opts.only ?? null,
      force: Array.isArray(opts.force) ? opts.force.join(',') : (opts.force ?? false),
      ...flattenParams(JSON.parse(JSON.stringify(config)) as Json, 'config'),
    },
    dataFingerprint: snapshot.fingerprint,
    codeVersion: pipeline.codeVersion(),
  });
  try {
    const result = await pipeline.execute({
      ...planOpts,
      parentId: parent.id,
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    });
    if (result.status === 'failed') {
      tracker.fail(parent.id, new Error(result.error ?? 'a stage failed'));
      return { plan, result, version: null, created: false, activated: false, gate: null };
    }
    // The training's peak is its largest stage's (each stage samples its own process).
    const peakRssBytes = Math.max(0, ...result.stages.map((s) => s.peakRssBytes ?? 0)) || null;
    // A version needs every stage: `--only` trains part of the DAG and makes no version.
    if (opts.only) {
      tracker.finish(parent.id, { peakRssBytes });
      return { plan, result, version: null, created: false, activated: false, gate: null };
    }
    const metrics = result.outputs.evaluation?.metrics ?? {};
    const keys = Object.fromEntries(Object.entries(result.outputs).map(([n, o]) => [n, o.key]));
    const same = versions
      .list()
      .find(
        (v) =>
          Object.keys(keys).length === Object.keys(v.stages).length &&
          Object.entries(keys).every(([n, k]) => v.stages[n] === k),
      );
    let version: string;
    let created = false;
    if (same) {
      version = same.version;
      log(`outputs unchanged: version ${version} already holds them`);
    } else {
      const m = versions.create({
        stages: Object.fromEntries(
          Object.entries(result.outputs).map(([n, o]) => [n, { dir: o.dir, key: o.key, artifacts: o.artifacts }]),
        ),
        runId: parent.id,
        dataFingerprint: snapshot.fingerprint,
        codeVersion: result.codeVersion,
        metrics,
        extra: { config },
      });
      version = m.version;
      created = true;
      log(`created model version ${version}`);
    }
    const pointer = await pointerFor(config);
    const activeId = (await pointer.state()).active;
    let g: GateOutcome | null = null;
    let activate = opts.activate === 'always';
    if (opts.activate === 'gate') {
      g = gate(config, metrics, activeId ? versions.get(activeId).metrics : null);
      activate = g.passed && activeId !== version;
      log(`quality gate ${g.passed ? 'passed' : 'failed'}: ${g.reason}`);
    }
    if (activate && activeId !== version) {
      await pointer.activate(version);
      log(`activated ${version}`);
    }
    tracker.finish(parent.id, {
      metrics,
      peakRssBytes,
      note: `version ${version}${created ? ' (new)' : ''}${activate ? ', activated' : ''}${g ? `; gate: ${g.reason}` : ''}`,
    });
    return { plan, result, version, created, activated: activate || activeId === version, gate: g };
  } catch (err) {
    tracker.fail(parent.id, err);
    throw err;
  }
}
