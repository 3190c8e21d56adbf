/**
 * The TypeScript reference of the ALS row kernels (Hu, Koren & Volinsky 2008): the arithmetic that
 * kernels.wat's als_cg and als_exact implement with SIMD, here over plain typed arrays with float64
 * arithmetic (factors stored as float32). The reference backend (reference.ts) runs it on the kernel memory;
 * the ALS model uses it directly for fold-in when SIMD is off; tests hold the SIMD kernels against it.
 *
 * Factor matrices are row-major float32 (rows × f); all arithmetic runs in float64 and rounds to float32 only
 * when a solved row is stored.
 *
 * One half-step solves, for every row u of the side being updated (users, or items), with Y the fixed side:
 *   (YᵀY + λI + Yᵀ(C_u − I)Y) x_u = YᵀC_u p_u
 * where only the observed entries of row u have c ≠ 1 or p ≠ 0, so YᵀY (the Gramian, shared by all rows) plus
 * a sum over the row's entries gives the system. `cg` runs a fixed number of conjugate-gradient steps
 * warm-started from the current x_u (the `implicit` library's solver); `cholesky` solves it exactly.
 */
import { cholesky, choleskySolve } from '../cholesky.ts';

/** Confidence kinds as small integers (the kernels stay monomorphic): see `Confidence` in als.ts. */
export const CONF_BINARY = 0;
export const CONF_RATING = 1;
export const CONF_LINEAR = 2;

export const SOLVER_CG = 0;
export const SOLVER_CHOLESKY = 1;

/** How an observed rating r becomes a preference p ∈ {0, 1} and a confidence c ≥ 1. */
export interface ConfidenceSpec {
  kind: number;
  alpha: number;
  /** The largest rating of the training data (the `linear` kind divides by it). */
  ratingMax: number;
  /** Ratings strictly below this are negative (p = 0); -Infinity when the option is off. */
  negativeBelow: number;
}

/** One side of the interaction matrix in compressed-row form: row → (index, rating) entries. */
export interface SideArrays {
  indptr: Int32Array;
  index: Int32Array;
  ratings: Float32Array;
}

/** Everything a half-step needs; in the worker every array is a view of a SharedArrayBuffer. */
export interface HalfStep {
  f: number;
  lambda: number;
  solver: number;
  cgSteps: number;
  conf: ConfidenceSpec;
  rows: SideArrays;
  /** The fixed side's factors. */
  fixed: Float32Array;
  /** The factors being solved, updated in place (and the CG warm start). */
  target: Float32Array;
  /** The fixed side's Gramian (f×f, full symmetric, without λ). */
  gram: Float64Array;
  /** When given, rowLoss[u] = Σ_{observed i} [c (p − s)² − s²], s = x_uᵀy_i with the new x_u. */
  rowLoss: Float64Array | null;
}

/** Preference of an observed rating. */
export function preferenceOf(r: number, conf: ConfidenceSpec): number {
  return r < conf.negativeBelow ? 0 : 1;
}

/** Confidence of an observed rating (unobserved entries have c = 1, p = 0). */
export function confidenceOf(r: number, conf: ConfidenceSpec): number {
  if (r < conf.negativeBelow) return 1 + conf.alpha * (conf.negativeBelow - r);
  const w = conf.kind === CONF_BINARY ? 1 : conf.kind === CONF_RATING ? r : r / conf.ratingMax;
  return 1 + conf.alpha * w;
}

/** out = Σ_rows y yᵀ over the first `rows` rows of a row-major rows×f matrix (f×f, full symmetric). */
export function gramian(factors: Float32Array, rows: number, f: number, out: Float64Array): Float64Array {
  out.fill(0, 0, f * f);
  const block = new Float64Array(4 * f);
  for (let u = 0; u < rows; u += 4) {
    const m = Math.min(4, rows - u);
    for (let k = 0; k < m * f; k++) block[k] = factors[u * f + k]!;
    if (m < 4) block.fill(0, m * f);
    rank4Lower(out, f, block, 1, 1, 1, 1);
  }
  mirrorLower(out, f);
  return out;
}

