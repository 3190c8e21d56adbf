/**
 * Layers for rating rows that are mostly empty: a first layer whose input is CSR sparse rows and an
 * output layer that evaluates only requested columns. A user's row over a 9.7 k- (or 86 k-) movie
 * catalogue is never materialised: forward and backward cost nnz × width, and the weight gradients
 * touch only the rows of the movies present. A lazy Adam updates only those rows, so a training step
 * costs what the batch touches, not the catalogue size.
 *
 * Buffers are owned by the layers and reused (as in layers.ts): returned arrays are valid until the
 * layer's next call.
 */
import type { Rng } from '../math/random.ts';
import type { Param } from './layers.ts';
import { Scratch } from './layers.ts';
import type { AdamOptions } from './optim.ts';

/** CSR rows: row r holds columns indices[indptr[r] … indptr[r+1]) with the matching values. */
export interface CsrRows {
  rows: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** The columns to evaluate per row (a CSR pattern without values). */
export interface CsrPattern {
  rows: number;
  indptr: Int32Array;
  indices: Int32Array;
}

function checkCsr(x: CsrPattern, width: number, what: string): void {
  if (x.indptr.length !== x.rows + 1 || x.indptr[0] !== 0)
    throw new RangeError(`${what}: indptr must have rows + 1 = ${x.rows + 1} entries starting at 0`);
  const nnz = x.indptr[x.rows]!;
  if (nnz > x.indices.length)
    throw new RangeError(`${what}: indptr ends at ${nnz}, beyond ${x.indices.length} indices`);
  for (let p = 0; p < nnz; p++) {
    const c = x.indices[p]!;
    if (!(c >= 0 && c < width)) throw new RangeError(`${what}: column ${c} outside [0, ${width})`);
  }
}

/**
 * A set of row ids touched since the last clear, kept as a list plus a stamp per row, so insertion
 * and clearing cost the number of rows touched, not the matrix height.
 */
export class TouchedRows {
  private readonly stamp: Int32Array;
  private list: Int32Array;
  private n = 0;
  private generation = 1;

  constructor(readonly height: number) {
    this.stamp = new Int32Array(height);
    this.list = new Int32Array(Math.min(height, 1024));
  }

  add(row: number): void {
    if (this.stamp[row] === this.generation) return;
    this.stamp[row] = this.generation;
    if (this.n === this.list.length) {
      const grown = new Int32Array(Math.min(this.height, this.list.length * 2));
      grown.set(this.list);
      this.list = grown;
    }
    this.list[this.n++] = row;
  }

  /** The rows added since the last clear (a view, valid until the next add/clear). */
  rows(): Int32Array {
    return this.list.subarray(0, this.n);
  }

  clear(): void {
    this.n = 0;
    this.generation++;
    if (this.generation === 0x7fffffff) {
      this.stamp.fill(0);
      this.generation = 1;
    }
  }
}

/** A parameter stored as rows of `width` values of which only `touched` rows carry gradients. */
export interface RowSparseParam {
  param: Param;
  width: number;
  touched: TouchedRows;
}

function initMatrix(n: number, fanIn: number, fanOut: number, rng: Rng): Float32Array {
  // Glorot uniform over the true fan-in/fan-out, the same rule as Dense's 'glorot'.
  const w = new Float32Array(n);
  const a = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < n; i++) w[i] = (2 * rng.next() - 1) * a;
  return w;
}

/**
 * y = x·W + b for CSR rows x over `inputs` columns; W is inputs × outputs, row k belonging to input
 * column k. Cost nnz × outputs; backward adds into the rows of W whose columns were present.
 */
export class SparseDense {
  readonly weight: Param;
  readonly bias: Param;
  /** Rows of W with gradient since the last zeroGrad(). */
  readonly touched: TouchedRows;
  private readonly out = new Scratch();
  private input: CsrRows | null = null;
  private readonly acc: Float64Array;

  constructor(
    readonly inputs: number,
    readonly outputs: number,
    rng: Rng,
    /** Fan-in used for the initial scale: the typical number of non-zeros per row, not the width. */
    typicalNnz = inputs,
  ) {
    if (!(Number.isInteger(inputs) && inputs > 0 && Number.isInteger(outputs) && outputs > 0))
      throw new RangeError(`SparseDense needs positive integer sizes, got ${inputs} × ${outputs}`);
    const w = initMatrix(inputs * outputs, Math.max(1, typicalNnz), outputs, rng);
    this.weight = { name: 'weight', value: w, grad: new Float32Array(w.length), decay: true };
    this.bias = { name: 'bias', value: new Float32Array(outputs), grad: new Float32Array(outputs), decay: false };
    this.touched = new TouchedRows(inputs);
    this.acc = new Float64Array(outputs);
  }

