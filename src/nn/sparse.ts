/**
 * Layers for wide, sparse feature rows (the movie content features: genres, a year, thousands of tag
 * terms, the 1,128-value genome), as used by the content autoencoder:
 *
 * - SparseInputDense: the first layer. Its input is CSR rows, named by row id (x holds rows × 1 row ids
 *   into the bound matrix), so a batch is never densified: forward and backward cost nnz × outputs and the
 *   weight gradient touches only the rows of the columns present in the batch.
 * - SimdDense: the nn core's Dense (same parameters, initialisation and description, so Sequential
 *   toArrays/fromArrays save and load it) with its three products run on the WebAssembly SIMD kernel of
 *   src/math/matvec.ts: measured ~5–10 GMAC/s against ~0.35 for Dense's float64 loops.
 * - GramReconstruction: a linear output layer fused with the squared error against a target given as a
 *   sparse part plus a few dense rows per-row weighted (z = S + P·C: the centring offsets of feature
 *   groups), evaluated through the Gram matrix VᵀV so that no dense output or target row is built.
 * - meanOutput: the loss for a network whose last layer already outputs a per-row loss.
 *
 * Buffers are owned by the layers and reused (as in layers.ts): returned arrays are valid until the
 * layer's next call. SIMD layers keep their matrices in DenseRows (one WebAssembly memory each).
 */
import { DenseRows } from '../math/matvec.ts';
import type { Rng } from '../math/random.ts';
import { Dense, type Init, type Layer, type LayerSpec, type Param, Scratch } from './layers.ts';
import type { Loss } from './losses.ts';

const EMPTY = new Float32Array(0);

/** CSR rows: row r holds columns indices[indptr[r] … indptr[r+1]) with the matching values. */
export interface CsrMatrix {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** Checks the structure of a CSR matrix once (layers then trust it in their loops). */
export function checkCsr(m: CsrMatrix, what: string): void {
  if (!(Number.isInteger(m.rows) && m.rows >= 0 && Number.isInteger(m.cols) && m.cols >= 0))
    throw new RangeError(`${what}: rows and cols must be non-negative integers`);
  if (m.indptr.length !== m.rows + 1 || m.indptr[0] !== 0)
    throw new RangeError(`${what}: indptr must have rows + 1 = ${m.rows + 1} entries starting at 0`);
  for (let r = 0; r < m.rows; r++)
    if (m.indptr[r + 1]! < m.indptr[r]!) throw new RangeError(`${what}: indptr decreases at row ${r}`);
  const nnz = m.indptr[m.rows]!;
  if (nnz > m.indices.length || nnz > m.values.length)
    throw new RangeError(`${what}: indptr ends at ${nnz}, beyond the ${m.indices.length} stored entries`);
  for (let p = 0; p < nnz; p++) {
    const c = m.indices[p]!;
    if (!(c >= 0 && c < m.cols)) throw new RangeError(`${what}: column ${c} outside [0, ${m.cols})`);
  }
}

/**
 * The row ids of the batch in flight. SparseInputDense writes them in forward; a later layer that needs
 * the same rows (GramReconstruction's targets) reads them, so both follow train()'s shuffled batches.
 */
export class RowBatch {
  ids = new Int32Array(0);
  n = 0;

  /** Reads rows × 1 float row ids, checked against [0, height). */
  set(x: Float32Array, rows: number, height: number): void {
    if (x.length !== rows) throw new RangeError(`row ids: expected ${rows} ids, got ${x.length}`);
    if (this.ids.length < rows) this.ids = new Int32Array(Math.max(rows, 2 * this.ids.length));
    for (let r = 0; r < rows; r++) {
      const id = x[r]!;
      if (!(Number.isInteger(id) && id >= 0 && id < height))
        throw new RangeError(`row ids: ${id} is not a row of the ${height}-row matrix`);
      this.ids[r] = id;
    }
    this.n = rows;
  }
}

export interface SparseInputOptions {
  /**
   * Fan-in used by the initialisation: the expected number of non-zeros per row rather than the width,
   * so activations start at unit scale however sparse the rows are. Default: the width.
   */
  fanIn?: number;
}

/**
 * y = x·W + b for CSR rows x, W stored row-major inputs × outputs (as Dense). Used as a Layer, its input is
 * rows × 1 row ids into the bound matrix (see bind); forwardRows takes any CSR matrix directly.
 */
export class SparseInputDense implements Layer {
  readonly weight: Param;
  readonly bias: Param;
  private matrix: CsrMatrix | null = null;
  private batch = new RowBatch();
  private readonly out = new Scratch();
  private readonly acc: Float64Array;
  /** The last forward's matrix and rows, for backward. */
  private lastMatrix: CsrMatrix | null = null;
  private lastIds = new Int32Array(0);
  private lastRows = 0;

