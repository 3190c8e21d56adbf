/**
 * cinerec against peer libraries, side by side: `npm run bench:peers -- --peer <dir> [--ratings a.csv,b.csv]
 * [--synthetic 5000000] [--iterations 15] [--threads 2] [--factors 64] [--repeats 3] [--python /usr/bin/python3]`.
 *
 * Peers are built outside the project (../shared/peers/README.md); `--peer` is where they are installed (it
 * goes on PYTHONPATH). For every ratings file, each comparison runs the peer's script, then cinerec's
 * equivalent, back to back in this one process tree, and prints both figures and their ratio (cinerec ÷ peer;
 * below 1 means cinerec is faster). Only ratios measured this way are comparable: the machine is shared.
 *
 * Comparisons (one entry each in COMPARISONS below; the PyTorch MLP and scikit-learn k-means scripts beside
 * implicit's will go there too):
 * - als: implicit 0.7.2's CPU ALS (implicit_als_bench.py) vs AlsModel.fit: 64 factors, λ = 0.05, CG with 3
 *   steps, the same threads. Confidence: cinerec's `binary` with α = 1 gives every rating c = 2, p = 1;
 *   implicit's `--binary --alpha 2` gives the same c and p, so both fit the same model (their normalised
 *   training losses are printed as a check). Seconds per iteration: implicit's own per-iteration callback
 *   times (both half-steps), cinerec's report (both half-steps, Gram matrices and the loss); the median over
 *   repeats of each fit's mean.
 *
 * --synthetic N writes a seeded MovieLens-shaped file of N ratings with make_synthetic_ratings.py (users and
 * items scaled like 25 M ratings over 160 k users × 60 k items) into a temp dir and adds it to the files.
 */
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Catalogue } from '../src/data/catalogue.ts';
import { Interactions } from '../src/data/interactions.ts';
import type { Movie, RatingColumns } from '../src/data/records.ts';
import { defaultKernelBackend } from '../src/math/kernels/index.ts';
import { ALS_DEFAULTS, AlsModel } from '../src/models/als.ts';

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
    only: { type: 'string', default: 'als' },
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
  run(file: string, label: string): Promise<Row>;
}

const als: Comparison = {
  name: 'als',
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

const COMPARISONS: Comparison[] = [als];

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
  const work = await mkdtemp(path.join(os.tmpdir(), 'cinerec-peers-'));
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
      for (const { file, label } of files) {
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
