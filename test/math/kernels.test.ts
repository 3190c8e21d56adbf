import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildKernelsWasm, KERNELS_OUTPUT_PATH, renderKernelsModule } from '../../scripts/build-wasm.ts';
import {
  choleskySolveBatch,
  defaultKernelBackend,
  GEMM_SCRATCH_BYTES,
  gemm,
  gemv,
  gram,
  KernelArena,
  type KernelBackend,
  KernelMemory,
  simdKernelsSupported,
  squaredDistances,
  topk,
  transposeCentroids,
} from '../../src/math/kernels/index.ts';
import { KERNELS_WASM_BASE64 } from '../../src/math/kernels/kernels.wasm.ts';
import { Rng } from '../../src/math/random.ts';

const BACKENDS: KernelBackend[] = ['simd', 'reference'];

function normals(length: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length }, () => rng.normal());
}

/** The naive triple loop in float64: the closed form GEMM is held to. */
function naiveGemm(a: Float32Array, b: Float32Array, m: number, n: number, k: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) for (let q = 0; q < k; q++) c[i * n + j]! += a[i * k + q]! * b[q * n + j]!;
  return c;
}

/** |got − want| ≤ (k + 2)·2⁻²⁴·Σ|terms| per entry: the bound of float32 summation of k products. */
function assertSums(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  magnitude: ArrayLike<number>,
  k: number,
  what: string,
) {
  for (let i = 0; i < want.length; i++) {
    const tolerance = (k + 2) * 2 ** -24 * magnitude[i]! + 1e-30;
    const error = Math.abs(got[i]! - want[i]!);
    assert.ok(error <= tolerance, `${what}[${i}]: got ${got[i]}, want ${want[i]} (error ${error} > ${tolerance})`);
  }
}

