/**
 * Small dense linear-algebra helpers on row-major Float64Array: an orthonormal basis of a matrix's
 * columns (the Q of a thin QR) and the eigen-decomposition of a small symmetric matrix. Both are
 * deterministic: no random numbers, ties and signs resolved by fixed rules. Used by the randomized SVD,
 * where the matrices are tall-and-thin (orthonormalize) or tiny (symmetricEigen).
 */

/** A column left with less than this fraction of its norm outside the span of the earlier ones counts as dependent. */
const DEPENDENT = 1e-12;

/** Components within this relative margin of the largest magnitude tie; the lowest index wins. */
const SIGN_TIE = 1e-12;

function assertShape(name: string, a: Float64Array, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new Error(`${name}: dimensions must be non-negative integers, got ${rows}×${cols}`);
  }
  if (a.length !== rows * cols) {
    throw new Error(`${name}: array of length ${a.length} does not hold a ${rows}×${cols} matrix`);
  }
}

function dot(q: Float64Array, x: number, y: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += q[x + i]! * q[y + i]!;
    s1 += q[x + i + 1]! * q[y + i + 1]!;
    s2 += q[x + i + 2]! * q[y + i + 2]!;
    s3 += q[x + i + 3]! * q[y + i + 3]!;
  }
  for (; i < n; i++) s0 += q[x + i]! * q[y + i]!;
  return s0 + s1 + s2 + s3;
}

/**
 * Two passes of modified Gram–Schmidt of vector `j` (q[j·n ..) against vectors 0..j-1 ("twice is
 * enough"); returns the norm of the result. Each subtraction of r_p·q_p is fused with the dot product
 * q_{p+1}·v that the next step needs, so v is streamed once per projection instead of twice.
 */
function orthogonalizeAgainstPrevious(q: Float64Array, j: number, n: number): number {
  const y = j * n;
  for (let pass = 0; pass < 2 && j > 0; pass++) {
    let r = dot(q, 0, y, n);
    for (let p = 0; p < j - 1; p++) {
      const x = p * n;
      const z = x + n;
      let s0 = 0;
      let s1 = 0;
      let i = 0;
      for (; i + 1 < n; i += 2) {
        const v0 = q[y + i]! - r * q[x + i]!;
        const v1 = q[y + i + 1]! - r * q[x + i + 1]!;
        q[y + i] = v0;
        q[y + i + 1] = v1;
        s0 += q[z + i]! * v0;
        s1 += q[z + i + 1]! * v1;
      }
      if (i < n) {
        const v0 = q[y + i]! - r * q[x + i]!;
        q[y + i] = v0;
        s0 += q[z + i]! * v0;
      }
      r = s0 + s1;
    }
    const x = (j - 1) * n;
    for (let i = 0; i < n; i++) q[y + i] = q[y + i]! - r * q[x + i]!;
  }
  return Math.sqrt(dot(q, y, y, n));
}

/**
 * Replaces the columns of `a` (rows×cols, row-major) in place by an orthonormal basis, column by column:
 * the Q of a thin QR, computed by modified Gram–Schmidt with one re-orthogonalisation pass, so QᵀQ = I
 * to working precision even for ill-conditioned input, and the first j columns of Q span the first j
 * columns of the input (up to dependence).
 *
 * Rank deficiency is handled deterministically: a column that is zero or (numerically, relative 1e-12)
 * in the span of the earlier ones is replaced by the unit vector e_i least represented in the current
 * basis (largest 1 − Σ q_p[i]², lowest i on ties), orthogonalised the same way. The result still spans
 * the input's column space and stays orthonormal. When cols > rows only `rows` orthonormal columns exist;
 * columns that cannot be completed are set to zero.
 */
