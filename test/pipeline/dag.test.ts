import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import {
  CodeHasher,
  canonicalJson,
  flattenParams,
  formatPlan,
  Pipeline,
  type PipelineEvent,
  type Stage,
  type StageManifest,
} from '../../src/pipeline/dag.ts';
import { RunTracker } from '../../src/tracking/runs.ts';
import { ConflictError, ValidationError } from '../../src/util/errors.ts';

interface Input {
  data: string;
  a: number;
  b: number;
  failA?: boolean;
  /** When set, modelA waits for it (to hold the training lock). */
  gate?: Promise<void>;
}

function tempRoot(): { root: string; code: string } {
  const root = mkdtempSync(join(tmpdir(), 'cinerec-dag-'));
  const code = join(root, 'code');
  mkdirSync(code);
  for (const f of ['data.ts', 'feat.ts', 'model.ts', 'eval.ts']) writeFileSync(join(code, f), `// ${f} v1\n`);
  return { root, code };
}

/** data → feat → {modelA, modelB} → eval; each stage writes a file derived from its inputs' files. */
function stages(calls: string[]): Stage<unknown, Input>[] {
  const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8');
  return [
    {
      name: 'data',
      deps: [],
      code: ['data.ts'],
      params: () => ({}),
      external: (i) => i.data,
      async run(ctx) {
        calls.push('data');
        writeFileSync(join(ctx.outDir, 'data.txt'), 'rows');
        return { metrics: { rows: 4 } };
      },
    },
    {
      name: 'feat',
      deps: ['data'],
      code: ['feat.ts'],
      params: () => ({ scale: 2 }),
      async run(ctx) {
        calls.push('feat');
        writeFileSync(join(ctx.outDir, 'feat.txt'), `feat(${read(ctx.dep('data'), 'data.txt')})`);
        return {};
      },
    },
    {
      name: 'modelA',
      deps: ['feat'],
      code: ['model.ts'],
      params: (i) => ({ a: i.a, nested: { lr: 0.1, layers: [8, 4] } }),
      async run(ctx) {
        calls.push('modelA');
        const p = ctx.params as { a: number };
        mkdirSync(join(ctx.outDir, 'sub'));
        writeFileSync(join(ctx.outDir, 'sub', 'weights.bin'), Buffer.alloc(100));
        for (let epoch = 1; epoch <= 3; epoch++) ctx.progress(epoch, 3, { loss: 1 / epoch, val: 2 / epoch });
        ctx.log('fitted');
        return { metrics: { a: p.a, loss: 1 / 3 } };
      },
    },
    {
      name: 'modelB',
      deps: ['feat'],
      code: ['model.ts'],
      params: (i) => ({ b: i.b }),
      async run(ctx) {
        calls.push('modelB');
        writeFileSync(join(ctx.outDir, 'b.txt'), `B(${read(ctx.input('feat'), 'feat.txt')})`);
        return { metrics: { b: (ctx.params as { b: number }).b } };
      },
    },
    {
      name: 'eval',
      deps: ['modelA', 'modelB'],
      code: ['eval.ts'],
      params: () => ({ k: 10 }),
      async run(ctx) {
        calls.push('eval');
        writeFileSync(join(ctx.outDir, 'report.json'), read(ctx.dep('modelB'), 'b.txt'));
        return { metrics: { 'ndcg@10': 0.3 } };
      },
    },
  ];
}

/** Same graph, modelA failing or waiting as the input says. */
function stagesWithHooks(calls: string[]): Stage<unknown, Input>[] {
  const s = stages(calls);
  const a = s[2]!;
  const run = a.run;
  s[2] = {
    ...a,
    params: (i) => ({ a: i.a, nested: { lr: 0.1, layers: [8, 4] } }),
    async run(ctx) {
      const input = ctx as unknown as { params: { a: number } };
      if (input.params.a === 666) {
        writeFileSync(join(ctx.outDir, 'partial.bin'), 'half');
        ctx.progress(1, 3, { loss: 5 });
        throw new Error('boom');
      }
      return run.call(a, ctx);
    },
  };
  return s;
}

