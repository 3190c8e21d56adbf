/**
 * Implicit ALS on the kernel layer (src/math/kernels): where a fit's arrays live in kernel memory, how a
 * half-step becomes jobs for the row kernels, and the exact fold-in solve.
 *
 * Memory layout (one shared KernelMemory per fit, sized up front): both factor matrices as float32 rows of
 * f4 floats (f rounded up to 4 on the SIMD path, the padding zero; f on the reference path), the interaction
 * matrix twice (by user and by item: i32 indptr, i32 index, f32 ratings), per side the fixed side's Gram
 * matrix in float64 and (+ λI) in float32, the Gram partials, the item rows' loss shares, and per thread a job
 * block, scratch and a gather buffer for long rows. Worker threads instantiate the kernels on the same memory
 * (KernelPool), so nothing is copied per iteration.
 *
 * Rows are stored by descending number of entries (users and items alike, each row's entries in their original
 * order): the factor rows read most often sit together, which cuts cache and TLB misses on large data, and the
 * dynamic split hands out the longest rows first. The order is internal: factors() returns the usual rows.
 *
 * Determinism: a row's solution depends only on its inputs, not on the thread or chunk that solves it; Gram
 * matrices are summed from fixed blocks of rows in a fixed order. Fitting with 1 or N threads therefore gives
 * bit-identical factors and losses on a given backend (SIMD and reference differ by rounding).
 *
 * The TypeScript reference of the row arithmetic (RowSolver and its types) lives in
 * src/math/kernels/als-rows.ts and is re-exported here.
 */
import { NotPositiveDefiniteError } from '../math/cholesky.ts';
import {
  ALS_JOB_BYTES,
  alsScratchBytes,
  GATHER_MIN_BYTES,
  gatherBytes,
  setAlsJobRowLoss,
  writeAlsJob,
} from '../math/kernels/als-job.ts';
import type { ConfidenceSpec } from '../math/kernels/als-rows.ts';
import { type KernelBackend, KernelMemory, kernelArena, syrkScratchBytes } from '../math/kernels/index.ts';
import { KernelPool, type RangeCall, type RangeKernel } from '../math/kernels/pool.ts';

export {
  CONF_BINARY,
  CONF_LINEAR,
  CONF_RATING,
  type ConfidenceSpec,
  confidenceOf,
  gramian,
  type HalfStep,
  mirrorLower,
  preferenceOf,
  RowSolver,
  rank4Lower,
  type SideArrays,
  SOLVER_CG,
  SOLVER_CHOLESKY,
} from '../math/kernels/als-rows.ts';

/** Rows per Gram block: partial Gram matrices are per block, so their sum does not depend on the threads. */
const GRAM_BLOCK_ROWS = 4096;
/** Chunks per thread for the dynamic split of a half-step (balances rows of very different lengths). */
const CHUNKS_PER_THREAD = 16;
/** Longest row that CG gathers (its buffer: 2^18 rows of 64 floats, 64 MiB per thread); longer rows are not. */
const GATHER_MAX_ENTRIES = 1 << 18;

/** One side of the interaction matrix in compressed-row form. */
export interface SideInput {
  indptr: Int32Array;
  index: Int32Array;
  ratings: Float32Array;
}

export interface AlsFitInput {
  f: number;
  nUsers: number;
  nItems: number;
  byUser: SideInput;
  byItem: SideInput;
  /** Initial factors, rows of f (unpadded). */
  userFactors: Float32Array;
  itemFactors: Float32Array;
  lambda: number;
  cgSteps: number;
  exact: boolean;
  conf: ConfidenceSpec;
  threads: number;
  backend: KernelBackend;
  /** Gather long rows in CG (SIMD): default true; off only to measure what it saves. */
  gather?: boolean;
}

/** Row length in kernel memory: padded to 4 floats for the SIMD kernels, as is for the reference. */
function paddedFactors(f: number, backend: KernelBackend): number {
  return backend === 'simd' ? Math.ceil(f / 4) * 4 : f;
}

