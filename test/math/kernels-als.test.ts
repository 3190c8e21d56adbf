import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALS_JOB_BYTES, alsScratchBytes, gatherBytes, writeAlsJob } from '../../src/math/kernels/als-job.ts';
import { CONF_BINARY, CONF_LINEAR, CONF_RATING, type ConfidenceSpec } from '../../src/math/kernels/als-rows.ts';
import { bindKernels, type KernelBackend, KernelMemory } from '../../src/math/kernels/index.ts';
import { KernelPool } from '../../src/math/kernels/pool.ts';
import { Rng } from '../../src/math/random.ts';

/** A random sparse side: `rows` rows over `cols` fixed rows, row lengths 0..maxLen (row 1 always empty). */
function randomSide(rng: Rng, rows: number, cols: number, maxLen: number) {
  const indptr = new Int32Array(rows + 1);
  const index: number[] = [];
  const ratings: number[] = [];
  for (let r = 0; r < rows; r++) {
    const len = r === 1 ? 0 : rng.int(maxLen + 1);
    const picked = new Set<number>();
    while (picked.size < Math.min(len, cols)) picked.add(rng.int(cols));
    for (const c of [...picked].sort((p, q) => p - q)) {
      index.push(c);
      ratings.push(0.5 * (1 + rng.int(10)));
    }
    indptr[r + 1] = index.length;
  }
  return { indptr, index: Int32Array.from(index), ratings: Float32Array.from(ratings) };
}

/** x = (G + λI + Σ (c−1) y yᵀ)⁻¹ Σ c p y for one row, dense float64 Gaussian elimination. */
function closedForm(
  y: Float32Array,
  f: number,
  gram: Float64Array,
  lambda: number,
  idx: Int32Array,
  ratings: Float32Array,
  conf: ConfidenceSpec,
): Float64Array {
  const a = Array.from({ length: f }, (_, i) =>
    Array.from({ length: f + 1 }, (_, j) => (j < f ? gram[i * f + j]! : 0)),
  );
  for (let i = 0; i < f; i++) a[i]![i]! += lambda;
  for (let k = 0; k < idx.length; k++) {
    const r = ratings[k]!;
    const neg = r < conf.negativeBelow;
    const cm1 = neg
      ? conf.alpha * (conf.negativeBelow - r)
      : conf.alpha * (conf.kind === CONF_BINARY ? 1 : conf.kind === CONF_RATING ? r : r / conf.ratingMax);
    const cp = neg ? 0 : 1 + cm1;
    const o = idx[k]! * f;
    for (let i = 0; i < f; i++) {
      a[i]![f]! += cp * y[o + i]!;
      for (let j = 0; j < f; j++) a[i]![j]! += cm1 * y[o + i]! * y[o + j]!;
    }
  }
  for (let c = 0; c < f; c++) {
    for (let r = c + 1; r < f; r++) {
      const q = a[r]![c]! / a[c]![c]!;
      for (let j = c; j <= f; j++) a[r]![j]! -= q * a[c]![j]!;
    }
  }
  const x = new Float64Array(f);
  for (let r = f - 1; r >= 0; r--) {
    let s = a[r]![f]!;
    for (let j = r + 1; j < f; j++) s -= a[r]![j]! * x[j]!;
    x[r] = s / a[r]![r]!;
  }
  return x;
}

/**
 * One side of an ALS problem laid out in kernel memory for `backend` (rows padded to f4 for SIMD); `long`
 * gives rows of up to 2800 entries over 3000 fixed rows, and `gather` a gather buffer for them.
 */
