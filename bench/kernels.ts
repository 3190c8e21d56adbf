/**
 * Kernel benchmark: `npm run bench:kernels -- [--reps 5] [--seed 1]`.
 *
 * For every kernel of src/math/kernels, GFLOP/s on the TypeScript reference and on WebAssembly SIMD, on one
 * thread and, for the kernels that split across threads (GEMM by rows, Gram products by row blocks, ALS CG
 * by chunks of rows), on two (the caller and one worker over the same shared memory). Each figure is the
 * best of --reps timed runs after one warm-up run; all run back to back in this process, so compare them
 * with each other, not with figures from another run (the machine is shared). Top-k is in G scores/s.
 *
 * Flops counted: GEMM 2mnk; GEMV 2mn; Gram (syrk) n·f·(f+1) (the lower triangle); Cholesky n³/3 + 2n² per
 * system (factor and solve); ALS CG per row 4·2f² (symv) + 4 passes × 4f per entry; distances 3·n·k·d.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ALS_JOB_BYTES, alsScratchBytes, writeAlsJob } from '../src/math/kernels/als-job.ts';
import { CONF_BINARY } from '../src/math/kernels/als-rows.ts';
import {
  bindKernels,
  GEMM_SCRATCH_BYTES,
  type KernelBackend,
  type KernelFunctions,
  KernelMemory,
  simdKernelsSupported,
  syrkScratchBytes,
  transposeCentroids,
} from '../src/math/kernels/index.ts';
import { KernelPool, type RangeKernel } from '../src/math/kernels/pool.ts';
import { Rng } from '../src/math/random.ts';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
  },
});
const reps = Number(values.reps);
if (!Number.isSafeInteger(reps) || reps < 1) throw new Error(`--reps must be a positive integer, got ${values.reps}`);
const rng = new Rng(Number(values.seed));
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Best of `reps` timed calls after a warm-up, in seconds; `prepare` runs untimed before each. */
async function best(run: () => void | Promise<void>, prepare?: () => void): Promise<number> {
  prepare?.();
  await run();
  let min = Number.POSITIVE_INFINITY;
  for (let r = 0; r < reps; r++) {
    prepare?.();
    const t = performance.now();
    await run();
    min = Math.min(min, (performance.now() - t) / 1000);
  }
  return min;
}

function fill(mem: KernelMemory, ptr: number, length: number, scale = 1): void {
  const v = mem.f32At(ptr, length);
  for (let i = 0; i < length; i++) v[i] = rng.normal() * scale;
}

/** A kernel set-up: builds its data in `mem`, returns the single-thread run and, if it splits, the range call. */
interface Case {
  name: string;
  size: string;
  flops: number;
  unit?: string;
  bytes: number;
  setup(
    mem: KernelMemory,
    fn: KernelFunctions,
    threads: number,
  ): {
    one: () => void;
    /** Untimed, before every run: restores inputs that a run overwrites. */
    prepare?: () => void;
    range?: { fn: RangeKernel; jobs: number[]; bounds: number; count: number; after?: () => void };
  };
}

/** Chunk boundaries [0, step, 2·step, …, n] in kernel memory. */
function bounds(mem: KernelMemory, n: number, step: number): { ptr: number; count: number } {
  const count = Math.max(1, Math.ceil(n / step));
  const ptr = mem.alloc(4 * (count + 1));
  const b = mem.i32At(ptr, count + 1);
  for (let c = 0; c <= count; c++) b[c] = Math.min(n, c * step);
  return { ptr, count };
}

const GEMM = 512;
const gemmCase: Case = {
  name: 'gemm (float32)',
  size: `${GEMM}×${GEMM}×${GEMM}`,
  flops: 2 * GEMM ** 3,
  bytes: 3 * 4 * GEMM * GEMM + 3 * GEMM_SCRATCH_BYTES + 4096,
  setup(mem, fn, threads) {
    const n = GEMM;
    const [a, b, c] = [mem.alloc(4 * n * n), mem.alloc(4 * n * n), mem.alloc(4 * n * n)];
    fill(mem, a, n * n);
    fill(mem, b, n * n);
    const packs = Array.from({ length: threads }, () => mem.alloc(GEMM_SCRATCH_BYTES));
    const jobs = packs.map((pack) => {
      const job = mem.alloc(64);
      mem.i32At(job, 13).set([0, 0, 0, n, n, a, n, b, n, c, n, 0, pack]);
      return job;
    });
    // Each chunk packs B anew: chunks of 128 rows keep that under a tenth of the work.
    const chunks = bounds(mem, n, 128);
    return {
      one: () => fn.gemm(n, n, n, a, n, b, n, c, n, 0, packs[0]!),
      range: { fn: 'gemm_range', jobs, bounds: chunks.ptr, count: chunks.count },
    };
  },
};

