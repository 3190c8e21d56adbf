/**
 * ALS benchmark: `npm run bench:als -- [--rows 25000000] [--users 160000] [--movies 60000] [--iterations 3]
 * [--threads 1,2] [--latency-users 1000] [--seed 1] [--skip-large] [--keep]`.
 *
 * 1. Fit time per iteration at 64 factors on the real ./data/ml-latest-small (when present), CG and Cholesky,
 *    for each thread count.
 * 2. Fold-in + full-catalogue scoring latency (p50/p99 over --latency-users users, their training histories)
 *    at 10 k items: a synthetic release of 10,000 movies (1 M ratings), fitted for a few iterations.
 * 3. A synthetic release of --rows ratings (default 25 M, 160 k users × 60 k movies), generated with
 *    writeSyntheticMovieLens into a temp dir and read straight from ratings.csv: seconds per iteration (CG) for
 *    each thread count, then the same latency measurement at 60 k items.
 *
 * Progress goes to stderr; results to stdout, ending with Markdown tables.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeSyntheticMovieLens } from '../src/cli/synthetic.ts';
import { Catalogue } from '../src/data/catalogue.ts';
import { Interactions } from '../src/data/interactions.ts';
import { Rng } from '../src/math/random.ts';
import { ALS_DEFAULTS, AlsModel, type AlsParams } from '../src/models/als.ts';
import type { Movie, RatingColumns } from '../src/store/types.ts';
import { terminalProgress } from '../src/util/progress.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '25000000' },
    users: { type: 'string', default: '160000' },
    movies: { type: 'string', default: '60000' },
    iterations: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1,2' },
    'latency-users': { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    'skip-large': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

function positive(name: string, text: string): number {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
}

const largeRows = positive('rows', values.rows);
const largeUsers = positive('users', values.users);
const largeMovies = positive('movies', values.movies);
const largeIterations = positive('iterations', values.iterations);
const threadCounts = values.threads.split(',').map((t) => positive('threads', t.trim()));
const latencyUsers = positive('latency-users', values['latency-users']);
const seed = positive('seed', values.seed);
const smallDir = path.resolve(import.meta.dirname, '..', 'data', 'ml-latest-small');
const FACTORS = 64;

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Peak RSS over an interval, sampled every 100 ms. */
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

/** The movie ids of a movies.csv (the first field of every line after the header) as a bare catalogue. */
function readCatalogue(file: string): Catalogue {
  const text = readFileSync(file, 'utf8');
  const movies: Movie[] = [];
  let at = text.indexOf('\n') + 1;
  while (at < text.length) {
    const end = text.indexOf('\n', at);
    const line = text.slice(at, end < 0 ? text.length : end);
    at = end < 0 ? text.length : end + 1;
    if (line.trim() === '') continue;
    const movieId = Number(line.slice(0, line.indexOf(',')));
    movies.push({
      movieId,
      title: '',
      displayTitle: '',
      year: null,
      genres: [],
      imdbId: null,
      tmdbId: null,
      source: 'import',
    });
  }
  return new Catalogue(movies);
}

/** userId,movieId,rating,timestamp rows of a ratings.csv, parsed byte by byte from a stream. */
async function readRatings(file: string, expected: number): Promise<RatingColumns> {
  let capacity = Math.max(1024, expected);
  let userId = new Int32Array(capacity);
  let movieId = new Int32Array(capacity);
  let rating = new Float32Array(capacity);
  let timestamp = new Float64Array(capacity);
  let n = 0;
  let header = true;
  let field = 0;
  let value = 0;
  let scale = 0; // 0: no decimal point yet; else 10^(digits after it)
  let any = false;
  const endField = () => {
    const v = scale > 0 ? value / scale : value;
    if (field === 0) userId[n] = v;
    else if (field === 1) movieId[n] = v;
    else if (field === 2) rating[n] = v;
    else if (field === 3) timestamp[n] = v;
    field++;
    value = 0;
    scale = 0;
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (header) {
        if (c === 10) header = false;
        continue;
      }
      if (c >= 48 && c <= 57) {
        value = value * 10 + (c - 48);
        if (scale > 0) scale *= 10;
        any = true;
      } else if (c === 46) scale = 1;
      else if (c === 44) endField();
      else if (c === 10) {
        if (any) {
          endField();
          if (++n === capacity) {
            capacity *= 2;
            const grow = <T extends Int32Array | Float32Array | Float64Array>(a: T, make: (k: number) => T): T => {
              const b = make(capacity);
              b.set(a);
              return b;
            };
            userId = grow(userId, (k) => new Int32Array(k));
            movieId = grow(movieId, (k) => new Int32Array(k));
            rating = grow(rating, (k) => new Float32Array(k));
            timestamp = grow(timestamp, (k) => new Float64Array(k));
          }
        }
        field = 0;
        value = 0;
        scale = 0;
        any = false;
      }
    }
  }
  if (any) {
    endField();
    n++;
  }
  return {
    userId: userId.subarray(0, n),
    movieId: movieId.subarray(0, n),
    rating: rating.subarray(0, n),
    timestamp: timestamp.subarray(0, n),
  };
}