  constructor(
    readonly inputs: number,
    readonly outputs: number,
    init: Init,
    rng: Rng,
    options: SparseInputOptions = {},
  ) {
    if (!(Number.isInteger(inputs) && inputs > 0 && Number.isInteger(outputs) && outputs > 0))
      throw new RangeError(`SparseInputDense needs positive integer sizes, got ${inputs} × ${outputs}`);
    const fanIn = options.fanIn ?? inputs;
    if (!(fanIn > 0)) throw new RangeError(`SparseInputDense fanIn must be positive, got ${fanIn}`);
    const w = new Float32Array(inputs * outputs);
    if (init === 'he') {
      const sd = Math.sqrt(2 / fanIn);
      for (let i = 0; i < w.length; i++) w[i] = rng.normal() * sd;
    } else if (init === 'glorot') {
      const a = Math.sqrt(6 / (fanIn + outputs));
      for (let i = 0; i < w.length; i++) w[i] = (2 * rng.next() - 1) * a;
    } else {
      throw new RangeError(`unknown init ${String(init)}`);
    }
    this.weight = { name: 'weight', value: w, grad: new Float32Array(w.length), decay: true };
    this.bias = { name: 'bias', value: new Float32Array(outputs), grad: new Float32Array(outputs), decay: false };
    this.acc = new Float64Array(outputs);
  }

  /**
   * The matrix that forward(x) reads rows of, and the RowBatch it records their ids in (share it with a
   * layer that needs the same rows). Returns this.
   */
  bind(matrix: CsrMatrix, batch: RowBatch = this.batch): this {
    if (matrix.cols !== this.inputs)
      throw new RangeError(`SparseInputDense expects ${this.inputs} columns, the matrix has ${matrix.cols}`);
    checkCsr(matrix, 'SparseInputDense.bind');
    this.matrix = matrix;
    this.batch = batch;
    return this;
  }

  outputSize(inputSize: number): number {
    if (inputSize !== 1) throw new RangeError(`SparseInputDense takes 1 input (a row id), got ${inputSize}`);
    return this.outputs;
  }

  forward(x: Float32Array, rows: number): Float32Array {
    const m = this.matrix;
    if (!m) throw new Error('SparseInputDense: bind() a matrix before forward');
    this.batch.set(x, rows, m.rows);
    return this.forwardRows(m, this.batch.ids, rows);
  }

  /** Outputs for rows ids[0..rows) of m (rows × outputs, an internal buffer). Cost: their nnz × outputs. */
  forwardRows(m: CsrMatrix, ids: Int32Array, rows: number): Float32Array {
    const nOut = this.outputs;
    const y = this.out.get(rows * nOut);
    const w = this.weight.value;
    const b = this.bias.value;
    const acc = this.acc;
    const { indptr, indices, values } = m;
    for (let r = 0; r < rows; r++) {
      const id = ids[r]!;
      for (let j = 0; j < nOut; j++) acc[j] = b[j]!;
      for (let p = indptr[id]!, end = indptr[id + 1]!; p < end; p++) {
        const v = values[p]!;
        if (v === 0) continue;
        const wo = indices[p]! * nOut;
        for (let j = 0; j < nOut; j++) acc[j] += v * w[wo + j]!;
      }
      const yo = r * nOut;
      for (let j = 0; j < nOut; j++) y[yo + j] = acc[j]!;
    }
    if (this.lastIds.length < rows) this.lastIds = new Int32Array(Math.max(rows, 2 * this.lastIds.length));
    this.lastIds.set(ids.subarray(0, rows));
    this.lastRows = rows;
    this.lastMatrix = m;
    return y;
  }

