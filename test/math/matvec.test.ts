import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildMatvecWasm, OUTPUT_PATH, renderWasmModule } from '../../scripts/build-wasm.ts';
import { DenseRows } from '../../src/math/matvec.ts';
import { MATVEC_WASM_BASE64 } from '../../src/math/matvec.wasm.ts';
import { Rng } from '../../src/math/random.ts';

function randomFloats(length: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = rng.normal();
  return a;
}

/**
 * Checks out[i] against the float64 dot product of row i and q. The bound is the classic one for
 * recursive float32 summation of d products, (d + 2)·2⁻²⁴·Σ_k |V_ik·q_k|, which the blocked float32 sums of
 * the SIMD kernel and the float64 sums of the fallback both meet with a wide margin.
 */
function assertProducts(v: Float32Array, n: number, d: number, q: Float32Array, out: Float32Array, what: string) {
  for (let i = 0; i < n; i++) {
    let exact = 0;
    let magnitude = 0;
    for (let k = 0; k < d; k++) {
      const p = v[i * d + k]! * q[k]!;
      exact += p;
      magnitude += Math.abs(p);
    }
    const tolerance = (d + 2) * 2 ** -24 * magnitude + 1e-30;
    const error = Math.abs(out[i]! - exact);
    assert.ok(error <= tolerance, `${what}: row ${i}: got ${out[i]}, want ${exact} (error ${error} > ${tolerance})`);
  }
}

// Node 20 validates the SIMD module: if it does not (or CINEREC_NO_SIMD is set), the SIMD suite fails on
// `m.simd` rather than being skipped.
const paths = [
  { name: 'WebAssembly SIMD', simd: true },
  { name: 'JS fallback', simd: false },
] as const;

