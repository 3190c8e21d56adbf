/**
 * Truncated SVD by randomized subspace iteration (Halko, Martinsson & Tropp 2011, "Finding structure
 * with randomness", Algorithm 4.4 followed by Algorithm 5.1). The matrix is only touched through
 * products with a LinearOperator, so a sparse rating matrix or an implicitly centred one (PCA) never
 * has to be materialised. Seeded: the same operator, rank and options give bit-identical output.
 */
import { orthonormalize, symmetricEigen } from './linalg.ts';
import { Rng } from './random.ts';

/** A matrix known only through products, so sparse and implicitly centred matrices need not be materialised. */
export interface LinearOperator {
  readonly rows: number;
  readonly cols: number;
  /** out (rows×l, row-major) = A · b, b is cols×l row-major. */
  multiply(b: Float64Array, l: number, out: Float64Array): void;
  /** out (cols×l, row-major) = Aᵀ · b, b is rows×l row-major. */
  multiplyTranspose(b: Float64Array, l: number, out: Float64Array): void;
}

export interface SvdOptions {
  /** Extra random directions beyond `rank` (p in Halko et al.); default 10. */
  oversample?: number;
  /** Power (subspace) iterations q; each costs one product with A and one with Aᵀ. Default 4. */
  powerIterations?: number;
  /** Seed of the Gaussian test matrix; default 1. */
  seed?: number;
}

export interface TruncatedSvd {
  rank: number;
  /** rows×rank, row-major, orthonormal columns. */
  u: Float64Array;
  /** rank singular values, descending. */
  s: Float64Array;
  /** rank×cols, row-major, orthonormal rows. */
  vt: Float64Array;
}

/** Components within this relative margin of the largest magnitude tie for the sign convention; lowest index wins. */
const SIGN_TIE = 1e-12;

function checkDimensions(what: string, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1) {
    throw new Error(`${what}: dimensions must be positive integers, got ${rows}×${cols}`);
  }
}

function checkLength(what: string, array: Float64Array, rows: number, cols: number): void {
  if (array.length !== rows * cols) {
    throw new Error(`${what}: expected a ${rows}×${cols} array (length ${rows * cols}), got length ${array.length}`);
  }
}

/**
 * out (rows×l) = X · Y where X is rows×inner row-major and Y is given TRANSPOSED (yt, l×inner row-major),
 * so every output entry is a dot product of two contiguous rows. Blocks of 4 rows × 2 columns keep eight
 * independent accumulators in registers and load each operand once per four multiply-adds.
 */
function multiplyByTransposed(
  x: Float32Array | Float64Array,
  rows: number,
  inner: number,
  yt: Float64Array,
  l: number,
  out: Float64Array,
): void {
  let i = 0;
  for (; i + 3 < rows; i += 4) {
    const r0 = i * inner;
    const r1 = r0 + inner;
    const r2 = r1 + inner;
    const r3 = r2 + inner;
    const o = i * l;
    let t = 0;
    for (; t + 1 < l; t += 2) {
      const c0 = t * inner;
      const c1 = c0 + inner;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      for (let j = 0; j < inner; j++) {
        const b0 = yt[c0 + j]!;
        const b1 = yt[c1 + j]!;
        let a = x[r0 + j]!;
        s00 += a * b0;
        s01 += a * b1;
        a = x[r1 + j]!;
        s10 += a * b0;
        s11 += a * b1;
        a = x[r2 + j]!;
        s20 += a * b0;
        s21 += a * b1;
        a = x[r3 + j]!;
        s30 += a * b0;
        s31 += a * b1;
      }
      out[o + t] = s00;
      out[o + t + 1] = s01;
      out[o + l + t] = s10;
      out[o + l + t + 1] = s11;
      out[o + 2 * l + t] = s20;
      out[o + 2 * l + t + 1] = s21;
      out[o + 3 * l + t] = s30;
      out[o + 3 * l + t + 1] = s31;
    }
    if (t < l) {
      const c0 = t * inner;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = 0; j < inner; j++) {
        const b0 = yt[c0 + j]!;
        s0 += x[r0 + j]! * b0;
        s1 += x[r1 + j]! * b0;
        s2 += x[r2 + j]! * b0;
        s3 += x[r3 + j]! * b0;
      }
      out[o + t] = s0;
      out[o + l + t] = s1;
      out[o + 2 * l + t] = s2;
      out[o + 3 * l + t] = s3;
    }
  }
  for (; i < rows; i++) {
    const r = i * inner;
    for (let t = 0; t < l; t++) {
      const c = t * inner;
      let s = 0;
      for (let j = 0; j < inner; j++) s += x[r + j]! * yt[c + j]!;
      out[i * l + t] = s;
    }
  }
}

/** dst (cols×rows) = srcᵀ, src rows×cols row-major. */
function transposeInto(src: Float64Array, rows: number, cols: number, dst: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    const r = i * cols;
    for (let j = 0; j < cols; j++) dst[j * rows + i] = src[r + j]!;
  }
}