  forward(x: CsrRows): Float32Array {
    checkCsr(x, this.inputs, 'SparseDense.forward');
    const nOut = this.outputs;
    const y = this.out.get(x.rows * nOut);
    const w = this.weight.value;
    const b = this.bias.value;
    const acc = this.acc;
    for (let r = 0; r < x.rows; r++) {
      for (let j = 0; j < nOut; j++) acc[j] = b[j]!;
      for (let p = x.indptr[r]!; p < x.indptr[r + 1]!; p++) {
        const v = x.values[p]!;
        if (v === 0) continue;
        const wo = x.indices[p]! * nOut;
        for (let j = 0; j < nOut; j++) acc[j] += v * w[wo + j]!;
      }
      const yo = r * nOut;
      for (let j = 0; j < nOut; j++) y[yo + j] = acc[j]!;
    }
    this.input = x;
    return y;
  }

  /** Accumulates dW (touched rows only) and db; the input is data, so there is no input gradient. */
  backward(gradOut: Float32Array): void {
    const x = this.input;
    if (!x) throw new Error('SparseDense.backward before forward');
    const nOut = this.outputs;
    if (gradOut.length !== x.rows * nOut)
      throw new RangeError(`SparseDense.backward: expected ${x.rows * nOut} values, got ${gradOut.length}`);
    const dw = this.weight.grad;
    const db = this.bias.grad;
    for (let r = 0; r < x.rows; r++) {
      const go = r * nOut;
      for (let j = 0; j < nOut; j++) db[j] += gradOut[go + j]!;
      for (let p = x.indptr[r]!; p < x.indptr[r + 1]!; p++) {
        const v = x.values[p]!;
        const k = x.indices[p]!;
        this.touched.add(k);
        if (v === 0) continue;
        const wo = k * nOut;
        for (let j = 0; j < nOut; j++) dw[wo + j] += v * gradOut[go + j]!;
      }
    }
  }

  /** Zeroes the gradient rows touched since the last call and forgets them, and the bias gradient. */
  zeroGrad(): void {
    zeroRows(this.weight.grad, this.outputs, this.touched);
    this.touched.clear();
    this.bias.grad.fill(0);
  }

  /** Dense parameters (the bias) and the row-sparse weight, for LazyAdam. */
  denseParams(): Param[] {
    return [this.bias];
  }

  sparseParams(): RowSparseParam[] {
    return [{ param: this.weight, width: this.outputs, touched: this.touched }];
  }

  params(): Param[] {
    return [this.weight, this.bias];
  }
}

/**
 * The output layer of a rating autoencoder: y[r, c] = h[r]·W[c] + b[c] evaluated only for the
 * requested (r, c) pairs. W is outputs × inputs, row c holding the weights into output column c, so
 * one requested output reads one contiguous row. Cost nnz × inputs.
 */
export class SparseOutput {
  readonly weight: Param;
  readonly bias: Param;
  readonly touched: TouchedRows;
  private readonly out = new Scratch();
  private readonly gradIn = new Scratch();
  private h: Float32Array = new Float32Array(0);
  private pattern: CsrPattern | null = null;

  constructor(
    readonly inputs: number,
    readonly outputs: number,
    rng: Rng,
  ) {
    if (!(Number.isInteger(inputs) && inputs > 0 && Number.isInteger(outputs) && outputs > 0))
      throw new RangeError(`SparseOutput needs positive integer sizes, got ${inputs} × ${outputs}`);
    const w = initMatrix(inputs * outputs, inputs, inputs, rng);
    this.weight = { name: 'weight', value: w, grad: new Float32Array(w.length), decay: true };
    this.bias = { name: 'bias', value: new Float32Array(outputs), grad: new Float32Array(outputs), decay: false };
    this.touched = new TouchedRows(outputs);
  }

  /** h: rows × inputs (dense). Returns one value per requested pair, in the pattern's order. */
  forward(h: Float32Array, pattern: CsrPattern): Float32Array {
    checkCsr(pattern, this.outputs, 'SparseOutput.forward');
    const nIn = this.inputs;
    if (h.length !== pattern.rows * nIn)
      throw new RangeError(`SparseOutput.forward: expected ${pattern.rows} × ${nIn} inputs, got ${h.length}`);
    const nnz = pattern.indptr[pattern.rows]!;
    const y = this.out.get(nnz);
    const w = this.weight.value;
    const b = this.bias.value;
    for (let r = 0; r < pattern.rows; r++) {
      const ho = r * nIn;
      for (let p = pattern.indptr[r]!; p < pattern.indptr[r + 1]!; p++) {
        const c = pattern.indices[p]!;
        const wo = c * nIn;
        let s = 0;
        for (let k = 0; k < nIn; k++) s += h[ho + k]! * w[wo + k]!;
        y[p] = s + b[c]!;
      }
    }
    this.h = h;
    this.pattern = pattern;
    return y;
  }

