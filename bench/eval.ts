/**
 * Evaluation speed on ml-latest-small: five strategies, stratified 0.75, k = 10, one seed, end to end
 * (load from a fresh store, split, fit, recommend for every user, metrics). Prints figures; asserts nothing.
 * Run: npx tsx bench/eval.ts [--seeds 1,2,3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.ts';
import { Catalogue } from '../src/data/catalogue.ts';
import { detectFormat } from '../src/data/formats.ts';
import { evaluateRanking } from '../src/evaluation/evaluator.ts';
import { DuckDbStore } from '../src/store/duckdb/duckdb-store.ts';
import { realData } from '../test/helpers/real-data.ts';

const seedsArg = process.argv.indexOf('--seeds');
const seeds = seedsArg > 0 ? process.argv[seedsArg + 1]!.split(',').map(Number) : [1];
const dir = mkdtempSync(join(tmpdir(), 'cinerec-bench-eval-'));
try {
  const store = await DuckDbStore.open(join(dir, 'store.duckdb'));
  await store.importDataset(detectFormat(await realData('ml-latest-small')));
  const t0 = performance.now();
  const rows = await store.ratingColumns();
  const catalogue = new Catalogue(await store.listMovies());
  await store.close();
  const loadSeconds = (performance.now() - t0) / 1000;
  const { config } = loadConfig({ env: {} });
  const strategies = ['random', 'most-popular', 'popular-genre', 'itemknn', 'ease'];
  const report = await evaluateRanking(
    {
      rows,
      catalogue,
      scale: { min: 0.5, max: 5, step: 0.5 },
      dataset: { name: 'ml-latest-small', users: 610, movies: catalogue.size, ratings: rows.userId.length },
    },
    config,
    { id: 'bench', strategies, split: { kind: 'stratified', ratio: 0.75 }, seeds, k: 10, relevance: { kind: 'all' } },
  );
  const users = report.strategies[0]!.runs.reduce((s, r) => s + r.evaluated, 0);
  console.log(`ml-latest-small, stratified:0.75, k = 10, seeds ${seeds.join(',')}: ${users} user lists per strategy`);
  console.log('| strategy | NDCG@10 | fit s | recommend s | lists/s |');
  console.log('|---|---:|---:|---:|---:|');
  for (const s of report.strategies) {
    console.log(
      `| ${s.name} | ${s.metrics.ndcg!.mean.toFixed(3)} | ${s.fitSeconds.toFixed(2)} | ${s.predictSeconds.toFixed(2)} | ${Math.round(users / s.predictSeconds)} |`,
    );
  }
  console.log(
    `load from store ${loadSeconds.toFixed(2)} s; evaluation end to end ${report.elapsedSeconds.toFixed(2)} s`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
