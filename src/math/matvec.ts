/**
 * Dense float32 matrix–vector products, the hot loop of similar-movies scoring (and later ALS scoring):
 * out[i] = Σ_k V[i·d + k]·q[k] for every row i of a row-major n×d matrix.
 *
 * The fast path is a WebAssembly SIMD kernel (src/math/matvec.wat, f32x4, four rows per step; bytes in
 * matvec.wasm.ts, built by scripts/build-wasm.ts). The matrix, the query and the output live in one
 * WebAssembly.Memory owned by the DenseRows, so a product copies only q in and the n scores out. Where the
 * engine cannot validate the SIMD module, or CINEREC_NO_SIMD=1 was set when this module loaded, DenseRows
 * keeps its rows in a plain Float32Array and multiplies with an unrolled JS loop (Float64 accumulators).
 *
 * Numerics: the SIMD path accumulates in float32 (four partial sums per row), the JS path in float64; both
 * differ from an exact dot product by a few float32 ulps of Σ_k |V_ik·q_k|.
 */
import { MATVEC_WASM_BASE64 } from './matvec.wasm.ts';

/**
 * The slice of the WebAssembly JS API used here: tsconfig's lib has no DOM and @types/node 20 does not
 * declare it. Ambient, so it emits nothing and refers to the global at run time.
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
    grow(deltaPages: number): number;
  }
  function validate(bytes: Uint8Array): boolean;
}

interface MatvecExports {
  matvec(v: number, q: number, out: number, n: number, d: number): void;
  matvec64x4(v: number, q: number, out: number, n: number, d: number): void;
  pairdots64(m: number, pairBytes: number, pairs: number, cols: number, count: number, x: number, out: number): void;
  colsums64(indptr: number, index: number, n: number, w: number, out: number): void;
  listsums64(indptr: number, index: number, cols: number, count: number, w: number, out: number): void;
}

const PAGE_BYTES = 65536;
/** wasm32 memories hold at most 2^16 pages (4 GiB); V8 may refuse earlier, and memory.grow then throws. */
const MAX_PAGES = 65536;

const wasmBytes: Uint8Array = Buffer.from(MATVEC_WASM_BASE64, 'base64');

function validates(bytes: Uint8Array): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** Whether the SIMD module validates on this engine, before any opt-out. */
const simdSupported = validates(wasmBytes);
/** CINEREC_NO_SIMD=1 (or true/yes) forces the JS fallback process-wide; read once, at module load. */
const simdDisabled = /^(1|true|yes)$/i.test(process.env.CINEREC_NO_SIMD ?? '');

/**
 * True when DenseRows uses the WebAssembly SIMD kernel by default: the engine validates the module and
 * CINEREC_NO_SIMD was not set at load. False means the JS fallback runs.
 */
export const simdAvailable: boolean = simdSupported && !simdDisabled;

let compiled: WebAssembly.Module | undefined;
/** Compiled on first use (synchronously: the module is a few hundred bytes). */
function matvecModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(wasmBytes);
  return compiled;
}

const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** Storage plus kernel; the two implementations behind DenseRows. */
interface Backend {
  /** The matrix's backing floats, at least capacity·d long from `base`. Re-read after grow(). */
  floats(): Float32Array;
  /** Float index of row 0 in floats(). */
  readonly base: number;
  /** Makes room for `capacity` rows, keeping the first `keepRows`. */
  grow(capacity: number, keepRows: number): void;
  multiply(q: Float32Array, out: Float32Array, n: number): void;
}

/**
 * Memory layout (byte offsets): [q: d floats, padded to 16 B][V: capacity·d floats, padded to 16 B]
 * [out: capacity rounded up to 4 floats]. V never moves: growth appends pages and moves only `out`, which
 * is scratch, so appending needs no copy.
 */
class WasmBackend implements Backend {
  private readonly memory: WebAssembly.Memory;
  private readonly kernel: MatvecExports['matvec'];
  private f32: Float32Array;
  private readonly qPtr = 0;
  private readonly vPtr: number;
  private outPtr = 0;
  readonly base: number;