/**
 * Contiguous row ranges of about equal work (a row costs its entries plus f/2 for the dense f×f products);
 * returns parts + 1 boundaries. The split affects only the balance, never the results.
 */
function partition(indptr: Int32Array, rows: number, parts: number, f: number): Int32Array {
  const perRow = f / 2;
  const total = indptr[rows]! + rows * perRow;
  const bounds = new Int32Array(parts + 1);
  let to = 0;
  for (let t = 1; t < parts; t++) {
    const goal = (total * t) / parts;
    while (to < rows && indptr[to + 1]! + (to + 1) * perRow <= goal) to++;
    bounds[t] = to;
  }
  bounds[parts] = rows;
  return bounds;
}

/** order[p] = the row stored at position p (descending length, ties by index); pos is its inverse. */
function byLength(indptr: Int32Array, rows: number): { order: Int32Array; pos: Int32Array } {
  const order = Int32Array.from({ length: rows }, (_, r) => r).sort(
    (a, b) => indptr[b + 1]! - indptr[b]! - (indptr[a + 1]! - indptr[a]!) || a - b,
  );
  const pos = new Int32Array(rows);
  for (let p = 0; p < rows; p++) pos[order[p]!] = p;
  return { order, pos };
}

interface Side {
  rows: number;
  /** order[p] = the user/item stored at row p. */
  order: Int32Array;
  /** The side's factors (f32, rows × f4). */
  factors: number;
  indptr: number;
  index: number;
  ratings: number;
  /** Job blocks, one per thread, solving this side. */
  jobs: number[];
  bounds: number;
  chunks: number;
  /** Gram matrix of this side's factors (float64 f4², no λ), its blocks, and the jobs computing them. */
  gram64: number;
  gramParts: number;
  gramBlocks: number;
  gramJobs: number[];
  gramBounds: number;
}

/** A fit's arrays in kernel memory and the threads working on them; close() stops the threads. */
export class AlsWorkspace {
  private constructor(
    readonly mem: KernelMemory,
    private readonly pool: KernelPool,
    readonly f: number,
    readonly f4: number,
    private readonly users: Side,
    private readonly items: Side,
    /** G + λI in float32 for the side being solved (shared by both half-steps). */
    private readonly gram32: number,
    private readonly counter: number,
    /** float64 per item: the item rows' loss shares of the last item half-step. */
    private readonly rowLoss: number,
    private readonly lambda: number,
    private readonly kernel: RangeKernel,
  ) {}