const GEMV = 2048;
const gemvCase = (trans: 0 | 1): Case => ({
  name: trans ? 'gemv Aᵀx (float32)' : 'gemv Ax (float32)',
  size: `${GEMV}×${GEMV}`,
  flops: 2 * GEMV * GEMV,
  bytes: 4 * GEMV * GEMV + 8 * GEMV + 4096,
  setup(mem, fn) {
    const a = mem.alloc(4 * GEMV * GEMV);
    const x = mem.alloc(4 * GEMV);
    const y = mem.alloc(4 * GEMV);
    fill(mem, a, GEMV * GEMV);
    fill(mem, x, GEMV);
    return { one: () => fn.gemv(trans, GEMV, GEMV, a, GEMV, x, y, 0) };
  },
});

const GRAM_ROWS = 32768;
const GRAM_F = 64;
const GRAM_BLOCK = 4096;
const gramCase: Case = {
  name: 'gram AᵀA (float64 from float32)',
  size: `${GRAM_ROWS}×${GRAM_F}`,
  flops: GRAM_ROWS * GRAM_F * (GRAM_F + 1),
  bytes: 4 * GRAM_ROWS * GRAM_F + 8 * GRAM_F * GRAM_F * 9 + 3 * syrkScratchBytes(GRAM_F) + 4096,
  setup(mem, fn, threads) {
    const f = GRAM_F;
    const a = mem.alloc(4 * GRAM_ROWS * f);
    fill(mem, a, GRAM_ROWS * f);
    const out = mem.alloc(8 * f * f);
    const blocks = GRAM_ROWS / GRAM_BLOCK;
    const parts = mem.alloc(8 * f * f * blocks);
    const scratch = Array.from({ length: threads }, () => mem.alloc(syrkScratchBytes(f)));
    const jobs = scratch.map((s) => {
      const job = mem.alloc(32);
      mem.i32At(job, 7).set([f, 0, 0, a, parts, GRAM_BLOCK, s]);
      return job;
    });
    const chunks = bounds(mem, GRAM_ROWS, GRAM_BLOCK);
    return {
      one: () => fn.syrk(out, f, a, f, 0, 0, GRAM_ROWS, f, scratch[0]!, 0),
      range: {
        fn: 'gram_range',
        jobs,
        bounds: chunks.ptr,
        count: chunks.count,
        // The partials' ordered sum, part of the parallel product.
        after: () => {
          const o = mem.f64At(out, f * f);
          const p = mem.f64At(parts, f * f * blocks);
          o.set(p.subarray(0, f * f));
          for (let b = 1; b < blocks; b++) for (let k = 0; k < f * f; k++) o[k]! += p[b * f * f + k]!;
        },
      },
    };
  },
};

const WEIGHTED = 20000;
const weightedCase: Case = {
  name: 'gram YᵀCY, listed rows (float64)',
  size: `${WEIGHTED} of 60000 rows × ${GRAM_F}`,
  flops: WEIGHTED * GRAM_F * (GRAM_F + 1),
  bytes: 4 * 60000 * GRAM_F + 12 * WEIGHTED + 8 * GRAM_F * GRAM_F + syrkScratchBytes(GRAM_F) + 4096,
  setup(mem, fn) {
    const f = GRAM_F;
    const a = mem.alloc(4 * 60000 * f);
    fill(mem, a, 60000 * f);
    const idx = mem.copyIn(Int32Array.from({ length: WEIGHTED }, () => rng.int(60000)));
    const w = mem.copyIn(Float64Array.from({ length: WEIGHTED }, () => 1 + rng.next()));
    const out = mem.alloc(8 * f * f);
    const scratch = mem.alloc(syrkScratchBytes(f));
    return { one: () => fn.syrk(out, f, a, f, idx, w, WEIGHTED, f, scratch, 0) };
  },
};

