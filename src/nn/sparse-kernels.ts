/**
 * The rating autoencoder of sparse-rows.ts on the kernel layer (src/math/kernels):
 *
 *   CSR row → SparseDense(width → hidden) → ReLU → Dense(hidden → code) → [code]
 *           → Dense(code → hidden) → ReLU → SparseOutput(hidden → width, requested columns only)
 *
 * Every weight, gradient and Adam moment lives in one KernelMemory; a batch's CSR input and target pattern are
 * copied in, and a training step is a few kernel calls: spmm_rows / spmm_t_rows for the sparse input layer,
 * gemm_strided + bias_act / relu_back / colsum for the two dense layers, sampled_dot / sampled_back for the
 * output layer, and Adam — dense (adam) for the dense layers and the input layer's bias, lazy (adam_rows, the
 * rows a batch touched, as LazyAdam) for the two width-sized matrices and the output bias. Float32 throughout.
 *
 * The layers' own TypeScript passes (float64 accumulation) stay what every inference path runs: `copyTo`
 * writes the trained weights back into them.
 */
import {
  bindKernels,
  defaultKernelBackend,
  GEMM_SCRATCH_BYTES,
  type KernelFunctions,
  KernelMemory,
} from '../math/kernels/index.ts';
import type { Dense, Param } from './layers.ts';
import type { AdamOptions } from './optim.ts';
import type { CsrPattern, CsrRows, SparseDense, SparseOutput } from './sparse-rows.ts';

export interface SparseAutoencoderLayers {
  enc: SparseDense;
  toCode: Dense;
  fromCode: Dense;
  dec: SparseOutput;
}

interface Slot {
  /** Offsets of the value, gradient and Adam moments (same length). */
  w: number;
  g: number;
  m: number;
  v: number;
  length: number;
  decay: boolean;
  source: Param;
}

/** Row ids touched by a batch, deduplicated with a stamp per row. */
class Touched {
  private readonly stamp: Int32Array;
  private generation = 0;
  list: Int32Array;
  count = 0;

  constructor(height: number) {
    this.stamp = new Int32Array(height);
    this.list = new Int32Array(1024);
  }

  reset(): void {
    this.count = 0;
    this.generation++;
    if (this.generation === 0x7fffffff) {
      this.stamp.fill(0);
      this.generation = 1;
    }
  }

  add(indices: Int32Array, n: number): void {
    for (let p = 0; p < n; p++) {
      const r = indices[p]!;
      if (this.stamp[r] === this.generation) continue;
      this.stamp[r] = this.generation;
      if (this.count === this.list.length) {
        const grown = new Int32Array(this.list.length * 2);
        grown.set(this.list);
        this.list = grown;
      }
      this.list[this.count++] = r;
    }
  }
}

const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

export class SparseAutoencoderKernel {
  private readonly mem: KernelMemory;
  private readonly fn: KernelFunctions;
  private readonly width: number;
  private readonly hidden: number;
  private readonly code: number;
  private readonly enc: Slot;
  private readonly encBias: Slot;
  private readonly toCodeW: Slot;
  private readonly toCodeB: Slot;
  private readonly fromCodeW: Slot;
  private readonly fromCodeB: Slot;
  private readonly dec: Slot;
  private readonly decBias: Slot;
  private readonly pack: number;
  private readonly encTouched: Touched;
  private readonly decTouched: Touched;
  private readonly lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly l2: number;
  private readonly training: boolean;
  private t = 0;
  /** The batch in flight: its CSR buffers and activations (released by the next load). */
  private batchMark = 0;
  private rows = 0;
  private entries = 0;
  private at = {
    indptr: 0,
    idx: 0,
    vals: 0,
    outPtr: 0,
    outIdx: 0,
    h1: 0,
    code: 0,
    h2: 0,
    pred: 0,
    g: 0,
    dh2: 0,
    dcode: 0,
    dh1: 0,
  };

