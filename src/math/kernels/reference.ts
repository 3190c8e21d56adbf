/**
 * The TypeScript twins of kernels.wat: same functions, same pointer arguments, same results up to rounding
 * (float64 arithmetic where the SIMD kernels use float32, except where noted). They run when the engine
 * cannot validate the SIMD module or CINEREC_NO_SIMD=1, and the tests check the SIMD kernels against them.
 * Written for clarity: plain loops, no blocking.
 */
import { readAlsJob } from './als-job.ts';
import { type HalfStep, RowSolver, SOLVER_CG, SOLVER_CHOLESKY } from './als-rows.ts';
import type { KernelFunctions } from './functions.ts';
import type { KernelMemory } from './memory.ts';

export function referenceKernels(mem: KernelMemory): KernelFunctions {
  let solver: RowSolver | null = null;

  /** A HalfStep over the job's arrays (views of the kernel memory); the reference row solver runs on it. */
  const halfStep = (job: number, solverKind: number): HalfStep => {
    const j = readAlsJob(mem, job);
    const i32 = mem.i32();
    const rows = j.to;
    const nnz = i32[(j.indptr >> 2) + rows]!;
    const buffer = mem.buffer;
    // Views need lengths; the fixed side's row count is not in the job, so the view runs to the memory's end.
    return {
      f: j.f4,
      lambda: j.lambda,
      solver: solverKind,
      cgSteps: j.cgSteps,
      conf: j.conf,
      rows: {
        indptr: new Int32Array(buffer, j.indptr, rows + 1),
        index: new Int32Array(buffer, j.index, nnz),
        ratings: new Float32Array(buffer, j.ratings, nnz),
      },
      fixed: new Float32Array(buffer, j.fixed, (buffer.byteLength - j.fixed) >> 2),
      target: new Float32Array(buffer, j.target, rows * j.f4),
      gram: new Float64Array(buffer, j.gram64, j.f4 * j.f4),
      rowLoss: j.rowLoss === 0 ? null : new Float64Array(buffer, j.rowLoss, rows),
    };
  };
  const rowSolver = (f4: number): RowSolver => {
    if (!solver || solver.f !== f4) solver = new RowSolver(f4);
    return solver;
  };

  const syrk: KernelFunctions['syrk'] = (out, ldo, a, lda, idx, w, n, f, _scratch, accumulate) => {
    const f32 = mem.f32();
    const f64 = mem.f64();
    const i32 = mem.i32();
    const o = out >> 3;
    if (!accumulate) for (let i = 0; i < f; i++) f64.fill(0, o + i * ldo, o + i * ldo + f);
    for (let r = 0; r < n; r++) {
      const row = (a >> 2) + (idx ? i32[(idx >> 2) + r]! : r) * lda;
      const wr = w ? f64[(w >> 3) + r]! : 1;
      for (let i = 0; i < f; i++) {
        const wi = wr * f32[row + i]!;
        for (let j = 0; j <= i; j++) f64[o + i * ldo + j]! += wi * f32[row + j]!;
      }
    }
    for (let i = 0; i < f; i++) for (let j = i + 1; j < f; j++) f64[o + i * ldo + j] = f64[o + j * ldo + i]!;
  };

  const potrf: KernelFunctions['potrf'] = (a, n, lda) => {
    const m = mem.f64();
    const o = a >> 3;
    for (let j = 0; j < n; j++) {
      const rj = o + j * lda;
      let d = m[rj + j]!;
      for (let k = 0; k < j; k++) d -= m[rj + k]! * m[rj + k]!;
      if (!(d > 0)) return j + 1;
      const l = Math.sqrt(d);
      m[rj + j] = l;
      for (let i = j + 1; i < n; i++) {
        const ri = o + i * lda;
        let s = m[ri + j]!;
        for (let k = 0; k < j; k++) s -= m[ri + k]! * m[rj + k]!;
        m[ri + j] = s / l;
      }
    }
    return 0;
  };

  const potrs: KernelFunctions['potrs'] = (l, n, lda, b) => {
    const m = mem.f64();
    const o = l >> 3;
    const x = b >> 3;
    for (let i = 0; i < n; i++) {
      let s = m[x + i]!;
      for (let k = 0; k < i; k++) s -= m[o + i * lda + k]! * m[x + k]!;
      m[x + i] = s / m[o + i * lda + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = m[x + i]!;
      for (let k = i + 1; k < n; k++) s -= m[o + k * lda + i]! * m[x + k]!;
      m[x + i] = s / m[o + i * lda + i]!;
    }
  };

  const sqdist: KernelFunctions['sqdist'] = (x, n, d, ct, k, kp, out, ldo) => {
    const f32 = mem.f32();
    const f64 = mem.f64();
    for (let i = 0; i < n; i++) {
      const xo = (x >> 2) + i * d;
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) {
          const t = f32[xo + j]! - f64[(ct >> 3) + j * kp + c]!;
          s += t * t;
        }
        f64[(out >> 3) + i * ldo + c] = s;
      }
    }
  };

  const gemmStrided: KernelFunctions['gemm_strided'] = (m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, accumulate) => {
    const f32 = mem.f32();
    const co = c >> 2;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += f32[(a + i * rsa + q * csa) >> 2]! * f32[(b + q * rsb + j * csb) >> 2]!;
        f32[co + i * ldc + j] = accumulate ? f32[co + i * ldc + j]! + s : s;
      }
    }
  };

  const gemm: KernelFunctions['gemm'] = (m, n, k, a, lda, b, ldb, c, ldc, accumulate, pack) =>
    gemmStrided(m, n, k, a, 4 * lda, 4, b, 4 * ldb, 4, c, ldc, accumulate, pack);

  const adam: KernelFunctions['adam'] = (w, g, m, v, n, b1, b2, step, invc2, eps, shrink, l2) => {
    const f32 = mem.f32();
    for (let i = 0; i < n; i++) {
      const wi = f32[(w >> 2) + i]!;
      const gi = f32[(g >> 2) + i]! + l2 * wi;
      const mi = b1 * f32[(m >> 2) + i]! + (1 - b1) * gi;
      const vi = b2 * f32[(v >> 2) + i]! + (1 - b2) * gi * gi;
      f32[(m >> 2) + i] = mi;
      f32[(v >> 2) + i] = vi;
      f32[(w >> 2) + i] = wi * shrink - (step * mi) / (Math.sqrt(vi * invc2) + eps);
    }
  };

  return {
    symv(g, v, out, f4, sign) {
      const f32 = mem.f32();
      for (let i = 0; i < f4; i++) {
        let s = 0;
        for (let j = 0; j < f4; j++) s += f32[(g >> 2) + i * f4 + j]! * f32[(v >> 2) + j]!;
        f32[(out >> 2) + i] = sign * s;
      }
    },

    als_cg(job) {
      const step = halfStep(job, SOLVER_CG);
      const { from, to } = readAlsJob(mem, job);
      rowSolver(step.f).solveRange(step, from, to);
    },

    als_exact(job) {
      const step = halfStep(job, SOLVER_CHOLESKY);
      const { from, to } = readAlsJob(mem, job);
      const s = rowSolver(step.f);
      for (let u = from; u < to; u++) {
        try {
          s.solveRange(step, u, u + 1);
        } catch {
          return u + 1;
        }
      }
      return 0;
    },

    syrk,
    potrf,
    potrs,

    potrf_batch(a, n, count) {
      for (let m = 0; m < count; m++) if (potrf(a + m * n * n * 8, n, n) !== 0) return m + 1;
      return 0;
    },

    potrs_batch(l, n, b, count) {
      for (let m = 0; m < count; m++) potrs(l + m * n * n * 8, n, n, b + m * n * 8);
    },

    gemm,
    gemm_strided: gemmStrided,

    bias_act(y, rows, cols, ldy, bias, relu) {
      const f32 = mem.f32();
      for (let r = 0; r < rows; r++) {
        const o = (y >> 2) + r * ldy;
        for (let j = 0; j < cols; j++) {
          const v = f32[o + j]! + (bias ? f32[(bias >> 2) + j]! : 0);
          f32[o + j] = relu && !(v > 0) ? 0 : v;
        }
      }
    },

    relu_back(g, y, n) {
      const f32 = mem.f32();
      for (let i = 0; i < n; i++) if (!(f32[(y >> 2) + i]! > 0)) f32[(g >> 2) + i] = 0;
    },

    colsum(g, rows, cols, ldg, out, accumulate) {
      const f32 = mem.f32();
      const o = out >> 2;
      if (!accumulate) f32.fill(0, o, o + cols);
      for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) f32[o + j]! += f32[(g >> 2) + r * ldg + j]!;
    },

    adam,

    adam_rows(w, g, m, v, width, rows, count, b1, b2, step, invc2, eps, shrink, l2) {
      const i32 = mem.i32();
      for (let t = 0; t < count; t++) {
        const o = 4 * width * i32[(rows >> 2) + t]!;
        adam(w + o, g + o, m + o, v + o, width, b1, b2, step, invc2, eps, shrink, l2);
      }
    },

    gather_rows(src, srcStride, idx, count, dst, dstStride, rowBytes) {
      const bytes = new Uint8Array(mem.buffer);
      const i32 = mem.i32();
      for (let t = 0; t < count; t++) {
        const from = src + i32[(idx >> 2) + t]! * srcStride;
        bytes.copyWithin(dst + t * dstStride, from, from + rowBytes);
      }
    },

    mf_sgd(order, count, users, items, ratings, p, q, bu, bi, k, mu, lr, reg, regBias) {
      const i32 = mem.i32();
      const f32 = mem.f32();
      const f64 = mem.f64();
      const u32 = new Uint32Array(mem.buffer, order, count);
      let se = 0;
      for (let t = 0; t < count; t++) {
        const j = u32[t]!;
        const u = i32[(users >> 2) + j]!;
        const i = i32[(items >> 2) + j]!;
        const pu = (p >> 3) + u * k;
        const qi = (q >> 3) + i * k;
        let dot = 0;
        for (let f = 0; f < k; f++) dot += f64[pu + f]! * f64[qi + f]!;
        const bup = (bu >> 3) + u;
        const bip = (bi >> 3) + i;
        const e = f32[(ratings >> 2) + j]! - (mu + f64[bup]! + f64[bip]! + dot);
        se += e * e;
        f64[bup] = f64[bup]! + lr * (e - regBias * f64[bup]!);
        f64[bip] = f64[bip]! + lr * (e - regBias * f64[bip]!);
        for (let f = 0; f < k; f++) {
          const pf = f64[pu + f]!;
          const qf = f64[qi + f]!;
          f64[pu + f] = pf + lr * (e * qf - reg * pf);
          f64[qi + f] = qf + lr * (e * pf - reg * qf);
        }
      }
      return se;
    },

    spmm_rows(indptr, idx, vals, rows, w, width, bias, out) {
      const f32 = mem.f32();
      const i32 = mem.i32();
      for (let r = 0; r < rows; r++) {
        const o = (out >> 2) + r * width;
        for (let j = 0; j < width; j++) f32[o + j] = bias ? f32[(bias >> 2) + j]! : 0;
        for (let p = i32[(indptr >> 2) + r]!; p < i32[(indptr >> 2) + r + 1]!; p++) {
          const v = f32[(vals >> 2) + p]!;
          if (v === 0) continue;
          const wo = (w >> 2) + i32[(idx >> 2) + p]! * width;
          for (let j = 0; j < width; j++) f32[o + j]! += v * f32[wo + j]!;
        }
      }
    },

    spmm_t_rows(indptr, idx, vals, rows, g, width, dw) {
      const f32 = mem.f32();
      const i32 = mem.i32();
      for (let r = 0; r < rows; r++) {
        const go = (g >> 2) + r * width;
        for (let p = i32[(indptr >> 2) + r]!; p < i32[(indptr >> 2) + r + 1]!; p++) {
          const v = f32[(vals >> 2) + p]!;
          if (v === 0) continue;
          const o = (dw >> 2) + i32[(idx >> 2) + p]! * width;
          for (let j = 0; j < width; j++) f32[o + j]! += v * f32[go + j]!;
        }
      }
    },

    sampled_dot(indptr, idx, rows, h, width, w, bias, out) {
      const f32 = mem.f32();
      const i32 = mem.i32();
      for (let r = 0; r < rows; r++) {
        const ho = (h >> 2) + r * width;
        for (let p = i32[(indptr >> 2) + r]!; p < i32[(indptr >> 2) + r + 1]!; p++) {
          const c = i32[(idx >> 2) + p]!;
          let s = 0;
          for (let j = 0; j < width; j++) s += f32[ho + j]! * f32[(w >> 2) + c * width + j]!;
          f32[(out >> 2) + p] = s + f32[(bias >> 2) + c]!;
        }
      }
    },

    sampled_back(indptr, idx, rows, g, h, width, w, dw, db, dh) {
      const f32 = mem.f32();
      const i32 = mem.i32();
      f32.fill(0, dh >> 2, (dh >> 2) + rows * width);
      for (let r = 0; r < rows; r++) {
        const ho = (h >> 2) + r * width;
        const dho = (dh >> 2) + r * width;
        for (let p = i32[(indptr >> 2) + r]!; p < i32[(indptr >> 2) + r + 1]!; p++) {
          const gp = f32[(g >> 2) + p]!;
          if (gp === 0) continue;
          const c = i32[(idx >> 2) + p]!;
          f32[(db >> 2) + c]! += gp;
          for (let j = 0; j < width; j++) {
            f32[(dw >> 2) + c * width + j]! += gp * f32[ho + j]!;
            f32[dho + j]! += gp * f32[(w >> 2) + c * width + j]!;
          }
        }
      }
    },

    sqnorms(x, n, d, ldx, out) {
      const f32 = mem.f32();
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += f32[(x >> 2) + i * ldx + j]! ** 2;
        f32[(out >> 2) + i] = s;
      }
    },

    argmin2(dots, ldd, xn, cn, n, kp, near, best) {
      const f32 = mem.f32();
      const i32 = mem.i32();
      for (let i = 0; i < n; i++) {
        let b1 = Number.POSITIVE_INFINITY;
        let b2 = Number.POSITIVE_INFINITY;
        let bi = 0;
        const x = f32[(xn >> 2) + i]!;
        for (let c = 0; c < kp; c++) {
          const e = x + f32[(cn >> 2) + c]! - 2 * f32[(dots >> 2) + i * ldd + c]!;
          if (e < b1) {
            b2 = b1;
            b1 = e;
            bi = c;
          } else if (e < b2) b2 = e;
        }
        i32[(near >> 2) + i] = bi;
        f32[(best >> 2) + 2 * i] = b1;
        f32[(best >> 2) + 2 * i + 1] = b2;
      }
    },

    kpp_potentials(dots, xn, cn, closest, n, sums) {
      const f32 = mem.f32();
      const f64 = mem.f64();
      for (let t = 0; t < 8; t++) {
        let s = 0;
        const ct = f32[(cn >> 2) + t]!;
        for (let i = 0; i < n; i++) {
          const e = Math.max(0, f32[(xn >> 2) + i]! + ct - 2 * f32[(dots >> 2) + 8 * i + t]!);
          s += Math.min(f64[(closest >> 3) + i]!, e);
        }
        f64[(sums >> 3) + t] = s;
      }
    },

    kpp_update(dots, t, xn, cnt, closest, n) {
      const f32 = mem.f32();
      const f64 = mem.f64();
      for (let i = 0; i < n; i++) {
        const e = Math.max(0, f32[(xn >> 2) + i]! + cnt - 2 * f32[(dots >> 2) + 8 * i + t]!);
        if (e < f64[(closest >> 3) + i]!) f64[(closest >> 3) + i] = e;
      }
    },

    silhouette_sums(dots, ldd, rows, xr, xn, assign, n, self, k, sums) {
      const f32 = mem.f32();
      const f64 = mem.f64();
      const i32 = mem.i32();
      for (let r = 0; r < rows; r++) {
        const o = (sums >> 3) + r * k;
        f64.fill(0, o, o + k);
        const x = f32[(xr >> 2) + r]!;
        const skip = i32[(self >> 2) + r]!;
        for (let j = 0; j < n; j++) {
          if (j === skip) continue;
          const e = x + f32[(xn >> 2) + j]! - 2 * f32[(dots >> 2) + r * ldd + j]!;
          f64[o + i32[(assign >> 2) + j]!]! += Math.sqrt(Math.max(0, e));
        }
      }
    },

    gemm_range(job) {
      const i32 = mem.i32();
      const w = job >> 2;
      const from = i32[w + 1]!;
      const [to, n, k, a, lda, b, ldb, c, ldc, accumulate] = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(
        (q) => i32[w + q]!,
      ) as [number, number, number, number, number, number, number, number, number, number];
      gemm(to - from, n, k, a + from * lda * 4, lda, b, ldb, c + from * ldc * 4, ldc, accumulate, 0);
      return 0;
    },

    gemv(trans, m, n, a, lda, x, y, accumulate) {
      const f32 = mem.f32();
      const ao = a >> 2;
      const outs = trans ? n : m;
      for (let i = 0; i < outs; i++) {
        let s = 0;
        if (trans) for (let r = 0; r < m; r++) s += f32[ao + r * lda + i]! * f32[(x >> 2) + r]!;
        else for (let q = 0; q < n; q++) s += f32[ao + i * lda + q]! * f32[(x >> 2) + q]!;
        f32[(y >> 2) + i] = accumulate ? f32[(y >> 2) + i]! + s : s;
      }
    },

    sqdist,

    gram_range(job) {
      const i32 = mem.i32();
      const w = job >> 2;
      const [f4, from, to, a, out, blockRows, scratch] = [0, 1, 2, 3, 4, 5, 6].map((k) => i32[w + k]!) as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      const partial = out + Math.floor(from / blockRows) * f4 * f4 * 8;
      syrk(partial, f4, a + from * f4 * 4, f4, 0, 0, to - from, f4, scratch, 0);
      return 0;
    },

    nearest(x, n, d, ct, k, kp, near, best, dist) {
      const f64 = mem.f64();
      const i32 = mem.i32();
      for (let i = 0; i < n; i++) {
        sqdist(x + i * d * 4, 1, d, ct, k, kp, dist, k);
        let b1 = Number.POSITIVE_INFINITY;
        let b2 = Number.POSITIVE_INFINITY;
        let bi = 0;
        for (let c = 0; c < k; c++) {
          const v = f64[(dist >> 3) + c]!;
          if (v < b1) {
            b2 = b1;
            b1 = v;
            bi = c;
          } else if (v < b2) b2 = v;
        }
        i32[(near >> 2) + i] = bi;
        f64[(best >> 3) + 2 * i] = b1;
        f64[(best >> 3) + 2 * i + 1] = b2;
      }
    },

    topk(scores, n, k, heapScore, heapIdx) {
      const f32 = mem.f32();
      const i32 = mem.i32();
      const order: number[] = [];
      for (let i = 0; i < n; i++) {
        const s = f32[(scores >> 2) + i]!;
        if (!Number.isNaN(s) && s !== Number.NEGATIVE_INFINITY) order.push(i);
      }
      order.sort((p, q) => f32[(scores >> 2) + q]! - f32[(scores >> 2) + p]! || p - q);
      const count = Math.min(Math.max(k, 0), order.length);
      for (let t = 0; t < count; t++) {
        i32[(heapIdx >> 2) + t] = order[t]!;
        f32[(heapScore >> 2) + t] = f32[(scores >> 2) + order[t]!]!;
      }
      return count;
    },
  };
}
