/**
 * Training cache keys cover the code each stage really runs: its import closure, computed from the sources. An
 * edit to a file a stage imports (a kernel, a model, a strategy) reruns that stage and the stages after it,
 * and nothing else; an edit to a file no stage imports reruns nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { CodeHasher, Pipeline, REPO_ROOT } from '../../src/pipeline/dag.ts';
import { importClosure } from '../../src/pipeline/import-closure.ts';
import { snapshotSource, stages } from '../../src/pipeline/stages.ts';
import { train } from '../../src/pipeline/train.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import { type Snapshot, takeSnapshot } from '../../src/store/snapshot.ts';
import { RunTracker } from '../../src/tracking/runs.ts';
import { type PipelineFixture, pipelineFixture } from '../helpers/pipeline-fixture.ts';

let f: PipelineFixture;
let snapshot: Snapshot;
const config = () => loadConfig({ file: f.configFile, env: {} }).config;

before(async () => {
  f = await pipelineFixture('cache-keys');
  const store = await DuckDbStore.open(f.storePath);
  snapshot = await takeSnapshot(store);
  await store.close();
  const outcome = await train(config(), snapshot, { activate: 'always' });
  assert.equal(outcome.result?.status, 'finished');
});

after(async () => {
  const { rm } = await import('node:fs/promises');
  await rm(f.dir, { recursive: true, force: true });
});

/** The plan with one file's content edited (in memory: the tree is not touched). */
function rerunWith(edited: string | null): string[] {
  const target = edited ? path.join(REPO_ROOT, edited) : null;
  const hasher = new CodeHasher(REPO_ROOT, (abs) =>
    abs === target ? Buffer.concat([readFileSync(abs), Buffer.from('\n// edited\n')]) : readFileSync(abs),
  );
  const c = config();
  const pipeline = new Pipeline({
    root: c.modelsDir,
    stages: stages(snapshotSource(snapshot), c),
    input: c,
    tracker: new RunTracker(c.modelsDir),
    codeHasher: hasher,
    dataFingerprint: snapshot.fingerprint,
  });
  return pipeline
    .plan()
    .filter((s) => s.status === 'run')
    .map((s) => s.name)
    .sort();
}

/** What must rerun: stages whose code closure holds the file, and every stage downstream of one. */
function expected(edited: string): string[] {
  const defs = stages(snapshotSource(snapshot), config());
  const target = path.join(REPO_ROOT, edited);
  const out = new Set(
    defs
      .filter((d) =>
        importClosure(d.code.map((c) => (path.isAbsolute(c) ? c : path.join(REPO_ROOT, c)))).includes(target),
      )
      .map((d) => d.name),
  );
  for (let grew = true; grew; ) {
    grew = false;
    for (const d of defs)
      if (!out.has(d.name) && d.deps.some((x) => out.has(x))) {
        out.add(d.name);
        grew = true;
      }
  }
  return [...out].sort();
}

describe('training cache keys', () => {
  it('nothing reruns when nothing changed', () => {
    assert.deepEqual(rerunWith(null), []);
  });

  it('an edited kernel reruns exactly the stages that import it and the stages after them', () => {
    const rerun = rerunWith('src/math/cholesky.ts');
    assert.deepEqual(rerun, expected('src/math/cholesky.ts'));
    for (const s of ['als', 'ease', 'hybrid', 'user-clusters', 'evaluation'])
      assert.ok(rerun.includes(s), `${s} runs Cholesky solves (directly or through ALS): it must rerun`);
    for (const s of ['snapshot', 'popularity'])
      assert.ok(!rerun.includes(s), `${s} does not import the Cholesky kernel: it must stay cached`);
  });

  it('an edited strategy reruns the stages that import it, and not the others', () => {
    const rerun = rerunWith('src/recommend/strategies/user-cluster.ts');
    assert.deepEqual(rerun, expected('src/recommend/strategies/user-cluster.ts'));
    assert.ok(rerun.includes('evaluation'), 'the evaluation scores every strategy');
    assert.ok(!rerun.includes('als') && !rerun.includes('content'), 'models that do not use it stay cached');
  });

  it('an edited model reruns its stage, its dependents and the evaluation only', () => {
    assert.deepEqual(rerunWith('src/models/mf.ts'), expected('src/models/mf.ts'));
    assert.ok(rerunWith('src/models/mf.ts').includes('mf'));
    assert.ok(!rerunWith('src/models/mf.ts').includes('als'));
  });

  it('an edited file that no stage imports reruns nothing', () => {
    assert.deepEqual(rerunWith('src/server/app.ts'), []);
  });
});