function layout(
  backend: KernelBackend,
  f: number,
  conf: ConfidenceSpec,
  seed: number,
  cgSteps: number,
  options: { long?: boolean; gather?: boolean } = {},
) {
  const f4 = backend === 'simd' ? Math.ceil(f / 4) * 4 : f;
  const rng = new Rng(seed);
  const rows = 23;
  const cols = options.long ? 3000 : 31;
  const side = randomSide(rng, rows, cols, options.long ? 2800 : 17);
  const y = Float32Array.from({ length: cols * f }, () => rng.normal() * 0.3);
  const x0 = Float32Array.from({ length: rows * f }, () => rng.next() * 0.01);
  const gram = new Float64Array(f * f);
  for (let c = 0; c < cols; c++)
    for (let i = 0; i < f; i++) for (let j = 0; j < f; j++) gram[i * f + j]! += y[c * f + i]! * y[c * f + j]!;
  const lambda = 0.1;
  const mem = KernelMemory.create(1 << 24);
  const pad = (m: Float32Array, n: number) => {
    const p = mem.alloc(4 * n * f4);
    const v = mem.f32At(p, n * f4);
    v.fill(0);
    for (let r = 0; r < n; r++) v.set(m.subarray(r * f, r * f + f), r * f4);
    return p;
  };
  const fixed = pad(y, cols);
  const target = pad(x0, rows);
  const g64 = mem.alloc(8 * f4 * f4);
  const g32 = mem.alloc(4 * f4 * f4);
  mem.f64At(g64, f4 * f4).fill(0);
  mem.f32At(g32, f4 * f4).fill(0);
  for (let i = 0; i < f; i++) {
    for (let j = 0; j < f; j++) {
      mem.f64At(g64, f4 * f4)[i * f4 + j] = gram[i * f + j]!;
      mem.f32At(g32, f4 * f4)[i * f4 + j] = gram[i * f + j]! + (i === j ? lambda : 0);
    }
  }
  const capacity = options.long ? 2800 : 20;
  const rowLoss = mem.alloc(8 * rows);
  const job = mem.alloc(ALS_JOB_BYTES);
  writeAlsJob(mem, job, {
    f4,
    from: 0,
    to: rows,
    indptr: mem.copyIn(side.indptr),
    index: mem.copyIn(side.index),
    ratings: mem.copyIn(side.ratings),
    fixed,
    target,
    gram32: g32,
    gram64: g64,
    lambda,
    cgSteps,
    scratch: mem.alloc(alsScratchBytes(f4, capacity)),
    capacity,
    rowLoss,
    conf,
    gather: options.gather ? mem.alloc(gatherBytes(f4, capacity)) : 0,
    gatherCapacity: options.gather ? capacity : 0,
  });
  const solved = () => {
    const v = mem.f32At(target, rows * f4);
    return Float32Array.from({ length: rows * f }, (_, k) => v[Math.floor(k / f) * f4 + (k % f)]!);
  };
  return {
    mem,
    job,
    side,
    y,
    gram,
    lambda,
    rows,
    solved,
    rowLoss: () => Float64Array.from(mem.f64At(rowLoss, rows)),
    f4,
  };
}

const CONFS: ConfidenceSpec[] = [
  { kind: CONF_BINARY, alpha: 1, ratingMax: 5, negativeBelow: Number.NEGATIVE_INFINITY },
  { kind: CONF_RATING, alpha: 0.7, ratingMax: 5, negativeBelow: Number.NEGATIVE_INFINITY },
  { kind: CONF_LINEAR, alpha: 2, ratingMax: 5, negativeBelow: 2.6 },
];

/** Σ_k [c (p − s)² − s²] of a row, s = x·y_k with the stored x. */
function rowLossOf(x: Float32Array, u: number, f: number, l: ReturnType<typeof layout>, conf: ConfidenceSpec): number {
  let loss = 0;
  for (let k = l.side.indptr[u]!; k < l.side.indptr[u + 1]!; k++) {
    let s = 0;
    for (let i = 0; i < f; i++) s += x[u * f + i]! * l.y[l.side.index[k]! * f + i]!;
    const r = l.side.ratings[k]!;
    const neg = r < conf.negativeBelow;
    const cm1 = neg
      ? conf.alpha * (conf.negativeBelow - r)
      : conf.alpha * (conf.kind === CONF_BINARY ? 1 : conf.kind === CONF_RATING ? r : r / conf.ratingMax);
    loss += (1 + cm1) * ((neg ? 0 : 1) - s) ** 2 - s * s;
  }
  return loss;
}