const CHOL_N = 64;
const CHOL_COUNT = 400;
const choleskyCase: Case = {
  name: 'cholesky factor + solve, batched (float64)',
  size: `${CHOL_COUNT} × ${CHOL_N}×${CHOL_N}`,
  flops: CHOL_COUNT * (CHOL_N ** 3 / 3 + 2 * CHOL_N ** 2),
  bytes: 16 * CHOL_COUNT * CHOL_N * CHOL_N + 8 * CHOL_COUNT * CHOL_N + 4096,
  setup(mem, fn) {
    const n = CHOL_N;
    const spd = new Float64Array(n * n);
    const b = Float64Array.from({ length: n * n }, () => rng.normal());
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = i === j ? n : 0;
        for (let q = 0; q < n; q++) s += b[q * n + i]! * b[q * n + j]!;
        spd[i * n + j] = s;
      }
    }
    const work = mem.alloc(8 * CHOL_COUNT * n * n);
    const rhs = mem.alloc(8 * CHOL_COUNT * n);
    return {
      one: () => {
        if (fn.potrf_batch(work, n, CHOL_COUNT) !== 0) throw new Error('not positive definite');
        fn.potrs_batch(work, n, rhs, CHOL_COUNT);
      },
      prepare: () => {
        for (let m = 0; m < CHOL_COUNT; m++) mem.f64At(work + 8 * m * n * n, n * n).set(spd);
        mem.f64At(rhs, CHOL_COUNT * n).fill(1);
      },
    };
  },
};

/** An ALS user half-step: rows with 1–80 entries (mean ~40) over 30 k fixed rows of 64 factors. */
const ALS_ROWS = 20000;
const ALS_FIXED = 30000;
const ALS_F = 64;
const alsLengths = Int32Array.from({ length: ALS_ROWS }, () => 1 + rng.int(80));
const alsNnz = alsLengths.reduce((s, v) => s + v, 0);
const alsCase: Case = {
  name: 'ALS CG rows (float32)',
  size: `${ALS_ROWS} rows, ${alsNnz} entries, f ${ALS_F}, 3 steps`,
  flops: ALS_ROWS * 4 * 2 * ALS_F * ALS_F + 4 * alsNnz * 4 * ALS_F,
  bytes:
    4 * (ALS_ROWS + ALS_FIXED) * ALS_F +
    8 * alsNnz +
    4 * ALS_ROWS +
    16 * ALS_F * ALS_F +
    3 * alsScratchBytes(ALS_F, 80) +
    65536,
  setup(mem, fn, threads) {
    const f = ALS_F;
    const indptr = new Int32Array(ALS_ROWS + 1);
    for (let r = 0; r < ALS_ROWS; r++) indptr[r + 1] = indptr[r]! + alsLengths[r]!;
    const index = Int32Array.from({ length: alsNnz }, () => rng.int(ALS_FIXED));
    const fixed = mem.alloc(4 * ALS_FIXED * f);
    const target = mem.alloc(4 * ALS_ROWS * f);
    fill(mem, fixed, ALS_FIXED * f, 0.1);
    const start = Float32Array.from({ length: ALS_ROWS * f }, () => rng.next() * 0.01);
    const g64 = mem.alloc(8 * f * f);
    const g32 = mem.alloc(4 * f * f);
    const y = mem.f32At(fixed, ALS_FIXED * f);
    const g = mem.f64At(g64, f * f);
    for (let r = 0; r < ALS_FIXED; r++)
      for (let i = 0; i < f; i++) for (let j = 0; j < f; j++) g[i * f + j]! += y[r * f + i]! * y[r * f + j]!;
    const g32v = mem.f32At(g32, f * f);
    for (let k = 0; k < f * f; k++) g32v[k] = g[k]! + (k % (f + 1) === 0 ? 0.05 : 0);
    const common = {
      f4: f,
      from: 0,
      to: ALS_ROWS,
      indptr: mem.copyIn(indptr),
      index: mem.copyIn(index),
      ratings: mem.copyIn(Float32Array.from({ length: alsNnz }, () => 4)),
      fixed,
      target,
      gram32: g32,
      gram64: g64,
      lambda: 0.05,
      cgSteps: 3,
      capacity: 80,
      rowLoss: 0,
      conf: { kind: CONF_BINARY, alpha: 1, ratingMax: 5, negativeBelow: Number.NEGATIVE_INFINITY },
    };
    const jobs = Array.from({ length: threads }, () => {
      const job = mem.alloc(ALS_JOB_BYTES);
      writeAlsJob(mem, job, { ...common, scratch: mem.alloc(alsScratchBytes(f, 80)) });
      return job;
    });
    const chunks = bounds(mem, ALS_ROWS, 256);
    return {
      one: () => fn.als_cg(jobs[0]!),
      // Every run starts from the same factors.
      prepare: () => mem.f32At(target, ALS_ROWS * f).set(start),
      range: { fn: 'als_cg', jobs, bounds: chunks.ptr, count: chunks.count },
    };
  },
};