for (const path of paths) {
  describe(`DenseRows (${path.name})`, () => {
    const create = (capacity: number, d: number) => {
      const m = DenseRows.create(capacity, d, { simd: path.simd });
      assert.equal(m.simd, path.simd);
      return m;
    };

    it('matches a float64 reference for d = 1, 3, 5, 64, 130 and n around the 4-row blocks', () => {
      let seed = 1;
      for (const d of [1, 3, 5, 64, 130]) {
        for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 63, 1001]) {
          seed++;
          const v = randomFloats(n * d, seed);
          const q = randomFloats(d, seed + 1000);
          const m = create(n, d);
          m.set(v, n);
          const out = new Float32Array(n + 3).fill(-7);
          m.multiply(q, out);
          assertProducts(v, n, d, q, out, `n=${n} d=${d}`);
          assert.deepEqual([...out.subarray(n)], [-7, -7, -7], 'slots past rows untouched');
        }
      }
    });

    it('uses only the first d entries of a longer query', () => {
      const n = 6;
      const d = 5;
      const v = randomFloats(n * d, 3);
      const q = randomFloats(d + 4, 4);
      const m = create(n, d);
      m.set(v, n);
      const out = new Float32Array(n);
      m.multiply(q, out);
      assertProducts(v, n, d, q.subarray(0, d), out, 'long q');
    });

    it('keeps earlier rows intact through growth, and re-fetched views are valid', () => {
      const d = 7;
      const total = 300;
      const source = randomFloats(total * d + 3, 5);
      const m = create(2, d);
      for (let i = 0; i < total; i++) {
        const before = m.view();
        assert.equal(m.append(source, 3 + i * d), i);
        assert.equal(m.rows, i + 1);
        const view = m.view();
        assert.equal(view.length, (i + 1) * d);
        assert.deepEqual(view, source.subarray(3, 3 + (i + 1) * d), `after appending row ${i}`);
        if (before.buffer !== view.buffer && path.simd) assert.equal(before.length, 0, 'old view detached by growth');
      }
      for (const i of [0, 1, 2, 150, total - 1])
        assert.deepEqual(m.row(i), source.subarray(3 + i * d, 3 + (i + 1) * d));
      const q = randomFloats(d, 6);
      const out = new Float32Array(total);
      m.multiply(q, out);
      assertProducts(source.subarray(3), total, d, q, out, 'after growth');
    });

    it('set() replaces the contents, growing or shrinking the row count', () => {
      const d = 9;
      const m = create(4, d);
      m.append(randomFloats(d, 7));
      const big = randomFloats(50 * d, 8);
      m.set(big, 50);
      assert.equal(m.rows, 50);
      assert.deepEqual(m.view(), big);
      const small = randomFloats(3 * d, 9);
      m.set(small, 3);
      assert.equal(m.rows, 3);
      assert.deepEqual(m.view(), small);
      assert.equal(m.append(big.subarray(0, d)), 3);
      assert.deepEqual(m.row(3), big.subarray(0, d));
      const q = randomFloats(d, 10);
      const out = new Float32Array(4);
      m.multiply(q, out);
      const expected = new Float32Array(4 * d);
      expected.set(small);
      expected.set(big.subarray(0, d), 3 * d);
      assertProducts(expected, 4, d, q, out, 'after set + append');
    });

    it('accepts a query that is a row of the same matrix', () => {
      const n = 10;
      const d = 6;
      const v = randomFloats(n * d, 11);
      const m = create(n, d);
      m.set(v, n);
      const out = new Float32Array(n);
      m.multiply(m.row(4), out);
      assertProducts(v, n, d, v.subarray(4 * d, 5 * d), out, 'self query');
    });

    it('handles zero rows', () => {
      const m = create(0, 4);
      assert.equal(m.rows, 0);
      assert.equal(m.view().length, 0);
      m.multiply(new Float32Array(4), new Float32Array(0));
      m.set(new Float32Array(0), 0);
      assert.equal(m.rows, 0);
      const filled = create(8, 4);
      filled.set(randomFloats(32, 12), 8);
      filled.set(new Float32Array(0), 0);
      const out = new Float32Array([5]);
      filled.multiply(new Float32Array(4), out);
      assert.deepEqual([...out], [5]);
    });

    it('rejects bad shapes', () => {
      assert.throws(() => create(1, 0), RangeError);
      assert.throws(() => create(-1, 3), RangeError);
      const m = create(2, 3);
      m.set(randomFloats(6, 13), 2);
      assert.throws(() => m.multiply(new Float32Array(2), new Float32Array(2)), RangeError);
      assert.throws(() => m.multiply(new Float32Array(3), new Float32Array(1)), RangeError);
      assert.throws(() => m.set(new Float32Array(5), 2), RangeError);
      assert.throws(() => m.append(new Float32Array(4), 2), RangeError);
      assert.throws(() => m.row(2), RangeError);
    });
  });
}

describe('matvec WebAssembly module', () => {
  it('the committed bytes are what scripts/build-wasm.ts builds from matvec.wat now', async () => {
    const built = await buildMatvecWasm();
    const committed = new Uint8Array(Buffer.from(MATVEC_WASM_BASE64, 'base64'));
    assert.deepEqual(committed, built, 'src/math/matvec.wasm.ts is stale: run `npm run build:wasm`');
    assert.equal(await readFile(OUTPUT_PATH, 'utf8'), renderWasmModule(built), 'matvec.wasm.ts was edited by hand');
  });

  it('validates on this Node; CINEREC_NO_SIMD=1 at load selects the JS fallback', async () => {
    const module = fileURLToPath(new URL('../../src/math/matvec.ts', import.meta.url));
    const script = `const m = await import(${JSON.stringify(module)}); console.log(JSON.stringify({ available: m.simdAvailable, simd: m.DenseRows.create(1, 2).simd }));`;
    const run = (flag: string) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        env: { ...process.env, CINEREC_NO_SIMD: flag },
      });
    const forced = JSON.parse((await run('1')).stdout);
    assert.deepEqual(forced, { available: false, simd: false });
    const normal = JSON.parse((await run('')).stdout);
    assert.deepEqual(normal, { available: true, simd: true });
  });
});
