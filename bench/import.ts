/**
 * Import benchmark: `npx tsx bench/import.ts [--rows 25000000] [--keep]`.
 *
 * 1. Imports the real ./data/ml-latest-small (if present) into a fresh store.
 * 2. Generates a synthetic release of --rows ratings (default 25 M with 162,000 users × 62,000 movies
 *    like ml-25m; smaller runs scale users linearly and movies by the square root), timed on its
 *    own, then imports it.
 *
 * Reports seconds, rows/s and ratings/s, peak RSS (sampled every 100 ms during the import) and the
 * process's max RSS from getrusage, and the DuckDB file size. Progress goes to stderr, results to
 * stdout, ending with a Markdown table. Temp dirs are removed unless --keep.
 */
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeSyntheticMovieLens } from '../src/cli/synthetic.ts';
import { detectFormat } from '../src/data/formats.ts';
import { DuckDbStore } from '../src/store/duckdb/duckdb-store.ts';
import type { ImportReport } from '../src/store/duckdb/import.ts';
import { terminalProgress } from '../src/util/progress.ts';

const ML_25M = { ratings: 25_000_000, users: 162_000, movies: 62_000 };

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: String(ML_25M.ratings) },
    users: { type: 'string' },
    movies: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'memory-limit': { type: 'string', default: '2GB' },
    keep: { type: 'boolean', default: false },
  },
});

function positive(name: string, text: string): number {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
}

const rows = positive('rows', values.rows);
const scale = rows / ML_25M.ratings;
const users = values.users ? positive('users', values.users) : Math.max(1, Math.round(ML_25M.users * scale));
const movies = values.movies
  ? positive('movies', values.movies)
  : Math.max(20, Math.round(ML_25M.movies * Math.sqrt(scale)));
const seed = positive('seed', values.seed);
const memoryLimit = values['memory-limit'];
const keep = values.keep;
const smallDir = path.resolve(import.meta.dirname, '..', 'data', 'ml-latest-small');

/** Peak RSS over an interval, sampled every 100 ms (getrusage's maxRSS only covers the whole process). */
class RssSampler {
  private peak = 0;
  private timer: NodeJS.Timeout | null = null;

  start(): void {
    this.peak = process.memoryUsage().rss;
    this.timer = setInterval(() => {
      this.peak = Math.max(this.peak, process.memoryUsage().rss);
    }, 100);
  }

  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return Math.max(this.peak, process.memoryUsage().rss);
  }
}

/** Data lines in a CSV file (excluding the header), counted by streaming. */
async function dataLines(file: string): Promise<number> {
  let newlines = 0;
  let last = 10;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) newlines++;
    last = chunk[chunk.length - 1] ?? last;
  }
  return newlines + (last === 10 ? 0 : 1) - 1;
}