interface FitRow {
  data: string;
  users: number;
  items: number;
  ratings: number;
  solver: string;
  threads: number;
  iterations: number;
  perIteration: number;
  fitSeconds: number;
  loss: number;
  peakRss: number;
}

interface LatencyRow {
  data: string;
  items: number;
  users: number;
  historyP50: number;
  historyP99: number;
  foldIn: [number, number];
  scoring: [number, number];
  total: [number, number];
  max: number;
  goal: number;
}

const median = (xs: number[]) => quantile(xs, 0.5);
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const at = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[at]!;
}

async function benchFit(
  data: string,
  x: Interactions,
  p: Partial<AlsParams>,
  threads: number,
): Promise<{ row: FitRow; model: AlsModel }> {
  const params: AlsParams = { ...ALS_DEFAULTS, factors: FACTORS, ...p, threads };
  log(`${data}: fitting ${params.solver}, ${threads} thread(s), ${params.iterations} iterations`);
  const sampler = new RssSampler();
  sampler.start();
  const model = await AlsModel.fit(x, params, terminalProgress());
  const peakRss = sampler.stop();
  const its = model.report.iterations;
  const row: FitRow = {
    data,
    users: x.nUsers,
    items: x.nItems,
    ratings: x.nnz,
    solver: params.solver,
    threads,
    iterations: its.length,
    perIteration: median(its.map((i) => i.seconds)),
    fitSeconds: model.report.seconds,
    loss: its.at(-1)?.loss ?? Number.NaN,
    peakRss,
  };
  console.log(
    `${data}: ${params.solver}, ${threads} thread(s): ${its.map((i) => i.seconds.toFixed(2)).join(' ')} s/iteration ` +
      `(median ${row.perIteration.toFixed(2)}), fit ${row.fitSeconds.toFixed(2)} s, loss ${row.loss.toExponential(4)}, ` +
      `peak RSS ${mb(peakRss)}`,
  );
  return { row, model };
}

/** Fold-in from the training history, then scores for every item, for `count` seeded users. */
function benchLatency(data: string, x: Interactions, model: AlsModel, count: number, goal: number): LatencyRow {
  const rng = new Rng(seed, 7);
  const users = Array.from({ length: count }, () => rng.int(x.nUsers));
  const out = new Float32Array(model.factors);
  const scores = new Float32Array(model.nItems);
  // Warm-up: let the JIT compile the kernels before measuring.
  for (let k = 0; k < 200; k++) {
    const u = users[k % users.length]!;
    model.foldInUser(x.rowItems(u), x.rowRatings(u), out);
    model.scoreItems(out, scores);
  }
  const foldIn: number[] = [];
  const scoring: number[] = [];
  const total: number[] = [];
  for (const u of users) {
    const t0 = performance.now();
    model.foldInUser(x.rowItems(u), x.rowRatings(u), out);
    const t1 = performance.now();
    model.scoreItems(out, scores);
    const t2 = performance.now();
    foldIn.push(t1 - t0);
    scoring.push(t2 - t1);
    total.push(t2 - t0);
  }
  const history = users.map((u) => x.indptr[u + 1]! - x.indptr[u]!);
  const row: LatencyRow = {
    data,
    items: model.nItems,
    users: count,
    historyP50: median(history),
    historyP99: quantile(history, 0.99),
    foldIn: [median(foldIn), quantile(foldIn, 0.99)],
    scoring: [median(scoring), quantile(scoring, 0.99)],
    total: [median(total), quantile(total, 0.99)],
    max: Math.max(...total),
    goal,
  };
  console.log(
    `${data}: fold-in + scoring of ${count} users over ${model.nItems} items: p50 ${row.total[0].toFixed(2)} ms, ` +
      `p99 ${row.total[1].toFixed(2)} ms, max ${row.max.toFixed(2)} ms (history p50 ${row.historyP50}, p99 ${row.historyP99})`,
  );
  return row;
}