/**
 * a[i][j] += Σ_t w_t y_t[i] y_t[j] over the lower triangle (j ≤ i), for the four rows y_t of `block` (4×f).
 * Four rank-1 updates per pass over the triangle: the triangle's loads and stores, not the multiplies, bound
 * one-at-a-time updates.
 */
export function rank4Lower(
  a: Float64Array,
  f: number,
  block: Float64Array,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
): void {
  const f2 = 2 * f;
  const f3 = 3 * f;
  for (let i = 0; i < f; i++) {
    const ri = i * f;
    const a0 = w0 * block[i]!;
    const a1 = w1 * block[f + i]!;
    const a2 = w2 * block[f2 + i]!;
    const a3 = w3 * block[f3 + i]!;
    for (let j = 0; j <= i; j++) {
      a[ri + j]! += a0 * block[j]! + a1 * block[f + j]! + a2 * block[f2 + j]! + a3 * block[f3 + j]!;
    }
  }
}

/** Copies the lower triangle of a square f×f matrix onto its upper triangle. */
export function mirrorLower(m: Float64Array, f: number): void {
  for (let a = 0; a < f; a++) for (let b = a + 1; b < f; b++) m[a * f + b] = m[b * f + a]!;
}

/**
 * Per-thread scratch and the row solvers. Not shareable between threads; one per thread (or per model for
 * fold-in). Reused across rows and iterations: solving allocates only when a row is longer than any before.
 */
export class RowSolver {
  readonly f: number;
  private readonly x: Float64Array;
  private readonly r: Float64Array;
  private readonly p: Float64Array;
  private readonly ap: Float64Array;
  /** Four gathered rows of the fixed side (rank-4 updates). */
  private readonly block: Float64Array;
  /** The system matrix (lower triangle used) and right-hand side of the exact solve. */
  readonly a: Float64Array;
  readonly b: Float64Array;
  /** Per entry of the current row: c − 1 and c·p. */
  private cm1 = new Float64Array(64);
  private cp = new Float64Array(64);

  constructor(f: number) {
    this.f = f;
    this.x = new Float64Array(f);
    this.r = new Float64Array(f);
    this.p = new Float64Array(f);
    this.ap = new Float64Array(f);
    this.block = new Float64Array(4 * f);
    this.a = new Float64Array(f * f);
    this.b = new Float64Array(f);
  }

  /** Solves rows [from, to) of a half-step, writing job.target (and job.rowLoss when given). */
  solveRange(job: HalfStep, from: number, to: number): void {
    const { indptr, index, ratings } = job.rows;
    for (let u = from; u < to; u++) {
      const start = indptr[u]!;
      const end = indptr[u + 1]!;
      const o = u * this.f;
      if (start === end) {
        // No observations: b = 0, so the exact solution is the zero vector.
        job.target.fill(0, o, o + this.f);
        if (job.rowLoss) job.rowLoss[u] = 0;
        continue;
      }
      this.weigh(ratings, start, end, job.conf);
      if (job.solver === SOLVER_CHOLESKY) {
        this.buildSystem(job.gram, job.lambda, job.fixed, index, start, end);
        cholesky(this.a, this.f);
        choleskySolve(this.a, this.f, this.b);
        for (let k = 0; k < this.f; k++) job.target[o + k] = this.b[k]!;
      } else {
        this.conjugateGradient(job, u, index, start, end);
      }
      if (job.rowLoss) job.rowLoss[u] = this.observedLoss(job.target, o, job.fixed, index, start, end);
    }
  }

