/**
 * The job block of the ALS row kernels (als_cg, als_exact in kernels.wat; their reference in reference.ts):
 * what to solve, as 32-bit and 64-bit slots at a pointer in kernel memory, so that a worker thread needs only
 * the pointer. Offsets here and in kernels.wat must agree (test/math/kernels-als.test.ts runs both).
 */
import { CONF_BINARY, type ConfidenceSpec } from './als-rows.ts';
import type { KernelMemory } from './memory.ts';

export const ALS_JOB_BYTES = 128;

export interface AlsJob {
  /** Factor row length in floats: f rounded up to 4 on the SIMD path (zero padding stays zero). */
  f4: number;
  /** Rows [from, to) of the side being solved. */
  from: number;
  to: number;
  /** CSR of the side being solved: i32 indptr (rows + 1), i32 index, f32 ratings. */
  indptr: number;
  index: number;
  ratings: number;
  /** The fixed side's factors (f32, rows × f4) and the target side's (solved in place; CG's warm start). */
  fixed: number;
  target: number;
  /** G + λI, f4×f4 float32, full symmetric (CG). */
  gram32: number;
  /** G (YᵀY without λ), f4×f4 float64, full symmetric (exact solver, reference). */
  gram64: number;
  lambda: number;
  cgSteps: number;
  /** Per-thread scratch of alsScratchBytes(f4, capacity). */
  scratch: number;
  /** Longest row's entries rounded up to 4: the weight arrays' length. */
  capacity: number;
  /** float64 per row: the row's observed share of the loss; 0 for none. */
  rowLoss: number;
  conf: ConfidenceSpec;
  /**
   * Optional per-thread buffer of gatherBytes(f4, gatherCapacity) at `gather`: CG copies the fixed rows of a
   * long row (GATHER_MIN_BYTES of them or more, at most gatherCapacity entries) there in its first pass and
   * streams them in the later passes (SIMD only; the results are the same with or without it).
   */
  gather?: number;
  gatherCapacity?: number;
}

/** Rows whose fixed rows take at least this many bytes are gathered (smaller sets stay in L2 between passes). */
export const GATHER_MIN_BYTES = 512 * 1024;

/** Bytes of a gather buffer for rows of up to `capacity` entries (a multiple of 4). */
export function gatherBytes(f4: number, capacity: number): number {
  return capacity * (4 * f4 + 4);
}

/** Scratch for one thread: CG vectors and weights, then the exact solver's system, weights and syrk panel. */
export function alsScratchBytes(f4: number, capacity: number): number {
  return 3 * 4 * f4 + 8 * capacity + 8 * f4 * f4 + 8 * f4 + 16 * capacity + 2 * 32 * f4 * 8;
}

/** The rating scale of a confidence kind: c − 1 = α·(binary ? 1 : r·scale). */
function ratingScale(conf: ConfidenceSpec): number {
  return conf.kind === CONF_BINARY ? 0 : conf.kind === 1 ? 1 : 1 / conf.ratingMax;
}

export function writeAlsJob(mem: KernelMemory, ptr: number, job: AlsJob): void {
  const i32 = mem.i32();
  const f32 = mem.f32();
  const f64 = mem.f64();
  const w = ptr >> 2;
  i32[w] = job.f4;
  i32[w + 1] = job.from;
  i32[w + 2] = job.to;
  i32[w + 3] = job.indptr;
  i32[w + 4] = job.index;
  i32[w + 5] = job.ratings;
  i32[w + 6] = job.fixed;
  i32[w + 7] = job.target;
  i32[w + 8] = job.gram32;
  i32[w + 9] = job.cgSteps;
  i32[w + 10] = job.scratch;
  i32[w + 11] = job.rowLoss;
  i32[w + 12] = job.conf.kind;
  f32[w + 13] = job.conf.alpha;
  f32[w + 14] = ratingScale(job.conf);
  f32[w + 15] = job.conf.negativeBelow;
  i32[w + 16] = job.capacity;
  i32[w + 17] = job.gram64;
  i32[w + 18] = job.gather ? (job.gatherCapacity ?? 0) : 0;
  i32[w + 19] = job.gather ?? 0;
  // Float64 slots (bytes 80..111), exact solver and reference; ratingMax for the reference's spec.
  const d = ptr >> 3;
  f64[d + 10] = job.lambda;
  f64[d + 11] = job.conf.alpha;
  f64[d + 12] = ratingScale(job.conf);
  f64[d + 13] = job.conf.negativeBelow;
  f64[d + 14] = job.conf.ratingMax;
}

/** Sets the row range of a written job. */
export function setAlsJobRange(mem: KernelMemory, ptr: number, from: number, to: number): void {
  const i32 = mem.i32();
  i32[(ptr >> 2) + 1] = from;
  i32[(ptr >> 2) + 2] = to;
}

/** Sets (or clears, with 0) the row-loss output of a written job. */
export function setAlsJobRowLoss(mem: KernelMemory, ptr: number, rowLoss: number): void {
  mem.i32()[(ptr >> 2) + 11] = rowLoss;
}

export function readAlsJob(mem: KernelMemory, ptr: number): AlsJob {
  const i32 = mem.i32();
  const f64 = mem.f64();
  const w = ptr >> 2;
  const d = ptr >> 3;
  return {
    f4: i32[w]!,
    from: i32[w + 1]!,
    to: i32[w + 2]!,
    indptr: i32[w + 3]!,
    index: i32[w + 4]!,
    ratings: i32[w + 5]!,
    fixed: i32[w + 6]!,
    target: i32[w + 7]!,
    gram32: i32[w + 8]!,
    cgSteps: i32[w + 9]!,
    scratch: i32[w + 10]!,
    rowLoss: i32[w + 11]!,
    capacity: i32[w + 16]!,
    gram64: i32[w + 17]!,
    gatherCapacity: i32[w + 18]!,
    gather: i32[w + 19]!,
    lambda: f64[d + 10]!,
    conf: { kind: i32[w + 12]!, alpha: f64[d + 11]!, ratingMax: f64[d + 14]!, negativeBelow: f64[d + 13]! },
  };
}