/**
 * A dense row-major matrix as a LinearOperator (the data are referenced, not copied). Both products
 * run as blocked dot products of contiguous rows; for that, the first multiplyTranspose builds a
 * transposed copy of the data (same element type, so it doubles the memory held) and keeps it.
 */
export function denseOperator(data: Float32Array | Float64Array, rows: number, cols: number): LinearOperator {
  checkDimensions('denseOperator', rows, cols);
  if (data.length !== rows * cols) {
    throw new Error(`denseOperator: data of length ${data.length} does not hold a ${rows}×${cols} matrix`);
  }
  let transposed: Float32Array | Float64Array | undefined;
  let scratch = new Float64Array(0);
  const scratchOf = (size: number): Float64Array => {
    if (scratch.length < size) scratch = new Float64Array(size);
    return scratch.length === size ? scratch : scratch.subarray(0, size);
  };
  const checkL = (what: string, l: number) => {
    if (!Number.isInteger(l) || l < 1) throw new Error(`${what}: l must be a positive integer, got ${l}`);
  };
  return {
    rows,
    cols,
    multiply(b: Float64Array, l: number, out: Float64Array): void {
      checkL('multiply', l);
      checkLength('multiply b', b, cols, l);
      checkLength('multiply out', out, rows, l);
      const bt = scratchOf(l * cols);
      transposeInto(b, cols, l, bt);
      multiplyByTransposed(data, rows, cols, bt, l, out);
    },
    multiplyTranspose(b: Float64Array, l: number, out: Float64Array): void {
      checkL('multiplyTranspose', l);
      checkLength('multiplyTranspose b', b, rows, l);
      checkLength('multiplyTranspose out', out, cols, l);
      if (transposed === undefined) {
        const t = data instanceof Float32Array ? new Float32Array(rows * cols) : new Float64Array(rows * cols);
        for (let i = 0; i < rows; i++) {
          const r = i * cols;
          for (let j = 0; j < cols; j++) t[j * rows + i] = data[r + j]!;
        }
        transposed = t;
      }
      const bt = scratchOf(l * rows);
      transposeInto(b, rows, l, bt);
      multiplyByTransposed(transposed, cols, rows, bt, l, out);
    },
  };
}

function rowDot(a: Float64Array, x: number, y: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    s0 += a[x + j]! * a[y + j]!;
    s1 += a[x + j + 1]! * a[y + j + 1]!;
    s2 += a[x + j + 2]! * a[y + j + 2]!;
    s3 += a[x + j + 3]! * a[y + j + 3]!;
  }
  for (; j < n; j++) s0 += a[x + j]! * a[y + j]!;
  return s0 + s1 + s2 + s3;
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`randomizedSvd: ${name} must be a non-negative integer, got ${value}`);
  return value;
}

/**
 * Rank-`rank` truncated SVD A ≈ U·diag(s)·Vᵀ, Halko, Martinsson & Tropp 2011, Algorithm 4.4
 * (randomized subspace iteration with re-orthonormalisation between power steps).
 *
 * With l = min(rank + oversample, rows, cols): Y = A·Ω for a seeded Gaussian Ω (cols×l), Q = orth(Y);
 * then `powerIterations` times Q = orth(A·orth(Aᵀ·Q)). Finally B = Qᵀ·A (l×cols, formed as (Aᵀ·Q)ᵀ)
 * and the SVD of the small B gives the result (Algorithm 5.1). That SVD is computed in two steps:
 * the eigenvectors W of B·Bᵀ (cyclic Jacobi) rotate B to C = Wᵀ·B with nearly orthogonal rows, then
 * one-sided Jacobi (Hestenes) rotations, accumulated into W, make the rows orthogonal to working
 * precision. Forming B·Bᵀ alone would square the condition number and lose the small singular values;
 * the one-sided polish works on B itself, so each σ is accurate relative to itself. Then s = row norms
 * of C, Vᵀ = rows of C / s, U = Q·W. Total cost: 2·powerIterations + 2 products with A or Aᵀ on l
 * columns, plus O((rows + cols)·l²).
 *
 * `rank` is clamped to min(rows, cols). Sign convention: the largest-magnitude entry of each row of vt
 * is positive (entries within a relative 1e-12 of it tie, the lowest index wins), u's column flipped to
 * match. Singular vectors of an exactly zero singular value are completed deterministically to an
 * orthonormal set.
 */