  static async create(input: AlsFitInput, workerEntry: URL): Promise<AlsWorkspace> {
    const { f, nUsers, nItems, byUser, byItem, threads, backend } = input;
    const f4 = paddedFactors(f, backend);
    let longest = 0;
    for (const s of [byUser, byItem]) {
      for (let r = 0; r + 1 < s.indptr.length; r++) longest = Math.max(longest, s.indptr[r + 1]! - s.indptr[r]!);
    }
    const capacity = Math.ceil(Math.max(1, longest) / 4) * 4;
    const parts = threads * CHUNKS_PER_THREAD;
    const blocks = (rows: number) => Math.max(1, Math.ceil(rows / GRAM_BLOCK_ROWS));
    const scratchBytes = Math.max(alsScratchBytes(f4, capacity), syrkScratchBytes(f4));
    const gatherCapacity =
      backend === 'simd' && !input.exact && (input.gather ?? true) && longest * 4 * f4 >= GATHER_MIN_BYTES
        ? Math.min(capacity, GATHER_MAX_ENTRIES)
        : 0;
    // The regions allocated below, each rounded up to 16 bytes by alloc().
    const regions = [4 * nUsers * f4, 4 * nItems * f4, 4 * f4 * f4, 16, 8 * nItems];
    for (let t = 0; t < threads; t++) regions.push(scratchBytes, gatherBytes(f4, gatherCapacity));
    for (const [rows, s] of [
      [nUsers, byUser],
      [nItems, byItem],
    ] as const) {
      regions.push(4 * (blocks(rows) + 1), 4 * (parts + 1), 4 * (rows + 1), 4 * s.index.length, 4 * s.index.length);
      regions.push(8 * f4 * f4, 8 * f4 * f4 * blocks(rows));
      for (let t = 0; t < threads; t++) regions.push(ALS_JOB_BYTES, 64);
    }
    const bytes = regions.reduce((sum, b) => sum + Math.ceil(b / 16) * 16, 16);
    const mem = KernelMemory.create(bytes, bytes);

    const userOrder = byLength(byUser.indptr, nUsers);
    const itemOrder = byLength(byItem.indptr, nItems);
    const placeFactors = (rows: number, from: Float32Array, order: Int32Array): number => {
      const ptr = mem.alloc(4 * rows * f4);
      const view = mem.f32At(ptr, rows * f4);
      view.fill(0);
      for (let p = 0; p < rows; p++) view.set(from.subarray(order[p]! * f, order[p]! * f + f), p * f4);
      return ptr;
    };
    const userFactors = placeFactors(nUsers, input.userFactors, userOrder.order);
    const itemFactors = placeFactors(nItems, input.itemFactors, itemOrder.order);
    const gram32 = mem.alloc(4 * f4 * f4);
    const counter = mem.alloc(16);
    const rowLoss = mem.alloc(8 * nItems);
    const scratch = Array.from({ length: threads }, () => mem.alloc(scratchBytes));
    const gather = Array.from({ length: threads }, () => mem.alloc(gatherBytes(f4, gatherCapacity)));

    /** A side's CSR with rows in `own` order and entries pointing at the other side's stored rows. */
    const side = (
      rows: number,
      factors: number,
      s: SideInput,
      own: { order: Int32Array },
      other: { pos: Int32Array },
    ): Side => {
      const gramBlocks = blocks(rows);
      const gramBounds = mem.alloc(4 * (gramBlocks + 1));
      const gb = mem.i32At(gramBounds, gramBlocks + 1);
      for (let b = 0; b <= gramBlocks; b++) gb[b] = Math.min(rows, b * GRAM_BLOCK_ROWS);
      const nnz = s.index.length;
      const indptr = mem.alloc(4 * (rows + 1));
      const index = mem.alloc(4 * nnz);
      const ratings = mem.alloc(4 * nnz);
      const ip = mem.i32At(indptr, rows + 1);
      const ix = mem.i32At(index, nnz);
      const rt = mem.f32At(ratings, nnz);
      ip[0] = 0;
      for (let p = 0; p < rows; p++) {
        const r = own.order[p]!;
        let o = ip[p]!;
        for (let k = s.indptr[r]!; k < s.indptr[r + 1]!; k++, o++) {
          ix[o] = other.pos[s.index[k]!]!;
          rt[o] = s.ratings[k]!;
        }
        ip[p + 1] = o;
      }
      const bounds = mem.alloc(4 * (parts + 1));
      mem.i32At(bounds, parts + 1).set(partition(ip, rows, parts, f));
      return {
        rows,
        order: own.order,
        factors,
        indptr,
        index,
        ratings,
        jobs: [],
        bounds,
        chunks: parts,
        gram64: mem.alloc(8 * f4 * f4),
        gramParts: mem.alloc(8 * f4 * f4 * gramBlocks),
        gramBlocks,
        gramJobs: [],
        gramBounds,
      };
    };
    const users = side(nUsers, userFactors, byUser, userOrder, itemOrder);
    const items = side(nItems, itemFactors, byItem, itemOrder, userOrder);
    // Solving one side reads the other side's factors and Gram matrix.
    for (const [solved, other] of [
      [users, items],
      [items, users],
    ] as const) {
      for (let t = 0; t < threads; t++) {
        const job = mem.alloc(ALS_JOB_BYTES);
        writeAlsJob(mem, job, {
          f4,
          from: 0,
          to: 0,
          indptr: solved.indptr,
          index: solved.index,
          ratings: solved.ratings,
          fixed: other.factors,
          target: solved.factors,
          gram32,
          gram64: other.gram64,
          lambda: input.lambda,
          cgSteps: input.cgSteps,
          scratch: scratch[t]!,
          capacity,
          rowLoss: 0,
          conf: input.conf,
          gather: gather[t]!,
          gatherCapacity,
        });
        solved.jobs.push(job);
        const gramJob = mem.alloc(64);
        mem.i32At(gramJob, 7).set([f4, 0, 0, solved.factors, solved.gramParts, GRAM_BLOCK_ROWS, scratch[t]!]);
        solved.gramJobs.push(gramJob);
      }
    }
    const pool = await KernelPool.start(mem, threads, backend, workerEntry);
    const kernel: RangeKernel = input.exact ? 'als_exact' : 'als_cg';
    return new AlsWorkspace(mem, pool, f, f4, users, items, gram32, counter, rowLoss, input.lambda, kernel);
  }

