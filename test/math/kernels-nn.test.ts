/**
 * The kernels added for the nn core and k-means (strided GEMM, bias/ReLU, column sums, Adam, row gathers, norms,
 * the expanded-form nearest centroid, k-means++ potentials, silhouette sums): SIMD against the TypeScript
 * reference and both against closed forms computed here in float64.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bindKernels,
  GEMM_SCRATCH_BYTES,
  type KernelBackend,
  type KernelFunctions,
  KernelMemory,
} from '../../src/math/kernels/index.ts';
import { Rng } from '../../src/math/random.ts';

const BACKENDS: KernelBackend[] = ['simd', 'reference'];

function setup(backend: KernelBackend): { mem: KernelMemory; fn: KernelFunctions } {
  const mem = KernelMemory.create(1 << 24);
  return { mem, fn: bindKernels(mem, backend) };
}

function normals(length: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length }, () => rng.normal());
}

for (const backend of BACKENDS) {
  describe(`nn and k-means kernels (${backend})`, () => {
    it('gemm_strided: every combination of transposes, odd sizes, several panels, accumulate', () => {
      const { mem, fn } = setup(backend);
      const pack = mem.alloc(GEMM_SCRATCH_BYTES);
      for (const [m, n, k] of [
        [1, 1, 1],
        [5, 3, 7],
        [37, 19, 45],
        [9, 530, 300],
      ] as const) {
        for (const ta of [false, true]) {
          for (const tb of [false, true]) {
            // Stored A: m×k (or k×m when transposed), B: k×n (or n×k).
            const a = normals(m * k, m + k);
            const b = normals(k * n, n + 3);
            const c0 = normals(m * n, 5);
            const pa = mem.copyIn(a);
            const pb = mem.copyIn(b);
            const pc = mem.copyIn(c0);
            const [rsa, csa] = ta ? [4, 4 * m] : [4 * k, 4];
            const [rsb, csb] = tb ? [4, 4 * k] : [4 * n, 4];
            for (const accumulate of [0, 1]) {
              mem.f32At(pc, m * n).set(c0);
              fn.gemm_strided(m, n, k, pa, rsa, csa, pb, rsb, csb, pc, n, accumulate, pack);
              const got = mem.f32At(pc, m * n);
              for (let i = 0; i < m; i++) {
                for (let j = 0; j < n; j++) {
                  let want = accumulate ? c0[i * n + j]! : 0;
                  let magnitude = Math.abs(want);
                  for (let q = 0; q < k; q++) {
                    const t = (ta ? a[q * m + i]! : a[i * k + q]!) * (tb ? b[j * k + q]! : b[q * n + j]!);
                    want += t;
                    magnitude += Math.abs(t);
                  }
                  const error = Math.abs(got[i * n + j]! - want);
                  assert.ok(
                    error <= (k + 3) * 2 ** -24 * magnitude,
                    `${m}×${n}×${k} ta ${ta} tb ${tb} acc ${accumulate} [${i},${j}]: ${got[i * n + j]} vs ${want}`,
                  );
                }
              }
            }
          }
        }
      }
    });

    it('bias_act, relu_back and colsum against plain loops', () => {
      const { mem, fn } = setup(backend);
      const rows = 7;
      const cols = 13;
      const ld = 15;
      const y0 = normals(rows * ld, 1);
      const bias = normals(cols, 2);
      const py = mem.copyIn(y0);
      const pb = mem.copyIn(bias);
      for (const relu of [0, 1]) {
        mem.f32At(py, rows * ld).set(y0);
        fn.bias_act(py, rows, cols, ld, pb, relu);
        const y = mem.f32At(py, rows * ld);
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < ld; j++) {
            const v = Math.fround(y0[r * ld + j]! + bias[j]!);
            const want = j >= cols ? y0[r * ld + j]! : relu ? Math.max(0, v) : v;
            assert.equal(y[r * ld + j], want, `relu ${relu} [${r},${j}]`);
          }
        }
      }
      const n = 23;
      const g0 = normals(n, 3);
      const out = normals(n, 4);
      const pg = mem.copyIn(g0);
      const po = mem.copyIn(out);
      fn.relu_back(pg, po, n);
      const g = mem.f32At(pg, n);
      for (let i = 0; i < n; i++) assert.equal(g[i], out[i]! > 0 ? g0[i] : 0);

      const m = normals(rows * ld, 5);
      const pm = mem.copyIn(m);
      const sums = mem.alloc(4 * cols);
      mem.f32At(sums, cols).fill(1);
      for (const accumulate of [0, 1]) {
        mem.f32At(sums, cols).fill(1);
        fn.colsum(pm, rows, cols, ld, sums, accumulate);
        const got = mem.f32At(sums, cols);
        for (let j = 0; j < cols; j++) {
          let want = accumulate ? 1 : 0;
          for (let r = 0; r < rows; r++) want = Math.fround(want + m[r * ld + j]!);
          assert.equal(got[j], want, `column ${j}`);
        }
      }
    });

    it('adam matches the update rule, adam_rows touches only the listed rows, gather_rows copies rows', () => {
      const { mem, fn } = setup(backend);
      const n = 11;
      const w0 = normals(n, 1);
      const g0 = normals(n, 2);
      const m0 = normals(n, 3).map((v) => v * 0.1);
      const v0 = normals(n, 4).map((v) => v * v);
      const [pw, pg, pm, pv] = [w0, g0, m0, v0].map((a) => mem.copyIn(a)) as [number, number, number, number];
      const [b1, b2, step, invc2, eps, shrink, l2] = [0.9, 0.999, 0.01, 1.5, 1e-8, 0.999, 0.01];
      fn.adam(pw, pg, pm, pv, n, b1, b2, step, invc2, eps, shrink, l2);
      for (let i = 0; i < n; i++) {
        const g = g0[i]! + l2 * w0[i]!;
        const mi = b1 * m0[i]! + (1 - b1) * g;
        const vi = b2 * v0[i]! + (1 - b2) * g * g;
        const wi = w0[i]! * shrink - (step * mi) / (Math.sqrt(vi * invc2) + eps);
        assert.ok(Math.abs(mem.f32At(pm, n)[i]! - mi) < 1e-6 * (1 + Math.abs(mi)));
        assert.ok(Math.abs(mem.f32At(pv, n)[i]! - vi) < 1e-6 * (1 + vi));
        assert.ok(Math.abs(mem.f32At(pw, n)[i]! - wi) < 1e-5 * (1 + Math.abs(wi)), `w[${i}]`);
      }

      const width = 5;
      const rows = 6;
      const w = normals(rows * width, 7);
      const g = normals(rows * width, 8);
      const qw = mem.copyIn(w);
      const qg = mem.copyIn(g);
      const qm = mem.copyIn(new Float32Array(rows * width));
      const qv = mem.copyIn(new Float32Array(rows * width));
      const list = mem.copyIn(Int32Array.of(4, 1));
      // First step with bias correction (step = lr / (1 − b1), invc2 = 1 / (1 − b2)): w − lr·sign(g).
      fn.adam_rows(qw, qg, qm, qv, width, list, 2, 0.9, 0.999, 0.1 / 0.1, 1 / 0.001, 1e-8, 1, 0);
      const after = mem.f32At(qw, rows * width);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < width; j++) {
          const i = r * width + j;
          if (r === 4 || r === 1) assert.ok(Math.abs(after[i]! - (w[i]! - 0.1 * Math.sign(g[i]!))) < 1e-5);
          else assert.equal(after[i], w[i]);
        }
      }

      const src = normals(10 * 6, 9);
      const ps = mem.copyIn(src);
      const idx = mem.copyIn(Int32Array.of(7, 0, 7));
      const dst = mem.alloc(4 * 3 * 8);
      mem.f32At(dst, 24).fill(-1);
      fn.gather_rows(ps, 24, idx, 3, dst, 32, 16);
      const got = mem.f32At(dst, 24);
      [7, 0, 7].forEach((row, t) => {
        for (let j = 0; j < 8; j++) assert.equal(got[t * 8 + j], j < 4 ? src[row * 6 + j] : -1);
      });
    });

    it('sqnorms and argmin2: the nearest centroid of the expanded form, the runner-up, ties to the lower index', () => {
      const { mem, fn } = setup(backend);
      const n = 40;
      const d = 6;
      const k = 7;
      const kp = 8;
      const x = normals(n * d, 11);
      // Centroid 5 duplicates centroid 2: a tie whose lower index must win.
      const c = normals(k * d, 12);
      c.copyWithin(5 * d, 2 * d, 3 * d);
      const px = mem.copyIn(x);
      const xn = mem.alloc(4 * n);
      fn.sqnorms(px, n, d, d, xn);
      const norms = mem.f32At(xn, n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += x[i * d + j]! ** 2;
        assert.ok(Math.abs(norms[i]! - s) < 1e-5 * s);
      }
      const dots = new Float32Array(n * kp);
      const cn = new Float32Array(kp).fill(Number.POSITIVE_INFINITY);
      for (let q = 0; q < k; q++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += c[q * d + j]! ** 2;
        cn[q] = s;
        for (let i = 0; i < n; i++) {
          let t = 0;
          for (let j = 0; j < d; j++) t += x[i * d + j]! * c[q * d + j]!;
          dots[i * kp + q] = t;
        }
      }
      const pd = mem.copyIn(dots);
      const pcn = mem.copyIn(cn);
      const near = mem.alloc(4 * n);
      const best = mem.alloc(8 * n);
      fn.argmin2(pd, kp, xn, pcn, n, kp, near, best);
      const got = mem.i32At(near, n);
      const pairs = mem.f32At(best, 2 * n);
      for (let i = 0; i < n; i++) {
        const e = Array.from({ length: k }, (_, q) => norms[i]! + cn[q]! - 2 * dots[i * kp + q]!);
        const sorted = [...e].sort((p, q) => p - q);
        const want = e.indexOf(sorted[0]!);
        assert.equal(got[i], want, `point ${i}`);
        assert.notEqual(got[i], 5, 'the duplicate of centroid 2 never wins');
        assert.ok(Math.abs(pairs[2 * i]! - sorted[0]!) < 1e-4 * (1 + Math.abs(sorted[0]!)));
        assert.ok(Math.abs(pairs[2 * i + 1]! - sorted[1]!) < 1e-4 * (1 + Math.abs(sorted[1]!)));
      }
    });

    it('kpp_potentials and kpp_update: min with the closest so far, summed in float64', () => {
      const { mem, fn } = setup(backend);
      const n = 33;
      const dots = normals(n * 8, 21);
      const xn = Float32Array.from(normals(n, 22), (v) => 10 + v * v);
      const cn = Float32Array.from(normals(8, 23), (v) => 10 + v * v);
      const closest = Float64Array.from(normals(n, 24), (v) => 20 * Math.abs(v));
      const [pd, px, pc, pcl] = [dots, xn, cn, closest].map((a) => mem.copyIn(a)) as [number, number, number, number];
      const sums = mem.alloc(64);
      fn.kpp_potentials(pd, px, pc, pcl, n, sums);
      const e = (i: number, t: number) => Math.max(0, xn[i]! + cn[t]! - 2 * dots[i * 8 + t]!);
      for (let t = 0; t < 8; t++) {
        let want = 0;
        for (let i = 0; i < n; i++) want += Math.min(closest[i]!, e(i, t));
        assert.ok(Math.abs(mem.f64At(sums, 8)[t]! - want) < 1e-5 * want, `candidate ${t}`);
      }
      fn.kpp_update(pd, 3, px, cn[3]!, pcl, n);
      const after = mem.f64At(pcl, n);
      for (let i = 0; i < n; i++)
        assert.ok(Math.abs(after[i]! - Math.min(closest[i]!, e(i, 3))) < 1e-5 * (1 + after[i]!));
    });

    it('silhouette_sums: per-cluster sums of distances, the point itself left out', () => {
      const { mem, fn } = setup(backend);
      // Points on a line: 0, 2, 6, 8, 20 (d = 1); rows 1 and 3 measured against all.
      const x = [0, 2, 6, 8, 20];
      const assign = Int32Array.of(0, 0, 1, 1, 2);
      const rows = [1, 3];
      const dots = new Float32Array(rows.length * 5);
      rows.forEach((r, t) => {
        for (let j = 0; j < 5; j++) dots[t * 5 + j] = x[r]! * x[j]!;
      });
      const xr = Float32Array.from(rows, (r) => x[r]! ** 2);
      const xn = Float32Array.from(x, (v) => v * v);
      const [pd, pr, pn, pa, ps] = [dots, xr, xn, assign, Int32Array.from(rows)].map((a) => mem.copyIn(a)) as [
        number,
        number,
        number,
        number,
        number,
      ];
      const sums = mem.alloc(8 * rows.length * 3);
      fn.silhouette_sums(pd, 5, rows.length, pr, pn, pa, 5, ps, 3, sums);
      assert.deepEqual(Array.from(mem.f64At(sums, 6)), [2, 4 + 6, 18, 8 + 6, 2, 12]);
    });
  });
}