  constructor(
    private readonly d: number,
    capacity: number,
  ) {
    this.vPtr = align16(4 * d);
    this.base = this.vPtr / 4;
    this.memory = new WebAssembly.Memory({ initial: this.pagesFor(capacity) });
    const instance = new WebAssembly.Instance(matvecModule(), { env: { memory: this.memory } });
    this.kernel = (instance.exports as unknown as MatvecExports).matvec;
    this.f32 = new Float32Array(this.memory.buffer);
    this.outPtr = this.outPtrFor(capacity);
  }

  private outPtrFor(capacity: number): number {
    return align16(this.vPtr + 4 * capacity * this.d);
  }

  private pagesFor(capacity: number): number {
    const bytes = this.outPtrFor(capacity) + 4 * (Math.ceil(capacity / 4) * 4);
    const pages = Math.max(1, Math.ceil(bytes / PAGE_BYTES));
    if (pages > MAX_PAGES) {
      throw new RangeError(`DenseRows: ${capacity}×${this.d} floats exceed the 4 GiB of a WebAssembly memory`);
    }
    return pages;
  }

  floats(): Float32Array {
    return this.f32;
  }

  grow(capacity: number): void {
    const pages = this.pagesFor(capacity);
    const current = this.memory.buffer.byteLength / PAGE_BYTES;
    if (pages > current) {
      // Growing detaches every view of the old buffer: hand out fresh ones from here on.
      this.memory.grow(pages - current);
      this.f32 = new Float32Array(this.memory.buffer);
    }
    this.outPtr = this.outPtrFor(capacity);
  }

  multiply(q: Float32Array, out: Float32Array, n: number): void {
    const f32 = this.f32;
    f32.set(q.length === this.d ? q : q.subarray(0, this.d), this.qPtr / 4);
    this.kernel(this.vPtr, this.qPtr, this.outPtr, n, this.d);
    const o = this.outPtr / 4;
    out.set(f32.subarray(o, o + n));
  }
}

class JsBackend implements Backend {
  private data: Float32Array;
  readonly base = 0;

  constructor(
    private readonly d: number,
    capacity: number,
  ) {
    this.data = new Float32Array(capacity * d);
  }

  floats(): Float32Array {
    return this.data;
  }

  grow(capacity: number, keepRows: number): void {
    const next = new Float32Array(capacity * this.d);
    next.set(this.data.subarray(0, keepRows * this.d));
    this.data = next;
  }

  multiply(q: Float32Array, out: Float32Array, n: number): void {
    multiplyJs(this.data, this.d, n, q, out);
  }
}

/**
 * The fallback kernel: out[i] = V_i · q for i < n over a row-major n×d Float32Array. Four rows per step
 * share each q[k] load and run four independent float64 sums (a single running sum is bound by the add
 * latency; unrolling over k instead measured ~1.4× slower). Exported for the benchmark and tests.
 */
export function multiplyJs(v: Float32Array, d: number, n: number, q: Float32Array, out: Float32Array): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o0 = i * d;
    const o1 = o0 + d;
    const o2 = o1 + d;
    const o3 = o2 + d;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let k = 0; k < d; k++) {
      const x = q[k]!;
      s0 += v[o0 + k]! * x;
      s1 += v[o1 + k]! * x;
      s2 += v[o2 + k]! * x;
      s3 += v[o3 + k]! * x;
    }
    out[i] = s0;
    out[i + 1] = s1;
    out[i + 2] = s2;
    out[i + 3] = s3;
  }
  for (; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let k = 0; k < d; k++) s += v[o + k]! * q[k]!;
    out[i] = s;
  }
}

/**
 * out[t − from] = Σ_k v[rows[t]·d + k]·q[qOffset + k] for t in [from, to): the dot products of listed rows of a
 * row-major matrix with one vector (often another row of the same matrix), each summed over k in order in
 * float64, so every value is bit for bit the one-pair loop's. Four rows per step share each q[k] load. A row
 * index outside the matrix (rows[t]·d + d > v.length) gives NaN.
 */