function make(root: string, code: string, input: Input, calls: string[], events?: PipelineEvent[]) {
  const tracker = new RunTracker(root, { flushMs: 0 });
  const gate = input.gate;
  const st = stagesWithHooks(calls);
  if (gate) {
    const b = st[3]!;
    st[3] = {
      ...b,
      async run(ctx) {
        await gate;
        return b.run(ctx);
      },
    };
  }
  const pipeline = new Pipeline<Input>({
    root,
    stages: st,
    input,
    tracker,
    codeHasher: new CodeHasher(code),
    dataFingerprint: input.data,
    sampleMs: 5,
  });
  const onEvent = events ? (e: PipelineEvent) => events.push(e) : undefined;
  return { pipeline, tracker, onEvent };
}

test('a second execute skips every stage; outputs flow between stages; runs are recorded', async () => {
  const { root, code } = tempRoot();
  const calls: string[] = [];
  const events: PipelineEvent[] = [];
  const { pipeline, tracker, onEvent } = make(root, code, { data: 'd1', a: 1, b: 1 }, calls, events);
  assert.deepEqual(pipeline.order, ['data', 'feat', 'modelA', 'modelB', 'eval']);

  const r1 = await pipeline.execute({ onEvent });
  assert.equal(r1.status, 'finished');
  assert.deepEqual(calls, ['data', 'feat', 'modelA', 'modelB', 'eval']);
  assert.deepEqual(
    r1.stages.map((s) => s.status),
    ['finished', 'finished', 'finished', 'finished', 'finished'],
  );
  assert.equal(readFileSync(join(r1.outputs.eval!.dir, 'report.json'), 'utf8'), 'B(feat(rows))');
  // stage.json is in the output, with the key, params and artifacts with sizes and content hashes.
  const m = JSON.parse(readFileSync(join(r1.outputs.modelA!.dir, 'stage.json'), 'utf8')) as StageManifest;
  assert.equal(m.key, r1.outputs.modelA!.key);
  assert.deepEqual(m.params, { a: 1, nested: { layers: [8, 4], lr: 0.1 } });
  const weights = readFileSync(join(r1.outputs.modelA!.dir, 'sub', 'weights.bin'));
  const artifacts = [
    { path: 'sub/weights.bin', bytes: 100, sha256: createHash('sha256').update(weights).digest('hex') },
  ];
  assert.deepEqual(m.artifacts, artifacts);
  assert.equal(r1.outputs.modelA!.dir, join(root, 'cache', 'modelA', m.key));

  // The stage run: params flattened, whole curves, metrics, artifacts, peak memory, cache key.
  const runA = tracker.get(r1.stages[2]!.runId!);
  assert.equal(runA.kind, 'stage:modelA');
  assert.equal(runA.status, 'finished');
  assert.equal(runA.parentId, r1.runId);
  assert.deepEqual(runA.params, { a: 1, 'nested.layers': '[8,4]', 'nested.lr': 0.1 });
  assert.deepEqual(
    runA.curves.loss!.map((p) => p.step),
    [1, 2, 3],
  );
  assert.deepEqual(
    runA.curves.val!.map((p) => p.value),
    [2, 1, 2 / 3],
  );
  assert.deepEqual(runA.metrics, { a: 1, loss: 1 / 3 });
  assert.deepEqual(runA.artifacts, artifacts);
  assert.ok(runA.peakRssBytes! > 10_000_000, `peak RSS ${runA.peakRssBytes}`);
  assert.equal(runA.cacheKey, m.key);
  assert.equal(runA.dataFingerprint, 'd1');
  assert.equal(runA.codeVersion.length, 12);
  const parent = tracker.get(r1.runId);
  assert.equal(parent.kind, 'train');
  assert.equal(parent.status, 'finished');
  assert.equal(parent.metrics['eval.ndcg@10'], 0.3);
  assert.equal(parent.codeVersion, r1.codeVersion);

  // Progress events: start/end per stage, per-epoch progress, logs.
  assert.equal(events.filter((e) => e.type === 'stage-start').length, 5);
  assert.equal(events.filter((e) => e.type === 'stage-end' && e.status === 'finished').length, 5);
  const prog = events.filter((e) => e.type === 'progress');
  assert.deepEqual(
    prog.map((e) => (e.type === 'progress' ? [e.stage, e.step, e.total] : null)),
    [
      ['modelA', 1, 3],
      ['modelA', 2, 3],
      ['modelA', 3, 3],
    ],
  );
  assert.ok(events.some((e) => e.type === 'log' && e.stage === 'modelA' && e.message === 'fitted'));

  calls.length = 0;
  const r2 = await make(root, code, { data: 'd1', a: 1, b: 1 }, calls).pipeline.execute();
  assert.equal(r2.status, 'finished');
  assert.deepEqual(calls, []);
  assert.deepEqual(
    r2.stages.map((s) => s.status),
    ['cached', 'cached', 'cached', 'cached', 'cached'],
  );
  assert.equal(r2.outputs.eval!.dir, r1.outputs.eval!.dir);
  // Cached stages are recorded as skipped runs naming the run that made the output.
  const skipped = tracker.records({ parentId: r2.runId });
  assert.equal(skipped.length, 5);
  for (const s of skipped) assert.equal(s.status, 'skipped');
  const skA = skipped.find((s) => s.kind === 'stage:modelA')!;
  assert.equal(skA.note, `cached: output of run ${runA.id}`);
  assert.deepEqual(skA.metrics, runA.metrics);
  assert.deepEqual(skA.curves, {});
});