async function synthetic(
  work: string,
  name: string,
  options: { users: number; movies: number; ratings: number },
): Promise<Interactions> {
  const dir = path.join(work, name);
  log(`${name}: generating ${options.ratings.toLocaleString('en-US')} ratings into ${dir}`);
  const summary = await writeSyntheticMovieLens(dir, { ...options, seed }, terminalProgress());
  const t0 = performance.now();
  const rows = await readRatings(path.join(dir, 'ratings.csv'), options.ratings);
  const catalogue = readCatalogue(path.join(dir, 'movies.csv'));
  const x = Interactions.build(rows, catalogue);
  x.byItem();
  console.log(
    `${name}: generated in ${summary.seconds.toFixed(1)} s, read and built ${x.nUsers} users × ${x.nItems} items, ` +
      `${x.nnz.toLocaleString('en-US')} ratings in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return x;
}

async function main(): Promise<void> {
  console.log(
    `cinerec ALS benchmark: Node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? '?'}), ` +
      `${mb(os.totalmem())} RAM, ${FACTORS} factors`,
  );
  const fits: FitRow[] = [];
  const latencies: LatencyRow[] = [];
  const work = await mkdtemp(path.join(os.tmpdir(), 'cinerec-bench-als-'));
  try {
    if (existsSync(path.join(smallDir, 'ratings.csv'))) {
      const catalogue = readCatalogue(path.join(smallDir, 'movies.csv'));
      const x = Interactions.build(await readRatings(path.join(smallDir, 'ratings.csv'), 100_836), catalogue);
      for (const solver of ['cg', 'cholesky'] as const) {
        for (const threads of threadCounts) fits.push((await benchFit('ml-latest-small', x, { solver }, threads)).row);
      }
    } else {
      console.log(`skipping ml-latest-small: ${smallDir} not found`);
    }

    const small = await synthetic(work, 'synthetic-10k', { users: 10_000, movies: 10_000, ratings: 1_000_000 });
    const fitted = await benchFit('synthetic 1 M (10 k items)', small, { iterations: 5 }, Math.max(...threadCounts));
    fits.push(fitted.row);
    latencies.push(benchLatency('synthetic 1 M', small, fitted.model, latencyUsers, 5));

    if (!values['skip-large']) {
      const label = `synthetic ${(largeRows / 1e6).toLocaleString('en-US')} M`;
      const large = await synthetic(work, 'synthetic-large', {
        users: largeUsers,
        movies: largeMovies,
        ratings: largeRows,
      });
      let model: AlsModel | null = null;
      for (const threads of threadCounts) {
        const r = await benchFit(label, large, { iterations: largeIterations }, threads);
        fits.push(r.row);
        model = r.model;
      }
      latencies.push(benchLatency(label, large, model!, latencyUsers, 10));
    }
  } finally {
    if (values.keep) console.log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }

  console.log('');
  console.log(
    '| data | users | items | ratings | solver | threads | iterations | s/iteration (median) | fit s | peak RSS |',
  );
  console.log('|---|---:|---:|---:|---|---:|---:|---:|---:|---:|');
  for (const r of fits) {
    console.log(
      `| ${r.data} | ${r.users.toLocaleString('en-US')} | ${r.items.toLocaleString('en-US')} | ` +
        `${r.ratings.toLocaleString('en-US')} | ${r.solver} | ${r.threads} | ${r.iterations} | ` +
        `${r.perIteration.toFixed(2)} | ${r.fitSeconds.toFixed(1)} | ${mb(r.peakRss)} |`,
    );
  }
  console.log('');
  console.log(
    '| data | items | users | history p50 / p99 | fold-in p50 / p99 ms | scoring p50 / p99 ms | fold-in + scoring p50 / p99 ms | max ms | goal p99 |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of latencies) {
    const f2 = ([a, b]: [number, number]) => `${a.toFixed(2)} / ${b.toFixed(2)}`;
    console.log(
      `| ${r.data} | ${r.items.toLocaleString('en-US')} | ${r.users} | ${r.historyP50} / ${r.historyP99} | ` +
        `${f2(r.foldIn)} | ${f2(r.scoring)} | ${f2(r.total)} | ${r.max.toFixed(2)} | ≤ ${r.goal} ms: ` +
        `${r.total[1] <= r.goal ? 'met' : 'missed'} |`,
    );
  }
  console.log('');
  console.log(
    'Fold-in is the exact (Cholesky) solve against the cached YᵀY; scoring is x·y_i for every catalogue item ' +
      '(float64 sums). Peak RSS is sampled every 100 ms during each fit.',
  );
}

await main();