export function dotRows(
  v: Float32Array,
  d: number,
  rows: Int32Array,
  from: number,
  to: number,
  q: Float32Array,
  qOffset: number,
  out: Float64Array,
): void {
  const n = Math.floor(v.length / d);
  let t = from;
  for (; t + 4 <= to; t += 4) {
    const a0 = rows[t]!;
    const a1 = rows[t + 1]!;
    const a2 = rows[t + 2]!;
    const a3 = rows[t + 3]!;
    if (a0 >= n || a1 >= n || a2 >= n || a3 >= n || a0 < 0 || a1 < 0 || a2 < 0 || a3 < 0) {
      for (let r = t; r < t + 4; r++) out[r - from] = dotRow(v, d, rows[r]!, n, q, qOffset);
      continue;
    }
    const o0 = a0 * d;
    const o1 = a1 * d;
    const o2 = a2 * d;
    const o3 = a3 * d;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let k = 0; k < d; k++) {
      const x = q[qOffset + k]!;
      s0 += v[o0 + k]! * x;
      s1 += v[o1 + k]! * x;
      s2 += v[o2 + k]! * x;
      s3 += v[o3 + k]! * x;
    }
    out[t - from] = s0;
    out[t - from + 1] = s1;
    out[t - from + 2] = s2;
    out[t - from + 3] = s3;
  }
  for (; t < to; t++) out[t - from] = dotRow(v, d, rows[t]!, n, q, qOffset);
}

function dotRow(v: Float32Array, d: number, a: number, n: number, q: Float32Array, qOffset: number): number {
  if (!(a >= 0 && a < n)) return Number.NaN;
  const o = a * d;
  let s = 0;
  for (let k = 0; k < d; k++) s += v[o + k]! * q[qOffset + k]!;
  return s;
}

export interface DenseRowsOptions {
  /** false forces the JS fallback for this matrix; default: use SIMD when `simdAvailable`. */
  simd?: boolean;
}

/**
 * A row-major n×d float32 matrix held in WebAssembly memory (a JS Float32Array on the fallback path) that
 * multiplies by vectors. Rows are appended or replaced wholesale; capacity doubles as needed.
 *
 * Views (view(), row()) alias the storage and go stale when it grows (on the SIMD path they are detached
 * and read as empty): re-fetch them after any set() or append() that may have grown it.
 *
 * On the SIMD path each DenseRows owns a WebAssembly.Memory (V8 reserves several GiB of address space per
 * memory for its guard regions): meant for a few large matrices per process, not thousands of small ones.
 */
export class DenseRows {
  /** Whether this matrix runs the WebAssembly SIMD kernel (false: the JS fallback). */
  readonly simd: boolean;
  private readonly backend: Backend;
  private n = 0;
  private capacity: number;

  private constructor(
    readonly d: number,
    capacityRows: number,
    simd: boolean,
  ) {
    this.simd = simd;
    this.capacity = capacityRows;
    this.backend = simd ? new WasmBackend(d, capacityRows) : new JsBackend(d, capacityRows);
  }

  /** An empty matrix of `d` columns with room for `capacityRows` rows before it first grows. */
  static create(capacityRows: number, d: number, options: DenseRowsOptions = {}): DenseRows {
    if (!Number.isSafeInteger(d) || d < 1) throw new RangeError(`DenseRows: d must be a positive integer, got ${d}`);
    if (!Number.isSafeInteger(capacityRows) || capacityRows < 0) {
      throw new RangeError(`DenseRows: capacityRows must be a non-negative integer, got ${capacityRows}`);
    }
    return new DenseRows(d, Math.max(1, capacityRows), (options.simd ?? true) && simdAvailable);
  }

  /** Number of rows held. */
  get rows(): number {
    return this.n;
  }

  /** Live view of the rows×d data, row-major (re-fetch after growth). */
  view(): Float32Array {
    const base = this.backend.base;
    return this.backend.floats().subarray(base, base + this.n * this.d);
  }

