import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  listReports,
  newReportId,
  readChart,
  readReport,
  renderCharts,
  renderMarkdown,
  writeReport,
} from '../../src/evaluation/report.ts';
import type { EvaluationReport, MetricInterval, StrategyResult } from '../../src/evaluation/report-types.ts';
import { ValidationError } from '../../src/util/errors.ts';

// Every assert.ok carries a message: without one, Node re-parses the source to build it (slow under tsx).

const iv = (mean: number, half: number, n = 600): MetricInterval => ({ mean, low: mean - half, high: mean + half, n });

function strategy(name: string, metrics: Record<string, MetricInterval>, fit: number, predict: number): StrategyResult {
  return {
    name,
    description: `${name} strategy`,
    params: { k: 10 },
    metrics,
    runs: [
      {
        split: 'stratified:0.8 seed 1',
        seed: 1,
        evaluated: 600,
        metrics: Object.fromEntries(Object.entries(metrics).map(([m, v]) => [m, v.mean])),
        fitSeconds: fit,
        predictSeconds: predict,
      },
    ],
    fitSeconds: fit,
    predictSeconds: predict,
  };
}

function rankingReport(id: string, createdAt = '2026-11-25T11:40:05.000Z'): EvaluationReport {
  return {
    id,
    kind: 'ranking',
    createdAt,
    dataset: { name: 'ml-latest-small', users: 610, movies: 9742, ratings: 100836 },
    protocol: {
      split: 'stratified:0.8',
      seeds: [1, 2],
      k: 10,
      relevance: { kind: 'min-rating', minRating: 4 },
      strongGeneralization: { users: 100, foldIn: 5 },
    },
    metricOrder: ['ndcg', 'precision', 'recall', 'map', 'popularity'],
    strategies: [
      strategy(
        'popular',
        {
          ndcg: iv(0.2514, 0.0101),
          precision: iv(0.2, 0.01),
          recall: iv(0.1, 0.005),
          map: iv(0.12, 0.01),
          popularity: iv(0.9, 0.01),
        },
        0.1,
        1.234,
      ),
      strategy(
        'ease',
        {
          ndcg: iv(0.399, 0.012),
          precision: iv(0.31, 0.011),
          recall: iv(0.2, 0.006),
          map: iv(0.22, 0.01),
          popularity: iv(0.5, 0.02),
        },
        12.34,
        2,
      ),
      strategy(
        'random',
        {
          ndcg: iv(0.011, 0.002),
          precision: iv(0.01, 0.001),
          recall: iv(0.005, 0.001),
          map: iv(0.004, 0.001),
          popularity: iv(0.3, 0.01),
        },
        0,
        0.5,
      ),
    ],
    elapsedSeconds: 42,
  };
}

function ratingReport(id: string, createdAt: string): EvaluationReport {
  return {
    id,
    kind: 'rating',
    createdAt,
    dataset: { name: 'ml-100k', users: 943, movies: 1682, ratings: 100000 },
    protocol: { split: 'kfold:5', seeds: [7] },
    metricOrder: ['rmse', 'mae'],
    strategies: [
      strategy('bias', { rmse: iv(0.94213, 0.00412), mae: iv(0.7412, 0.003) }, 0.2, 0.1),
      strategy('svd', { rmse: iv(0.87654, 0.00398), mae: iv(0.6891, 0.0031) }, 3, 0.2),
    ],
    elapsedSeconds: 5,
  };
}

/** The table row of one strategy, split into cells. */
function row(markdown: string, name: string): string[] {
  const line = markdown.split('\n').find((l) => l.startsWith(`| ${name} |`) && l.includes('±'));
  assert.ok(line, `a results row for ${name}`);
  // Escaped pipes (\|) belong to the cell.
  return line
    .split(/(?<!\\)\|/)
    .slice(2, -1)
    .map((c) => c.trim());
}