  /**
   * Adds the parameter gradients of the last forward: only the weight rows of columns present in its rows
   * are written. The input is data (row ids), so no input gradient exists: computeGradIn must be false.
   */
  backward(gradOut: Float32Array, computeGradIn = false): Float32Array {
    if (computeGradIn) throw new Error('SparseInputDense has no input gradient: it must be the first layer');
    const m = this.lastMatrix;
    if (!m) throw new Error('SparseInputDense: backward before forward');
    const nOut = this.outputs;
    const rows = this.lastRows;
    if (gradOut.length !== rows * nOut)
      throw new RangeError(`SparseInputDense.backward: expected ${rows * nOut} values, got ${gradOut.length}`);
    const dw = this.weight.grad;
    const db = this.bias.grad;
    const { indptr, indices, values } = m;
    for (let r = 0; r < rows; r++) {
      const go = r * nOut;
      for (let j = 0; j < nOut; j++) db[j] += gradOut[go + j]!;
      const id = this.lastIds[r]!;
      for (let p = indptr[id]!, end = indptr[id + 1]!; p < end; p++) {
        const v = values[p]!;
        if (v === 0) continue;
        const wo = indices[p]! * nOut;
        for (let j = 0; j < nOut; j++) dw[wo + j] += v * gradOut[go + j]!;
      }
    }
    return EMPTY;
  }

  params(): Param[] {
    return [this.weight, this.bias];
  }

  setTraining(_training: boolean): void {}

  /** Described as the dense layer it computes (its input being the bound matrix's rows). */
  describe(): LayerSpec {
    return { type: 'dense', inputs: this.inputs, outputs: this.outputs };
  }
}

/**
 * Writes the row-major n×d matrix src transposed into dst (d rows of `stride` ≥ n floats), zeroing each
 * row's tail [n, stride): a batch padded to a fixed width keeps the kernel's matrices one shape.
 */
function transposeInto(src: Float32Array, n: number, d: number, dst: Float32Array, stride = n): void {
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) dst[j * stride + i] = src[o + j]!;
  }
  if (stride > n) for (let j = 0; j < d; j++) dst.fill(0, j * stride + n, (j + 1) * stride);
}

/** A DenseRows of a fixed shape, recreated only when the shape grows. */
class Rows {
  private m: DenseRows | null = null;
  private cap = 0;
  private width = 0;

  /** Loads n×d row-major data and returns the matrix. */
  load(data: Float32Array, n: number, d: number): DenseRows {
    if (!this.m || this.width !== d || this.cap < n) {
      this.m = DenseRows.create(n, d);
      this.cap = n;
      this.width = d;
    }
    this.m.set(data, n);
    return this.m;
  }
}

/**
 * out[r·n .. r·n + n) = M·x[r·d .. r·d + d) for r < rows, where M (n×d) is in a DenseRows: a batch of
 * matrix–vector products on the SIMD kernel.
 */
export function multiplyRows(m: DenseRows, x: Float32Array, rows: number, out: Float32Array): void {
  const d = m.d;
  const n = m.rows;
  for (let r = 0; r < rows; r++) m.multiply(x.subarray(r * d, (r + 1) * d), out.subarray(r * n, (r + 1) * n));
}

/**
 * The nn core's Dense with its products on the SIMD kernel: y = x·W + b as Wᵀ·x_r per row, the input
 * gradient as W·g_r per row, and dW row k as (Gᵀ)·(column k of X) with the batch padded to a fixed width.
 * The parameters are the Dense's own (same Param objects), so optimisers, toArrays and fromArrays work
 * unchanged. Accumulation is float32 in four lanes (Dense: float64), a few ulps apart.
 */