export function orthonormalize(a: Float64Array, rows: number, cols: number): void {
  assertShape('orthonormalize', a, rows, cols);
  if (rows === 0 || cols === 0) return;
  // Work on the transpose so every column is contiguous: the dot products and updates stream memory.
  const q = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const r = i * cols;
    for (let j = 0; j < cols; j++) q[j * rows + i] = a[r + j]!;
  }
  const coverage = new Float64Array(rows); // Σ over accepted columns of q_p[i]²
  let basis = 0; // number of non-zero (orthonormal) columns so far
  for (let j = 0; j < cols; j++) {
    const y = j * rows;
    const original = Math.sqrt(dot(q, y, y, rows));
    let norm = original > 0 ? orthogonalizeAgainstPrevious(q, j, rows) : 0;
    if (!(norm > DEPENDENT * original)) {
      q.fill(0, y, y + rows);
      if (basis < rows) {
        let best = 0;
        let bestResidual = Number.NEGATIVE_INFINITY;
        for (let i = 0; i < rows; i++) {
          const residual = 1 - coverage[i]!;
          if (residual > bestResidual) {
            bestResidual = residual;
            best = i;
          }
        }
        q[y + best] = 1;
        norm = orthogonalizeAgainstPrevious(q, j, rows);
      }
    }
    if (norm > 0) {
      const inv = 1 / norm;
      for (let i = 0; i < rows; i++) {
        const v = q[y + i]! * inv;
        q[y + i] = v;
        coverage[i] = coverage[i]! + v * v;
      }
      basis++;
    }
  }
  for (let i = 0; i < rows; i++) {
    const r = i * cols;
    for (let j = 0; j < cols; j++) a[r + j] = q[j * rows + i]!;
  }
}

/**
 * Eigen-decomposition of a symmetric n×n matrix (row-major; only its symmetric part (A + Aᵀ)/2 is used,
 * the input is not modified) by the cyclic Jacobi method (Golub & Van Loan §8.5; rotation formulas as in
 * Numerical Recipes `jacobi`). Sweeps until no off-diagonal entry is significant: |a_pq| ≤ ε·√|a_pp·a_qq|
 * (relative) or ≤ 1e-20·‖A‖_F (absolute), at most 100 sweeps. Accurate and robust; O(n³) per sweep, so
 * meant for small matrices (a few hundred at most).
 *
 * @returns values sorted descending (ties keep the lower original index) and `vectors`, n×n row-major
 *   holding the eigenvectors as COLUMNS: vectors[i·n + j] is component i of the eigenvector of values[j].
 *   Sign convention: the largest-magnitude component of each eigenvector is positive (components within
 *   a relative 1e-12 of the largest tie, the lowest index wins).
 */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  assertShape('symmetricEigen', a, n, n);
  const m = new Float64Array(n * n);
  let frobenius2 = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = 0.5 * (a[i * n + j]! + a[j * n + i]!);
      m[i * n + j] = v;
      frobenius2 += v * v;
    }
  }
  const absoluteTiny = 1e-20 * Math.sqrt(frobenius2);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;

  for (let sweep = 0; sweep < 100; sweep++) {
    let rotations = 0;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (apq === 0) continue;
        const app = m[p * n + p]!;
        const aqq = m[q * n + q]!;
        if (Math.abs(apq) <= Number.EPSILON * Math.sqrt(Math.abs(app * aqq)) || Math.abs(apq) <= absoluteTiny) {
          m[p * n + q] = 0;
          m[q * n + p] = 0;
          continue;
        }
        rotations++;
        // t = tan of the rotation angle, the smaller root of t² + 2θt − 1 = 0, so the rotation is ≤ 45°.
        const theta = (aqq - app) / (2 * apq);
        const t =
          Math.abs(theta) > 1e150
            ? 1 / (2 * theta)
            : (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(1 + theta * theta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        m[p * n + p] = app - t * apq;
        m[q * n + q] = aqq + t * apq;
        m[p * n + q] = 0;
        m[q * n + p] = 0;
        for (let r = 0; r < n; r++) {
          if (r === p || r === q) continue;
          const arp = m[r * n + p]!;
          const arq = m[r * n + q]!;
          const np = c * arp - s * arq;
          const nq = s * arp + c * arq;
          m[r * n + p] = np;
          m[p * n + r] = np;
          m[r * n + q] = nq;
          m[q * n + r] = nq;
        }
        for (let r = 0; r < n; r++) {
          const vrp = v[r * n + p]!;
          const vrq = v[r * n + q]!;
          v[r * n + p] = c * vrp - s * vrq;
          v[r * n + q] = s * vrp + c * vrq;
        }
      }
    }
    if (rotations === 0) break;
  }

  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => m[y * n + y]! - m[x * n + x]! || x - y);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const src = order[j]!;
    values[j] = m[src * n + src]!;
    let largest = 0;
    for (let i = 0; i < n; i++) largest = Math.max(largest, Math.abs(v[i * n + src]!));
    let sign = 1;
    for (let i = 0; i < n; i++) {
      const x = v[i * n + src]!;
      if (Math.abs(x) >= largest * (1 - SIGN_TIE)) {
        sign = x < 0 ? -1 : 1;
        break;
      }
    }
    for (let i = 0; i < n; i++) vectors[i * n + j] = sign * v[i * n + src]!;
  }
  return { values, vectors };
}