test('a changed param reruns only that stage and its dependents; the plan says why', async () => {
  const { root, code } = tempRoot();
  const calls: string[] = [];
  await make(root, code, { data: 'd1', a: 1, b: 1 }, calls).pipeline.execute();
  calls.length = 0;
  const { pipeline } = make(root, code, { data: 'd1', a: 2, b: 1 }, calls);
  const plan = pipeline.plan();
  assert.deepEqual(
    plan.map((s) => [s.name, s.status, s.reason]),
    [
      ['data', 'cached', 'cached'],
      ['feat', 'cached', 'cached'],
      ['modelA', 'run', 'new key'],
      ['modelB', 'cached', 'cached'],
      ['eval', 'run', 'new key'],
    ],
  );
  assert.equal(plan[2]!.detail, 'params changed: a 1 → 2');
  assert.equal(plan[4]!.detail, 'input modelA changed');
  const r = await pipeline.execute();
  assert.equal(r.status, 'finished');
  assert.deepEqual(calls, ['modelA', 'eval']);
  assert.deepEqual(
    r.stages.map((s) => s.status),
    ['cached', 'cached', 'finished', 'cached', 'finished'],
  );
  // Back to a = 1: both outputs are still cached.
  calls.length = 0;
  await make(root, code, { data: 'd1', a: 1, b: 1 }, calls).pipeline.execute();
  assert.deepEqual(calls, []);
});

test('changed external input reruns everything; changed code reruns the stage and its dependents', async () => {
  const { root, code } = tempRoot();
  const calls: string[] = [];
  await make(root, code, { data: 'd1', a: 1, b: 1 }, calls).pipeline.execute();

  calls.length = 0;
  const p2 = make(root, code, { data: 'd2', a: 1, b: 1 }, calls).pipeline;
  assert.equal(p2.plan()[0]!.detail, 'external input changed');
  assert.equal(p2.plan()[1]!.detail, 'input data changed');
  await p2.execute();
  assert.deepEqual(calls, ['data', 'feat', 'modelA', 'modelB', 'eval']);

  calls.length = 0;
  writeFileSync(join(code, 'eval.ts'), '// eval.ts v2\n');
  const p3 = make(root, code, { data: 'd2', a: 1, b: 1 }, calls).pipeline;
  assert.equal(p3.plan()[4]!.detail, 'code changed');
  await p3.execute();
  assert.deepEqual(calls, ['eval']);

  calls.length = 0;
  writeFileSync(join(code, 'model.ts'), '// model.ts v2\n');
  await make(root, code, { data: 'd2', a: 1, b: 1 }, calls).pipeline.execute();
  assert.deepEqual(calls, ['modelA', 'modelB', 'eval']);
});