  /** Fills the per-entry weights c − 1 and c·p for entries [start, end). */
  weigh(ratings: Float32Array, start: number, end: number, conf: ConfidenceSpec): void {
    const n = end - start;
    if (n > this.cm1.length) {
      const size = Math.max(n, this.cm1.length * 2);
      this.cm1 = new Float64Array(size);
      this.cp = new Float64Array(size);
    }
    const { alpha, negativeBelow, kind } = conf;
    const scale = kind === CONF_BINARY ? 0 : kind === CONF_RATING ? 1 : 1 / conf.ratingMax;
    for (let k = 0; k < n; k++) {
      const r = ratings[start + k]!;
      if (r < negativeBelow) {
        this.cm1[k] = alpha * (negativeBelow - r);
        this.cp[k] = 0;
      } else {
        const cm1 = alpha * (kind === CONF_BINARY ? 1 : r * scale);
        this.cm1[k] = cm1;
        this.cp[k] = 1 + cm1;
      }
    }
  }

  /** c − 1 of entry k (from `start`) of the last `weigh` call. */
  weightOf(k: number): number {
    return this.cm1[k]!;
  }

  /**
   * a (lower triangle) = G + λI + Σ_k (c_k − 1) y_k y_kᵀ and b = Σ_k c_k p_k y_k over entries [start, end),
   * with the weights from the last `weigh` call.
   */
  buildSystem(
    gram: Float64Array,
    lambda: number,
    fixed: Float32Array,
    index: Int32Array,
    start: number,
    end: number,
  ): void {
    const f = this.f;
    const a = this.a;
    const b = this.b;
    for (let i = 0; i < f; i++) {
      const ri = i * f;
      for (let j = 0; j <= i; j++) a[ri + j] = gram[ri + j]!;
      a[ri + i]! += lambda;
    }
    b.fill(0);
    const block = this.block;
    const cm1 = this.cm1;
    for (let k0 = start; k0 < end; k0 += 4) {
      const m = Math.min(4, end - k0);
      for (let t = 0; t < m; t++) {
        const o = index[k0 + t]! * f;
        const bo = t * f;
        for (let i = 0; i < f; i++) block[bo + i] = fixed[o + i]!;
        const cp = this.cp[k0 - start + t]!;
        if (cp !== 0) for (let i = 0; i < f; i++) b[i]! += cp * block[bo + i]!;
      }
      if (m < 4) block.fill(0, m * f);
      const w = k0 - start;
      rank4Lower(a, f, block, cm1[w]!, m > 1 ? cm1[w + 1]! : 0, m > 2 ? cm1[w + 2]! : 0, m > 3 ? cm1[w + 3]! : 0);
    }
  }