  /** Replaces the contents with the first n rows of `rows` (row-major, n·d floats). */
  set(rows: Float32Array, n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`DenseRows.set: n must be a non-negative integer`);
    if (rows.length < n * this.d) {
      throw new RangeError(`DenseRows.set: ${n} rows of ${this.d} need ${n * this.d} floats, got ${rows.length}`);
    }
    if (n > this.capacity) this.reserve(n, 0);
    this.backend.floats().set(rows.subarray(0, n * this.d), this.backend.base);
    this.n = n;
  }

  /** Appends row[offset .. offset + d) and returns its row index. */
  append(row: Float32Array, offset = 0): number {
    const d = this.d;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + d > row.length) {
      throw new RangeError(`DenseRows.append: need ${d} floats from offset ${offset}, got ${row.length}`);
    }
    if (this.n === this.capacity) this.reserve(Math.max(this.capacity * 2, 4), this.n);
    const i = this.n;
    this.backend.floats().set(row.subarray(offset, offset + d), this.backend.base + i * d);
    this.n = i + 1;
    return i;
  }

  /** View of row i (re-fetch after growth). */
  row(i: number): Float32Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.n) throw new RangeError(`DenseRows.row: ${i} not in [0, ${this.n})`);
    const start = this.backend.base + i * this.d;
    return this.backend.floats().subarray(start, start + this.d);
  }

  /** out[i] = V_i · q for i < rows; q.length ≥ d, out.length ≥ rows (entries past rows are left alone). */
  multiply(q: Float32Array, out: Float32Array): void {
    if (q.length < this.d) throw new RangeError(`DenseRows.multiply: q has ${q.length} floats, d = ${this.d}`);
    if (out.length < this.n) throw new RangeError(`DenseRows.multiply: out has ${out.length} slots, rows = ${this.n}`);
    if (this.n === 0) return;
    this.backend.multiply(q, out, this.n);
  }

  private reserve(capacity: number, keepRows: number): void {
    this.backend.grow(capacity, keepRows);
    this.capacity = capacity;
  }
}

/*
 * Exact products. multiplyJs and the loops below sum each output in order in float64 (products of float32 values
 * are exact in float64), so their results do not depend on how rows are grouped. The classes below keep their data
 * in a WebAssembly memory laid out so that SIMD lanes run over rows (never within a sum) and give the same bits,
 * faster; without SIMD (or when the data would not fit a memory) they run the same loops in JS.
 */

/** One WebAssembly memory with the matvec module instantiated on it. */
class WasmSpace {
  private readonly memory: WebAssembly.Memory;
  readonly fn: MatvecExports;
  f32: Float32Array;
  f64: Float64Array;
  i32: Int32Array;

  constructor(bytes: number) {
    this.memory = new WebAssembly.Memory({ initial: WasmSpace.pages(bytes) });
    const instance = new WebAssembly.Instance(matvecModule(), { env: { memory: this.memory } });
    this.fn = instance.exports as unknown as MatvecExports;
    this.f32 = new Float32Array(this.memory.buffer);
    this.f64 = new Float64Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
  }

  static pages(bytes: number): number {
    const pages = Math.max(1, Math.ceil(bytes / PAGE_BYTES));
    if (pages > MAX_PAGES) throw new RangeError(`${bytes} bytes exceed the 4 GiB of a WebAssembly memory`);
    return pages;
  }

  /** Makes the memory at least `bytes` long (views are re-made: fetch them again after this). */
  reserve(bytes: number): void {
    const pages = WasmSpace.pages(bytes);
    const current = this.memory.buffer.byteLength / PAGE_BYTES;
    if (pages <= current) return;
    this.memory.grow(pages - current);
    this.f32 = new Float32Array(this.memory.buffer);
    this.f64 = new Float64Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
  }
}

/** A WebAssembly memory for `bytes`, or null without SIMD or when the engine refuses one that large. */
function wasmSpace(bytes: number, simd: boolean): WasmSpace | null {
  if (!(simd && simdAvailable) || bytes > MAX_EXACT_BYTES) return null;
  try {
    return new WasmSpace(bytes);
  } catch {
    return null;
  }
}

/** Data larger than this stays in JS arrays (a second copy that size in WebAssembly memory would cost too much). */
const MAX_EXACT_BYTES = 512 * 1024 * 1024;

/**
 * Float32 rows multiplied by vectors with float64 sums, bit for bit multiplyJs: out[i] = Σ_k V[i][k]·q[k], each sum
 * in order in float64 and rounded to float32 (ALS scoring). On the SIMD path rows sit in blocks of four
 * interleaved by column, so one f32x4 load feeds four rows' sums. Rows can be replaced or appended one at a time.
 */