test('--only runs the stage with what it depends on; --force reruns; dry-run plan statuses', async () => {
  const { root, code } = tempRoot();
  const calls: string[] = [];
  const { pipeline } = make(root, code, { data: 'd1', a: 1, b: 1 }, calls);
  const fresh = pipeline.plan();
  assert.ok(fresh.every((s) => s.status === 'run' && s.reason === 'missing' && s.detail === 'never run'));
  assert.match(formatPlan(fresh), /5 to run, 0 cached/);
  // A plan changes nothing on disk.
  assert.equal(existsSync(join(root, 'cache')), false);

  assert.deepEqual(
    pipeline.plan({ only: 'modelA' }).map((s) => s.name),
    ['data', 'feat', 'modelA'],
  );
  const r = await pipeline.execute({ only: 'modelA' });
  assert.deepEqual(calls, ['data', 'feat', 'modelA']);
  assert.deepEqual(Object.keys(r.outputs), ['data', 'feat', 'modelA']);
  assert.equal(pipeline.output('modelB'), null);
  assert.equal(pipeline.output('modelA')!.dir, r.outputs.modelA!.dir);

  calls.length = 0;
  assert.deepEqual(
    pipeline.plan().map((s) => s.status),
    ['cached', 'cached', 'cached', 'run', 'run'],
  );
  await pipeline.execute({ only: ['eval'] });
  assert.deepEqual(calls, ['modelB', 'eval']);

  calls.length = 0;
  const forced = pipeline.plan({ force: ['feat'] });
  assert.deepEqual(
    forced.map((s) => [s.status, s.reason]),
    [
      ['cached', 'cached'],
      ['run', 'forced'],
      ['cached', 'cached'],
      ['cached', 'cached'],
      ['cached', 'cached'],
    ],
  );
  const before = readdirSync(join(root, 'cache', 'feat'));
  await pipeline.execute({ force: ['feat'] });
  assert.deepEqual(calls, ['feat']);
  assert.deepEqual(readdirSync(join(root, 'cache', 'feat')), before);

  calls.length = 0;
  await pipeline.execute({ force: true, only: 'modelB' });
  assert.deepEqual(calls, ['data', 'feat', 'modelB']);

  assert.throws(() => pipeline.plan({ only: 'nope' }), /only: unknown stage nope/);
  assert.throws(() => pipeline.plan({ force: ['zzz'] }), ValidationError);
});

test('a failing stage leaves no cache entry, a failed run with the error, and later stages not run', async () => {
  const { root, code } = tempRoot();
  const calls: string[] = [];
  const { pipeline, tracker } = make(root, code, { data: 'd1', a: 666, b: 1 }, calls);
  const r = await pipeline.execute();
  assert.equal(r.status, 'failed');
  assert.equal(r.error, 'stage modelA: boom');
  assert.deepEqual(calls, ['data', 'feat']);
  assert.deepEqual(
    r.stages.map((s) => s.status),
    ['finished', 'finished', 'failed', 'not run', 'not run'],
  );
  // Nothing in modelA's cache, not even the temporary directory.
  assert.deepEqual(readdirSync(join(root, 'cache', 'modelA')), []);
  assert.equal(pipeline.output('modelA'), null);
  assert.equal(existsSync(join(root, 'cache', 'eval')), false);

  const runA = tracker.get(r.stages[2]!.runId!);
  assert.equal(runA.status, 'failed');
  assert.equal(runA.error, 'boom');
  assert.deepEqual(runA.curves.loss, [{ step: 1, value: 5 }]);
  assert.ok(runA.finishedAt);
  const parent = tracker.get(r.runId);
  assert.equal(parent.status, 'failed');
  assert.equal(parent.error, 'stage modelA: boom');
  // No run for the stages that did not run.
  assert.deepEqual(
    tracker
      .records({ parentId: r.runId })
      .map((x) => x.kind)
      .sort(),
    ['stage:data', 'stage:feat', 'stage:modelA'],
  );
  // The successful stages are cached: a fixed rerun starts from modelA.
  calls.length = 0;
  await make(root, code, { data: 'd1', a: 1, b: 1 }, calls).pipeline.execute();
  assert.deepEqual(calls, ['modelA', 'modelB', 'eval']);
});

