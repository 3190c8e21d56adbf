/**
 * The scale path of bench/scale.ts at a small size, through the real CLI: generate a MovieLens-shaped release with a
 * genome, import it, train every stage, serve the version and answer personalised requests for trained users. The
 * full size (`npm run bench:scale -- --ratings 25M`) is a benchmark, not a test.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

interface ScaleReport {
  steps: { step: string; seconds: number; peakMb: number }[];
  stages: { stage: string; seconds: number; metrics: string }[];
  serve: { movies: number; users: number; loadSeconds: number };
  requests: { count: number; p50: number; p99: number; strategies: Record<string, number> };
}

test('generate, import, train and serve 200 k synthetic ratings through the CLI', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cinerec-scale-test-'));
  try {
    const json = path.join(dir, 'report.json');
    const root = path.join(import.meta.dirname, '..', '..');
    await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(root, 'bench', 'scale.ts'),
        ...['--ratings', '200K', '--dir', path.join(dir, 'run'), '--requests', '50', '--seconds', '0'],
        ...['--workers', '1', '--json', json],
        // Fewer epochs and evaluated users than the defaults: this proves the path, the benchmark measures it.
        ...['--set', 'mf.epochs=8', '--set', 'neural.epochs=3', '--set', 'neural.aeEpochs=3'],
        ...['--set', 'pipeline.evaluation.maxUsers=300'],
      ],
      { cwd: root, maxBuffer: 64 << 20 },
    );
    const r = JSON.parse(await readFile(json, 'utf8')) as ScaleReport;
    assert.deepEqual(
      r.steps.map((s) => s.step),
      ['data generate', 'data import', 'train', 'serve: start and load'],
    );
    for (const s of r.steps) assert.ok(s.seconds > 0 && s.peakMb > 0, `${s.step}: time and peak memory measured`);
    const stages = r.stages.map((s) => s.stage);
    for (const stage of ['snapshot', 'popularity', 'content', 'als', 'mf', 'neural', 'user-segments', 'evaluation'])
      assert.ok(stages.includes(stage), `stage ${stage} finished (got ${stages.join(', ')})`);
    const snapshot = r.stages.find((s) => s.stage === 'snapshot')!;
    assert.match(snapshot.metrics, /ratings 200000, users 1296/);
    assert.ok(r.serve.movies > 5000, `served the whole catalogue (${r.serve.movies} movies)`);
    assert.equal(r.requests.count, 50);
    // Trained users get a personalised list: from a collaborative model, not the popular fallback.
    const personal = Object.entries(r.requests.strategies).filter(([name]) => name !== 'popular');
    assert.ok(personal.reduce((s, [, n]) => s + n, 0) >= 45, JSON.stringify(r.requests.strategies));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