export class ExactRows {
  readonly simd: boolean;
  private readonly space: WasmSpace | null;
  private js: Float32Array;
  private n = 0;
  private capacity: number;
  private readonly qPtr = 0;
  private readonly vPtr: number;

  private constructor(
    readonly d: number,
    capacityRows: number,
    options: DenseRowsOptions,
  ) {
    this.capacity = ExactRows.round(capacityRows);
    this.vPtr = align16(4 * d);
    this.space = wasmSpace(this.bytesFor(this.capacity), options.simd ?? true);
    this.simd = this.space !== null;
    this.js = this.space ? new Float32Array(0) : new Float32Array(this.capacity * d);
  }

  /** An empty matrix of d columns with room for capacityRows rows before it first grows. */
  static create(capacityRows: number, d: number, options: DenseRowsOptions = {}): ExactRows {
    if (!Number.isSafeInteger(d) || d < 1) throw new RangeError(`ExactRows: d must be a positive integer, got ${d}`);
    return new ExactRows(d, Math.max(8, capacityRows), options);
  }

  /** Capacity in whole steps of the kernel (two blocks of four rows). */
  private static round(rows: number): number {
    return Math.ceil(rows / 8) * 8;
  }

  /** [q: d floats][V: capacity/4 blocks of 16·d bytes][out: capacity floats]. */
  private bytesFor(capacity: number): number {
    return this.vPtr + 4 * capacity * this.d + 4 * capacity;
  }

  private get outPtr(): number {
    return this.vPtr + 4 * this.capacity * this.d;
  }

  get rows(): number {
    return this.n;
  }

  /** Replaces the contents with the first n rows of a row-major n×d matrix. */
  set(rows: Float32Array, n: number): void {
    if (rows.length < n * this.d)
      throw new RangeError(`ExactRows.set: ${n} rows of ${this.d} need ${n * this.d} floats`);
    this.reserve(n);
    const d = this.d;
    if (this.space) {
      const f32 = this.space.f32;
      const v = this.vPtr / 4;
      f32.fill(0, v, v + this.capacity * d);
      for (let i = 0; i < n; i++) {
        const o = v + (i >> 2) * 4 * d + (i & 3);
        for (let k = 0; k < d; k++) f32[o + 4 * k] = rows[i * d + k]!;
      }
    } else {
      this.js.fill(0);
      this.js.set(rows.subarray(0, n * d));
    }
    this.n = n;
  }

  /** Sets row i from row[offset, offset + d); an index past the end grows the matrix (rows between are zero). */
  setRow(i: number, row: Float32Array, offset = 0): void {
    if (!(Number.isInteger(i) && i >= 0)) throw new RangeError(`ExactRows.setRow: bad index ${i}`);
    if (offset + this.d > row.length) throw new RangeError(`ExactRows.setRow: need ${this.d} floats from ${offset}`);
    this.reserve(i + 1);
    const d = this.d;
    if (this.space) {
      const f32 = this.space.f32;
      const o = this.vPtr / 4 + (i >> 2) * 4 * d + (i & 3);
      for (let k = 0; k < d; k++) f32[o + 4 * k] = row[offset + k]!;
    } else {
      this.js.set(row.subarray(offset, offset + d), i * d);
    }
    if (i >= this.n) this.n = i + 1;
  }

  /** out[i] = V_i · q for i < rows (float64 sums rounded to float32, as multiplyJs). */
  multiply(q: Float32Array, out: Float32Array): void {
    if (q.length < this.d) throw new RangeError(`ExactRows.multiply: q has ${q.length} floats, d = ${this.d}`);
    if (out.length < this.n) throw new RangeError(`ExactRows.multiply: out has ${out.length} slots, rows = ${this.n}`);
    if (this.n === 0) return;
    const space = this.space;
    if (!space) {
      multiplyJs(this.js, this.d, this.n, q, out);
      return;
    }
    space.f32.set(q.length === this.d ? q : q.subarray(0, this.d), this.qPtr / 4);
    const outPtr = this.outPtr;
    space.fn.matvec64x4(this.vPtr, this.qPtr, outPtr, this.n, this.d);
    out.set(space.f32.subarray(outPtr / 4, outPtr / 4 + this.n));
  }