  /** out = (G + λI) v; four rows per step share each v[j] load (about twice as fast as one row at a time). */
  private symv(gram: Float64Array, lambda: number, v: Float64Array, out: Float64Array): void {
    const f = this.f;
    let i = 0;
    for (; i + 4 <= f; i += 4) {
      const r0 = i * f;
      const r1 = r0 + f;
      const r2 = r1 + f;
      const r3 = r2 + f;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = 0; j < f; j++) {
        const x = v[j]!;
        s0 += gram[r0 + j]! * x;
        s1 += gram[r1 + j]! * x;
        s2 += gram[r2 + j]! * x;
        s3 += gram[r3 + j]! * x;
      }
      out[i] = s0 + lambda * v[i]!;
      out[i + 1] = s1 + lambda * v[i + 1]!;
      out[i + 2] = s2 + lambda * v[i + 2]!;
      out[i + 3] = s3 + lambda * v[i + 3]!;
    }
    for (; i < f; i++) {
      const r = i * f;
      let s = 0;
      for (let j = 0; j < f; j++) s += gram[r + j]! * v[j]!;
      out[i] = s + lambda * v[i]!;
    }
  }

  /**
   * `cgSteps` conjugate-gradient steps on the row's system, warm-started from the stored factor, exactly as
   * the `implicit` library's least_squares_cg (stops early when the squared residual falls below 1e-20).
   */
  private conjugateGradient(job: HalfStep, u: number, index: Int32Array, start: number, end: number): void {
    const f = this.f;
    const { x, r, p, ap } = this;
    const { fixed, target, gram, lambda } = job;
    const o = u * f;
    for (let i = 0; i < f; i++) x[i] = target[o + i]!;
    // r = b − A x = −(G + λI)x + Σ_k (c_k p_k − (c_k − 1) y_kᵀx) y_k
    this.symv(gram, lambda, x, r);
    for (let i = 0; i < f; i++) r[i] = -r[i]!;
    for (let k = start; k < end; k++) {
      const yo = index[k]! * f;
      const coef = this.cp[k - start]! - this.cm1[k - start]! * dotRow(fixed, yo, x, f);
      axpyRow(coef, fixed, yo, r, f);
    }
    let rs = 0;
    for (let i = 0; i < f; i++) {
      p[i] = r[i]!;
      rs += r[i]! * r[i]!;
    }
    if (rs >= 1e-20) {
      for (let step = 0; step < job.cgSteps; step++) {
        // ap = A p = (G + λI)p + Σ_k (c_k − 1)(y_kᵀp) y_k
        this.symv(gram, lambda, p, ap);
        for (let k = start; k < end; k++) {
          const w = this.cm1[k - start]!;
          if (w === 0) continue;
          const yo = index[k]! * f;
          axpyRow(w * dotRow(fixed, yo, p, f), fixed, yo, ap, f);
        }
        let pap = 0;
        for (let i = 0; i < f; i++) pap += p[i]! * ap[i]!;
        const step_ = rs / pap;
        let rsNew = 0;
        for (let i = 0; i < f; i++) {
          x[i]! += step_ * p[i]!;
          const ri = r[i]! - step_ * ap[i]!;
          r[i] = ri;
          rsNew += ri * ri;
        }
        if (rsNew < 1e-20) break;
        const beta = rsNew / rs;
        for (let i = 0; i < f; i++) p[i] = r[i]! + beta * p[i]!;
        rs = rsNew;
      }
    }
    for (let i = 0; i < f; i++) target[o + i] = x[i]!;
  }

  /** Σ_k [c_k (p_k − s_k)² − s_k²], s_k = x·y_k, x the stored (float32) row: the row's share of the loss. */
  private observedLoss(
    target: Float32Array,
    o: number,
    fixed: Float32Array,
    index: Int32Array,
    start: number,
    end: number,
  ): number {
    const f = this.f;
    const x = this.x;
    for (let i = 0; i < f; i++) x[i] = target[o + i]!;
    let loss = 0;
    for (let k = start; k < end; k++) {
      const s = dotRow(fixed, index[k]! * f, x, f);
      const c = 1 + this.cm1[k - start]!;
      const p = this.cp[k - start]! === 0 ? 0 : 1;
      const e = p - s;
      loss += c * e * e - s * s;
    }
    return loss;
  }
}

/** Σ_i m[o + i]·v[i]. */
function dotRow(m: Float32Array, o: number, v: Float64Array, f: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 4 <= f; i += 4) {
    s0 += m[o + i]! * v[i]!;
    s1 += m[o + i + 1]! * v[i + 1]!;
    s2 += m[o + i + 2]! * v[i + 2]!;
    s3 += m[o + i + 3]! * v[i + 3]!;
  }
  for (; i < f; i++) s0 += m[o + i]! * v[i]!;
  return s0 + s1 + (s2 + s3);
}

/** out[i] += a·m[o + i]. */
function axpyRow(a: number, m: Float32Array, o: number, out: Float64Array, f: number): void {
  let i = 0;
  for (; i + 4 <= f; i += 4) {
    out[i]! += a * m[o + i]!;
    out[i + 1]! += a * m[o + i + 1]!;
    out[i + 2]! += a * m[o + i + 2]!;
    out[i + 3]! += a * m[o + i + 3]!;
  }
  for (; i < f; i++) out[i]! += a * m[o + i]!;
}
