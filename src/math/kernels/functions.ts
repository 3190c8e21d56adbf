/**
 * The kernel functions, as both backends provide them: the WebAssembly module's exports (kernels.wat) and
 * their TypeScript twins (reference.ts). Arguments are byte offsets ("pointers") into the KernelMemory the
 * functions are bound to, and sizes; matrices are row-major with the given row strides (in elements).
 * kernels.wat documents each contract in full.
 */
export interface KernelFunctions {
  /** out = sign·G·v, G f4×f4 float32 full symmetric, f4 % 4 = 0. */
  symv(g: number, v: number, out: number, f4: number, sign: number): void;
  /** Conjugate-gradient ALS rows; `job` points at the slots of als-job.ts. */
  als_cg(job: number): void;
  /** Exact (Cholesky) ALS rows; returns 0, or u + 1 for a row whose system is not positive definite. */
  als_exact(job: number): number;
  /** out (+)= Σ_r w_r a_r a_rᵀ, float64 f×f from float32 rows (idx = 0: rows 0..n−1; w = 0: weights 1). */
  syrk(
    out: number,
    ldo: number,
    a: number,
    lda: number,
    idx: number,
    w: number,
    n: number,
    f: number,
    scratch: number,
    accumulate: number,
  ): void;
  /** Lower Cholesky factor in place, float64; 0 or failing pivot + 1. */
  potrf(a: number, n: number, lda: number): number;
  /** Solves L·Lᵀ·x = b in place. */
  potrs(l: number, n: number, lda: number, b: number): void;
  /** potrf on `count` contiguous n×n matrices; 0 or first failing matrix + 1. */
  potrf_batch(a: number, n: number, count: number): number;
  /** potrs on `count` contiguous factors and right-hand sides. */
  potrs_batch(l: number, n: number, b: number, count: number): void;
  /** C (+)= A·B, float32; `pack` is gemmScratchBytes of scratch. */
  gemm(
    m: number,
    n: number,
    k: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    c: number,
    ldc: number,
    accumulate: number,
    pack: number,
  ): void;
  /** y (+)= A·x (trans 0) or Aᵀ·x (trans 1), float32. */
  gemv(trans: number, m: number, n: number, a: number, lda: number, x: number, y: number, accumulate: number): void;
  /** out[i·ldo + c] = ‖x_i − C_c‖², float64, from transposed centroids ct (d × kp, kp = k rounded up to 8). */
  sqdist(x: number, n: number, d: number, ct: number, k: number, kp: number, out: number, ldo: number): void;
  /** Nearest centroid (lowest index on ties) per point, with the best and runner-up squared distances. */
  nearest(
    x: number,
    n: number,
    d: number,
    ct: number,
    k: number,
    kp: number,
    near: number,
    best: number,
    dist: number,
  ): void;
  /** Rows [from, to) of a GEMM split across threads (job slots in kernels.wat); returns 0. */
  gemm_range(job: number): number;
  /** One block of a Gram product split across threads (job slots in kernels.wat); returns 0. */
  gram_range(job: number): number;
  /** Indices of the k best scores, best first (ties: lower index; NaN and −∞ excluded); returns the count. */
  topk(scores: number, n: number, k: number, heapScore: number, heapIdx: number): number;
}

/** Scratch bytes gemm needs for its tile and packed panel of B (256 × 512 float32). */
export const GEMM_SCRATCH_BYTES = 128 + 4 * 256 * 512;

/** Scratch bytes syrk needs: two panels of 32 rows of f4 float64. */
export const syrkScratchBytes = (f: number): number => 2 * 32 * (Math.ceil(f / 4) * 4) * 8;
