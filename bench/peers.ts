/**
 * cinerec against peer libraries, side by side: `npm run bench:peers -- --peer <dir> [--only als,mlp,kmeans]
 * [--ratings a.csv,b.csv] [--synthetic 5000000] [--iterations 15] [--threads 2] [--factors 64] [--repeats 3]
 * [--catalogue <release dir>] [--python /usr/bin/python3]`.
 *
 * Peers are built or installed outside the project (../shared/peers/README.md); `--peer` is where implicit is
 * installed (it goes on PYTHONPATH; PyTorch and scikit-learn are Debian's packages). Each comparison runs the
 * peer's script, then cinerec's equivalent, back to back in this one process tree, and prints both figures and
 * their ratio (cinerec ÷ peer; below 1 means cinerec is faster). Only ratios measured this way are comparable:
 * the machine is shared.
 *
 * Comparisons (one entry each in COMPARISONS below):
 * - als (per ratings file): implicit 0.7.2's CPU ALS (implicit_als_bench.py) vs AlsModel.fit: 64 factors,
 *   λ = 0.05, CG with 3 steps, the same threads. Confidence: cinerec's `binary` with α = 1 gives every rating
 *   c = 2, p = 1; implicit's `--binary --alpha 2` gives the same c and p, so both fit the same model (their
 *   normalised training losses are printed as a check). Seconds per iteration: implicit's own per-iteration
 *   callback times (both half-steps), cinerec's report (both half-steps, Gram matrices and the loss); the median
 *   over repeats of each fit's mean.
 * - mlp: one training epoch of an MLP 85 → 128 → 64 → 1 (ReLU), Adam lr 1e-3, MSE, batch 256, 100 k rows of
 *   seeded normal inputs (torch_mlp_bench.py, PyTorch on 1 thread) vs the nn core's train() (its kernel path;
 *   cinerec also shuffles the rows every epoch, PyTorch's script does not). Median of 3 epochs each.
 * - kmeans: scikit-learn's KMeans (Lloyd and Elkan, k-means++ with 3 restarts, k = 100; 2 OpenMP threads) on
 *   seeded blobs (20 k × 64, written by sklearn_kmeans_bench.py) vs cinerec's kmeans (3 restarts, k = 100,
 *   Lloyd, one thread), the same file; median of 3 fits each; the ratio is against the faster of Lloyd and
 *   Elkan; both inertias are printed (cinerec's must be equal or lower).
 * - kmeans-content: the same on the 64-d content vectors of a 62 k-movie catalogue (--catalogue: a release
 *   directory; by default a synthetic one of 62,423 movies with a genome on 22 % of them is generated), the
 *   content model fitted as `cinerec train` does.
 *
 * --synthetic N writes a seeded MovieLens-shaped file of N ratings with make_synthetic_ratings.py (users and
 * items scaled like 25 M ratings over 160 k users × 60 k items) into a temp dir and adds it to the files.
 */
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { writeSyntheticMovieLens } from '../src/cli/synthetic.ts';
import { contentSettingsOf } from '../src/components/content.ts';
import { contentInputsOf } from '../src/components/data.ts';
import { DEFAULTS } from '../src/config/config.ts';
import { Catalogue } from '../src/data/catalogue.ts';
import { detectFormat } from '../src/data/formats.ts';
import { Interactions } from '../src/data/interactions.ts';
import type { Movie, RatingColumns } from '../src/data/records.ts';
import { defaultKernelBackend } from '../src/math/kernels/index.ts';
import { kmeans } from '../src/math/kmeans.ts';
import { Rng } from '../src/math/random.ts';
import { ALS_DEFAULTS, AlsModel } from '../src/models/als.ts';
import { ContentIndex } from '../src/models/content-index.ts';
import { Dense, ReLU } from '../src/nn/layers.ts';
import { mse } from '../src/nn/losses.ts';
import { Sequential, train } from '../src/nn/network.ts';
import { Adam } from '../src/nn/optim.ts';
import { DuckDbStore } from '../src/store/duckdb/duckdb-store.ts';
import { takeSnapshot } from '../src/store/snapshot.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const PEERS = path.resolve(ROOT, '..', 'shared', 'peers');