export class SimdDense implements Layer {
  readonly dense: Dense;
  private readonly fwd = new Rows();
  private readonly bwd = new Rows();
  private readonly grad = new Rows();
  private readonly out = new Scratch();
  private readonly gradIn = new Scratch();
  private readonly wt = new Scratch();
  private readonly gt = new Scratch();
  private readonly xt = new Scratch();
  private readonly tmp: Float32Array;
  /** Batch width of the gradient products: the largest batch seen, smaller batches zero-padded. */
  private padWidth = 0;
  private fwdMatrix: DenseRows | null = null;
  private frozen = false;
  private input: Float32Array = EMPTY;
  private rows = 0;

  constructor(dense: Dense);
  constructor(inputs: number, outputs: number, init: Init, rng: Rng);
  constructor(a: Dense | number, outputs?: number, init?: Init, rng?: Rng) {
    this.dense = a instanceof Dense ? a : new Dense(a, outputs!, init!, rng!);
    this.tmp = new Float32Array(this.dense.outputs);
  }

  get inputs(): number {
    return this.dense.inputs;
  }
  get outputs(): number {
    return this.dense.outputs;
  }
  get weight(): Param {
    return this.dense.weight;
  }
  get bias(): Param {
    return this.dense.bias;
  }

  /**
   * Stop re-reading the weights on every forward (they are copied into WebAssembly memory per call while
   * training, since optimisers change them in place). For inference after training or loading.
   */
  freeze(): this {
    this.frozen = true;
    return this;
  }

  outputSize(inputSize: number): number {
    return this.dense.outputSize(inputSize);
  }

  forward(x: Float32Array, rows: number): Float32Array {
    const nIn = this.inputs;
    const nOut = this.outputs;
    if (x.length !== rows * nIn)
      throw new RangeError(`SimdDense.forward: expected ${rows} rows × ${nIn} = ${rows * nIn} values, got ${x.length}`);
    if (!this.frozen || !this.fwdMatrix) {
      const wt = this.wt.get(nIn * nOut);
      transposeInto(this.weight.value, nIn, nOut, wt);
      this.fwdMatrix = this.fwd.load(wt, nOut, nIn);
    }
    const y = this.out.get(rows * nOut);
    multiplyRows(this.fwdMatrix, x, rows, y);
    const b = this.bias.value;
    for (let r = 0; r < rows; r++) {
      const o = r * nOut;
      for (let j = 0; j < nOut; j++) y[o + j] += b[j]!;
    }
    this.input = x;
    this.rows = rows;
    return y;
  }

  backward(gradOut: Float32Array, computeGradIn = true): Float32Array {
    const nIn = this.inputs;
    const nOut = this.outputs;
    const rows = this.rows;
    if (gradOut.length !== rows * nOut)
      throw new RangeError(`SimdDense.backward: expected ${rows * nOut} values, got ${gradOut.length}`);
    const db = this.bias.grad;
    for (let r = 0; r < rows; r++) {
      const o = r * nOut;
      for (let j = 0; j < nOut; j++) db[j] += gradOut[o + j]!;
    }
    // dW[k, :] = Σ_r x_rk g_r = Gᵀ · X[:, k]: Gᵀ (outputs × rows) on the kernel, one product per input k.
    const width = Math.max(this.padWidth, rows);
    this.padWidth = width;
    const gt = this.gt.get(nOut * width);
    transposeInto(gradOut, rows, nOut, gt, width);
    const xt = this.xt.get(nIn * width);
    transposeInto(this.input, rows, nIn, xt, width);
    const gm = this.grad.load(gt, nOut, width);
    const dw = this.weight.grad;
    const tmp = this.tmp;
    for (let k = 0; k < nIn; k++) {
      const col = xt.subarray(k * width, (k + 1) * width);
      let any = false;
      for (let r = 0; r < rows; r++)
        if (col[r] !== 0) {
          any = true;
          break;
        }
      if (!any) continue; // a dead ReLU unit over the whole batch
      gm.multiply(col, tmp);
      const o = k * nOut;
      for (let j = 0; j < nOut; j++) dw[o + j] += tmp[j]!;
    }
    if (!computeGradIn) return EMPTY;
    const gi = this.gradIn.get(rows * nIn);
    multiplyRows(this.bwd.load(this.weight.value, nIn, nOut), gradOut, rows, gi);
    return gi;
  }