  /** gradOut: one value per requested pair. Accumulates dW rows and db of the requested columns. */
  backward(gradOut: Float32Array, computeGradIn = true): Float32Array {
    const pattern = this.pattern;
    if (!pattern) throw new Error('SparseOutput.backward before forward');
    const nnz = pattern.indptr[pattern.rows]!;
    if (gradOut.length !== nnz)
      throw new RangeError(`SparseOutput.backward: expected ${nnz} values, got ${gradOut.length}`);
    const nIn = this.inputs;
    const h = this.h;
    const w = this.weight.value;
    const dw = this.weight.grad;
    const db = this.bias.grad;
    const gi = computeGradIn ? this.gradIn.get(pattern.rows * nIn) : null;
    gi?.fill(0);
    for (let r = 0; r < pattern.rows; r++) {
      const ho = r * nIn;
      for (let p = pattern.indptr[r]!; p < pattern.indptr[r + 1]!; p++) {
        const g = gradOut[p]!;
        const c = pattern.indices[p]!;
        this.touched.add(c);
        if (g === 0) continue;
        db[c] += g;
        const wo = c * nIn;
        for (let k = 0; k < nIn; k++) dw[wo + k] += g * h[ho + k]!;
        if (gi) for (let k = 0; k < nIn; k++) gi[ho + k] += g * w[wo + k]!;
      }
    }
    return gi ?? new Float32Array(0);
  }

  zeroGrad(): void {
    zeroRows(this.weight.grad, this.inputs, this.touched);
    zeroRows(this.bias.grad, 1, this.touched);
    this.touched.clear();
  }

  denseParams(): Param[] {
    return [];
  }

  sparseParams(): RowSparseParam[] {
    return [
      { param: this.weight, width: this.inputs, touched: this.touched },
      { param: this.bias, width: 1, touched: this.touched },
    ];
  }

  params(): Param[] {
    return [this.weight, this.bias];
  }
}

function zeroRows(a: Float32Array, width: number, touched: TouchedRows): void {
  const rows = touched.rows();
  for (let t = 0; t < rows.length; t++) a.fill(0, rows[t]! * width, (rows[t]! + 1) * width);
}

interface Moments {
  m: Float32Array;
  v: Float32Array;
}

/**
 * Adam for a mix of dense parameters and row-sparse ones ("lazy Adam", as TensorFlow's LazyAdam):
 * a row-sparse parameter updates, and decays its moments, only in the rows touched by the current
 * batch. The bias correction uses the global step count. Decoupled weight decay (AdamW) applies to
 * the rows updated. With every row touched on every step this is exactly Adam.
 */
export class LazyAdam {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Coupled L2: l2·w is added to the gradient of decaying params (on the rows updated). */
  readonly l2: number;
  private t = 0;
  private moments = new Map<Param, Moments>();

  constructor(options: AdamOptions & { l2?: number } = {}) {
    this.l2 = options.l2 ?? 0;
    this.lr = options.lr ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    if (!(this.lr > 0)) throw new RangeError(`LazyAdam lr must be positive, got ${this.lr}`);
    if (!(this.beta1 >= 0 && this.beta1 < 1 && this.beta2 >= 0 && this.beta2 < 1))
      throw new RangeError('LazyAdam betas must be in [0, 1)');
  }

  get steps(): number {
    return this.t;
  }

  private state(p: Param): Moments {
    let st = this.moments.get(p);
    if (!st) {
      st = { m: new Float32Array(p.value.length), v: new Float32Array(p.value.length) };
      this.moments.set(p, st);
    }
    return st;
  }

  step(dense: readonly Param[], sparse: readonly RowSparseParam[]): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    for (const p of dense) this.update(p, 0, p.value.length, c1, c2);
    for (const s of sparse) {
      const rows = s.touched.rows();
      for (let t = 0; t < rows.length; t++) this.update(s.param, rows[t]! * s.width, (rows[t]! + 1) * s.width, c1, c2);
    }
  }

  private update(p: Param, from: number, to: number, c1: number, c2: number): void {
    const { m, v } = this.state(p);
    const b1 = this.beta1;
    const b2 = this.beta2;
    const eps = this.eps;
    const stepSize = this.lr / c1;
    const w = p.value;
    const g = p.grad;
    const shrink = p.decay && this.weightDecay > 0 ? 1 - this.lr * this.weightDecay : 1;
    const l2 = p.decay ? this.l2 : 0;
    for (let i = from; i < to; i++) {
      const gi = g[i]! + l2 * w[i]!;
      const mi = b1 * m[i]! + (1 - b1) * gi;
      const vi = b2 * v[i]! + (1 - b2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      w[i] = w[i]! * shrink - (stepSize * mi) / (Math.sqrt(vi / c2) + eps);
    }
  }

  reset(): void {
    this.t = 0;
    this.moments = new Map();
  }
}