const { values } = parseArgs({
  options: {
    peer: { type: 'string' },
    ratings: { type: 'string', default: path.join(ROOT, 'data', 'ml-latest-small', 'ratings.csv') },
    synthetic: { type: 'string', default: '' },
    iterations: { type: 'string', default: '15' },
    threads: { type: 'string', default: '2' },
    factors: { type: 'string', default: '64' },
    repeats: { type: 'string', default: '3' },
    python: { type: 'string', default: '/usr/bin/python3' },
    only: { type: 'string', default: 'als,mlp,kmeans,kmeans-content' },
    catalogue: { type: 'string', default: '' },
    keep: { type: 'boolean', default: false },
  },
});

function positive(name: string, text: string): number {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
}

const settings = {
  iterations: positive('iterations', values.iterations),
  threads: positive('threads', values.threads),
  factors: positive('factors', values.factors),
  repeats: positive('repeats', values.repeats),
  regularization: 0.05,
  cgSteps: 3,
};
const log = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/** The peers' Python with the peer on its path; BLAS single-threaded and on this CPU's own kernels. */
async function python(script: string, args: string[]): Promise<unknown> {
  if (!values.peer) throw new Error('--peer <dir> (where the peer libraries are installed) is required');
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: path.resolve(values.peer), OPENBLAS_NUM_THREADS: '1' };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const { stdout } = await run(values.python, [path.join(PEERS, script), ...args], {
    env,
    maxBuffer: 64 << 20,
  });
  return JSON.parse(stdout);
}