  params(): Param[] {
    return this.dense.params();
  }

  setTraining(_training: boolean): void {}

  describe(): LayerSpec {
    return this.dense.describe();
  }
}

/**
 * A reconstruction target: row r is z_r = S_r + Σ_g P[r, g]·C_g, a CSR part S (rows × width) plus a few
 * dense basis rows C (k × width) weighted per row by P (rows × k). For scaled content features S holds the
 * uncentred scaled values and C_g the centring offsets of feature group g, weighted by the movie's
 * presence in the group, so the dense, centred rows are never built.
 */
export interface ReconstructionTarget {
  sparse: CsrMatrix;
  /** rows × k. */
  coefficients: Float32Array;
  /** k × width, row-major. */
  basis: Float32Array;
  k: number;
}

export function checkTarget(t: ReconstructionTarget, what: string): void {
  checkCsr(t.sparse, `${what}.sparse`);
  if (t.coefficients.length !== t.sparse.rows * t.k)
    throw new RangeError(`${what}: coefficients must be rows × k = ${t.sparse.rows * t.k} values`);
  if (t.basis.length !== t.k * t.sparse.cols)
    throw new RangeError(`${what}: basis must be k × width = ${t.k * t.sparse.cols} values`);
}

/** Row r of the target written densely into out (length width), in float64. */
export function targetRow(t: ReconstructionTarget, r: number, out: Float64Array): void {
  const D = t.sparse.cols;
  out.fill(0, 0, D);
  for (let g = 0; g < t.k; g++) {
    const c = t.coefficients[r * t.k + g]!;
    if (c === 0) continue;
    const o = g * D;
    for (let j = 0; j < D; j++) out[j] += c * t.basis[o + j]!;
  }
  const { indptr, indices, values } = t.sparse;
  for (let p = indptr[r]!; p < indptr[r + 1]!; p++) out[indices[p]!] += values[p]!;
}

/**
 * Linear output a_r = V·h_r + b fused with the squared error e_r = ‖z_r − a_r‖² against a
 * ReconstructionTarget; the layer's output is e_r (rows × 1), to be averaged by meanOutput. V is stored
 * width × inputs (row j holds output j's weights), unlike Dense.
 *
 * Gram trick: e_r = ‖z_r‖² − 2(q_r·h_r + z_r·b) + h_rᵀ G h_r + 2 h_r·(Vᵀb) + ‖b‖², with G = VᵀV and
 * q_r = Vᵀz_r = Σ_{S_r} s·V_j + Σ_g P_rg·VᵀC_g. G, VᵀC_g and Vᵀb are formed once per batch (D·H² on the
 * SIMD kernel); a row then costs H² + nnz·H instead of width·H. The gradients follow the same algebra:
 * dh_r = 2g_r(G h_r + Vᵀb − q_r), dV = 2(V·M + b sᵀ − Σ_r g_r z_r h_rᵀ) with M = Σ_r g_r h_r h_rᵀ,
 * s = Σ_r g_r h_r, db = 2(V s + b Σ_r g_r − Σ_r g_r z_r). A batch costs about 2·width·H² + 1.5·rows·H²
 * against 3·rows·width·H for the direct product, so the trick wins once the batch exceeds ~2H/3 rows and
 * never densifies the target.
 */
export class GramReconstruction implements Layer {
  readonly weight: Param;
  readonly bias: Param;
  readonly width: number;
  private target: ReconstructionTarget | null = null;
  private batch: RowBatch | null = null;
  /** ‖z_r‖² per target row (float64). */
  private norms = new Float64Array(0);
  private readonly vtRows = new Rows();
  private readonly gRows = new Rows();
  private readonly mRows = new Rows();
  private readonly hRows = new Rows();
  private readonly decodeRows = new Rows();
  private readonly vt = new Scratch();
  private readonly gram = new Scratch();
  private readonly m = new Scratch();
  private readonly ht = new Scratch();
  private readonly gh = new Scratch();
  private readonly q = new Scratch();
  private readonly out = new Scratch();
  private readonly gradIn = new Scratch();
  /** Vᵀb, VᵀC_g (k × H) and C_g·b for the batch in flight. */
  private readonly vb: Float32Array;
  private vc = new Float32Array(0);
  private cb = new Float64Array(0);
  private readonly s: Float64Array;
  private readonly col = new Scratch();
  private readonly rowH: Float32Array;
  /** Batch width of M's products: the largest batch seen, smaller batches zero-padded. */
  private padWidth = 0;
  private w = new Float64Array(0);
  private pi = new Float64Array(0);
  private input: Float32Array = EMPTY;
  private ids = new Int32Array(0);
  private rows = 0;

