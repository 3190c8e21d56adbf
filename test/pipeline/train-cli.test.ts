/**
 * `cinerec train`, `runs` and `models` as a user runs them, on a seeded synthetic set: cache skip,
 * invalidation by a parameter, --only, --dry-run, versions, rollback, and a training killed mid-stage.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PlanStep } from '../../src/pipeline/dag.ts';
import type { TrainOutcome } from '../../src/pipeline/train.ts';
import type { ModelsState, RunRecord, RunSummary } from '../../src/tracking/types.ts';
import { cli, json } from '../helpers/cli.ts';
import { type PipelineFixture, pipelineFixture } from '../helpers/pipeline-fixture.ts';
import { PROJECT_ROOT } from '../helpers/real-data.ts';

let f: PipelineFixture;
const run = (...args: string[]) => cli(['--json', ...args], f.env);

before(async () => {
  f = await pipelineFixture('train-cli');
});

after(async () => {
  if (f) await rm(f.dir, { recursive: true, force: true });
});

const STAGES = [
  'snapshot',
  'popularity',
  'content',
  'projection',
  'als',
  'ease',
  'itemknn',
  'rp3beta',
  'hybrid',
  'user-clusters',
  'movie-segments',
  'user-segments',
  'segment-scores',
  'mf',
  'neural',
  'evaluation',
];

const statusOf = (o: TrainOutcome) => Object.fromEntries(o.result!.stages.map((s) => [s.name, s.status]));

describe('cinerec train', () => {
  let first: TrainOutcome;

  it('trains every stage, records the runs and activates a first version', async () => {
    first = json<TrainOutcome>(await run('train'));
    assert.equal(first.result?.status, 'finished');
    assert.deepEqual(
      first.result!.stages.map((s) => s.name),
      STAGES,
    );
    assert.ok(first.result!.stages.every((s) => s.status === 'finished'));
    assert.equal(first.version, 'v0001');
    assert.equal(first.activated, true);
    const ndcg = first.result!.stages.find((s) => s.name === 'evaluation')!.metrics['router.ndcg']!;
    assert.ok(ndcg > 0.05, `router NDCG ${ndcg}`);

    const models = json<ModelsState>(await run('models', 'list'));
    assert.equal(models.active, 'v0001');
    assert.equal(models.versions.length, 1);
    assert.ok(models.versions[0]!.bytes > 0);

    const runs = json<RunSummary[]>(await run('runs', 'list'));
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.kind, 'train');
    assert.equal(runs[0]!.status, 'finished');
    const shown = json<RunRecord & { stages: RunSummary[] }>(await run('runs', 'show', runs[0]!.id));
    assert.equal(shown.stages.length, STAGES.length);
    // The training's peak memory is its largest stage's, shown in MB like everywhere else.
    const stagePeaks = await Promise.all(
      shown.stages.map(async (s) => json<RunRecord>(await run('runs', 'show', s.id)).peakRssBytes ?? 0),
    );
    assert.equal(shown.peakRssBytes, Math.max(...stagePeaks));
    assert.match((await cli(['runs', 'show', runs[0]!.id], f.env)).stdout, /peak RSS \d+ MB/);
    const als = json<RunRecord>(await run('runs', 'show', shown.stages.find((s) => s.kind === 'stage:als')!.id));
    // The whole loss curve is kept, one point per iteration, with parameters and artifacts.
    assert.equal(als.curves.loss?.length, 4);
    assert.equal(als.params['als.factors'], 16);
    assert.ok(als.artifacts.some((a) => a.path.includes('arrays.bin') && a.bytes > 0));
    assert.ok((als.peakRssBytes ?? 0) > 0);
    assert.ok(als.dataFingerprint && als.codeVersion);
  });

  it('skips every stage when nothing changed and keeps the same version', async () => {
    const again = json<TrainOutcome>(await run('train'));
    assert.ok(
      Object.values(statusOf(again)).every((s) => s === 'cached'),
      JSON.stringify(statusOf(again)),
    );
    assert.equal(again.version, 'v0001');
    assert.equal(again.created, false);
  });

  it('--dry-run with one ALS parameter changed plans only ALS and what depends on it', async () => {
    const plan = json<TrainOutcome>(await run('--set', 'als.factors=8', 'train', '--dry-run')).plan as PlanStep[];
    const byName = Object.fromEntries(plan.map((p) => [p.name, p.status]));
    const rerun = new Set(['als', 'hybrid', 'user-clusters', 'evaluation']);
    assert.deepEqual(byName, Object.fromEntries(STAGES.map((s) => [s, rerun.has(s) ? 'run' : 'cached'])));
    assert.match(plan.find((p) => p.name === 'als')!.detail, /als\.factors/);
  });

  it('trains the change into a new version; runs compare shows the parameter; rollback and activate', async () => {
    const changed = json<TrainOutcome>(await run('--set', 'als.factors=8', 'train'));
    assert.equal(statusOf(changed).als, 'finished');
    assert.equal(statusOf(changed).content, 'cached');
    assert.equal(changed.version, 'v0002');
    assert.equal(json<ModelsState>(await run('models', 'list')).active, 'v0002');

    const runs = json<RunSummary[]>(await run('runs', 'list', '--kind', 'train'));
    const cmp = json<{ params: { name: string; a: unknown; b: unknown }[] }>(
      await run('runs', 'compare', first.result!.runId, runs[0]!.id),
    );
    assert.ok(
      cmp.params.some((p) => p.name === 'config.als.factors' && p.a === 16 && p.b === 8),
      JSON.stringify(cmp.params),
    );

    assert.equal(json<{ active: string }>(await run('models', 'rollback')).active, 'v0001');
    assert.equal(json<{ active: string }>(await run('models', 'activate', 'v0002')).active, 'v0002');
    const bad = await run('models', 'activate', 'v0099');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /v0099 not found/);
  });

  it('--only runs a stage with its dependencies and makes no version', async () => {
    const only = json<TrainOutcome>(await run('--set', 'als.iterations=3', 'train', '--only', 'als'));
    assert.deepEqual(
      only.result!.stages.filter((s) => s.status !== 'not run').map((s) => s.name),
      ['snapshot', 'als'],
    );
    assert.equal(only.version, null);
    const unknown = await run('train', '--only', 'nope');
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /--only: unknown stage "nope"/);
  });

  it('a training killed mid-stage leaves no version, no partial output and no run left running', async () => {
    const before = json<ModelsState>(await run('models', 'list'));
    const child = spawn(
      process.execPath,
      [join(PROJECT_ROOT, 'bin/cinerec.js'), '--set', 'als.iterations=400', 'train'],
      {
        env: { ...process.env, ...f.env },
      },
    );
    await new Promise<void>((resolve) => {
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/als: running/.test(err)) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((r) => child.on('close', r));
    const runs = json<RunSummary[]>(await run('runs', 'list', '--all'));
    assert.ok(!runs.some((r) => r.status === 'running'), JSON.stringify(runs.filter((r) => r.status === 'running')));
    const killed = runs.find((r) => r.kind === 'stage:als' && r.status === 'failed');
    assert.ok(killed, 'the interrupted ALS stage run is marked failed');
    assert.match(json<RunRecord>(await run('runs', 'show', killed.id)).note ?? '', /interrupted/);
    const afterKill = json<ModelsState>(await run('models', 'list'));
    assert.deepEqual(
      afterKill.versions.map((v) => v.version),
      before.versions.map((v) => v.version),
    );
    assert.equal(afterKill.active, before.active);
    // No half-written ALS output for that key: the next plan still has to run it.
    const plan = json<TrainOutcome>(await run('--set', 'als.iterations=400', 'train', '--dry-run')).plan;
    assert.equal(plan.find((p) => p.name === 'als')!.status, 'run');
    const cacheDirs = readdirSync(join(f.modelsDir, 'cache', 'als'));
    assert.ok(
      cacheDirs.every((d) => existsSync(join(f.modelsDir, 'cache', 'als', d, 'stage.json')) || d.startsWith('.')),
    );
  });

  it('tune records every trial as a run and writes the best settings with --write', async () => {
    const r = json<{
      trials: { params: Record<string, number>; score: number }[];
      best: { params: Record<string, number>; score: number };
      baseline: { score: number };
      written: Record<string, number>;
    }>(await run('tune', 'als', '--trials', '2', '--write'));
    assert.equal(r.trials.length, 2);
    assert.ok(r.best.score >= r.baseline.score);
    assert.ok(r.trials.every((t) => t.params.factors! >= 16 && t.params.factors! <= 256));
    const parent = json<RunSummary[]>(await run('runs', 'list', '--kind', 'tune:als'));
    assert.equal(parent[0]?.status, 'finished');
    const trials = json<RunSummary[]>(await run('runs', 'list', '--kind', 'trial:als'));
    assert.equal(trials.length, 3, 'the configuration and two sampled settings');
    const written = JSON.parse(readFileSync(f.configFile, 'utf8')) as { als: Record<string, number> };
    assert.equal(written.als.factors, r.best.params.factors);
    assert.deepEqual(Object.keys(r.written).sort(), [
      'als.alpha',
      'als.factors',
      'als.iterations',
      'als.regularization',
    ]);
    const bad = await run('tune', 'nope');
    assert.notEqual(bad.code, 0);
    const tunable = /cannot tune "nope"; tunable: (.+)/.exec(bad.stderr)?.[1]?.split(', ') ?? [];
    for (const name of ['als', 'ease', 'hybrid', 'hybrid-cluster', 'user-cluster', 'content-popular', 'router', 'mf'])
      assert.ok(tunable.includes(name), `${name} is tunable: ${bad.stderr}`);
  });
});
