import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MlflowExporter, mlflowKey } from '../../src/tracking/mlflow.ts';
import { RunTracker } from '../../src/tracking/runs.ts';

interface Call {
  method: string;
  path: string;
  query: string;
  auth: string | undefined;
  body: Record<string, unknown>;
}

/** A tiny MLflow REST fake: records calls, answers like the tracking server. */
async function fakeMlflow(opts: { experimentExists?: boolean; failAll?: boolean } = {}) {
  const calls: Call[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      calls.push({
        method: req.method!,
        path: url.pathname,
        query: url.search,
        auth: req.headers.authorization,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      });
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (opts.failAll) return send(500, { error_code: 'INTERNAL_ERROR', message: 'db down' });
      switch (url.pathname) {
        case '/api/2.0/mlflow/experiments/get-by-name':
          return opts.experimentExists
            ? send(200, { experiment: { experiment_id: '7' } })
            : send(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no experiment' });
        case '/api/2.0/mlflow/experiments/create':
          return send(200, { experiment_id: '7' });
        case '/api/2.0/mlflow/runs/create': {
          // MLflow ids derived from ours, so the test does not depend on request arrival order.
          const tags = (calls.at(-1)!.body.tags as { key: string; value: string }[]) ?? [];
          const ours = tags.find((t) => t.key === 'cinerec.run_id')?.value;
          return send(200, { run: { info: { run_id: `ml-${ours}` } } });
        }
        case '/api/2.0/mlflow/runs/log-batch':
        case '/api/2.0/mlflow/runs/update':
          return send(200, {});
        default:
          return send(404, { error_code: 'ENDPOINT_NOT_FOUND' });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { calls, uri, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('runs are exported with params, curves as metric history, tags, parent nesting and status', async () => {
  const fake = await fakeMlflow();
  const exporter = MlflowExporter.fromEnv({
    MLFLOW_TRACKING_URI: fake.uri,
    MLFLOW_EXPERIMENT_NAME: 'cinerec-test',
    MLFLOW_TRACKING_TOKEN: 'tok',
  })!;
  const tracker = new RunTracker(mkdtempSync(join(tmpdir(), 'cinerec-mlflow-')), { sinks: [exporter] });
  const parent = tracker.start({ kind: 'train', codeVersion: 'c0de', dataFingerprint: 'fp' });
  const stage = tracker.start({ kind: 'stage:als', parentId: parent.id, params: { factors: 64, 'solver@x': 'cg' } });
  for (let e = 1; e <= 3; e++) tracker.appendCurve(stage.id, e, { loss: 1 / e });
  tracker.finish(stage.id, { metrics: { 'ndcg@10': 0.3, loss: 1 / 3 }, peakRssBytes: 1000 });
  tracker.record({ kind: 'stage:pop', parentId: parent.id, status: 'skipped' });
  const bad = tracker.start({ kind: 'stage:mf', parentId: parent.id });
  tracker.fail(bad.id, new Error('diverged'));
  tracker.fail(parent.id, 'stage mf: diverged');
  await exporter.flush();
  await fake.close();

  const paths = fake.calls.map((c) => c.path.replace('/api/2.0/mlflow/', ''));
  assert.equal(paths.filter((p) => p === 'experiments/get-by-name').length, 1);
  assert.equal(fake.calls[0]!.query, '?experiment_name=cinerec-test');
  assert.equal(paths.filter((p) => p === 'experiments/create').length, 1);
  assert.ok(fake.calls.every((c) => c.auth === 'Bearer tok'));
  const creates = fake.calls.filter((c) => c.path.endsWith('runs/create'));
  // The skipped stage is not exported: train, als, mf.
  assert.equal(creates.length, 3);
  const tagsOf = (c: Call) =>
    Object.fromEntries((c.body.tags as { key: string; value: string }[]).map((t) => [t.key, t.value]));
  const byKind = new Map(creates.map((c) => [tagsOf(c)['cinerec.kind'], c]));
  const trainTags = tagsOf(byKind.get('train')!);
  assert.equal(trainTags['cinerec.run_id'], parent.id);
  assert.equal(trainTags['cinerec.code_version'], 'c0de');
  assert.equal(trainTags['cinerec.data_fingerprint'], 'fp');
  assert.equal(trainTags['mlflow.parentRunId'], undefined);
  const trainMl = `ml-${parent.id}`;
  const alsCreate = byKind.get('stage:als')!;
  assert.equal(alsCreate.body.experiment_id, '7');
  assert.equal(alsCreate.body.start_time, Date.parse(stage.startedAt));
  assert.equal(tagsOf(alsCreate)['mlflow.parentRunId'], trainMl);
  assert.equal(tagsOf(alsCreate)['cinerec.parent_id'], parent.id);

  const batches = fake.calls.filter((c) => c.path.endsWith('runs/log-batch'));
  const alsId = `ml-${stage.id}`;
  const alsBatch = batches.find((b) => b.body.run_id === alsId)!;
  assert.deepEqual(alsBatch.body.params, [
    { key: 'factors', value: '64' },
    { key: 'solver_at_x', value: 'cg' },
  ]);
  const metrics = alsBatch.body.metrics as { key: string; value: number; step: number }[];
  assert.deepEqual(
    metrics.filter((m) => m.key === 'loss').map((m) => [m.step, m.value]),
    [
      [1, 1],
      [2, 0.5],
      [3, 1 / 3],
      [3, 1 / 3], // the final value, at the curve's last step
    ],
  );
  assert.deepEqual(
    metrics.filter((m) => m.key === 'ndcg_at_10').map((m) => [m.step, m.value]),
    [[0, 0.3]],
  );
  assert.equal(metrics.find((m) => m.key === 'peak_rss_bytes')!.value, 1000);
  const updates = fake.calls.filter((c) => c.path.endsWith('runs/update'));
  const status = Object.fromEntries(updates.map((u) => [u.body.run_id as string, u.body.status]));
  assert.deepEqual(status, { [trainMl]: 'FAILED', [alsId]: 'FINISHED', [`ml-${bad.id}`]: 'FAILED' });
  const mfBatch = batches.find((b) => b.body.run_id === `ml-${bad.id}`)!;
  assert.ok(
    (mfBatch.body.tags as { key: string; value: string }[]).some(
      (t) => t.key === 'cinerec.error' && t.value === 'diverged',
    ),
  );
  for (const u of updates) assert.equal(typeof u.body.end_time, 'number');
});

test('large runs are split into log-batch requests within MLflow limits', async () => {
  const fake = await fakeMlflow({ experimentExists: true });
  const exporter = new MlflowExporter({ trackingUri: fake.uri });
  const tracker = new RunTracker(mkdtempSync(join(tmpdir(), 'cinerec-mlflow-')), { flushMs: 60_000 });
  const r = tracker.start({
    kind: 'tune:als',
    params: Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`p${i}`, i])),
  });
  for (let e = 0; e < 1500; e++) tracker.appendCurve(r.id, e, { loss: e });
  const done = tracker.finish(r.id);
  assert.equal(await exporter.exportRun(done), `ml-${r.id}`);
  await fake.close();
  const batches = fake.calls.filter((c) => c.path.endsWith('runs/log-batch'));
  let params = 0;
  let metrics = 0;
  for (const b of batches) {
    const p = (b.body.params as unknown[]).length;
    const m = (b.body.metrics as unknown[]).length;
    const t = (b.body.tags as unknown[]).length;
    assert.ok(p <= 100 && t <= 100 && m <= 1000 && p + m + t <= 1000);
    params += p;
    metrics += m;
  }
  assert.equal(params, 150);
  assert.equal(metrics, 1500 + 1); // the curve and duration_ms
  assert.equal(fake.calls.filter((c) => c.path.endsWith('experiments/create')).length, 0);
});

test('MLflow errors are logged and never fail training', async () => {
  const fake = await fakeMlflow({ failAll: true });
  const warnings: string[] = [];
  const exporter = new MlflowExporter({
    trackingUri: fake.uri,
    logger: { info: () => {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
  });
  const tracker = new RunTracker(mkdtempSync(join(tmpdir(), 'cinerec-mlflow-')), { sinks: [exporter] });
  const r = tracker.start({ kind: 'train' });
  const s = tracker.start({ kind: 'stage:a', parentId: r.id });
  tracker.finish(s.id, { metrics: { x: 1 } });
  tracker.finish(r.id);
  await exporter.flush();
  assert.equal(tracker.get(r.id).status, 'finished');
  // One failed experiment lookup, remembered: not one per run.
  assert.equal(fake.calls.length, 1);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /experiment "cinerec" unavailable.*HTTP 500 INTERNAL_ERROR: db down/);
  await fake.close();

  // A server that is not there at all.
  const gone = new MlflowExporter({
    trackingUri: fake.uri,
    logger: { info() {}, warn: (m) => warnings.push(m), error() {} },
  });
  const t2 = new RunTracker(mkdtempSync(join(tmpdir(), 'cinerec-mlflow-')), { sinks: [gone] });
  t2.finish(t2.start({ kind: 'train' }).id);
  await gone.flush();
  assert.equal(warnings.length, 2);
});

test('configuration from the environment; safe keys', () => {
  assert.equal(MlflowExporter.fromEnv({}), null);
  const warnings: string[] = [];
  const log = { info() {}, warn: (m: string) => warnings.push(m), error() {} };
  assert.equal(MlflowExporter.fromEnv({ MLFLOW_TRACKING_URI: './mlruns' }, log), null);
  assert.match(warnings[0]!, /only http\(s\) tracking servers/);
  assert.ok(MlflowExporter.fromEnv({ MLFLOW_TRACKING_URI: 'https://mlflow.example' }));
  assert.equal(mlflowKey('ndcg@10'), 'ndcg_at_10');
  assert.equal(mlflowKey('evaluation.map@10 (test)'), 'evaluation.map_at_10 _test_');
  assert.equal(mlflowKey('loss/val'), 'loss/val');
});