describe('ALS row kernels', () => {
  for (const backend of ['simd', 'reference'] as const) {
    for (const f of [3, 5, 8, 64]) {
      it(`${backend}, f = ${f}: exact rows equal the closed form; CG with many steps converges to it; loss shares`, () => {
        for (const conf of CONFS) {
          const exact = layout(backend, f, conf, 40 + f, 0);
          assert.equal(bindKernels(exact.mem, backend).als_exact(exact.job), 0);
          const xe = exact.solved();
          const cg = layout(backend, f, conf, 40 + f, 60);
          bindKernels(cg.mem, backend).als_cg(cg.job);
          const xc = cg.solved();
          for (let u = 0; u < exact.rows; u++) {
            const s = exact.side;
            const idx = s.index.subarray(s.indptr[u]!, s.indptr[u + 1]!);
            const want =
              idx.length === 0
                ? new Float64Array(f)
                : closedForm(
                    exact.y,
                    f,
                    exact.gram,
                    exact.lambda,
                    idx,
                    s.ratings.subarray(s.indptr[u]!, s.indptr[u + 1]!),
                    conf,
                  );
            let norm = 0;
            let errE = 0;
            let errC = 0;
            for (let i = 0; i < f; i++) {
              norm += want[i]! ** 2;
              errE += (xe[u * f + i]! - want[i]!) ** 2;
              errC += (xc[u * f + i]! - want[i]!) ** 2;
            }
            const scale = Math.sqrt(norm) + 1e-30;
            assert.ok(Math.sqrt(errE) / scale < 1e-6, `exact row ${u} (kind ${conf.kind}): ${Math.sqrt(errE) / scale}`);
            // float32 CG (SIMD) stalls at a few float32 ulps times the condition number.
            const tol = backend === 'simd' ? 2e-4 : 1e-6;
            assert.ok(Math.sqrt(errC) / scale < tol, `cg row ${u} (kind ${conf.kind}): ${Math.sqrt(errC) / scale}`);
            if (idx.length === 0) assert.ok(xe.subarray(u * f, u * f + f).every((v) => v === 0));
          }
          // Loss shares: the exact path measures them after solving; CG tracks them through its steps.
          const le = exact.rowLoss();
          const lc = cg.rowLoss();
          for (let u = 0; u < exact.rows; u++) {
            const we = rowLossOf(xe, u, f, exact, conf);
            const wc = rowLossOf(xc, u, f, cg, conf);
            assert.ok(Math.abs(le[u]! - we) < 1e-5 * (1 + Math.abs(we)), `exact loss ${u}: ${le[u]} vs ${we}`);
            assert.ok(Math.abs(lc[u]! - wc) < 1e-4 * (1 + Math.abs(wc)), `cg loss ${u}: ${lc[u]} vs ${wc}`);
          }
        }
      });
    }
  }

  it('gathering long rows (≥ 512 KiB of fixed rows) changes nothing: bit-identical rows and loss shares', () => {
    for (const conf of CONFS) {
      const plain = layout('simd', 64, conf, 21, 3, { long: true });
      const gathered = layout('simd', 64, conf, 21, 3, { long: true, gather: true });
      // Rows of 2048+ entries × 64 floats: gathered.
      assert.ok(Array.from(plain.side.indptr).some((v, r) => r > 0 && v - plain.side.indptr[r - 1]! >= 2048));
      bindKernels(plain.mem, 'simd').als_cg(plain.job);
      bindKernels(gathered.mem, 'simd').als_cg(gathered.job);
      assert.deepEqual(gathered.solved(), plain.solved());
      assert.deepEqual(gathered.rowLoss(), plain.rowLoss());
    }
  });

  it('SIMD CG follows the reference CG (3 steps from the same start)', () => {
    for (const conf of CONFS) {
      const a = layout('simd', 64, conf, 7, 3);
      const b = layout('reference', 64, conf, 7, 3);
      bindKernels(a.mem, 'simd').als_cg(a.job);
      bindKernels(b.mem, 'reference').als_cg(b.job);
      const xa = a.solved();
      const xb = b.solved();
      let d = 0;
      let n = 0;
      for (let k = 0; k < xb.length; k++) {
        d += (xa[k]! - xb[k]!) ** 2;
        n += xb[k]! ** 2;
      }
      assert.ok(Math.sqrt(d / n) < 1e-4, `kind ${conf.kind}: relative difference ${Math.sqrt(d / n)}`);
    }
  });

  it('on 1 and 2 threads (dynamic chunks) the rows come out bit-identical', async () => {
    for (const backend of ['simd', 'reference'] as const) {
      const results: Float32Array[] = [];
      for (const threads of [1, 2]) {
        const l = layout(backend, 8, CONFS[1]!, 99, 3);
        const pool = await KernelPool.start(l.mem, threads, backend);
        try {
          const bounds = l.mem.copyIn(Int32Array.of(0, 3, 4, 10, 11, 17, 23));
          const counter = l.mem.alloc(16);
          // A job block per thread: copies of the same job (one scratch is fine: rows are not shared... but
          // threads must not share scratch), so give the second its own scratch.
          const jobs = [l.job];
          if (threads === 2) {
            const j2 = l.mem.alloc(ALS_JOB_BYTES);
            new Uint8Array(l.mem.buffer, j2, ALS_JOB_BYTES).set(new Uint8Array(l.mem.buffer, l.job, ALS_JOB_BYTES));
            l.mem.i32()[(j2 >> 2) + 10] = l.mem.alloc(alsScratchBytes(l.f4, 20));
            jobs.push(j2);
          }
          assert.equal(await pool.runRange({ fn: 'als_cg', jobs, bounds, count: 6, counter }), 0);
          results.push(l.solved());
        } finally {
          await pool.close();
        }
      }
      assert.deepEqual(results[0], results[1], backend);
    }
  });
});