  get threads(): number {
    return this.pool.threads;
  }

  private async run(call: Omit<RangeCall, 'counter'>): Promise<number> {
    Atomics.store(this.mem.i32(), this.counter >> 2, 0);
    return this.pool.runRange({ ...call, counter: this.counter });
  }

  /** Recomputes the Gram matrix (float64, f4², no λ) of one side's factors: blocks on all threads, summed in order. */
  async gram(which: 'users' | 'items'): Promise<void> {
    const s = which === 'users' ? this.users : this.items;
    await this.run({ fn: 'gram_range', jobs: s.gramJobs, bounds: s.gramBounds, count: s.gramBlocks });
    const n = this.f4 * this.f4;
    const out = this.mem.f64At(s.gram64, n);
    const parts = this.mem.f64At(s.gramParts, n * s.gramBlocks);
    out.set(parts.subarray(0, n));
    for (let b = 1; b < s.gramBlocks; b++) for (let k = 0; k < n; k++) out[k]! += parts[b * n + k]!;
  }

  /**
   * Solves every row of one side against the other side's factors and current Gram matrix; solving items
   * also records the item rows' loss shares.
   */
  async solve(which: 'users' | 'items'): Promise<void> {
    const [solved, other] = which === 'users' ? [this.users, this.items] : [this.items, this.users];
    // G + λI in float32, full symmetric, for the CG kernel.
    const n = this.f4 * this.f4;
    const g64 = this.mem.f64At(other.gram64, n);
    const g32 = this.mem.f32At(this.gram32, n);
    for (let k = 0; k < n; k++) g32[k] = g64[k]!;
    for (let i = 0; i < this.f; i++) g32[i * this.f4 + i] = g64[i * this.f4 + i]! + this.lambda;
    for (const job of solved.jobs) setAlsJobRowLoss(this.mem, job, which === 'items' ? this.rowLoss : 0);
    const failed = await this.run({ fn: this.kernel, jobs: solved.jobs, bounds: solved.bounds, count: solved.chunks });
    if (failed !== 0) throw new Error(`ALS: the system of ${which} row ${failed - 1} is not positive definite`);
  }

  /**
   * Σ_obs [c(p − s)² − s²] over the item rows (from the last item half-step) + ⟨XᵀX, YᵀY⟩ + λ(tr XᵀX + tr YᵀY):
   * the objective over all users × items.
   */
  loss(): number {
    let observed = 0;
    const rowLoss = this.mem.f64At(this.rowLoss, this.items.rows);
    for (let i = 0; i < rowLoss.length; i++) observed += rowLoss[i]!;
    const n = this.f4 * this.f4;
    const gx = this.mem.f64At(this.users.gram64, n);
    const gy = this.mem.f64At(this.items.gram64, n);
    let frobenius = 0;
    for (let k = 0; k < n; k++) frobenius += gx[k]! * gy[k]!;
    let traces = 0;
    for (let i = 0; i < this.f4; i++) traces += gx[i * this.f4 + i]! + gy[i * this.f4 + i]!;
    return observed + frobenius + this.lambda * traces;
  }