  private reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const capacity = ExactRows.round(Math.max(rows, this.capacity * 2));
    const d = this.d;
    if (this.space) {
      // V grows in place (blocks are appended) over what was the out scratch, which moves past it: clear that.
      this.space.reserve(this.bytesFor(capacity));
      const v = this.vPtr / 4;
      this.space.f32.fill(0, v + this.capacity * d, v + capacity * d);
    } else {
      const grown = new Float32Array(capacity * d);
      grown.set(this.js);
      this.js = grown;
    }
    this.capacity = capacity;
  }
}

/**
 * out[a] = Σ_t M[a·ld + cols[t]]·(x ? x[cols[t]] : 1) over t in [from, to), for rows a < rows: each summed over t in
 * order in float64, four rows per pass sharing each column index. The JS twin of PairRows64.dots.
 */
export function rowDots64(
  m: Float64Array,
  rows: number,
  ld: number,
  cols: Int32Array,
  from: number,
  to: number,
  x: Float64Array | null,
  out: Float64Array,
): void {
  let a = 0;
  for (; a + 4 <= rows; a += 4) {
    const r0 = a * ld;
    const r1 = r0 + ld;
    const r2 = r1 + ld;
    const r3 = r2 + ld;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    if (x) {
      for (let t = from; t < to; t++) {
        const b = cols[t]!;
        const xb = x[b]!;
        s0 += m[r0 + b]! * xb;
        s1 += m[r1 + b]! * xb;
        s2 += m[r2 + b]! * xb;
        s3 += m[r3 + b]! * xb;
      }
    } else {
      for (let t = from; t < to; t++) {
        const b = cols[t]!;
        s0 += m[r0 + b]!;
        s1 += m[r1 + b]!;
        s2 += m[r2 + b]!;
        s3 += m[r3 + b]!;
      }
    }
    out[a] = s0;
    out[a + 1] = s1;
    out[a + 2] = s2;
    out[a + 3] = s3;
  }
  for (; a < rows; a++) {
    const r = a * ld;
    let s = 0;
    if (x) for (let t = from; t < to; t++) s += m[r + cols[t]!]! * x[cols[t]!]!;
    else for (let t = from; t < to; t++) s += m[r + cols[t]!]!;
    out[a] = s;
  }
}

/**
 * A dense float64 matrix (rows × cols, row-major as given; kept as given) whose rows are dotted with a vector over
 * a list of columns, exactly as rowDots64 does (EASE's K·v over the users with v ≠ 0). On the SIMD path a copy in
 * WebAssembly memory holds pairs of rows interleaved by column (one f64x2 load feeds two rows' sums).
 */
export class PairRows64 {
  private readonly space: WasmSpace | null;
  private readonly pairs: number;
  private readonly colsPtr: number;
  private readonly xPtr: number;
  private readonly outPtr: number;

  constructor(
    private readonly m: Float64Array,
    readonly rows: number,
    readonly cols: number,
    options: DenseRowsOptions = {},
  ) {
    if (m.length < rows * cols) throw new RangeError(`PairRows64: ${rows}×${cols} needs ${rows * cols} values`);
    this.pairs = Math.ceil(rows / 2);
    this.colsPtr = this.pairs * 16 * cols;
    this.xPtr = align16(this.colsPtr + 4 * cols);
    this.outPtr = align16(this.xPtr + 8 * cols);
    this.space = wasmSpace(this.outPtr + 16 * this.pairs, options.simd ?? true);
    if (this.space) {
      const f64 = this.space.f64;
      for (let a = 0; a < rows; a++) {
        const o = (a >> 1) * 2 * cols + (a & 1);
        const r = a * cols;
        for (let c = 0; c < cols; c++) f64[o + 2 * c] = m[r + c]!;
      }
    }
  }

  get simd(): boolean {
    return this.space !== null;
  }