describe('kernel layer', () => {
  it('validates the SIMD module on this Node and picks it by default', () => {
    assert.equal(simdKernelsSupported, true);
    assert.equal(defaultKernelBackend, process.env.CINEREC_NO_SIMD ? 'reference' : 'simd');
  });

  it('the committed bytes are what scripts/build-wasm.ts builds from kernels.wat now', async () => {
    const built = await buildKernelsWasm();
    const committed = new Uint8Array(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
    assert.deepEqual(committed, built, 'src/math/kernels/kernels.wasm.ts is stale: run `npm run build:wasm`');
    assert.equal(await readFile(KERNELS_OUTPUT_PATH, 'utf8'), renderKernelsModule(built), 'edited by hand');
  });

  it('CINEREC_NO_SIMD=1 at load selects the reference kernels', async () => {
    const module = fileURLToPath(new URL('../../src/math/kernels/index.ts', import.meta.url));
    const script = `const m = await import(${JSON.stringify(module)}); console.log(m.defaultKernelBackend);`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        env: { ...process.env, CINEREC_NO_SIMD: '1' },
      },
    );
    assert.equal(stdout.trim(), 'reference');
  });

  for (const backend of BACKENDS) {
    describe(`${backend} backend`, () => {
      it('gemm matches the naive triple loop on odd sizes, across block edges, and accumulates', () => {
        let seed = 1;
        for (const [m, n, k] of [
          [1, 1, 1],
          [3, 5, 7],
          [4, 8, 1],
          [5, 9, 3],
          [13, 17, 11],
          [33, 1, 65],
          [7, 520, 3],
          [9, 11, 300],
          [64, 64, 64],
        ] as const) {
          const a = normals(m * k, seed++);
          const b = normals(k * n, seed++);
          const want = naiveGemm(a, b, m, n, k);
          const magnitude = naiveGemm(a.map(Math.abs), b.map(Math.abs), m, n, k);
          const got = gemm(a, b, m, n, k, undefined, { backend });
          assertSums(got, want, magnitude, k, `gemm ${m}×${n}×${k}`);
          const base = normals(m * n, seed++);
          const acc = gemm(a, b, m, n, k, Float32Array.from(base), { backend, accumulate: true });
          assertSums(
            acc,
            want.map((v, i) => v + base[i]!),
            magnitude.map((v, i) => v + Math.abs(base[i]!)),
            k + 1,
            `gemm+C ${m}×${n}×${k}`,
          );
        }
      });

      it('gemm with k = 0 gives zeros (or leaves C when accumulating)', () => {
        assert.deepEqual(
          [...gemm(new Float32Array(0), new Float32Array(0), 2, 3, 0, undefined, { backend })],
          [0, 0, 0, 0, 0, 0],
        );
        const c = Float32Array.of(1, 2);
        gemm(new Float32Array(0), new Float32Array(0), 1, 2, 0, c, { backend, accumulate: true });
        assert.deepEqual([...c], [1, 2]);
      });

      it('gemv computes A·x and Aᵀ·x for every shape around the 4-row and 4-column blocks', () => {
        let seed = 100;
        for (const m of [1, 2, 3, 4, 5, 8, 9, 31]) {
          for (const n of [1, 3, 4, 5, 7, 64, 66]) {
            const a = normals(m * n, seed++);
            const x = normals(n, seed++);
            const xt = normals(m, seed++);
            const want = naiveGemm(a, x, m, 1, n);
            const magnitude = naiveGemm(a.map(Math.abs), x.map(Math.abs), m, 1, n);
            assertSums(gemv(a, m, n, x, { backend }), want, magnitude, n, `gemv ${m}×${n}`);
            const wantT = naiveGemm(xt, a, 1, n, m);
            const magnitudeT = naiveGemm(xt.map(Math.abs), a.map(Math.abs), 1, n, m);
            assertSums(gemv(a, m, n, xt, { backend, transpose: true }), wantT, magnitudeT, m, `gemvᵀ ${m}×${n}`);
          }
        }
      });

      it('gram gives AᵀA, over listed rows and with weights, symmetric, exact on small integers', () => {
        // Integer entries: every product and sum is exact in float64, so the result must be exact.
        const rng = new Rng(7);
        for (const [n, f] of [
          [1, 1],
          [3, 2],
          [5, 3],
          [40, 7],
          [70, 64],
          [33, 66],
        ] as const) {
          const a = Float32Array.from({ length: n * f }, () => rng.int(9) - 4);
          const rows = Int32Array.from({ length: Math.max(1, n >> 1) }, () => rng.int(n));
          const weights = Float64Array.from(rows, () => rng.int(5) - 1);
          const want = (list: ArrayLike<number>, w?: ArrayLike<number>) => {
            const g = new Float64Array(f * f);
            for (let t = 0; t < list.length; t++) {
              const r = list[t]!;
              for (let i = 0; i < f; i++)
                for (let j = 0; j < f; j++) g[i * f + j]! += (w ? w[t]! : 1) * a[r * f + i]! * a[r * f + j]!;
            }
            return g;
          };
          const all = Int32Array.from({ length: n }, (_, r) => r);
          assert.deepEqual(gram(a, n, f, { backend }), want(all), `gram ${n}×${f}`);
          assert.deepEqual(gram(a, n, f, { backend, rows }), want(rows), `gram of rows ${n}×${f}`);
          assert.deepEqual(gram(a, n, f, { backend, rows, weights }), want(rows, weights), `weighted gram ${n}×${f}`);
        }
      });

      it('solves batches of SPD systems against known solutions, and reports a non-positive-definite one', () => {
        const rng = new Rng(11);
        for (const n of [1, 2, 3, 5, 16, 64, 67]) {
          const count = 3;
          const a = new Float64Array(count * n * n);
          const xs = new Float64Array(count * n);
          const b = new Float64Array(count * n);
          for (let m = 0; m < count; m++) {
            // A = BᵀB + I is SPD and well conditioned enough to check x to 1e-10.
            const bm = Float64Array.from({ length: n * n }, () => rng.normal());
            for (let i = 0; i < n; i++) {
              for (let j = 0; j < n; j++) {
                let s = i === j ? n : 0;
                for (let q = 0; q < n; q++) s += bm[q * n + i]! * bm[q * n + j]!;
                a[m * n * n + i * n + j] = s;
              }
            }
            for (let i = 0; i < n; i++) xs[m * n + i] = rng.normal();
            for (let i = 0; i < n; i++) {
              let s = 0;
              for (let j = 0; j < n; j++) s += a[m * n * n + i * n + j]! * xs[m * n + j]!;
              b[m * n + i] = s;
            }
          }
          const x = choleskySolveBatch(a, b, n, count, { backend });
          for (let i = 0; i < count * n; i++)
            assert.ok(Math.abs(x[i]! - xs[i]!) < 1e-10 * (1 + Math.abs(xs[i]!)), `n=${n} x[${i}]`);
        }
        const bad = Float64Array.of(1, 2, 2, 1); // eigenvalues 3 and −1
        assert.throws(() => choleskySolveBatch(bad, Float64Array.of(1, 1), 2, 1, { backend }), /not positive definite/);
      });

      it('squared distances equal a scalar float64 loop bit for bit (k around the 8-centroid blocks)', () => {
        let seed = 300;
        for (const [n, d, k] of [
          [1, 1, 1],
          [5, 2, 3],
          [7, 3, 8],
          [9, 17, 9],
          [20, 64, 100],
        ] as const) {
          const x = normals(n * d, seed++);
          const c = Float64Array.from(normals(k * d, seed++), (v) => v * 1.5);
          const got = squaredDistances(x, n, d, c, k, { backend });
          for (let i = 0; i < n; i++) {
            for (let q = 0; q < k; q++) {
              let s = 0;
              for (let j = 0; j < d; j++) {
                const t = x[i * d + j]! - c[q * d + j]!;
                s += t * t;
              }
              assert.equal(got[i * k + q], s, `n=${n} d=${d} k=${k}: point ${i}, centroid ${q}`);
            }
          }
        }
      });

      it('nearest: lowest index on ties, best and runner-up distances', () => {
        const arena = new KernelArena(KernelMemory.create(1 << 16), backend);
        const mem = arena.mem;
        const k = 3;
        const d = 2;
        const cent = Float64Array.of(0, 0, 2, 0, 0, 5);
        const points = Float32Array.of(1, 0, 1.9, 0, 0, 4, 0, 0);
        const px = mem.copyIn(points);
        const pc = mem.copyIn(transposeCentroids(cent, k, d));
        const near = mem.alloc(16);
        const best = mem.alloc(64);
        const dist = mem.alloc(64);
        arena.fn.nearest(px, 4, d, pc, k, 8, near, best, dist);
        assert.deepEqual([...mem.i32At(near, 4)], [0, 1, 2, 0], 'the tie at (1, 0) goes to centroid 0');
        const b = mem.f64At(best, 8);
        assert.deepEqual([b[0], b[1]], [1, 1]);
        assert.ok(Math.abs(b[2]! - 0.01) < 1e-6 && Math.abs(b[3]! - 1.9 ** 2) < 1e-5);
        assert.deepEqual([b[4], b[5]], [1, 16]);
        assert.deepEqual([b[6], b[7]], [0, 4]);
      });

      it('topk: best first, ties by lower index, NaN and −∞ skipped, k beyond the finite count', () => {
        const s = Float32Array.of(3, Number.NaN, 5, 5, Number.NEGATIVE_INFINITY, -2, 5, 1);
        assert.deepEqual([...topk(s, 3, { backend })], [2, 3, 6]);
        assert.deepEqual([...topk(s, 10, { backend })], [2, 3, 6, 0, 7, 5]);
        assert.deepEqual([...topk(s, 0, { backend })], []);
        // Long arrays exercise the 16-wide skip: compare with a full sort.
        const rng = new Rng(5);
        for (const n of [15, 16, 17, 100, 4099]) {
          const scores = Float32Array.from({ length: n }, () => Math.round(rng.normal() * 8) / 2);
          for (const k of [1, 7, 50]) {
            const want = Array.from({ length: n }, (_, i) => i)
              .sort((p, q) => scores[q]! - scores[p]! || p - q)
              .slice(0, k);
            assert.deepEqual([...topk(scores, k, { backend })], want, `n=${n} k=${k}`);
          }
        }
      });
    });
  }

  it('SIMD and reference agree (float32 GEMM within summation bounds; Gram, Cholesky, distances closely)', () => {
    const m = 37;
    const n = 29;
    const k = 70;
    const a = normals(m * k, 900);
    const b = normals(k * n, 901);
    const magnitude = naiveGemm(a.map(Math.abs), b.map(Math.abs), m, n, k);
    const simd = gemm(a, b, m, n, k, undefined, { backend: 'simd' });
    const ref = gemm(a, b, m, n, k, undefined, { backend: 'reference' });
    assertSums(
      simd,
      ref,
      magnitude.map((v) => 2 * v),
      2 * k,
      'simd vs reference',
    );
    const g1 = gram(a, m, k, { backend: 'simd' });
    const g2 = gram(a, m, k, { backend: 'reference' });
    for (let i = 0; i < g1.length; i++) assert.ok(Math.abs(g1[i]! - g2[i]!) <= 1e-12 * (1 + Math.abs(g2[i]!)));
  });

  it('gemm scratch covers the packed panel', () => {
    assert.equal(GEMM_SCRATCH_BYTES, 128 + 4 * 256 * 512);
  });
});