  /**
   * @param initScale multiplies the Glorot-uniform initial weights: a target whose rows are much smaller
   *   than width unit-variance values (scaled features) wants a smaller start, or the first steps chase
   *   a huge initial error.
   */
  constructor(
    readonly inputs: number,
    width: number,
    rng: Rng,
    initScale = 1,
  ) {
    if (!(Number.isInteger(inputs) && inputs > 0 && Number.isInteger(width) && width > 0))
      throw new RangeError(`GramReconstruction needs positive integer sizes, got ${inputs} → ${width}`);
    if (!(initScale >= 0 && Number.isFinite(initScale)))
      throw new RangeError(`GramReconstruction initScale must be a finite number ≥ 0, got ${initScale}`);
    this.width = width;
    const v = new Float32Array(width * inputs);
    const a = initScale * Math.sqrt(6 / (inputs + width));
    for (let i = 0; i < v.length; i++) v[i] = (2 * rng.next() - 1) * a;
    this.weight = { name: 'weight', value: v, grad: new Float32Array(v.length), decay: true };
    this.bias = { name: 'bias', value: new Float32Array(width), grad: new Float32Array(width), decay: false };
    this.vb = new Float32Array(inputs);
    this.s = new Float64Array(inputs);
    this.rowH = new Float32Array(inputs);
  }

  /** The target rows and the RowBatch that names the rows of each batch (shared with the input layer). */
  bind(target: ReconstructionTarget, batch: RowBatch): this {
    if (target.sparse.cols !== this.width)
      throw new RangeError(`GramReconstruction has ${this.width} outputs, the target ${target.sparse.cols} columns`);
    checkTarget(target, 'GramReconstruction.bind');
    this.target = target;
    this.batch = batch;
    const n = target.sparse.rows;
    this.norms = new Float64Array(n);
    const z = new Float64Array(this.width);
    for (let r = 0; r < n; r++) {
      targetRow(target, r, z);
      let s = 0;
      for (let j = 0; j < this.width; j++) s += z[j]! * z[j]!;
      this.norms[r] = s;
    }
    this.vc = new Float32Array(target.k * this.inputs);
    this.cb = new Float64Array(target.k);
    this.w = new Float64Array(target.k * this.inputs);
    this.pi = new Float64Array(target.k);
    return this;
  }

  /** ‖z_r‖² of a target row. */
  norm(r: number): number {
    return this.norms[r]!;
  }

  outputSize(inputSize: number): number {
    if (inputSize !== this.inputs)
      throw new RangeError(`GramReconstruction expects ${this.inputs} inputs, got ${inputSize}`);
    return 1;
  }