  /**
   * @param optimizer Adam's settings for training, or null for an encoder only (no gradients or moments are
   *   allocated; encode() works, backwardAndStep() does not).
   */
  constructor(layers: SparseAutoencoderLayers, optimizer: (AdamOptions & { l2?: number }) | null) {
    const { enc, toCode, fromCode, dec } = layers;
    this.width = enc.inputs;
    this.hidden = enc.outputs;
    this.code = toCode.outputs;
    if (dec.outputs !== this.width || dec.inputs !== this.hidden || fromCode.outputs !== this.hidden)
      throw new RangeError('SparseAutoencoderKernel: layers do not chain');
    this.training = optimizer !== null;
    this.lr = optimizer?.lr ?? 1e-3;
    this.beta1 = optimizer?.beta1 ?? 0.9;
    this.beta2 = optimizer?.beta2 ?? 0.999;
    this.eps = optimizer?.eps ?? 1e-8;
    this.weightDecay = optimizer?.weightDecay ?? 0;
    this.l2 = optimizer?.l2 ?? 0;
    const params = [
      enc.weight,
      enc.bias,
      toCode.weight,
      toCode.bias,
      fromCode.weight,
      fromCode.bias,
      dec.weight,
      dec.bias,
    ];
    const copies = this.training ? 4 : 1;
    const paramBytes = params.reduce((s, p) => s + copies * align(4 * p.value.length), 0);
    const initial = paramBytes + GEMM_SCRATCH_BYTES + (16 << 20);
    // Batches are allocated above the parameters and released with the next one; the memory grows as needed.
    this.mem = KernelMemory.create(initial, Math.max(initial * 2, initial + (1 << 30)));
    this.fn = bindKernels(this.mem, defaultKernelBackend);
    const slot = (p: Param): Slot => {
      const n = p.value.length;
      const w = this.mem.copyIn(p.value);
      if (!this.training) return { w, g: 0, m: 0, v: 0, length: n, decay: p.decay, source: p };
      const s: Slot = {
        w,
        g: this.mem.alloc(4 * n),
        m: this.mem.alloc(4 * n),
        v: this.mem.alloc(4 * n),
        length: n,
        decay: p.decay,
        source: p,
      };
      this.mem.f32At(s.g, n).fill(0);
      this.mem.f32At(s.m, n).fill(0);
      this.mem.f32At(s.v, n).fill(0);
      return s;
    };
    this.enc = slot(enc.weight);
    this.encBias = slot(enc.bias);
    this.toCodeW = slot(toCode.weight);
    this.toCodeB = slot(toCode.bias);
    this.fromCodeW = slot(fromCode.weight);
    this.fromCodeB = slot(fromCode.bias);
    this.dec = slot(dec.weight);
    this.decBias = slot(dec.bias);
    this.pack = this.mem.alloc(GEMM_SCRATCH_BYTES);
    this.encTouched = new Touched(this.width);
    this.decTouched = new Touched(this.width);
    this.batchMark = this.mem.used;
  }

  /** Copies a batch in: its input rows and, for training or scoring, the requested output columns. */
  load(input: CsrRows, pattern: CsrPattern | null): void {
    const mem = this.mem;
    mem.release(this.batchMark);
    const rows = input.rows;
    const nnz = input.indptr[rows]!;
    const out = pattern ? pattern.indptr[pattern.rows]! : 0;
    const H = this.hidden;
    const C = this.code;
    this.rows = rows;
    this.entries = out;
    this.at = {
      indptr: mem.copyIn(input.indptr.subarray(0, rows + 1)),
      idx: mem.copyIn(input.indices.subarray(0, nnz)),
      vals: mem.copyIn(input.values.subarray(0, nnz)),
      outPtr: pattern ? mem.copyIn(pattern.indptr.subarray(0, rows + 1)) : 0,
      outIdx: pattern ? mem.copyIn(pattern.indices.subarray(0, out)) : 0,
      h1: mem.alloc(4 * rows * H),
      code: mem.alloc(4 * rows * C),
      h2: mem.alloc(4 * rows * H),
      pred: mem.alloc(4 * out),
      g: mem.alloc(4 * out),
      dh2: mem.alloc(4 * rows * H),
      dcode: mem.alloc(4 * rows * C),
      dh1: mem.alloc(4 * rows * H),
    };
  }

  /** The codes of the loaded rows (rows × code, a view valid until the next load). */
  encode(): Float32Array {
    const { fn } = this;
    const a = this.at;
    const rows = this.rows;
    const H = this.hidden;
    const C = this.code;
    fn.spmm_rows(a.indptr, a.idx, a.vals, rows, this.enc.w, H, this.encBias.w, a.h1);
    fn.bias_act(a.h1, rows, H, H, 0, 1);
    fn.gemm_strided(rows, C, H, a.h1, 4 * H, 4, this.toCodeW.w, 4 * C, 4, a.code, C, 0, this.pack);
    fn.bias_act(a.code, rows, C, C, this.toCodeB.w, 0);
    return this.mem.f32At(a.code, rows * C);
  }

  /** Forward pass of the loaded batch: the requested outputs (one per pattern entry, a view). */
  forward(): Float32Array {
    this.encode();
    const { fn } = this;
    const a = this.at;
    const rows = this.rows;
    const H = this.hidden;
    const C = this.code;
    fn.gemm_strided(rows, H, C, a.code, 4 * C, 4, this.fromCodeW.w, 4 * H, 4, a.h2, H, 0, this.pack);
    fn.bias_act(a.h2, rows, H, H, this.fromCodeB.w, 1);
    fn.sampled_dot(a.outPtr, a.outIdx, rows, a.h2, H, this.dec.w, this.decBias.w, a.pred);
    return this.mem.f32At(a.pred, this.entries);
  }

