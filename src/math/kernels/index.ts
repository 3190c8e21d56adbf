/**
 * cinerec's numeric kernel layer: float32 GEMM and GEMV, float64 Gram products (plain and weighted) and
 * batched Cholesky solves, the ALS conjugate-gradient and exact row kernels, k-means distances and top-k.
 * Each kernel exists twice with the same arguments: WebAssembly SIMD (kernels.wat) and a TypeScript reference
 * (reference.ts). The backend is chosen once, at start-up: SIMD when the engine validates the module and
 * CINEREC_NO_SIMD is not set (1/true/yes), else the reference.
 *
 * Two ways in:
 * - low level: a KernelMemory (memory.ts) holding the data, kernel functions bound to it (bindKernels), and a
 *   KernelPool (pool.ts) to run them on worker threads over the same shared memory: for hot loops that keep
 *   their data in kernel memory (ALS);
 * - typed-array helpers below (gemm, gram, cholesky, nearest, topk, ...): copy in, run, copy out, through a
 *   process-wide arena; for one-off products where the copies cost little next to the arithmetic.
 */
import type { KernelFunctions } from './functions.ts';
import { GEMM_SCRATCH_BYTES, syrkScratchBytes } from './functions.ts';
import { KernelMemory } from './memory.ts';
import { referenceKernels } from './reference.ts';
import { instantiateWasmKernels, wasmKernelsSupported } from './wasm.ts';

export type { KernelFunctions } from './functions.ts';
export { GEMM_SCRATCH_BYTES, syrkScratchBytes } from './functions.ts';
export { KernelMemory } from './memory.ts';

export type KernelBackend = 'simd' | 'reference';

/** Whether this engine validates the SIMD module (before any opt-out). */
export const simdKernelsSupported: boolean = wasmKernelsSupported();
/** CINEREC_NO_SIMD=1 forces the reference kernels process-wide; read once, at module load. */
const simdDisabled = /^(1|true|yes)$/i.test(process.env.CINEREC_NO_SIMD ?? '');

/** The backend used unless a caller asks for one: 'simd' when supported and not disabled. */
export const defaultKernelBackend: KernelBackend = simdKernelsSupported && !simdDisabled ? 'simd' : 'reference';

/** The kernel functions of `backend`, bound to `mem` ('simd' needs a WebAssembly memory). */
export function bindKernels(mem: KernelMemory, backend: KernelBackend = defaultKernelBackend): KernelFunctions {
  if (backend === 'simd' && !simdKernelsSupported) throw new Error('SIMD kernels are not supported here');
  return backend === 'simd' && mem.memory ? instantiateWasmKernels(mem) : referenceKernels(mem);
}

/** A memory with kernels bound to it; scope() frees what a call allocated. */
export class KernelArena {
  readonly fn: KernelFunctions;

  constructor(
    readonly mem: KernelMemory,
    readonly backend: KernelBackend,
  ) {
    this.fn = bindKernels(mem, backend);
  }

  /** Runs body; everything it allocates in this arena is released afterwards. */
  scope<T>(body: () => T): T {
    const mark = this.mem.used;
    try {
      return body();
    } finally {
      this.mem.release(mark);
    }
  }
}

const arenas = new Map<KernelBackend, KernelArena>();

/** The process-wide (per thread) arena of a backend, created on first use; it grows as needed. */
export function kernelArena(backend: KernelBackend = defaultKernelBackend): KernelArena {
  let arena = arenas.get(backend);
  if (!arena) {
    arena = new KernelArena(KernelMemory.create(1 << 20), backend);
    arenas.set(backend, arena);
  }
  return arena;
}

function checkSize(what: string, array: ArrayLike<number>, need: number): void {
  if (array.length < need) throw new RangeError(`${what}: need ${need} values, got ${array.length}`);
}

/** C = A·B (+ C when `accumulate`), A m×k, B k×n, row-major float32. */
export function gemm(
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
  out: Float32Array = new Float32Array(m * n),
  options: { accumulate?: boolean; backend?: KernelBackend } = {},
): Float32Array {
  checkSize('gemm A', a, m * k);
  checkSize('gemm B', b, k * n);
  checkSize('gemm C', out, m * n);
  const arena = kernelArena(options.backend);
  return arena.scope(() => {
    const mem = arena.mem;
    const pa = mem.copyIn(a.subarray(0, m * k));
    const pb = mem.copyIn(b.subarray(0, k * n));
    const pc = mem.copyIn(out.subarray(0, m * n));
    const pack = mem.alloc(GEMM_SCRATCH_BYTES);
    arena.fn.gemm(m, n, k, pa, k, pb, n, pc, n, options.accumulate ? 1 : 0, pack);
    out.set(mem.f32At(pc, m * n));
    return out;
  });
}

