import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RunTracker } from '../../src/tracking/runs.ts';
import type { RunRecord } from '../../src/tracking/types.ts';
import { NotFoundError, ValidationError } from '../../src/util/errors.ts';
import { processStart } from '../../src/util/fsutil.ts';

const root = () => mkdtempSync(join(tmpdir(), 'cinerec-runs-'));

/** A clock that moves 1 s per reading, from a fixed date. */
function steppingClock(start = Date.UTC(2025, 2, 14, 10, 15, 2, 123)) {
  let t = start;
  return () => {
    const d = new Date(t);
    t += 1000;
    return d;
  };
}

test('start, curves, finish: the file holds the whole run; ids sort by start time', () => {
  const dir = root();
  const tracker = new RunTracker(dir, { now: steppingClock(), flushMs: 0 });
  const run = tracker.start({ kind: 'stage:als', params: { factors: 64 }, codeVersion: 'abc', cacheKey: 'k1' });
  assert.match(run.id, /^20250314T101502123-000$/);
  assert.equal(run.status, 'running');
  assert.equal(run.pid, process.pid);
  for (let e = 1; e <= 5; e++) tracker.appendCurve(run.id, e, { loss: 10 - e, val_rmse: 1 + 1 / e });
  // Another reader (a server process) sees the curve while the run is going.
  const live = new RunTracker(dir).get(run.id);
  assert.equal(live.status, 'running');
  assert.equal(live.curves.loss!.length, 5);
  const done = tracker.finish(run.id, { metrics: { rmse: 0.87 }, artifacts: [{ path: 'a.bin', bytes: 12 }] });
  assert.equal(done.status, 'finished');
  assert.equal(done.durationMs, 1000);
  const disk = JSON.parse(readFileSync(join(dir, 'runs', `${run.id}.json`), 'utf8')) as RunRecord;
  assert.deepEqual(disk, done);
  assert.deepEqual(
    disk.curves.loss!.map((p) => [p.step, p.value]),
    [
      [1, 9],
      [2, 8],
      [3, 7],
      [4, 6],
      [5, 5],
    ],
  );
  assert.deepEqual(disk.metrics, { rmse: 0.87 });
  assert.throws(() => tracker.finish(run.id), /not running in this process/);

  // Same millisecond: the sequence number keeps ids unique and in start order.
  const fixed = new RunTracker(dir, { now: () => new Date(Date.UTC(2025, 2, 14, 11)) });
  const ids = Array.from({ length: 12 }, () => fixed.start({ kind: 'x' }).id);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, 12);
  // A second tracker (another process) at the same instant does not take a used id.
  const other = new RunTracker(dir, { now: () => new Date(Date.UTC(2025, 2, 14, 11)) });
  assert.equal(ids.includes(other.start({ kind: 'x' }).id), false);
  // No temporary files left behind.
  assert.equal(readdirSync(join(dir, 'runs')).filter((f) => f.startsWith('.')).length, 0);
});

test('curve writes are throttled but nothing is lost at the end', () => {
  const dir = root();
  const tracker = new RunTracker(dir, { flushMs: 60_000 });
  const run = tracker.start({ kind: 'stage:mf' });
  for (let e = 1; e <= 100; e++) tracker.appendCurve(run.id, e, { loss: 1 / e });
  assert.equal(new RunTracker(dir).get(run.id).curves.loss, undefined);
  assert.equal(tracker.get(run.id).curves.loss!.length, 100);
  tracker.finish(run.id);
  assert.equal(new RunTracker(dir).get(run.id).curves.loss!.length, 100);
});