  forward(h: Float32Array, rows: number): Float32Array {
    const t = this.target;
    const batch = this.batch;
    if (!t || !batch) throw new Error('GramReconstruction: bind() a target before forward');
    if (batch.n !== rows) throw new RangeError(`GramReconstruction: ${rows} rows, the row batch has ${batch.n}`);
    const H = this.inputs;
    const D = this.width;
    const K = t.k;
    if (h.length !== rows * H) throw new RangeError(`GramReconstruction.forward: expected ${rows * H} values`);
    const V = this.weight.value;
    const b = this.bias.value;

    // Per batch: Vᵀ on the kernel, then G = VᵀV (row k = Vᵀ·V[:, k]), Vᵀb and VᵀC_g.
    const vt = this.vt.get(H * D);
    transposeInto(V, D, H, vt);
    const vtm = this.vtRows.load(vt, H, D);
    const gram = this.gram.get(H * H);
    multiplyRows(vtm, vt, H, gram);
    const gm = this.gRows.load(gram, H, H);
    vtm.multiply(b, this.vb);
    let bb = 0;
    for (let j = 0; j < D; j++) bb += b[j]! * b[j]!;
    for (let g = 0; g < K; g++) {
      const cg = t.basis.subarray(g * D, (g + 1) * D);
      vtm.multiply(cg, this.vc.subarray(g * H, (g + 1) * H));
      let s = 0;
      for (let j = 0; j < D; j++) s += cg[j]! * b[j]!;
      this.cb[g] = s;
    }

    if (this.ids.length < rows) this.ids = new Int32Array(Math.max(rows, 2 * this.ids.length));
    this.ids.set(batch.ids.subarray(0, rows));
    const gh = this.gh.get(rows * H);
    multiplyRows(gm, h, rows, gh);
    const q = this.q.get(rows * H);
    const y = this.out.get(rows);
    const { indptr, indices, values } = t.sparse;
    const vb = this.vb;
    for (let r = 0; r < rows; r++) {
      const id = this.ids[r]!;
      const o = r * H;
      q.fill(0, o, o + H);
      let zb = 0;
      for (let p = indptr[id]!, end = indptr[id + 1]!; p < end; p++) {
        const v = values[p]!;
        const j = indices[p]!;
        zb += v * b[j]!;
        const vo = j * H;
        for (let k = 0; k < H; k++) q[o + k] += v * V[vo + k]!;
      }
      for (let g = 0; g < K; g++) {
        const c = t.coefficients[id * K + g]!;
        if (c === 0) continue;
        zb += c * this.cb[g]!;
        const co = g * H;
        for (let k = 0; k < H; k++) q[o + k] += c * this.vc[co + k]!;
      }
      let qh = 0;
      let hgh = 0;
      let hvb = 0;
      for (let k = 0; k < H; k++) {
        const hk = h[o + k]!;
        qh += q[o + k]! * hk;
        hgh += gh[o + k]! * hk;
        hvb += vb[k]! * hk;
      }
      y[r] = this.norms[id]! - 2 * (qh + zb) + hgh + 2 * hvb + bb;
    }
    this.input = h;
    this.rows = rows;
    return y;
  }