test('leftovers of a crash: temporary dirs are removed, an output without stage.json is rerun', async () => {
  const { root, code } = tempRoot();
  const calls: string[] = [];
  const { pipeline } = make(root, code, { data: 'd1', a: 1, b: 1 }, calls);
  const plan = pipeline.plan();
  const featDir = plan[1]!.dir;
  mkdirSync(featDir, { recursive: true });
  writeFileSync(join(featDir, 'feat.txt'), 'half-written');
  const tmp = join(root, 'cache', 'data', '.tmp-abc-999999-dead');
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'data.txt'), 'x');

  const p = pipeline.plan();
  assert.deepEqual(
    [p[1]!.status, p[1]!.reason, p[1]!.detail],
    ['run', 'missing', 'incomplete output, will be replaced'],
  );
  await pipeline.execute();
  assert.deepEqual(calls, ['data', 'feat', 'modelA', 'modelB', 'eval']);
  assert.equal(existsSync(tmp), false);
  assert.equal(readFileSync(join(featDir, 'feat.txt'), 'utf8'), 'feat(rows)');
  assert.ok(existsSync(join(featDir, 'stage.json')));
});

test('one training at a time per root: a second execute gets a ConflictError', async () => {
  const { root, code } = tempRoot();
  let open!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  const first = make(root, code, { data: 'd1', a: 1, b: 1, gate }, []).pipeline.execute();
  // Let the first reach modelB (which waits on the gate) while holding the lock.
  while (!existsSync(join(root, 'cache', 'modelA'))) await new Promise((r) => setImmediate(r));
  await assert.rejects(make(root, code, { data: 'd1', a: 1, b: 1 }, []).pipeline.execute(), ConflictError);
  open();
  assert.equal((await first).status, 'finished');
  // Released: a third one runs.
  assert.equal((await make(root, code, { data: 'd1', a: 1, b: 1 }, []).pipeline.execute()).status, 'finished');
});

test('graph validation names the stages', () => {
  const { root, code } = tempRoot();
  const tracker = new RunTracker(root);
  const st = (name: string, deps: string[]): Stage<unknown, null> => ({
    name,
    deps,
    code: ['data.ts'],
    params: () => ({}),
    run: async () => ({}),
  });
  const mk = (stages: Stage<unknown, null>[]) =>
    new Pipeline({ root, stages, input: null, tracker, codeHasher: new CodeHasher(code) });
  assert.throws(() => mk([st('a', []), st('b', ['zz'])]), /stage b depends on unknown stage zz/);
  assert.throws(() => mk([st('a', ['c']), st('b', ['a']), st('c', ['b'])]), /stages form a cycle: a → c → b → a/);
  assert.throws(() => mk([st('a', []), st('a', [])]), /stage a is declared twice/);
  assert.throws(() => mk([st('a/b', [])]), /stage name "a\/b"/);
  assert.throws(
    () => mk([{ ...st('a', []), code: ['missing.ts'] }]).plan(),
    /stage a: code path missing.ts does not exist/,
  );
  assert.throws(() => mk([{ ...st('a', []), params: () => ({ x: Number.NaN }) }]).plan(), /stage a: params.x is NaN/);
  assert.throws(() => mk([{ ...st('a', []), params: () => ({ d: new Date(0) }) }]).plan(), /params.d is a Date/);
});

test('canonical JSON and flattened params', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [1, 'x'], c: null }, u: undefined }),
    '{"a":{"c":null,"d":[1,"x"]},"b":1}',
  );
  assert.deepEqual(flattenParams({ als: { factors: 64, reg: 0.1 }, k: [1, 2], on: true, e: {} }), {
    'als.factors': 64,
    'als.reg': 0.1,
    k: '[1,2]',
    on: true,
    e: '{}',
  });
});