test('fail records the error; list filters and orders; compare gives differing params and metric deltas', () => {
  const dir = root();
  const tracker = new RunTracker(dir, { now: steppingClock() });
  const parent = tracker.start({ kind: 'train' });
  const a = tracker.start({ kind: 'stage:als', parentId: parent.id, params: { factors: 64, reg: 0.1, seed: 1 } });
  tracker.finish(a.id, { metrics: { ndcg: 0.3, map: 0.1 } });
  const b = tracker.start({ kind: 'stage:als', parentId: parent.id, params: { factors: 128, reg: 0.1, alpha: 2 } });
  tracker.finish(b.id, { metrics: { ndcg: 0.35, recall: 0.5 } });
  const c = tracker.start({ kind: 'stage:mf', parentId: parent.id });
  const failed = tracker.fail(c.id, new Error('out of memory'));
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error, 'out of memory');
  tracker.finish(parent.id);
  const s = tracker.record({ kind: 'stage:pop', parentId: parent.id, status: 'skipped', note: 'cached' });
  assert.equal(s.status, 'skipped');

  assert.deepEqual(
    tracker.list().map((r) => r.id),
    [s.id, c.id, b.id, a.id, parent.id],
  );
  assert.deepEqual(
    tracker.list({ kind: 'stage:als' }).map((r) => r.id),
    [b.id, a.id],
  );
  assert.deepEqual(
    tracker.list({ status: 'failed' }).map((r) => r.id),
    [c.id],
  );
  assert.deepEqual(
    tracker.list({ status: ['finished', 'skipped'], limit: 2 }).map((r) => r.id),
    [s.id, b.id],
  );
  assert.deepEqual(
    tracker.list({ parentId: null }).map((r) => r.id),
    [parent.id],
  );
  assert.deepEqual(Object.keys(tracker.list()[0]!).sort(), [
    'durationMs',
    'id',
    'kind',
    'metrics',
    'parentId',
    'startedAt',
    'status',
  ]);

  const cmp = tracker.compare(a.id, b.id);
  assert.deepEqual(cmp.params, [
    { name: 'alpha', a: null, b: 2 },
    { name: 'factors', a: 64, b: 128 },
    { name: 'seed', a: 1, b: null },
  ]);
  assert.equal(cmp.metrics.length, 3);
  assert.deepEqual(cmp.metrics[0], { name: 'map', a: 0.1, b: null, delta: null });
  assert.equal(cmp.metrics[1]!.name, 'ndcg');
  assert.ok(Math.abs(cmp.metrics[1]!.delta! - 0.05) < 1e-12);
  assert.deepEqual(cmp.metrics[2], { name: 'recall', a: null, b: 0.5, delta: null });

  assert.throws(() => tracker.get('../../etc/passwd'), ValidationError);
  assert.throws(() => tracker.get('20990101T000000000-000'), NotFoundError);
});

test('recoverInterrupted marks runs of ended processes failed, leaves live ones alone', () => {
  const dir = root();
  const tracker = new RunTracker(dir, { flushMs: 0 });
  // A process that has ended: its pid is no longer alive.
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(child.stdout);
  assert.ok(deadPid > 0);

  const crashed = tracker.start({ kind: 'stage:als' });
  tracker.appendCurve(crashed.id, 1, { loss: 3 });
  const path = join(dir, 'runs', `${crashed.id}.json`);
  const onDisk = JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
  writeFileSync(path, JSON.stringify({ ...onDisk, pid: deadPid, pidStart: null }));

  // Our own pid, but recorded with another start time: a pid reused after a crash (containers).
  const reused = new RunTracker(dir).start({ kind: 'train' });
  const rp = join(dir, 'runs', `${reused.id}.json`);
  const start = processStart(process.pid);
  writeFileSync(
    rp,
    JSON.stringify({ ...JSON.parse(readFileSync(rp, 'utf8')), pidStart: start === null ? null : start + 1 }),
  );

  // A live run of this process, started by another tracker: untouched.
  const live = new RunTracker(dir).start({ kind: 'train' });

  const fresh = new RunTracker(dir);
  const recovered = fresh.recoverInterrupted();
  const ids = recovered.map((r) => r.id).sort();
  const expected = start === null ? [crashed.id] : [crashed.id, reused.id].sort();
  assert.deepEqual(ids, expected);
  const c = fresh.get(crashed.id);
  assert.equal(c.status, 'failed');
  assert.equal(c.note, `interrupted (process ${deadPid} ended)`);
  assert.equal(c.error, `interrupted (process ${deadPid} ended)`);
  assert.ok(c.finishedAt !== null && c.durationMs !== null);
  assert.deepEqual(c.curves.loss, [{ step: 1, value: 3 }]);
  assert.equal(fresh.get(live.id).status, 'running');
  // Idempotent.
  assert.deepEqual(fresh.recoverInterrupted(), []);
});

test('sinks see starts and ends; a throwing sink does not break tracking', () => {
  const dir = root();
  const seen: string[] = [];
  const tracker = new RunTracker(dir, {
    sinks: [
      {
        started: (r) => seen.push(`start ${r.kind}`),
        ended: (r) => seen.push(`end ${r.kind} ${r.status}`),
      },
      {
        started: () => {
          throw new Error('sink down');
        },
      },
    ],
  });
  const r = tracker.start({ kind: 'train' });
  tracker.record({ kind: 'stage:a', parentId: r.id, status: 'skipped' });
  tracker.fail(r.id, 'bad');
  assert.deepEqual(seen, ['start train', 'end train failed']);
  assert.equal(tracker.get(r.id).error, 'bad');
});