export function randomizedSvd(op: LinearOperator, rank: number, options: SvdOptions = {}): TruncatedSvd {
  const m = op.rows;
  const n = op.cols;
  checkDimensions('randomizedSvd', m, n);
  if (!Number.isInteger(rank) || rank < 1) throw new Error(`randomizedSvd: rank must be an integer ≥ 1, got ${rank}`);
  const oversample = nonNegativeInteger('oversample', options.oversample ?? 10);
  const powerIterations = nonNegativeInteger('powerIterations', options.powerIterations ?? 4);
  const seed = options.seed ?? 1;
  if (!Number.isFinite(seed)) throw new Error(`randomizedSvd: seed must be a finite number, got ${seed}`);

  const k = Math.min(rank, m, n);
  const l = Math.min(k + oversample, m, n);
  const rng = new Rng(seed);

  // Range finder (Algorithm 4.4).
  const omega = new Float64Array(n * l);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();
  const q = new Float64Array(m * l);
  op.multiply(omega, l, q);
  orthonormalize(q, m, l);
  const z = omega; // cols×l, reused for Aᵀ·Q
  for (let it = 0; it < powerIterations; it++) {
    op.multiplyTranspose(q, l, z);
    orthonormalize(z, n, l);
    op.multiply(z, l, q);
    orthonormalize(q, m, l);
  }

  // B = Qᵀ·A, l×cols row-major, from Bᵀ = Aᵀ·Q.
  op.multiplyTranspose(q, l, z);
  const c = new Float64Array(l * n);
  transposeInto(z, n, l, c);

  // W from the eigenvectors of B·Bᵀ, then C = Wᵀ·B.
  const gram = new Float64Array(l * l);
  for (let p = 0; p < l; p++) {
    for (let r = p; r < l; r++) {
      const g = rowDot(c, p * n, r * n, n);
      gram[p * l + r] = g;
      gram[r * l + p] = g;
    }
  }
  const w = symmetricEigen(gram, l).vectors; // columns are eigenvectors
  const b = c.slice();
  c.fill(0);
  for (let i = 0; i < l; i++) {
    const ci = i * n;
    for (let p = 0; p < l; p++) {
      const f = w[p * l + i]!;
      if (f === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + f * b[bp + j]!;
    }
  }

  // One-sided Jacobi on the rows of C: C ← Jᵀ·C and W ← W·J until all rows are mutually orthogonal.
  const tolerance = Math.sqrt(n) * Number.EPSILON;
  for (let sweep = 0; sweep < 30; sweep++) {
    let rotations = 0;
    for (let p = 0; p < l - 1; p++) {
      for (let r = p + 1; r < l; r++) {
        const alpha = rowDot(c, p * n, p * n, n);
        const beta = rowDot(c, r * n, r * n, n);
        const gamma = rowDot(c, p * n, r * n, n);
        if (gamma === 0 || Math.abs(gamma) <= tolerance * Math.sqrt(alpha * beta)) continue;
        rotations++;
        const zeta = (beta - alpha) / (2 * gamma);
        const t =
          Math.abs(zeta) > 1e150
            ? 1 / (2 * zeta)
            : (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const cs = 1 / Math.sqrt(1 + t * t);
        const sn = cs * t;
        for (let j = 0, x = p * n, y = r * n; j < n; j++, x++, y++) {
          const cp = c[x]!;
          const cr = c[y]!;
          c[x] = cs * cp - sn * cr;
          c[y] = sn * cp + cs * cr;
        }
        for (let i = 0; i < l; i++) {
          const wp = w[i * l + p]!;
          const wr = w[i * l + r]!;
          w[i * l + p] = cs * wp - sn * wr;
          w[i * l + r] = sn * wp + cs * wr;
        }
      }
    }
    if (rotations === 0) break;
  }

  const norms = new Float64Array(l);
  for (let i = 0; i < l; i++) norms[i] = Math.sqrt(rowDot(c, i * n, i * n, n));
  const order = Array.from({ length: l }, (_, i) => i).sort((x, y) => norms[y]! - norms[x]! || x - y);

  const s = new Float64Array(k);
  const vt = new Float64Array(k * n);
  let incomplete = false;
  for (let i = 0; i < k; i++) {
    const src = order[i]!;
    const sigma = norms[src]!;
    s[i] = sigma;
    if (sigma > 0) {
      const inv = 1 / sigma;
      for (let j = 0; j < n; j++) vt[i * n + j] = c[src * n + j]! * inv;
    } else {
      incomplete = true;
    }
  }
  if (incomplete) {
    // Zero rows become deterministic unit-vector completions; the others are already orthonormal.
    const v = new Float64Array(n * k);
    transposeInto(vt, k, n, v);
    orthonormalize(v, n, k);
    transposeInto(v, n, k, vt);
  }

  // U = Q · W[:, order[0..k)].
  const u = new Float64Array(m * k);
  for (let i = 0; i < m; i++) {
    const qi = i * l;
    for (let col = 0; col < k; col++) {
      const src = order[col]!;
      let sum = 0;
      for (let p = 0; p < l; p++) sum += q[qi + p]! * w[p * l + src]!;
      u[i * k + col] = sum;
    }
  }

  for (let i = 0; i < k; i++) {
    const row = i * n;
    let largest = 0;
    for (let j = 0; j < n; j++) largest = Math.max(largest, Math.abs(vt[row + j]!));
    let negative = false;
    for (let j = 0; j < n; j++) {
      const x = vt[row + j]!;
      if (Math.abs(x) >= largest * (1 - SIGN_TIE)) {
        negative = x < 0;
        break;
      }
    }
    if (!negative) continue;
    for (let j = 0; j < n; j++) vt[row + j] = -vt[row + j]!;
    for (let r = 0; r < m; r++) u[r * k + i] = -u[r * k + i]!;
  }
  return { rank: k, u, s, vt };
}