  /** out[a] = Σ_t M[a][cols[t]]·(x ? x[cols[t]] : 1) over t in [from, to), a < rows (cols in [0, cols)). */
  dots(cols: Int32Array, from: number, to: number, x: Float64Array | null, out: Float64Array): void {
    const space = this.space;
    if (!space) {
      rowDots64(this.m, this.rows, this.cols, cols, from, to, x, out);
      return;
    }
    const count = to - from;
    if (count > this.cols) throw new RangeError(`PairRows64.dots: ${count} columns of ${this.cols}`);
    space.i32.set(cols.subarray(from, to), this.colsPtr / 4);
    if (x) space.f64.set(x.subarray(0, this.cols), this.xPtr / 8);
    space.fn.pairdots64(0, 16 * this.cols, this.pairs, this.colsPtr, count, x ? this.xPtr : 0, this.outPtr);
    out.set(space.f64.subarray(this.outPtr / 8, this.outPtr / 8 + this.rows));
  }
}

/**
 * The columns of a compressed sparse matrix (indptr over n columns, row index per entry), for the sums of a vector
 * over each column: out[j] = Σ w[index[p]] over j's entries, in order, in float64 (EASE's and item kNN's Xᵀw).
 */
export class ColumnSums {
  private readonly space: WasmSpace | null;
  private readonly indexPtr: number;
  private readonly wPtr: number;
  private readonly outPtr: number;

  constructor(
    private readonly indptr: Int32Array,
    private readonly index: Int32Array,
    /** Columns. */
    readonly n: number,
    /** Length of the vectors summed (rows of the matrix). */
    readonly width: number,
    options: DenseRowsOptions = {},
  ) {
    const nnz = indptr[n]!;
    this.indexPtr = 4 * (n + 1);
    this.wPtr = align16(this.indexPtr + 4 * nnz);
    this.outPtr = this.wPtr + 8 * width;
    this.space = wasmSpace(this.outPtr + 8 * n, options.simd ?? true);
    if (this.space) {
      this.space.i32.set(indptr.subarray(0, n + 1), 0);
      this.space.i32.set(index.subarray(0, nnz), this.indexPtr / 4);
    }
  }

  /** Room for `count` listed columns (sumsOf) after the fixed part: [cols: i32][out: f64]. */
  private listRoom(count: number): { cols: number; out: number } {
    const cols = align16(this.outPtr + 8 * this.n);
    const out = align16(cols + 4 * count);
    this.space!.reserve(out + 8 * count);
    return { cols, out };
  }

  /** out[t − from] = Σ w[index[p]] over the entries of column cols[t], for t in [from, to). */
  sumsOf(cols: Int32Array, from: number, to: number, w: Float64Array, out: Float64Array): void {
    const space = this.space;
    const count = to - from;
    if (!space) {
      const { indptr, index } = this;
      for (let t = from; t < to; t++) {
        const c = cols[t]!;
        let s = 0;
        for (let p = indptr[c]!; p < indptr[c + 1]!; p++) s += w[index[p]!]!;
        out[t - from] = s;
      }
      return;
    }
    for (let t = from; t < to; t++)
      if (!(cols[t]! >= 0 && cols[t]! < this.n))
        throw new RangeError(`ColumnSums.sumsOf: column ${cols[t]} of ${this.n}`);
    if (count <= 0) return;
    const room = this.listRoom(count);
    space.i32.set(cols.subarray(from, to), room.cols / 4);
    space.f64.set(w.subarray(0, this.width), this.wPtr / 8);
    space.fn.listsums64(0, this.indexPtr, room.cols, count, this.wPtr, room.out);
    out.set(space.f64.subarray(room.out / 8, room.out / 8 + count));
  }

  /** out[j] for j < n. */
  sums(w: Float64Array, out: Float64Array): void {
    const space = this.space;
    const n = this.n;
    if (!space) {
      const { indptr, index } = this;
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = indptr[j]!; p < indptr[j + 1]!; p++) s += w[index[p]!]!;
        out[j] = s;
      }
      return;
    }
    space.f64.set(w.subarray(0, this.width), this.wPtr / 8);
    space.fn.colsums64(0, this.indexPtr, n, this.wPtr, this.outPtr);
    out.set(space.f64.subarray(this.outPtr / 8, this.outPtr / 8 + n));
  }
}