describe('renderMarkdown', () => {
  it('shows protocol, dataset, intervals with the best value per column in bold, timing and charts', () => {
    const report = rankingReport('r1');
    const md = renderMarkdown(report, { ndcg: 'r1-ndcg.svg', precision: 'r1-precision.svg' });
    assert.match(md, /^# Evaluation r1\n/);
    assert.match(md, /split: stratified:0\.8/);
    assert.match(md, /seeds: 1, 2/);
    assert.match(md, /k: 10/);
    assert.match(md, /rated at least 4/);
    assert.match(md, /strong generalisation: 100 held-out users, 5 ratings/);
    assert.match(md, /ml-latest-small: 610 users, 9,742 movies, 100,836 ratings/);
    assert.match(md, /\| strategy \| NDCG@10 ↑ \| P@10 ↑ \| R@10 ↑ \| MAP@10 ↑ \| pop\. pct ↓ \|/);

    // Half-width = (high - low) / 2, three decimals.
    assert.deepEqual(row(md, 'popular'), [
      '0.251 ± 0.010',
      '0.200 ± 0.010',
      '0.100 ± 0.005',
      '0.120 ± 0.010',
      '0.900 ± 0.010',
    ]);
    // ease is best on accuracy; random on popularity, where lower is better.
    assert.deepEqual(row(md, 'ease'), [
      '**0.399 ± 0.012**',
      '**0.310 ± 0.011**',
      '**0.200 ± 0.006**',
      '**0.220 ± 0.010**',
      '0.500 ± 0.020',
    ]);
    assert.equal(row(md, 'random')[4], '**0.300 ± 0.010**');

    assert.match(md, /\| strategy \| fit s \| recommend s \|/);
    assert.match(md, /\| ease \| 12\.3 \| 2\.00 \|/);
    assert.match(md, /\| popular \| 0\.10 \| 1\.23 \|/);
    assert.ok(md.includes('![NDCG@10](r1-ndcg.svg)'), 'NDCG chart linked');
    assert.ok(md.includes('![P@10](r1-precision.svg)'), 'precision chart linked');
    assert.ok(!md.includes('r1-recall.svg'), 'no link to a chart that was not given');
  });

  it('uses four decimals and lower-is-better for rating errors; escapes pipes; marks missing values', () => {
    const report = ratingReport('r2', '2026-11-25T12:00:00.000Z');
    report.strategies.push(strategy('odd|name', { rmse: iv(0.99, 0.01) }, 1, 1));
    const md = renderMarkdown(report);
    assert.deepEqual(row(md, 'svd'), ['**0.8765 ± 0.0040**', '**0.6891 ± 0.0031**']);
    assert.deepEqual(row(md, 'bias'), ['0.9421 ± 0.0041', '0.7412 ± 0.0030']);
    assert.deepEqual(row(md, 'odd\\|name'), ['0.9900 ± 0.0100', '—']);
    assert.match(md, /RMSE ↓/);
    assert.ok(!md.includes('## Charts'), 'no chart section without charts');
    assert.ok(!/\bk: /.test(md), 'no k for rating reports');
  });
});

describe('renderCharts', () => {
  it('renders one SVG per metric with one bar and one error bar per strategy, fetching nothing', async () => {
    const report = rankingReport('r3');
    const charts = await renderCharts(report);
    assert.deepEqual(Object.keys(charts), report.metricOrder);
    for (const [metric, svg] of Object.entries(charts)) {
      assert.match(svg, /^<svg[\s>]/, `${metric} is an SVG`);
      assert.equal(svg.match(/aria-roledescription="bar"/g)?.length, 3, `${metric}: three bars`);
      assert.equal(svg.match(/aria-roledescription="errorbar"/g)?.length, 3, `${metric}: three error bars`);
      for (const name of ['popular', 'ease', 'random']) assert.ok(svg.includes(name), `${metric} names ${name}`);
      const links = (svg.match(/https?:\/\/[^"'\s)]+/g) ?? []).filter(
        (u) => u !== 'http://www.w3.org/2000/svg' && u !== 'http://www.w3.org/1999/xlink',
      );
      assert.deepEqual(links, [], `${metric}: no external links`);
    }
    assert.ok(charts.ndcg!.includes('NDCG@10'), 'axis labelled with k');
    assert.ok(charts.popularity!.includes('lower is better'), 'direction stated');
  });

  it('skips a metric no strategy has', async () => {
    const report = ratingReport('r4', '2026-11-25T12:00:00.000Z');
    report.metricOrder.push('coverage');
    const charts = await renderCharts(report);
    assert.deepEqual(Object.keys(charts), ['rmse', 'mae']);
    assert.equal(charts.rmse!.match(/aria-roledescription="bar"/g)?.length, 2, 'two bars');
  });
});

describe('newReportId', () => {
  it('is a sortable, file-safe timestamp with the kind and a random suffix', () => {
    const date = new Date('2026-11-25T11:40:05.123Z');
    const a = newReportId('ranking', date);
    const b = newReportId('ranking', date);
    assert.match(a, /^2026-11-25T11-40-05Z-ranking-[0-9a-f]{4}$/);
    assert.notEqual(a, b);
    assert.throws(() => newReportId('a/b', date), ValidationError);
  });
});

describe('writeReport, listReports, readReport', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cinerec-report-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists nothing when no report was ever written', async () => {
    assert.deepEqual(await listReports(path.join(dir, 'missing')), []);
  });

  it('round-trips reports and lists them newest first, skipping corrupt and foreign files', async () => {
    const older = rankingReport(newReportId('ranking', new Date('2026-11-25T11:40:05Z')), '2026-11-25T11:40:05.000Z');
    const newer = ratingReport(newReportId('rating', new Date('2026-11-26T09:00:00Z')), '2026-11-26T09:00:00.000Z');
    const written = await writeReport(dir, older);
    await writeReport(dir, newer);

    const evalDir = path.join(dir, 'evaluations');
    assert.equal(written.json, path.join(evalDir, `${older.id}.json`));
    assert.equal(written.markdown, path.join(evalDir, `${older.id}.md`));
    assert.deepEqual(
      written.charts,
      older.metricOrder.map((m) => path.join(evalDir, `${older.id}-${m}.svg`)),
    );
    const files = await readdir(evalDir);
    assert.ok(!files.some((f) => f.endsWith('.tmp')), `no temp files left: ${files.join(', ')}`);
    const md = await readFile(written.markdown, 'utf8');
    assert.ok(md.includes(`![NDCG@10](${older.id}-ndcg.svg)`), 'markdown links the chart files');
    assert.match(await readFile(written.charts[0]!, 'utf8'), /^<svg/);

    // Noise that must not break the listing.
    await writeFile(path.join(evalDir, 'corrupt.json'), '{ "id": "corrupt", ');
    await writeFile(path.join(evalDir, 'not-a-report.json'), JSON.stringify({ id: 'x', kind: 'ranking' }));
    await writeFile(path.join(evalDir, 'array.json'), '[]');
    await mkdir(path.join(evalDir, 'folder.json'));
    await writeFile(path.join(evalDir, 'notes.txt'), 'hello');

    const list = await listReports(dir);
    assert.deepEqual(
      list.map((s) => s.id),
      [newer.id, older.id],
    );
    assert.deepEqual(list[1], {
      id: older.id,
      kind: 'ranking',
      createdAt: older.createdAt,
      dataset: 'ml-latest-small',
      split: 'stratified:0.8',
      k: 10,
      strategies: ['popular', 'ease', 'random'],
      headline: { metric: 'ndcg', values: { popular: 0.2514, ease: 0.399, random: 0.011 } },
    });
    assert.equal(list[0]!.headline.metric, 'rmse');
    assert.equal(list[0]!.k, undefined);

    assert.deepEqual(await readReport(dir, older.id), older);
    assert.deepEqual(await readReport(dir, newer.id), newer);
    assert.equal(await readReport(dir, 'nope'), null);
    assert.equal(await readReport(dir, 'corrupt'), null);

    assert.match((await readChart(dir, older.id, 'ndcg')) ?? '', /^<svg/);
    assert.equal(await readChart(dir, older.id, 'rmse'), null);
    assert.equal(await readChart(dir, 'nope', 'ndcg'), null);
  });

  it('rewriting a report replaces it whole', async () => {
    const report = rankingReport('fixed-id');
    await writeReport(dir, report);
    report.elapsedSeconds = 99;
    await writeReport(dir, report);
    assert.equal((await readReport(dir, 'fixed-id'))?.elapsedSeconds, 99);
  });

  it('rejects ids that could leave the directory', async () => {
    for (const id of ['../etc/passwd', 'a/b', '', 'a\\b', 'x'.repeat(201), 'white space']) {
      await assert.rejects(readReport(dir, id), ValidationError, `readReport rejects ${JSON.stringify(id)}`);
      await assert.rejects(readChart(dir, id, 'ndcg'), ValidationError, `readChart rejects ${JSON.stringify(id)}`);
    }
    await assert.rejects(readChart(dir, 'fixed-id', '../x'), ValidationError);
    await assert.rejects(writeReport(dir, rankingReport('../escape')), ValidationError);
  });
});