/** userId,movieId,rating[,…] rows after a header line, parsed from a stream (CRLF or LF). */
async function readRatings(file: string): Promise<RatingColumns> {
  let capacity = 1 << 20;
  let cols = {
    userId: new Int32Array(capacity),
    movieId: new Int32Array(capacity),
    rating: new Float32Array(capacity),
  };
  let n = 0;
  let header = true;
  let field = 0;
  let value = 0;
  let scale = 0;
  let any = false;
  const end = () => {
    const v = scale > 0 ? value / scale : value;
    if (field === 0) cols.userId[n] = v;
    else if (field === 1) cols.movieId[n] = v;
    else if (field === 2) cols.rating[n] = v;
    field++;
    value = 0;
    scale = 0;
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (header) {
        header = c !== 10;
        continue;
      }
      if (c >= 48 && c <= 57) {
        if (field <= 2) {
          value = value * 10 + (c - 48);
          if (scale > 0) scale *= 10;
        }
        any = true;
      } else if (c === 46) scale = 1;
      else if (c === 44) end();
      else if (c === 10) {
        if (any) {
          if (field <= 2) end();
          if (++n === capacity) {
            capacity *= 2;
            const grow = <T extends Int32Array | Float32Array>(a: T, b: T): T => {
              b.set(a);
              return b;
            };
            cols = {
              userId: grow(cols.userId, new Int32Array(capacity)),
              movieId: grow(cols.movieId, new Int32Array(capacity)),
              rating: grow(cols.rating, new Float32Array(capacity)),
            };
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
    if (field <= 2) end();
    n++;
  }
  return {
    userId: cols.userId.subarray(0, n),
    movieId: cols.movieId.subarray(0, n),
    rating: cols.rating.subarray(0, n),
    timestamp: new Float64Array(n),
  };
}

/** Interactions with users and items in ascending id order, as the peer scripts map them. */
function interactionsOf(rows: RatingColumns): Interactions {
  const ids = Int32Array.from(new Set(rows.movieId)).sort();
  const movies = Array.from(
    ids,
    (movieId): Movie => ({
      movieId,
      title: '',
      displayTitle: '',
      year: null,
      genres: [],
      imdbId: null,
      tmdbId: null,
      source: 'import',
    }),
  );
  return Interactions.build(rows, new Catalogue(movies));
}

interface Row {
  comparison: string;
  data: string;
  size: string;
  peer: string;
  peerFigure: number;
  ours: number;
  unit: string;
  /** ours ÷ peer, in the direction where below 1 favours cinerec. */
  ratio: number;
  note: string;
}

interface Comparison {
  name: string;
  /** Runs once per ratings file (als), or once (the others: their data is their own). */
  perFile: boolean;
  run(file: string, label: string): Promise<Row>;
}

/** A temporary directory for the run's files (set in main). */
let work = '';

const als: Comparison = {
  name: 'als',
  perFile: true,
  async run(file, label) {
    const { iterations, threads, factors, repeats, regularization, cgSteps } = settings;
    log(`${label}: implicit, ${repeats} fit(s) of ${iterations} iterations on ${threads} thread(s)`);
    const peer = (await python('implicit_als_bench.py', [
      file,
      ...['--factors', `${factors}`, '--regularization', `${regularization}`, '--alpha', '2', '--binary'],
      ...['--iterations', `${iterations}`, '--threads', `${threads}`, '--repeats', `${repeats}`],
      ...['--cg-steps', `${cgSteps}`, '--loss', '--no-cpu-probe'],
    ])) as { median_seconds_per_iteration: number; final_training_loss: number; peer_version: string };
    log(`${label}: cinerec, reading ${file}`);
    const x = interactionsOf(await readRatings(file));
    const means: number[] = [];
    let loss = 0;
    for (let r = 0; r < repeats; r++) {
      const model = await AlsModel.fit(x, {
        ...ALS_DEFAULTS,
        factors,
        regularization,
        alpha: 1,
        confidence: 'binary',
        solver: 'cg',
        cgSteps,
        iterations,
        threads,
        seed: 1 + r,
      });
      const its = model.report.iterations;
      means.push(its.reduce((s, i) => s + i.seconds, 0) / its.length);
      loss = its.at(-1)?.loss ?? Number.NaN;
      log(`${label}: cinerec fit ${r + 1}: ${means.at(-1)!.toFixed(4)} s/iteration`);
    }
    // implicit's loss divides by Σc over all users × items: c = 2 observed, 1 elsewhere.
    const normalised = loss / (2 * x.nnz + x.nUsers * x.nItems - x.nnz);
    const ours = median(means);
    return {
      comparison: 'als',
      data: label,
      size: `${x.nUsers.toLocaleString('en-US')} × ${x.nItems.toLocaleString('en-US')}, ${x.nnz.toLocaleString('en-US')} ratings`,
      peer: `implicit ${peer.peer_version}`,
      peerFigure: peer.median_seconds_per_iteration,
      ours,
      unit: 's/iteration',
      ratio: ours / peer.median_seconds_per_iteration,
      note: `training loss (normalised): implicit ${peer.final_training_loss.toFixed(6)}, cinerec ${normalised.toFixed(6)}`,
    };
  },
};

/** The MLP of torch_mlp_bench.py, trained with the nn core's train(): seconds per epoch, median of 3. */
const mlp: Comparison = {
  name: 'mlp',
  perFile: false,
  async run() {
    const rows = 100_000;
    const inputs = 85;
    const batch = 256;
    log(`mlp: PyTorch, ${inputs} → 128 → 64 → 1, batch ${batch}, ${rows.toLocaleString('en-US')} rows`);
    const peer = (await python('torch_mlp_bench.py', [
      ...['--rows', `${rows}`, '--inputs', `${inputs}`, '--hidden', '128,64', '--batch', `${batch}`],
    ])) as { impl: string; threads_1: { epoch_s: number; samples_per_s: number } };
    log('mlp: cinerec');
    const rng = new Rng(1);
    const x = Float32Array.from({ length: rows * inputs }, () => rng.normal());
    const y = Float32Array.from({ length: rows }, () => rng.next());
    const net = new Sequential([
      new Dense(inputs, 128, 'he', rng),
      new ReLU(),
      new Dense(128, 64, 'he', rng),
      new ReLU(),
      new Dense(64, 1, 'glorot', rng),
    ]);
    const seconds: number[] = [];
    let last = performance.now();
    train(
      net,
      { x, y },
      {
        epochs: 4,
        batchSize: batch,
        loss: mse,
        optimizer: new Adam({ lr: 1e-3 }),
        seed: 1,
        onEpoch: () => {
          const now = performance.now();
          seconds.push((now - last) / 1000);
          last = now;
        },
      },
    );
    // The first epoch also copies the data into kernel memory and warms the JIT up: drop it.
    const ours = median(seconds.slice(1));
    return {
      comparison: 'mlp',
      data: 'random normal',
      size: `${rows.toLocaleString('en-US')} × ${inputs} → 128 → 64 → 1, batch ${batch}`,
      peer: `${peer.impl}, 1 thread`,
      peerFigure: peer.threads_1.epoch_s,
      ours,
      unit: 's/epoch',
      ratio: ours / peer.threads_1.epoch_s,
      note: `samples/s: PyTorch ${peer.threads_1.samples_per_s.toLocaleString('en-US')}, cinerec ${Math.round(rows / ours).toLocaleString('en-US')}`,
    };
  },
};

interface SklearnKmeans {
  impl: string;
  lloyd: { median_s: number; inertia: number; iterations: number };
  elkan: { median_s: number; inertia: number; iterations: number };
}

/** scikit-learn's KMeans and cinerec's kmeans on one float32 file of rows × 64. */
async function kmeansBoth(name: string, file: string, dataLabel: string): Promise<Row> {
  const dims = 64;
  const k = 100;
  const restarts = 3;
  log(`${name}: scikit-learn on ${file}`);
  const peer = (await python('sklearn_kmeans_bench.py', [
    ...['--read', file, '--dims', `${dims}`, '--k', `${k}`, '--restarts', `${restarts}`],
  ])) as SklearnKmeans;
  const { readFile } = await import('node:fs/promises');
  const bytes = await readFile(file);
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const n = data.length / dims;
  log(`${name}: cinerec on ${n.toLocaleString('en-US')} rows`);
  const fits: { seconds: number; inertia: number; iterations: number }[] = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    const km = kmeans(data, n, dims, { k, restarts, seed: r + 1, miniBatch: false });
    fits.push({ seconds: (performance.now() - t) / 1000, inertia: km.inertia, iterations: km.iterations });
  }
  const ours = median(fits.map((f) => f.seconds));
  const faster = peer.lloyd.median_s <= peer.elkan.median_s ? 'lloyd' : 'elkan';
  const theirs = peer[faster];
  const inertias = fits.map((f) => Math.round(f.inertia).toLocaleString('en-US')).join(', ');
  return {
    comparison: name,
    data: dataLabel,
    size: `${n.toLocaleString('en-US')} × ${dims}, k ${k}, ${restarts} restarts`,
    peer: `${peer.impl} (${faster}, 2 threads)`,
    peerFigure: theirs.median_s,
    ours,
    unit: 's/fit',
    ratio: ours / theirs.median_s,
    note:
      `inertia: scikit-learn ${Math.round(theirs.inertia).toLocaleString('en-US')} (${theirs.iterations} iterations), ` +
      `cinerec ${inertias} (seeds 1–3; ${fits.map((f) => f.iterations).join(', ')} iterations); ` +
      `scikit-learn lloyd ${peer.lloyd.median_s} s, elkan ${peer.elkan.median_s} s`,
  };
}

const kmeansBlobs: Comparison = {
  name: 'kmeans',
  perFile: false,
  async run() {
    const file = path.join(work, 'kmeans-blobs.f32');
    await python('sklearn_kmeans_bench.py', [
      ...['--write', file, '--rows', '20000', '--dims', '64', '--centres', '100'],
    ]);
    return kmeansBoth('kmeans', file, 'seeded blobs (100 centres)');
  },
};

/** Content vectors of a 62 k-movie catalogue: the content model fitted as the training stage does. */
const kmeansContent: Comparison = {
  name: 'kmeans-content',
  perFile: false,
  async run() {
    let dir = values.catalogue;
    if (!dir) {
      dir = path.join(work, 'catalogue');
      log('kmeans-content: writing a synthetic release of 62,423 movies (genome on 22 %)');
      await writeSyntheticMovieLens(dir, {
        users: 5000,
        movies: 62_423,
        ratings: 400_000,
        seed: 1,
        tags: 1_100_000,
        genome: {},
      });
    }
    log(`kmeans-content: importing ${dir} and fitting the content model`);
    const store = await DuckDbStore.open(path.join(work, 'catalogue.duckdb'));
    let vectors: Float32Array;
    let d = 0;
    try {
      await store.importDataset(detectFormat(dir));
      const s = await takeSnapshot(store);
      const catalogue = new Catalogue(s.movies);
      const index = ContentIndex.fit(catalogue, contentInputsOf(s), contentSettingsOf(DEFAULTS.content));
      d = index.model.dimensions;
      vectors = index.model.vectors.slice();
    } finally {
      await store.close();
    }
    if (d !== 64) throw new Error(`content vectors have ${d} dimensions, the comparison needs 64`);
    const file = path.join(work, 'content-vectors.f32');
    await writeFile(file, vectors);
    return kmeansBoth('kmeans-content', file, `content vectors (${path.basename(dir)})`);
  },
};

const COMPARISONS: Comparison[] = [als, mlp, kmeansBlobs, kmeansContent];

/** A data set's name: the folder of a MovieLens ratings.csv, else the file's name without its extension. */
function labelOf(file: string): string {
  const base = path.basename(file);
  return base === 'ratings.csv' ? path.basename(path.dirname(file)) : base.replace(/\.[^.]*$/, '');
}

async function main(): Promise<void> {
  const wanted = new Set(values.only.split(',').map((s) => s.trim()));
  const chosen = COMPARISONS.filter((c) => wanted.has(c.name));
  if (chosen.length === 0)
    throw new Error(`--only: none of ${values.only} is one of ${COMPARISONS.map((c) => c.name)}`);
  const files = values.ratings
    .split(',')
    .filter((f) => f.trim() !== '')
    .map((f) => ({ file: path.resolve(f.trim()), label: labelOf(path.resolve(f.trim())) }));
  for (const { file } of files) if (!existsSync(file)) throw new Error(`${file}: not found`);
  work = await mkdtemp(path.join(os.tmpdir(), 'cinerec-peers-'));
  try {
    for (const text of values.synthetic.split(',').filter((s) => s.trim() !== '')) {
      const nnz = positive('synthetic', text.trim());
      // 25 M ratings over 160 k users × 60 k items, scaled down with the square root to keep the density.
      const scale = Math.sqrt(nnz / 25e6);
      const users = Math.max(100, Math.round(160_000 * scale));
      const items = Math.max(100, Math.round(60_000 * scale));
      const out = path.join(work, `synthetic-${nnz}.csv`);
      log(`writing ${nnz.toLocaleString('en-US')} synthetic ratings (${users} users × ${items} items) to ${out}`);
      await run(
        values.python,
        [
          path.join(PEERS, 'make_synthetic_ratings.py'),
          ...['--users', `${users}`, '--items', `${items}`, '--nnz', `${nnz}`, '--out', out],
        ],
        { maxBuffer: 16 << 20 },
      );
      files.push({ file: out, label: `synthetic ${(nnz / 1e6).toLocaleString('en-US')} M` });
    }
    console.log(
      `cinerec vs peers: Node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? '?'}), ` +
        `kernels: ${defaultKernelBackend}; ${settings.threads} thread(s), ${settings.factors} factors, ` +
        `${settings.iterations} iterations, ${settings.repeats} repeat(s)`,
    );
    const rows: Row[] = [];
    for (const c of chosen) {
      for (const { file, label } of c.perFile ? files : [{ file: '', label: '' }]) {
        const row = await c.run(file, label);
        rows.push(row);
        console.log(
          `${row.comparison} ${row.data}: ${row.peer} ${row.peerFigure.toFixed(4)} ${row.unit}, cinerec ` +
            `${row.ours.toFixed(4)} ${row.unit}, ratio ${row.ratio.toFixed(2)} (${row.note})`,
        );
      }
    }
    console.log('');
    console.log('| comparison | data | size | peer | peer | cinerec | cinerec ÷ peer | note |');
    console.log('|---|---|---|---|---:|---:|---:|---|');
    for (const r of rows) {
      console.log(
        `| ${r.comparison} | ${r.data} | ${r.size} | ${r.peer} | ${r.peerFigure.toFixed(4)} ${r.unit} | ` +
          `${r.ours.toFixed(4)} ${r.unit} | ${r.ratio.toFixed(2)} | ${r.note} |`,
      );
    }
  } finally {
    if (values.keep) console.log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

await main();
