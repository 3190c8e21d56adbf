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
  /**
   * C (+)= op(A)·op(B), float32, with op(A)[i][q] at a + i·rsa + q·csa and op(B)[q][j] at b + q·rsb + j·csb
   * (byte strides: a transpose needs no copy); C m×n with row stride ldc floats; `pack` as gemm's.
   */
  gemm_strided(
    m: number,
    n: number,
    k: number,
    a: number,
    rsa: number,
    csa: number,
    b: number,
    rsb: number,
    csb: number,
    c: number,
    ldc: number,
    accumulate: number,
    pack: number,
  ): void;
  /** y[r][j] = y[r][j] + bias[j] (bias 0: none), then max(·, 0) when relu ≠ 0; rows × cols, row stride ldy. */
  bias_act(y: number, rows: number, cols: number, ldy: number, bias: number, relu: number): void;
  /** g[i] = y[i] > 0 ? g[i] : 0 for n floats. */
  relu_back(g: number, y: number, n: number): void;
  /** out[j] (+)= Σ_r g[r][j], rows × cols, row stride ldg floats. */
  colsum(g: number, rows: number, cols: number, ldg: number, out: number, accumulate: number): void;
  /**
   * Adam over n floats: g' = g + l2·w; m = b1·m + (1 − b1)g'; v = b2·v + (1 − b2)g'²;
   * w = w·shrink − step·m / (sqrt(v·invc2) + eps).
   */
  adam(
    w: number,
    g: number,
    m: number,
    v: number,
    n: number,
    b1: number,
    b2: number,
    step: number,
    invc2: number,
    eps: number,
    shrink: number,
    l2: number,
  ): void;
  /** adam on the `count` rows listed (i32) at `rows`, each `width` floats. */
  adam_rows(
    w: number,
    g: number,
    m: number,
    v: number,
    width: number,
    rows: number,
    count: number,
    b1: number,
    b2: number,
    step: number,
    invc2: number,
    eps: number,
    shrink: number,
    l2: number,
  ): void;
  /** dst row t = src row idx[t]: rows of rowBytes, src rows srcStride bytes apart, dst rows dstStride apart. */
  gather_rows(
    src: number,
    srcStride: number,
    idx: number,
    count: number,
    dst: number,
    dstStride: number,
    rowBytes: number,
  ): void;
  /** out[i] = ‖x_i‖² (float32) for n rows of d floats, row stride ldx. */
  sqnorms(x: number, n: number, d: number, ldx: number, out: number): void;
  /**
   * Per row i of dots (row stride ldd): e_c = xn[i] + cn[c] − 2·dots[i][c] over c < kp (kp % 4 = 0, cn +∞
   * past k); near[i] = argmin (lowest c on ties), best[2i] the smallest e, best[2i + 1] the runner-up (float32).
   */
  argmin2(dots: number, ldd: number, xn: number, cn: number, n: number, kp: number, near: number, best: number): void;
  /** sums[t] (float64, t < 8) = Σ_i min(closest[i], max(0, xn[i] + cn[t] − 2·dots[i][t])), dots n × 8. */
  kpp_potentials(dots: number, xn: number, cn: number, closest: number, n: number, sums: number): void;
  /** closest[i] = min(closest[i], max(0, xn[i] + cnt − 2·dots[i][t])), dots n × 8. */
  kpp_update(dots: number, t: number, xn: number, cnt: number, closest: number, n: number): void;
  /**
   * sums[r·k + assign[j]] = Σ over j ≠ self[r] of sqrt(max(0, xr[r] + xn[j] − 2·dots[r][j])) (float64), for
   * `rows` rows of dots (row stride ldd) against n points.
   */
  silhouette_sums(
    dots: number,
    ldd: number,
    rows: number,
    xr: number,
    xn: number,
    assign: number,
    n: number,
    self: number,
    k: number,
    sums: number,
  ): void;
  /**
   * One SGD pass of biased MF over order[0..count) (u32 rating positions; users/items i32, ratings f32 per
   * position; p, q rows of k float64; bu, bi float64). Returns Σ e² of the errors before each step.
   */
  mf_sgd(
    order: number,
    count: number,
    users: number,
    items: number,
    ratings: number,
    p: number,
    q: number,
    bu: number,
    bi: number,
    k: number,
    mu: number,
    lr: number,
    reg: number,
    regBias: number,
  ): number;
  /** out[r] = bias + Σ_p vals[p]·w[idx[p]] per CSR row r (rows of width floats; bias 0: none). */
  spmm_rows(
    indptr: number,
    idx: number,
    vals: number,
    rows: number,
    w: number,
    width: number,
    bias: number,
    out: number,
  ): void;
  /** dw[idx[p]] += vals[p]·g[r] per entry p of CSR row r. */
  spmm_t_rows(indptr: number, idx: number, vals: number, rows: number, g: number, width: number, dw: number): void;
  /** out[p] = h[r]·w[idx[p]] + bias[idx[p]] per requested entry p of CSR row r. */
  sampled_dot(
    indptr: number,
    idx: number,
    rows: number,
    h: number,
    width: number,
    w: number,
    bias: number,
    out: number,
  ): void;
  /** dw[c] += g_p·h[r], db[c] += g_p, dh[r] = Σ g_p·w[c] (overwritten), c = idx[p]. */
  sampled_back(
    indptr: number,
    idx: number,
    rows: number,
    g: number,
    h: number,
    width: number,
    w: number,
    dw: number,
    db: number,
    dh: number,
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
