import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConflictError, NotFoundError, ValidationError } from '../../src/util/errors.ts';
import { VersionStore } from '../../src/versions/versions.ts';

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'cinerec-versions-'));
  const als = join(root, 'cache', 'als', 'k-als');
  mkdirSync(join(als, 'factors'), { recursive: true });
  writeFileSync(join(als, 'factors', 'items.bin'), Buffer.alloc(256, 1));
  writeFileSync(join(als, 'stage.json'), '{"key":"k-als"}');
  const pop = join(root, 'cache', 'pop', 'k-pop');
  mkdirSync(pop, { recursive: true });
  writeFileSync(join(pop, 'scores.bin'), Buffer.alloc(40, 2));
  const stages = { als: { dir: als, key: 'k-als' }, pop: { dir: pop, key: 'k-pop' } };
  return { root, stages, store: new VersionStore(root) };
}

const input = (stages: ReturnType<typeof setup>['stages'], runId = 'r1') => ({
  stages,
  runId,
  dataFingerprint: 'fp1',
  codeVersion: 'c1',
  metrics: { 'evaluation.ndcg@10': 0.33 },
  extra: { note: 'x' },
});

test('create builds an immutable version with a manifest; list, get, stageDir', () => {
  const { root, stages, store } = setup();
  const v1 = store.create(input(stages));
  assert.equal(v1.version, 'v0001');
  assert.deepEqual(v1.stages, { als: 'k-als', pop: 'k-pop' });
  // Every file with its size and content hash (a served version checks them before reading).
  const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
  assert.deepEqual(v1.artifacts, [
    { path: 'als/factors/items.bin', bytes: 256, sha256: sha(Buffer.alloc(256, 1)) },
    { path: 'als/stage.json', bytes: 15, sha256: sha('{"key":"k-als"}') },
    { path: 'pop/scores.bin', bytes: 40, sha256: sha(Buffer.alloc(40, 2)) },
  ]);
  assert.equal(v1.bytes, 311);
  assert.equal(v1.runId, 'r1');
  assert.deepEqual(v1.extra, { note: 'x' });
  const dir = join(root, 'versions', 'v0001');
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')), v1);
  assert.deepEqual(readFileSync(join(dir, 'als', 'factors', 'items.bin')), Buffer.alloc(256, 1));
  // Read-only files: a version is not modified after creation.
  assert.equal(statSync(join(dir, 'pop', 'scores.bin')).mode & 0o222, 0);
  assert.equal(store.stageDir('v0001', 'als'), join(dir, 'als'));
  assert.throws(() => store.stageDir('v0001', 'mf'), /has no stage mf/);

  const v2 = store.create(input(stages, 'r2'));
  assert.equal(v2.version, 'v0002');
  assert.deepEqual(
    store.list().map((m) => m.version),
    ['v0002', 'v0001'],
  );
  assert.equal(store.get('v0002').runId, 'r2');
  assert.throws(() => store.get('v0009'), NotFoundError);
  assert.throws(() => store.get('latest'), ValidationError);
  assert.deepEqual(
    readdirSync(join(root, 'versions')).filter((e) => e.startsWith('.staging')),
    [],
  );
});

test('activate, rollback, history; state flags the active version', () => {
  const { stages, store } = setup();
  assert.equal(store.active(), null);
  assert.throws(() => store.rollback(), ConflictError);
  store.create(input(stages));
  store.create(input(stages));
  store.create(input(stages));
  assert.equal(store.activate('v0001').active, 'v0001');
  store.activate('v0002');
  store.activate('v0002'); // no-op: not pushed twice
  store.activate('v0003');
  assert.deepEqual(store.activeState().history, ['v0001', 'v0002']);
  assert.deepEqual(
    store.state().versions.map((v) => [v.version, v.active]),
    [
      ['v0003', true],
      ['v0002', false],
      ['v0001', false],
    ],
  );
  assert.equal(store.rollback().active, 'v0002');
  assert.equal(store.rollback().active, 'v0001');
  assert.throws(() => store.rollback(), /no previous version to roll back to \(active: v0001\)/);
  assert.equal(store.active(), 'v0001');

  // A removed version is skipped by rollback; the active one cannot be removed.
  store.activate('v0002');
  store.activate('v0003');
  store.remove('v0002');
  assert.equal(store.rollback().active, 'v0001');
  assert.throws(() => store.remove('v0001'), ConflictError);
  assert.throws(() => store.activate('v0002'), NotFoundError);
});

test('a staging dir left by a crash is never listed or activatable, and is cleaned; partial versions are refused', () => {
  const { root, stages, store } = setup();
  // A create that crashed: staging dir of a process that has ended, without a manifest.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const staging = join(root, 'versions', `.staging-${dead.stdout}-abcd1234`);
  mkdirSync(join(staging, 'als'), { recursive: true });
  writeFileSync(join(staging, 'als', 'items.bin'), 'half');
  // A version directory without a manifest (e.g. copied by hand, or a crash of an older layout).
  mkdirSync(join(root, 'versions', 'v0001', 'als'), { recursive: true });

  assert.deepEqual(store.list(), []);
  assert.throws(() => store.activate(`.staging-${dead.stdout}-abcd1234`), ValidationError);
  assert.throws(() => store.activate('v0001'), /version v0001 is incomplete/);
  assert.equal(store.active(), null);

  const v = store.create(input(stages));
  // The partial number is not reused; the staging leftover is gone.
  assert.equal(v.version, 'v0002');
  assert.equal(existsSync(staging), false);
  assert.deepEqual(
    store.list().map((m) => m.version),
    ['v0002'],
  );

  // A damaged version (an artifact missing) is refused too.
  rmSync(join(root, 'versions', 'v0002', 'pop', 'scores.bin'), { force: true });
  assert.throws(() => store.activate('v0002'), /damaged: pop\/scores.bin is missing/);
});

test('a failed create leaves nothing behind', () => {
  const { root, stages, store } = setup();
  assert.throws(
    () => store.create({ ...input(stages), stages: { ...stages, mf: { dir: join(root, 'nowhere'), key: 'k' } } }),
    /output of stage mf is missing/,
  );
  assert.deepEqual(readdirSync(join(root, 'versions')), []);
  assert.throws(
    () => store.create({ ...input(stages), files: [{ src: import.meta.filename, path: '../x' }] }),
    ValidationError,
  );
  assert.deepEqual(readdirSync(join(root, 'versions')), []);
});

test('watch notices an activation by another process', async () => {
  const { root, stages, store } = setup();
  store.create(input(stages));
  store.create(input(stages));
  const seen: (string | null)[] = [];
  // The watcher's timer does not hold the process open (a server's listener does): this test must.
  const keepAlive = setInterval(() => {}, 1000);
  let notify!: () => void;
  let changed = new Promise<void>((r) => {
    notify = r;
  });
  const w = store.watch(
    (active) => {
      seen.push(active);
      notify();
    },
    { intervalMs: 5 },
  );
  const other = new VersionStore(root);
  other.activate('v0001');
  await changed;
  changed = new Promise<void>((r) => {
    notify = r;
  });
  other.activate('v0002');
  await changed;
  w.close();
  clearInterval(keepAlive);
  assert.deepEqual(seen, ['v0001', 'v0002']);
});