interface Result {
  label: string;
  /** Source rows across all files. */
  rows: number;
  ratings: number;
  csvBytes: number;
  seconds: number;
  peakRss: number;
  maxRss: number;
  dbBytes: number;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const rate = (n: number, seconds: number) => `${Math.round(n / seconds).toLocaleString('en-US')}/s`;
const maxRss = () => process.resourceUsage().maxRSS * 1024;

async function benchImport(label: string, dir: string, work: string): Promise<Result> {
  const plan = detectFormat(dir);
  let sourceRows = 0;
  let csvBytes = 0;
  for (const file of plan.files) {
    sourceRows += await dataLines(file.path);
    csvBytes += (await stat(file.path)).size;
  }
  const dbPath = path.join(work, `${plan.name}.duckdb`);
  const sampler = new RssSampler();
  sampler.start();
  let report: ImportReport;
  const store = await DuckDbStore.open(dbPath, { memoryLimit });
  try {
    report = await store.importDataset(plan, { progress: terminalProgress() });
  } finally {
    await store.close();
  }
  const peakRss = sampler.stop();
  let dbBytes = (await stat(dbPath)).size;
  if (existsSync(`${dbPath}.wal`)) dbBytes += (await stat(`${dbPath}.wal`)).size;
  const result: Result = {
    label,
    rows: sourceRows,
    ratings: report.counts.ratings,
    csvBytes,
    seconds: report.seconds,
    peakRss,
    maxRss: maxRss(),
    dbBytes,
  };
  console.log(
    `${label}: imported ${result.rows.toLocaleString('en-US')} rows (${result.ratings.toLocaleString('en-US')} ratings, ` +
      `${mb(csvBytes)} CSV) in ${result.seconds.toFixed(2)} s: ${rate(result.rows, result.seconds)} rows, ` +
      `${rate(result.ratings, result.seconds)} ratings; peak RSS ${mb(peakRss)} (sampled), max RSS ${mb(result.maxRss)} ` +
      `(getrusage); DuckDB file ${mb(dbBytes)}`,
  );
  console.log(`  counts: ${JSON.stringify(report.counts)}`);
  return result;
}

async function main(): Promise<void> {
  console.log(
    `cinerec import benchmark: Node ${process.version}, ${os.availableParallelism()} cores, ` +
      `${mb(os.totalmem())} RAM, DuckDB memory_limit ${memoryLimit}`,
  );
  const work = await mkdtemp(path.join(os.tmpdir(), 'cinerec-bench-'));
  const results: Result[] = [];
  let generation: { seconds: number; bytes: number; peakRss: number } | null = null;
  try {
    if (existsSync(smallDir)) results.push(await benchImport('ml-latest-small', smallDir, work));
    else
      console.log(`skipping ml-latest-small: ${smallDir} not found (see README: data/ is a symlink to the releases)`);

    const synthDir = path.join(work, `synthetic-${rows}`);
    console.log(
      `generating ${rows.toLocaleString('en-US')} ratings (${users.toLocaleString('en-US')} users × ` +
        `${movies.toLocaleString('en-US')} movies, seed ${seed}) into ${synthDir}`,
    );
    const sampler = new RssSampler();
    sampler.start();
    const summary = await writeSyntheticMovieLens(synthDir, { users, movies, ratings: rows, seed }, terminalProgress());
    const genPeak = sampler.stop();
    let bytes = 0;
    for (const f of ['movies.csv', 'ratings.csv', 'tags.csv', 'links.csv'])
      bytes += (await stat(path.join(synthDir, f))).size;
    generation = { seconds: summary.seconds, bytes, peakRss: genPeak };
    console.log(
      `generated in ${summary.seconds.toFixed(2)} s: ${rate(rows, summary.seconds)} ratings, ${mb(bytes)} CSV, ` +
        `peak RSS ${mb(genPeak)}`,
    );
    results.push(await benchImport(`synthetic ${(rows / 1e6).toLocaleString('en-US')} M`, synthDir, work));
  } finally {
    if (keep) console.log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }

  console.log('');
  console.log(
    '| data set | source rows | ratings | CSV | import s | rows/s | ratings/s | peak RSS | max RSS | DuckDB file |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(
      `| ${r.label} | ${r.rows.toLocaleString('en-US')} | ${r.ratings.toLocaleString('en-US')} | ${mb(r.csvBytes)} | ` +
        `${r.seconds.toFixed(2)} | ${rate(r.rows, r.seconds)} | ${rate(r.ratings, r.seconds)} | ${mb(r.peakRss)} | ` +
        `${mb(r.maxRss)} | ${mb(r.dbBytes)} |`,
    );
  }
  if (generation) {
    console.log('');
    console.log(
      `Synthetic generation (not part of the import figures): ${generation.seconds.toFixed(2)} s, ` +
        `${rate(rows, generation.seconds)} ratings, ${mb(generation.bytes)} CSV, peak RSS ${mb(generation.peakRss)}.`,
    );
  }
  console.log(
    'Peak RSS is sampled every 100 ms during each import; max RSS is getrusage for the whole process so far.',
  );
}

await main();