/** y = A·x (or Aᵀ·x with `transpose`), A m×n row-major float32. */
export function gemv(
  a: Float32Array,
  m: number,
  n: number,
  x: Float32Array,
  options: { transpose?: boolean; backend?: KernelBackend } = {},
): Float32Array {
  const t = options.transpose ?? false;
  checkSize('gemv A', a, m * n);
  checkSize('gemv x', x, t ? m : n);
  const arena = kernelArena(options.backend);
  return arena.scope(() => {
    const mem = arena.mem;
    const pa = mem.copyIn(a.subarray(0, m * n));
    const px = mem.copyIn(x.subarray(0, t ? m : n));
    const py = mem.alloc(4 * (t ? n : m));
    arena.fn.gemv(t ? 1 : 0, m, n, pa, n, px, py, 0);
    return Float32Array.from(mem.f32At(py, t ? n : m));
  });
}

/**
 * AᵀA (f×f float64, full symmetric) of the rows of a row-major n×f float32 matrix, or of the listed rows
 * only, each weighted when `weights` (one per listed row) are given: Σ_r w_r a_r a_rᵀ.
 */
export function gram(
  a: Float32Array,
  n: number,
  f: number,
  options: { rows?: Int32Array; weights?: Float64Array; backend?: KernelBackend } = {},
): Float64Array {
  checkSize('gram A', a, n * f);
  const rows = options.rows;
  const count = rows ? rows.length : n;
  if (rows) for (const r of rows) if (!(r >= 0 && r < n)) throw new RangeError(`gram: row ${r} not in [0, ${n})`);
  if (options.weights) checkSize('gram weights', options.weights, count);
  const arena = kernelArena(options.backend);
  return arena.scope(() => {
    const mem = arena.mem;
    const pa = mem.copyIn(a.subarray(0, n * f));
    const pi = rows ? mem.copyIn(rows) : 0;
    const pw = options.weights ? mem.copyIn(options.weights.subarray(0, count)) : 0;
    const out = mem.alloc(8 * f * f);
    const scratch = mem.alloc(syrkScratchBytes(f));
    arena.fn.syrk(out, f, pa, f, pi, pw, count, f, scratch, 0);
    return Float64Array.from(mem.f64At(out, f * f));
  });
}

/**
 * Solves `count` symmetric positive-definite systems A_m x_m = b_m (A: count contiguous n×n float64, only
 * the lower triangles read; b: count contiguous n-vectors), returning the x_m. Throws when one is not
 * positive definite.
 */
export function choleskySolveBatch(
  a: Float64Array,
  b: Float64Array,
  n: number,
  count: number,
  options: { backend?: KernelBackend } = {},
): Float64Array {
  checkSize('choleskySolveBatch A', a, count * n * n);
  checkSize('choleskySolveBatch b', b, count * n);
  const arena = kernelArena(options.backend);
  return arena.scope(() => {
    const mem = arena.mem;
    const pa = mem.copyIn(a.subarray(0, count * n * n));
    const pb = mem.copyIn(b.subarray(0, count * n));
    const failed = arena.fn.potrf_batch(pa, n, count);
    if (failed) throw new RangeError(`choleskySolveBatch: system ${failed - 1} is not positive definite`);
    arena.fn.potrs_batch(pa, n, pb, count);
    return Float64Array.from(mem.f64At(pb, count * n));
  });
}

/** Centroids (k×d, float64) transposed to d×kp, kp = k rounded up to 8, as sqdist and nearest read them. */
export function transposeCentroids(centroids: Float64Array, k: number, d: number, out?: Float64Array): Float64Array {
  const kp = Math.ceil(k / 8) * 8;
  const t = out ?? new Float64Array(d * kp);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) t[j * kp + c] = centroids[c * d + j]!;
  return t;
}

/**
 * Squared Euclidean distances from every point (n×d float32) to every centroid (k×d float64), n×k float64:
 * each summed over j in order, in float64, so they equal a plain scalar loop's bit for bit.
 */
export function squaredDistances(
  x: Float32Array,
  n: number,
  d: number,
  centroids: Float64Array,
  k: number,
  options: { backend?: KernelBackend } = {},
): Float64Array {
  checkSize('squaredDistances x', x, n * d);
  checkSize('squaredDistances centroids', centroids, k * d);
  const arena = kernelArena(options.backend);
  return arena.scope(() => {
    const mem = arena.mem;
    const px = mem.copyIn(x.subarray(0, n * d));
    const pc = mem.copyIn(transposeCentroids(centroids, k, d));
    const out = mem.alloc(8 * n * k);
    arena.fn.sqdist(px, n, d, pc, k, Math.ceil(k / 8) * 8, out, k);
    return Float64Array.from(mem.f64At(out, n * k));
  });
}

/** Indices of the k best scores, best first, ties broken by the lower index; NaN and −∞ never returned. */
export function topk(scores: Float32Array, k: number, options: { backend?: KernelBackend } = {}): Int32Array {
  const n = scores.length;
  const kk = Math.max(0, Math.min(k, n));
  const arena = kernelArena(options.backend);
  return arena.scope(() => {
    const mem = arena.mem;
    const ps = mem.copyIn(scores);
    const hs = mem.alloc(4 * kk);
    const hi = mem.alloc(4 * kk);
    const count = arena.fn.topk(ps, n, kk, hs, hi);
    return Int32Array.from(mem.i32At(hi, count));
  });
}