  /** Where the caller writes d(loss)/d(output) of the last forward, one value per pattern entry. */
  outputGrad(): Float32Array {
    return this.mem.f32At(this.at.g, this.entries);
  }

  /** Backward pass from outputGrad(), then one (lazy) Adam step; gradients are cleared afterwards. */
  backwardAndStep(input: CsrRows, pattern: CsrPattern): void {
    if (!this.training) throw new Error('SparseAutoencoderKernel: made for encoding only');
    const { fn } = this;
    const a = this.at;
    const rows = this.rows;
    const H = this.hidden;
    const C = this.code;
    const pack = this.pack;
    fn.sampled_back(a.outPtr, a.outIdx, rows, a.g, a.h2, H, this.dec.w, this.dec.g, this.decBias.g, a.dh2);
    fn.relu_back(a.dh2, a.h2, rows * H);
    fn.gemm_strided(C, H, rows, a.code, 4, 4 * C, a.dh2, 4 * H, 4, this.fromCodeW.g, H, 0, pack);
    fn.colsum(a.dh2, rows, H, H, this.fromCodeB.g, 0);
    fn.gemm_strided(rows, C, H, a.dh2, 4 * H, 4, this.fromCodeW.w, 4, 4 * H, a.dcode, C, 0, pack);
    fn.gemm_strided(H, C, rows, a.h1, 4, 4 * H, a.dcode, 4 * C, 4, this.toCodeW.g, C, 0, pack);
    fn.colsum(a.dcode, rows, C, C, this.toCodeB.g, 0);
    fn.gemm_strided(rows, H, C, a.dcode, 4 * C, 4, this.toCodeW.w, 4, 4 * C, a.dh1, H, 0, pack);
    fn.relu_back(a.dh1, a.h1, rows * H);
    fn.spmm_t_rows(a.indptr, a.idx, a.vals, rows, a.dh1, H, this.enc.g);
    fn.colsum(a.dh1, rows, H, H, this.encBias.g, 0);

    this.encTouched.reset();
    this.encTouched.add(input.indices, input.indptr[rows]!);
    this.decTouched.reset();
    this.decTouched.add(pattern.indices, pattern.indptr[rows]!);

    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    const step = this.lr / c1;
    const invc2 = 1 / c2;
    const shrinkOf = (s: Slot) => (s.decay && this.weightDecay > 0 ? 1 - this.lr * this.weightDecay : 1);
    const l2Of = (s: Slot) => (s.decay ? this.l2 : 0);
    for (const s of [this.encBias, this.toCodeW, this.toCodeB, this.fromCodeW, this.fromCodeB]) {
      fn.adam(s.w, s.g, s.m, s.v, s.length, this.beta1, this.beta2, step, invc2, this.eps, shrinkOf(s), l2Of(s));
    }
    const mem = this.mem;
    const rowsAt = mem.alloc(4 * Math.max(this.encTouched.count, this.decTouched.count));
    const sparse = (s: Slot, touched: Touched, width: number) => {
      mem.i32At(rowsAt, touched.count).set(touched.list.subarray(0, touched.count));
      fn.adam_rows(
        s.w,
        s.g,
        s.m,
        s.v,
        width,
        rowsAt,
        touched.count,
        this.beta1,
        this.beta2,
        step,
        invc2,
        this.eps,
        shrinkOf(s),
        l2Of(s),
      );
      const g = mem.f32At(s.g, s.length);
      for (let t = 0; t < touched.count; t++) {
        const r = touched.list[t]!;
        g.fill(0, r * width, (r + 1) * width);
      }
    };
    sparse(this.enc, this.encTouched, H);
    sparse(this.dec, this.decTouched, H);
    sparse(this.decBias, this.decTouched, 1);
  }

  /** Copies of every parameter, in SparseAutoencoderLayers order (weight, bias per layer). */
  snapshot(into?: Float32Array[]): Float32Array[] {
    const slots = this.slots();
    const out = into ?? slots.map((s) => new Float32Array(s.length));
    slots.forEach((s, i) => {
      out[i]!.set(this.mem.f32At(s.w, s.length));
    });
    return out;
  }

  restore(arrays: readonly Float32Array[]): void {
    this.slots().forEach((s, i) => {
      this.mem.f32At(s.w, s.length).set(arrays[i]!);
    });
  }

  /** Writes the parameters back into the layers (their TypeScript passes then predict with them). */
  copyTo(): void {
    for (const s of this.slots()) s.source.value.set(this.mem.f32At(s.w, s.length));
  }

  private slots(): Slot[] {
    return [this.enc, this.encBias, this.toCodeW, this.toCodeB, this.fromCodeW, this.fromCodeB, this.dec, this.decBias];
  }
}