  /** A side's factors in the usual row order, unpadded (rows × f, a fresh array). */
  factors(which: 'users' | 'items'): Float32Array {
    const s = which === 'users' ? this.users : this.items;
    const view = this.mem.f32At(s.factors, s.rows * this.f4);
    const out = new Float32Array(s.rows * this.f);
    for (let p = 0; p < s.rows; p++) out.set(view.subarray(p * this.f4, p * this.f4 + this.f), s.order[p]! * this.f);
    return out;
  }

  /** A side's current Gram matrix, unpadded (f×f float64, a fresh array). */
  gramOf(which: 'users' | 'items'): Float64Array {
    const s = which === 'users' ? this.users : this.items;
    const view = this.mem.f64At(s.gram64, this.f4 * this.f4);
    const out = new Float64Array(this.f * this.f);
    for (let i = 0; i < this.f; i++) out.set(view.subarray(i * this.f4, i * this.f4 + this.f), i * this.f);
    return out;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * The exact least-squares factor of one row (fold-in): x = (G + λI + Σ (c − 1) y yᵀ)⁻¹ Σ c p y over the given
 * fixed rows, with the same kernel (als_exact) and layout as the fit's Cholesky half-step, so that folding in
 * a trained row's entries against the final factors repeats the fit's arithmetic bit for bit. `rows` are
 * the fixed side's factor rows (rows × f) and `index` the entries' rows in it.
 */
export function exactFoldIn(
  backend: KernelBackend,
  f: number,
  lambda: number,
  conf: ConfidenceSpec,
  gram: Float64Array,
  rows: Float32Array,
  index: Int32Array,
  ratings: Float32Array,
  n: number,
  out: Float32Array,
): void {
  const arena = kernelArena(backend);
  const f4 = paddedFactors(f, backend);
  const capacity = Math.ceil(Math.max(1, n) / 4) * 4;
  arena.scope(() => {
    const mem = arena.mem;
    const fixed = mem.alloc(4 * n * f4);
    const indptr = mem.alloc(8);
    const entries = mem.alloc(4 * capacity);
    const stars = mem.alloc(4 * capacity);
    const gram64 = mem.alloc(8 * f4 * f4);
    const target = mem.alloc(4 * f4);
    const scratch = mem.alloc(alsScratchBytes(f4, capacity));
    const job = mem.alloc(ALS_JOB_BYTES);
    // The entries' rows, gathered in order: row k of `fixed` is entry k.
    const y = mem.f32At(fixed, n * f4);
    y.fill(0);
    for (let k = 0; k < n; k++) y.set(rows.subarray(index[k]! * f, index[k]! * f + f), k * f4);
    mem.i32At(indptr, 2).set([0, n]);
    const e = mem.i32At(entries, n);
    for (let k = 0; k < n; k++) e[k] = k;
    mem.f32At(stars, n).set(ratings.subarray(0, n));
    const g = mem.f64At(gram64, f4 * f4);
    g.fill(0);
    for (let i = 0; i < f; i++) g.set(gram.subarray(i * f, i * f + f), i * f4);
    writeAlsJob(mem, job, {
      f4,
      from: 0,
      to: 1,
      indptr,
      index: entries,
      ratings: stars,
      fixed,
      target,
      gram32: 0,
      gram64,
      lambda,
      cgSteps: 0,
      scratch,
      capacity,
      rowLoss: 0,
      conf,
    });
    if (arena.fn.als_exact(job) !== 0)
      throw new NotPositiveDefiniteError('fold-in: the system is not positive definite');
    out.set(mem.f32At(target, f));
  });
}
