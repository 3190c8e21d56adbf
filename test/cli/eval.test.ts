import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EvaluationReport } from '../../src/evaluation/report-types.ts';
import { cli, json } from '../helpers/cli.ts';
import { realData } from '../helpers/real-data.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cinerec-eval-'));
const env = {
  CINEREC_STORE: join(tmp, 'store.duckdb'),
  CINEREC_DATA_DIR: tmp,
  CINEREC_REPORTS_DIR: join(tmp, 'reports'),
};
const run = (...args: string[]) => cli(args, env);

before(async () => {
  json(await run('data', 'import', await realData('ml-latest-small'), '--json'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const mean = (r: EvaluationReport, strategy: string, metric: string) =>
  r.strategies.find((s) => s.name === strategy)!.metrics[metric]!.mean;

describe('cinerec eval on ml-latest-small', () => {
  test('stratified 0.75, k = 10, 3 seeds: baselines land within ±0.02 of the reference run', async () => {
    const report = json<EvaluationReport>(
      await run(
        'eval',
        '--strategies',
        'most-popular,itemknn,ease',
        '--split',
        'stratified:0.75',
        '--k',
        '10',
        '--seeds',
        '1,2,3',
        '--json',
      ),
    );
    // Reference (numpy/scipy, same protocol): NDCG@10 0.213 / 0.272 / 0.401; P@10 0.186 / 0.244 / 0.354.
    const bands: [string, number, number][] = [
      ['most-popular', 0.213, 0.186],
      ['itemknn', 0.272, 0.244],
      ['ease', 0.401, 0.354],
    ];
    for (const [name, ndcg, precision] of bands) {
      assert.ok(Math.abs(mean(report, name, 'ndcg') - ndcg) <= 0.02, `${name} NDCG@10 ${mean(report, name, 'ndcg')}`);
      assert.ok(
        Math.abs(mean(report, name, 'precision') - precision) <= 0.02,
        `${name} P@10 ${mean(report, name, 'precision')}`,
      );
    }
    assert.deepEqual(report.protocol, {
      split: 'stratified:0.75',
      seeds: [1, 2, 3],
      k: 10,
      relevance: { kind: 'all' },
    });
    const ease = report.strategies.find((s) => s.name === 'ease')!;
    assert.equal(ease.runs.length, 3);
    assert.equal(ease.metrics.ndcg!.n, 3, 'intervals over seeds');
    assert.ok(ease.metrics.ndcg!.low < ease.metrics.ndcg!.mean && ease.metrics.ndcg!.mean < ease.metrics.ndcg!.high);
    assert.ok(
      ease.runs.every((r) => r.evaluated === 610),
      'every user has held-out ratings',
    );
    for (const m of ['recall', 'map', 'mrr', 'hitRate', 'coverage', 'novelty', 'diversity', 'popularity']) {
      assert.ok(Number.isFinite(ease.metrics[m]!.mean), m);
    }
    // Beyond accuracy: the popularity baseline recommends the narrowest, most popular set.
    assert.ok(mean(report, 'most-popular', 'coverage') < mean(report, 'ease', 'coverage'));
    assert.ok(mean(report, 'most-popular', 'novelty') < mean(report, 'itemknn', 'novelty'));
    const md = join(env.CINEREC_REPORTS_DIR, 'evaluations', `${report.id}.md`);
    assert.ok(existsSync(md), 'markdown report written');
    assert.match(readFileSync(md, 'utf8'), /ease/);
  });

  test('the human table shows every strategy with fit and recommend times', async () => {
    const r = await run('eval', '--strategies', 'random,popular-genre', '--k', '5');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /stratified:0\.75, seeds 1, k = 5/);
    assert.match(r.stdout, /random\s+0\.0\d\d/);
    assert.match(r.stdout, /fit s\s+recommend s/);
    assert.match(r.stdout, /report: .*\.md/);
  });

  test('--rating --folds 5: RMSE of the global mean, the bias baseline and MF (Surprise protocol)', async () => {
    const report = json<EvaluationReport>(
      await run('eval', '--rating', '--strategies', 'global-mean,bias,mf', '--folds', '5', '--json'),
    );
    // The bar for a learned rating model: the bias baseline minus 0.01.
    assert.ok(mean(report, 'mf', 'rmse') <= 0.8625, `mf RMSE ${mean(report, 'mf', 'rmse')}`);
    // Reference on this release: global mean 1.0425, BaselineOnly 0.8725.
    assert.ok(Math.abs(mean(report, 'global-mean', 'rmse') - 1.0425) < 0.005, `${mean(report, 'global-mean', 'rmse')}`);
    assert.ok(Math.abs(mean(report, 'bias', 'rmse') - 0.8725) < 0.005, `${mean(report, 'bias', 'rmse')}`);
    assert.equal(report.strategies[1]!.runs.length, 5);
    assert.equal(
      report.strategies[1]!.runs.reduce((s, r) => s + r.evaluated, 0),
      100836,
      'the five folds cover every rating once',
    );
  });

  test('bad arguments name the parameter', async () => {
    const cases: [string[], RegExp][] = [
      [['eval', '--strategies', 'ease,magic'], /unknown strategy "magic"; choose from/],
      [['eval', '--split', 'stratified:1.5'], /split/],
      [['eval', '--param', 'ease.alpha=3'], /ease has no parameter "alpha"; it has lambda/],
      [['eval', '--seeds', 'a'], /--seeds must be whole numbers/],
      [['eval', '--rating', '--strategies', 'ease'], /unknown strategy "ease"/],
    ];
    for (const [args, pattern] of cases) {
      const r = await run(...args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, pattern, args.join(' '));
    }
  });
});