test('prune removes outputs of old keys, keeping the current ones and the protected ones', async () => {
  const { root, code } = tempRoot();
  const calls: string[] = [];
  const first = await make(root, code, { data: 'd1', a: 1, b: 1 }, calls).pipeline.execute();
  await make(root, code, { data: 'd1', a: 2, b: 1 }, calls).pipeline.execute();
  await make(root, code, { data: 'd1', a: 3, b: 1 }, calls).pipeline.execute();
  const { pipeline } = make(root, code, { data: 'd1', a: 3, b: 1 }, calls);
  // Keep the a=1 modelA output (say a version holds it); drop the rest of the old ones.
  const removed = pipeline.prune({ keepLatest: 0, protect: [first.outputs.modelA!.key] });
  assert.deepEqual(removed.map((r) => r.stage).sort(), ['eval', 'eval', 'modelA']);
  assert.equal(removed.find((r) => r.stage === 'modelA')!.bytes, 100);
  assert.equal(readdirSync(join(root, 'cache', 'modelA')).length, 2);
  assert.ok(existsSync(first.outputs.modelA!.dir));
  assert.ok(pipeline.plan().every((s) => s.status === 'cached'));
});

test('a training process killed mid-stage: its runs are marked failed at the next start, the lock is taken over', async () => {
  const { root, code } = tempRoot();
  const src = resolve(import.meta.dirname, '../../src/pipeline');
  const script = join(root, 'crash.mts');
  writeFileSync(
    script,
    `import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodeHasher, Pipeline } from ${JSON.stringify(join(src, 'dag.ts'))};
import { RunTracker } from ${JSON.stringify(join(src, '../tracking/runs.ts'))};
const stage = {
  name: 'slow', deps: [], code: ['data.ts'], params: () => ({}),
  async run(ctx) {
    writeFileSync(join(ctx.outDir, 'half.bin'), 'x');
    ctx.progress(1, 10, { loss: 1 });
    process.stdout.write('started\\n');
    await new Promise(() => setInterval(() => {}, 1000));
    return {};
  },
};
const root = ${JSON.stringify(root)};
await new Pipeline({ root, stages: [stage], input: null, tracker: new RunTracker(root, { flushMs: 0 }),
  codeHasher: new CodeHasher(${JSON.stringify(code)}) }).execute();
`,
  );
  // node --import tsx, not the tsx wrapper: the killed pid must be the process that runs the pipeline.
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: resolve(import.meta.dirname, '../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ok, fail) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('started') && ok());
    child.on('exit', (c) => fail(new Error(`child exited ${c} before the stage started`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));

  const tracker = new RunTracker(root);
  const running = tracker.records({ status: 'running' });
  assert.deepEqual(running.map((r) => r.kind).sort(), ['stage:slow', 'train']);
  const recovered = tracker.recoverInterrupted();
  assert.equal(recovered.length, 2);
  for (const r of recovered) {
    assert.equal(r.status, 'failed');
    assert.match(r.note!, /^interrupted \(process \d+ ended\)$/);
  }
  assert.deepEqual(tracker.get(running.find((r) => r.kind === 'stage:slow')!.id).curves.loss, [{ step: 1, value: 1 }]);

  // The dead process's lock and temporary directory do not block or leak into the next training.
  assert.ok(existsSync(join(root, 'cache', '.lock')));
  const calls: string[] = [];
  const slow: Stage<unknown, null> = {
    name: 'slow',
    deps: [],
    code: ['data.ts'],
    params: () => ({}),
    async run(ctx) {
      calls.push('slow');
      writeFileSync(join(ctx.outDir, 'full.bin'), 'done');
      return {};
    },
  };
  const p = new Pipeline({ root, stages: [slow], input: null, tracker, codeHasher: new CodeHasher(code) });
  assert.equal(p.plan()[0]!.status, 'run');
  assert.equal((await p.execute()).status, 'finished');
  assert.deepEqual(calls, ['slow']);
  assert.deepEqual(readdirSync(join(root, 'cache', 'slow')), [p.plan()[0]!.key]);
  assert.deepEqual(readdirSync(p.output('slow')!.dir).sort(), ['full.bin', 'stage.json']);
});