  backward(gradOut: Float32Array, computeGradIn = true): Float32Array {
    const t = this.target;
    if (!t) throw new Error('GramReconstruction: backward before forward');
    const rows = this.rows;
    if (gradOut.length !== rows) throw new RangeError(`GramReconstruction.backward: expected ${rows} values`);
    const H = this.inputs;
    const D = this.width;
    const K = t.k;
    const h = this.input;
    const V = this.weight.value;
    const b = this.bias.value;
    const dV = this.weight.grad;
    const db = this.bias.grad;
    const q = this.q.get(rows * H);
    const gh = this.gh.get(rows * H);

    // s = Σ g_r h_r, Σ g_r, π_g = Σ g_r P_rg, w_g = Σ g_r P_rg h_r.
    const s = this.s;
    s.fill(0);
    const w = this.w;
    w.fill(0);
    const pi = this.pi;
    pi.fill(0);
    let gsum = 0;
    for (let r = 0; r < rows; r++) {
      const g = gradOut[r]!;
      if (g === 0) continue;
      gsum += g;
      const o = r * H;
      for (let k = 0; k < H; k++) s[k] += g * h[o + k]!;
      const id = this.ids[r]!;
      for (let c = 0; c < K; c++) {
        const p = t.coefficients[id * K + c]!;
        if (p === 0) continue;
        pi[c] += g * p;
        const wo = c * H;
        for (let k = 0; k < H; k++) w[wo + k] += g * p * h[o + k]!;
      }
    }

    // M = Σ_r g_r h_r h_rᵀ: row k = Hᵀ·(g ⊙ H[:, k]) on the kernel, Hᵀ being H × rows.
    const width = Math.max(this.padWidth, rows);
    this.padWidth = width;
    const ht = this.ht.get(H * width);
    transposeInto(h, rows, H, ht, width);
    const hm = this.hRows.load(ht, H, width);
    const col = this.col.get(width);
    col.fill(0);
    const m = this.m.get(H * H);
    for (let k = 0; k < H; k++) {
      const o = k * width;
      for (let r = 0; r < rows; r++) col[r] = gradOut[r]! * ht[o + r]!;
      hm.multiply(col, m.subarray(k * H, (k + 1) * H));
    }
    const mm = this.mRows.load(m, H, H);

    // dV_j = 2(M·V_j + b_j s − Σ_g C_g[j] w_g) − 2 Σ_{r: j ∈ S_r} g_r s_rj h_r;  db_j = 2(V_j·s + b_j Σg − Σ_g π_g C_g[j]) − ….
    const mv = this.rowH;
    for (let j = 0; j < D; j++) {
      const vo = j * H;
      mm.multiply(V.subarray(vo, vo + H), mv);
      const bj = b[j]!;
      let vs = 0;
      for (let k = 0; k < H; k++) {
        dV[vo + k] += 2 * (mv[k]! + bj * s[k]!);
        vs += V[vo + k]! * s[k]!;
      }
      let dbj = vs + bj * gsum;
      for (let c = 0; c < K; c++) {
        const cj = t.basis[c * D + j]!;
        if (cj === 0) continue;
        dbj -= pi[c]! * cj;
        const wo = c * H;
        for (let k = 0; k < H; k++) dV[vo + k] -= 2 * cj * w[wo + k]!;
      }
      db[j] += 2 * dbj;
    }
    const { indptr, indices, values } = t.sparse;
    for (let r = 0; r < rows; r++) {
      const g = gradOut[r]!;
      if (g === 0) continue;
      const id = this.ids[r]!;
      const o = r * H;
      for (let p = indptr[id]!, end = indptr[id + 1]!; p < end; p++) {
        const f = 2 * g * values[p]!;
        const j = indices[p]!;
        db[j] -= f;
        const vo = j * H;
        for (let k = 0; k < H; k++) dV[vo + k] -= f * h[o + k]!;
      }
    }

    if (!computeGradIn) return EMPTY;
    const gi = this.gradIn.get(rows * H);
    const vb = this.vb;
    for (let r = 0; r < rows; r++) {
      const f = 2 * gradOut[r]!;
      const o = r * H;
      for (let k = 0; k < H; k++) gi[o + k] = f * (gh[o + k]! + vb[k]! - q[o + k]!);
    }
    return gi;
  }

  /**
   * The dense reconstructions a_r = V·h_r + b of rows × inputs codes into out (rows × width), on the
   * kernel: for measuring errors exactly, without the Gram expansion's cancellation.
   */
  decode(h: Float32Array, rows: number, out: Float32Array): void {
    const H = this.inputs;
    const D = this.width;
    if (h.length < rows * H || out.length < rows * D) throw new RangeError('GramReconstruction.decode: sizes');
    const vm = this.decodeRows.load(this.weight.value, D, H);
    multiplyRows(vm, h, rows, out);
    const b = this.bias.value;
    for (let r = 0; r < rows; r++) {
      const o = r * D;
      for (let j = 0; j < D; j++) out[o + j] += b[j]!;
    }
  }

  params(): Param[] {
    return [this.weight, this.bias];
  }

  setTraining(_training: boolean): void {}

  /** Described as the dense map it computes before the error (width outputs). */
  describe(): LayerSpec {
    return { type: 'dense', inputs: this.inputs, outputs: this.width };
  }
}

/**
 * The mean of the network's outputs, for a last layer that outputs a per-row loss (GramReconstruction):
 * loss = (1/N) Σ pred_i, gradient 1/N. The target is ignored (give zeros of the output's shape).
 */
export const meanOutput: Loss = {
  name: 'meanOutput',
  compute(pred, _target, grad) {
    const n = pred.length;
    if (n === 0) return 0;
    let sum = 0;
    const inv = 1 / n;
    for (let i = 0; i < n; i++) {
      sum += pred[i]!;
      grad[i] = inv;
    }
    return sum / n;
  },
  count(length) {
    return length;
  },
};