const DIST_N = 4096;
const DIST_D = 64;
const DIST_K = 100;
const distCase: Case = {
  name: 'k-means distances (float64)',
  size: `${DIST_N} points × ${DIST_K} centroids × ${DIST_D}`,
  flops: 3 * DIST_N * DIST_K * DIST_D,
  bytes: 4 * DIST_N * DIST_D + 8 * DIST_D * 104 + 8 * DIST_N * DIST_K + 4096,
  setup(mem, fn) {
    const x = mem.alloc(4 * DIST_N * DIST_D);
    fill(mem, x, DIST_N * DIST_D);
    const cent = Float64Array.from({ length: DIST_K * DIST_D }, () => rng.normal());
    const ct = mem.copyIn(transposeCentroids(cent, DIST_K, DIST_D));
    const out = mem.alloc(8 * DIST_N * DIST_K);
    return { one: () => fn.sqdist(x, DIST_N, DIST_D, ct, DIST_K, 104, out, DIST_K) };
  },
};

const TOPK_N = 1 << 20;
const topkCase: Case = {
  name: 'top-k (float32)',
  size: `${TOPK_N} scores, k 100`,
  flops: TOPK_N,
  unit: 'G scores/s',
  bytes: 4 * TOPK_N + 800 + 4096,
  setup(mem, fn) {
    const s = mem.alloc(4 * TOPK_N);
    fill(mem, s, TOPK_N);
    const hs = mem.alloc(400);
    const hi = mem.alloc(400);
    return { one: () => void fn.topk(s, TOPK_N, 100, hs, hi) };
  },
};

const CASES: Case[] = [
  gemmCase,
  gemvCase(0),
  gemvCase(1),
  gramCase,
  weightedCase,
  choleskyCase,
  alsCase,
  distCase,
  topkCase,
];

/** Rate of one case on one backend and thread count (null: not applicable). */
async function measure(c: Case, backend: KernelBackend, threads: number): Promise<number | null> {
  const mem = KernelMemory.create(c.bytes + (1 << 16), c.bytes + (1 << 16));
  const fn = bindKernels(mem, backend);
  const { one, prepare, range } = c.setup(mem, fn, threads);
  if (threads === 1) return c.flops / (await best(one, prepare)) / 1e9;
  if (!range) return null;
  const counter = mem.alloc(16);
  const pool = await KernelPool.start(mem, threads, backend);
  try {
    const seconds = await best(async () => {
      Atomics.store(mem.i32(), counter >> 2, 0);
      const failed = await pool.runRange({ ...range, counter });
      if (failed) throw new Error(`${c.name}: kernel failed (${failed})`);
      range.after?.();
    }, prepare);
    return c.flops / seconds / 1e9;
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  console.log(
    `cinerec kernels: Node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? '?'}), ` +
      `SIMD ${simdKernelsSupported ? 'supported' : 'not supported'}, best of ${reps}`,
  );
  const backends: KernelBackend[] = simdKernelsSupported ? ['reference', 'simd'] : ['reference'];
  const rows: string[] = [];
  for (const c of CASES) {
    const figures: Record<string, number | null> = {};
    for (const backend of backends) {
      for (const threads of [1, 2]) {
        log(`${c.name}: ${backend}, ${threads} thread(s)`);
        figures[`${backend}${threads}`] = await measure(c, backend, threads);
      }
    }
    const f = (v: number | null | undefined) => (v == null ? '–' : v.toFixed(v < 1 ? 3 : 2));
    const speedup = figures.simd1 && figures.reference1 ? `${(figures.simd1 / figures.reference1).toFixed(1)}×` : '–';
    const row =
      `| ${c.name} | ${c.size} | ${c.unit ?? 'GFLOP/s'} | ${f(figures.reference1)} | ${f(figures.reference2)} | ` +
      `${f(figures.simd1)} | ${f(figures.simd2)} | ${speedup} |`;
    console.log(row);
    rows.push(row);
  }
  console.log('');
  console.log(
    '| kernel | size | unit | reference, 1 thread | reference, 2 threads | SIMD, 1 thread | SIMD, 2 threads | SIMD ÷ reference (1 thread) |',
  );
  console.log('|---|---|---|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);
}

await main();
