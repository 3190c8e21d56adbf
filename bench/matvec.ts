/**
 * Dense matrix–vector product benchmark: `npx tsx bench/matvec.ts [--reps 200] [--seed 1]` (`npm run bench:matvec`).
 *
 * For n = 10 k and 60 k rows and d = 32, 64, 128 columns of seeded normal data, times one product
 * out[i] = V_i · q three ways: DenseRows.multiply on the WebAssembly SIMD path (copies included: q into wasm
 * memory, the n scores out), DenseRows.multiply on the JS fallback, and the naive loop that
 * ContentModel.scoreAgainst runs today. Each call is timed with performance.now() after warm-up calls; the
 * figures are the median over --reps calls (p99 beside), in ms per product and ns per multiply-add.
 * Prints figures; asserts nothing beyond the three agreeing.
 */
import { parseArgs } from 'node:util';
import { DenseRows, simdAvailable } from '../src/math/matvec.ts';
import { Rng } from '../src/math/random.ts';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
  },
});
const reps = Number(values.reps);
const seed = Number(values.seed);
if (!Number.isSafeInteger(reps) || reps < 1) throw new Error(`--reps must be a positive integer, got ${values.reps}`);

/** The loop of ContentModel.scoreAgainst (src/models/content.ts), verbatim. */
function naive(v: Float32Array, d: number, n: number, q: Float32Array, scores: Float32Array): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * d;
    for (let k = 0; k < d; k++) s += v[o + k]! * q[k]!;
    scores[i] = s;
  }
}

function time(run: () => void): { median: number; p99: number } {
  for (let i = 0; i < 50; i++) run();
  const samples = new Float64Array(reps);
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    run();
    samples[i] = performance.now() - t;
  }
  samples.sort();
  return { median: samples[Math.floor(reps / 2)]!, p99: samples[Math.min(reps - 1, Math.ceil(reps * 0.99) - 1)]! };
}

function maxRelativeGap(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale > 0 ? worst / scale : worst;
}

console.log(
  `matvec: Node ${process.version}, WebAssembly SIMD ${simdAvailable ? 'on' : 'OFF (fallback only)'}, ${reps} reps`,
);
const header = ['n', 'd', 'kernel', 'ms/product (median)', 'p99 ms', 'ns/multiply-add', 'vs naive'];
const rows: string[][] = [];
for (const n of [10_000, 60_000]) {
  for (const d of [32, 64, 128]) {
    const rng = new Rng(seed, n + d);
    const v = new Float32Array(n * d);
    for (let i = 0; i < v.length; i++) v[i] = rng.normal();
    const q = new Float32Array(d);
    for (let k = 0; k < d; k++) q[k] = rng.normal();

    const kernels: [string, (out: Float32Array) => void][] = [];
    if (simdAvailable) {
      const m = DenseRows.create(n, d);
      m.set(v, n);
      kernels.push(['wasm simd', (out) => m.multiply(q, out)]);
    }
    const js = DenseRows.create(n, d, { simd: false });
    js.set(v, n);
    kernels.push(['js fallback', (out) => js.multiply(q, out)]);
    kernels.push(['naive loop', (out) => naive(v, d, n, q, out)]);

    const reference = new Float32Array(n);
    naive(v, d, n, q, reference);
    const results = kernels.map(([name, run]) => {
      const out = new Float32Array(n);
      const t = time(() => run(out));
      const gap = maxRelativeGap(out, reference);
      if (gap > 1e-5) throw new Error(`${name} disagrees with the naive loop at n=${n} d=${d}: ${gap}`);
      return { name, ...t };
    });
    const base = results.find((r) => r.name === 'naive loop')!.median;
    for (const r of results) {
      rows.push([
        String(n),
        String(d),
        r.name,
        r.median.toFixed(3),
        r.p99.toFixed(3),
        ((r.median * 1e6) / (n * d)).toFixed(3),
        `${(base / r.median).toFixed(1)}×`,
      ]);
    }
  }
}

const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
const line = (cells: string[]) =>
  cells.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
