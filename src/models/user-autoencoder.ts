/**
 * An AutoRec-style autoencoder over rating rows (Sedhain et al. 2015), with a bottleneck code:
 *
 *   sparse row → SparseDense(width → hidden) → ReLU → Dense(hidden → code) → [code]
 *              → Dense(code → hidden) → ReLU → SparseOutput(hidden → width, observed columns only)
 *
 * Rows are users over movies (the user autoencoder) or, transposed, movies over users. Inputs and
 * targets are residuals of the bias baseline, r − μ − b_col − b_row, where b_row is folded in from the
 * row's own ratings (b_row = Σ(r − μ − b_col)/(λ + n), BiasModel's user step), so any rating list,
 * including a live user's, is centred without retraining. The input is scaled by 1/√n so codes of
 * rows with 20 and 2,000 ratings live on one scale.
 *
 * Training: masked MSE on the observed ratings only; input dropout (each observed rating is left out of
 * the input with probability p, but stays a target) so the network learns to predict ratings it was
 * not shown rather than the identity; lazy Adam; seeded; early stopping on a held-out share of every
 * training row's ratings (given the rest as input), restoring the best epoch.
 *
 * Parallelism: none, deliberately. An epoch over ml-latest-small is a few tenths of a second, and a
 * step's weights (width × hidden floats per sparse layer) would have to reach every worker and the
 * gradients come back in a fixed order to stay deterministic: the copies cost more than the compute.
 *
 * Kernels: with the SIMD kernel layer, training and encodeRows run on src/nn/sparse-kernels.ts (float32, the
 * whole model in kernel memory); encode() and predict() (the serving paths) keep the layers' own passes.
 * Sized to the data: an epoch visits rows in a fresh order until EPOCH_RATINGS ratings have been trained on
 * (every row on data sets up to that size), and the validation loss is measured on a seeded sample of rows
 * holding VALIDATION_RATINGS held-out ratings at most (all of them up to that size).
 */

/** Ratings an epoch trains on at most (whole rows, visited in a fresh order every epoch). */
export const EPOCH_RATINGS = 4_000_000;
/** Held-out ratings the validation loss is measured on at most (whole rows, a fixed seeded sample). */
export const VALIDATION_RATINGS = 500_000;
/** Ratings per encoding batch on the kernels. */
const ENCODE_BATCH_RATINGS = 1 << 20;

import { defaultKernelBackend } from '../math/kernels/index.ts';
import { Rng } from '../math/random.ts';
import { Dense, ReLU } from '../nn/layers.ts';
import { SparseAutoencoderKernel } from '../nn/sparse-kernels.ts';
import { type CsrPattern, type CsrRows, LazyAdam, SparseDense, SparseOutput } from '../nn/sparse-rows.ts';
import { type Artifact, readModel, writeModel } from '../util/artifacts.ts';
import { assertMayFit } from '../util/fit-guard.ts';

export interface AutoencoderParams {
  hidden: number;
  code: number;
  epochs: number;
  /** Rows per mini-batch. */
  batchSize: number;
  lr: number;
  /** Decoupled (AdamW) weight decay of the weights. */
  weightDecay: number;
  /** L2 penalty on the weights, added to their gradients (on the rows a batch touches). */
  l2: number;
  /** Probability that an observed rating is hidden from the input during training. */
  inputDropout: number;
  /**
   * Loss weight of the ratings that were also in the input (the hidden ones weigh 1). 0 trains only on
   * predicting what was not shown, exactly the task at prediction time; 1 is plain denoising AutoRec.
   */
  keptWeight: number;
  /** Share of every training row's ratings held out for early stopping (rows with ≥ 2 ratings). */
  validation: number;
  patience: number;
  seed: number;
}

export const AUTOENCODER_DEFAULTS: AutoencoderParams = {
  hidden: 256,
  code: 64,
  epochs: 60,
  batchSize: 32,
  lr: 0.001,
  weightDecay: 0,
  l2: 0,
  inputDropout: 0.5,
  keptWeight: 0,
  validation: 0.1,
  patience: 5,
  seed: 1,
};

/** Sparse rows with raw ratings: row r has columns cols[indptr[r] … indptr[r+1]) rated ratings[…]. */
export interface RatingRows {
  rows: number;
  /** Number of columns (movies for user rows). */
  width: number;
  indptr: Int32Array;
  cols: Int32Array;
  ratings: Float32Array;
}

/** What the residuals are taken against: μ, one bias per column, and the shrinkage of the row bias. */
export interface Centring {
  mu: number;
  colBias: Float64Array;
  rowReg: number;
}

export interface AutoencoderEpoch {
  epoch: number;
  /** Masked MSE (of residuals) over the epoch's batches, as seen while training. */
  trainLoss: number;
  validationLoss: number;
  /** Wall time of the epoch's training pass (without validation). */
  seconds: number;
}

export interface AutoencoderReport {
  curve: AutoencoderEpoch[];
  bestEpoch: number;
  stoppedEarly: boolean;
  trainRatings: number;
  validationRatings: number;
  seconds: number;
}

function checkParams(p: AutoencoderParams): void {
  const ints: (keyof AutoencoderParams)[] = ['hidden', 'code', 'epochs', 'batchSize', 'patience'];
  for (const k of ints)
    if (!(Number.isInteger(p[k]) && p[k] >= 1)) throw new RangeError(`autoencoder: ${k} must be a whole number ≥ 1`);
  if (!(p.lr > 0)) throw new RangeError('autoencoder: lr must be positive');
  if (!(p.weightDecay >= 0)) throw new RangeError('autoencoder: weightDecay must be ≥ 0');
  if (!(p.inputDropout >= 0 && p.inputDropout < 1)) throw new RangeError('autoencoder: inputDropout must be in [0, 1)');
  if (!(p.keptWeight >= 0)) throw new RangeError('autoencoder: keptWeight must be ≥ 0');
  if (!(p.validation >= 0 && p.validation < 1)) throw new RangeError('autoencoder: validation must be in [0, 1)');
}

const AUTOENCODER_FORMAT = 'cinerec-rating-autoencoder/1';

/** A saved autoencoder's settings, centring scalars and report (its weights and column biases are arrays). */
export interface RatingAutoencoderMeta {
  params: AutoencoderParams;
  fitted: boolean;
  width: number;
  mu: number;
  rowReg: number;
  report: AutoencoderReport | null;
}

/** Growable typed-array scratch for batch assembly. */
class Grow {
  i32 = new Int32Array(0);
  f32 = new Float32Array(0);
  ints(n: number): Int32Array {
    if (this.i32.length < n) this.i32 = new Int32Array(Math.max(n, this.i32.length * 2));
    return this.i32;
  }
  floats(n: number): Float32Array {
    if (this.f32.length < n) this.f32 = new Float32Array(Math.max(n, this.f32.length * 2));
    return this.f32;
  }
}

export class RatingAutoencoder {
  readonly params: AutoencoderParams;
  report: AutoencoderReport | null = null;
  private width = 0;
  private centring: Centring = { mu: 0, colBias: new Float64Array(0), rowReg: 0 };
  private enc: SparseDense | null = null;
  private readonly relu1 = new ReLU();
  private toCode: Dense | null = null;
  private fromCode: Dense | null = null;
  private readonly relu2 = new ReLU();
  private dec: SparseOutput | null = null;
  // Batch scratch: input CSR, target pattern, targets, loss gradient.
  private readonly inPtr = new Grow();
  private readonly inCols = new Grow();
  private readonly inVals = new Grow();
  private readonly outPtr = new Grow();
  private readonly outCols = new Grow();
  private readonly outVals = new Grow();
  private readonly outWeights = new Grow();
  private readonly grad = new Grow();

  constructor(params: Partial<AutoencoderParams> = {}) {
    this.params = { ...AUTOENCODER_DEFAULTS, ...params };
    checkParams(this.params);
  }

  get codeSize(): number {
    return this.params.code;
  }

  get fitted(): boolean {
    return this.enc !== null;
  }

  /** Columns the model knows (a rating of a column beyond this, e.g. a movie added later, is ignored). */
  get columns(): number {
    return this.width;
  }

  /** The row bias folded in from a row's ratings (columns beyond the fitted width are skipped). */
  rowBias(cols: ArrayLike<number>, ratings: ArrayLike<number>): number {
    const { mu, colBias, rowReg } = this.centring;
    let s = 0;
    let n = 0;
    for (let k = 0; k < cols.length; k++) {
      const c = cols[k]!;
      const r = ratings[k]!;
      if (c < 0 || c >= this.width || Number.isNaN(r)) continue;
      s += r - mu - colBias[c]!;
      n++;
    }
    return n === 0 ? 0 : s / (rowReg + n);
  }

  /** `onEpoch`, when given, is told after every epoch (for a progress display). */
  fit(data: RatingRows, centring: Centring, onEpoch?: (epoch: number) => void): AutoencoderReport {
    assertMayFit('the rating autoencoder');
    const started = performance.now();
    const prm = this.params;
    if (centring.colBias.length !== data.width)
      throw new RangeError(`autoencoder: ${centring.colBias.length} column biases for ${data.width} columns`);
    this.width = data.width;
    this.centring = centring;
    const rng = new Rng(prm.seed);
    const nnz = data.indptr[data.rows]!;
    // The 1/√n input scaling makes the pre-activation variance independent of n: fan-in ≈ 1.
    this.enc = new SparseDense(data.width, prm.hidden, rng, 1);
    this.toCode = new Dense(prm.hidden, prm.code, 'glorot', rng);
    this.fromCode = new Dense(prm.code, prm.hidden, 'he', rng);
    this.dec = new SparseOutput(prm.hidden, data.width, rng);

    // Residual targets, and which ratings are held out for validation (1) or trained on (0).
    const resid = new Float32Array(nnz);
    const held = new Uint8Array(nnz);
    let nVal = 0;
    for (let r = 0; r < data.rows; r++) {
      const from = data.indptr[r]!;
      const to = data.indptr[r + 1]!;
      if (prm.validation > 0 && to - from >= 2) {
        for (let p = from; p < to; p++) if (rng.next() < prm.validation) held[p] = 1;
        // Keep at least one input rating in every row.
        let kept = 0;
        for (let p = from; p < to; p++) kept += 1 - held[p]!;
        if (kept === 0) held[from] = 0;
      }
      let s = 0;
      let n = 0;
      for (let p = from; p < to; p++) {
        if (held[p]) continue;
        s += data.ratings[p]! - centring.mu - centring.colBias[data.cols[p]!]!;
        n++;
      }
      const b = n === 0 ? 0 : s / (centring.rowReg + n);
      for (let p = from; p < to; p++) {
        resid[p] = data.ratings[p]! - centring.mu - centring.colBias[data.cols[p]!]! - b;
        if (held[p]) nVal++;
      }
    }

    const opt = new LazyAdam({ lr: prm.lr, weightDecay: prm.weightDecay, l2: prm.l2 });
    const dense = [...this.enc.denseParams(), ...this.toCode.params(), ...this.fromCode.params()];
    const sparse = [...this.enc.sparseParams(), ...this.dec.sparseParams()];
    const all = [...this.enc.params(), ...this.toCode.params(), ...this.fromCode.params(), ...this.dec.params()];
    const kernel =
      defaultKernelBackend === 'simd'
        ? new SparseAutoencoderKernel(
            { enc: this.enc, toCode: this.toCode, fromCode: this.fromCode, dec: this.dec },
            { lr: prm.lr, weightDecay: prm.weightDecay, l2: prm.l2 },
          )
        : null;
    let best = nVal > 0 ? (kernel ? kernel.snapshot() : all.map((p) => new Float32Array(p.value))) : null;
    const order = new Int32Array(data.rows);
    for (let r = 0; r < data.rows; r++) order[r] = r;
    // The validation rows: a seeded sample holding at most VALIDATION_RATINGS held-out ratings.
    const validationRows = this.validationRows(data, held, rng);
    const curve: AutoencoderEpoch[] = [];
    let bestLoss = Number.POSITIVE_INFINITY;
    let bestEpoch = 0;
    let stoppedEarly = false;
    const bs = prm.batchSize;
    for (let epoch = 1; epoch <= prm.epochs; epoch++) {
      rng.shuffle(order);
      const epochStart = performance.now();
      let se = 0;
      let count = 0;
      let seen = 0;
      for (let start = 0; start < data.rows && seen < EPOCH_RATINGS; start += bs) {
        const rows = order.subarray(start, Math.min(data.rows, start + bs));
        const { input, pattern, targets, weights } = this.batch(data, resid, held, rows, 'train', rng);
        const n = pattern.indptr[pattern.rows]!;
        seen += input.indptr[input.rows]! + n;
        let wsum = 0;
        for (let p = 0; p < n; p++) wsum += weights[p]!;
        if (wsum === 0) continue;
        let pred: Float32Array;
        let g: Float32Array;
        if (kernel) {
          kernel.load(input, pattern);
          pred = kernel.forward();
          g = kernel.outputGrad();
        } else {
          this.enc.zeroGrad();
          this.dec.zeroGrad();
          for (const p of dense) p.grad.fill(0);
          pred = this.forwardBatch(input, pattern);
          g = this.grad.floats(n).subarray(0, n);
        }
        // Weighted masked MSE: Σ w·(p − y)² / Σ w.
        for (let p = 0; p < n; p++) {
          const d = pred[p]! - targets[p]!;
          se += weights[p]! * d * d;
          g[p] = (2 * weights[p]! * d) / wsum;
        }
        count += wsum;
        if (kernel) kernel.backwardAndStep(input, pattern);
        else {
          this.backwardBatch(g);
          opt.step(dense, sparse);
        }
      }
      const seconds = (performance.now() - epochStart) / 1000;
      const validationLoss = nVal > 0 ? this.loss(data, resid, held, validationRows, kernel) : Number.NaN;
      curve.push({ epoch, trainLoss: count ? se / count : 0, validationLoss, seconds });
      onEpoch?.(epoch);
      if (!best) {
        bestEpoch = epoch;
        continue;
      }
      if (validationLoss < bestLoss) {
        bestLoss = validationLoss;
        bestEpoch = epoch;
        if (kernel) best = kernel.snapshot(best);
        else for (let i = 0; i < all.length; i++) best[i]!.set(all[i]!.value);
      } else if (epoch - bestEpoch >= prm.patience) {
        stoppedEarly = epoch < prm.epochs;
        break;
      }
    }
    if (kernel) {
      if (best) kernel.restore(best);
      kernel.copyTo();
    } else if (best) for (let i = 0; i < all.length; i++) all[i]!.value.set(best[i]!);
    this.enc.zeroGrad();
    this.dec.zeroGrad();
    this.report = {
      curve,
      bestEpoch,
      stoppedEarly,
      trainRatings: nnz - nVal,
      validationRatings: nVal,
      seconds: (performance.now() - started) / 1000,
    };
    return this.report;
  }

  /**
   * Assembles one batch. 'train': input = trained ratings with dropout, targets = all trained ratings;
   * 'validate': input = all trained ratings, targets = the held-out ones.
   */
  private batch(
    data: RatingRows,
    resid: Float32Array,
    held: Uint8Array,
    rows: Int32Array,
    mode: 'train' | 'validate',
    rng: Rng | null,
  ): { input: CsrRows; pattern: CsrPattern; targets: Float32Array; weights: Float32Array } {
    let total = 0;
    for (let t = 0; t < rows.length; t++) total += data.indptr[rows[t]! + 1]! - data.indptr[rows[t]!]!;
    const inPtr = this.inPtr.ints(rows.length + 1);
    const inCols = this.inCols.ints(total);
    const inVals = this.inVals.floats(total);
    const outPtr = this.outPtr.ints(rows.length + 1);
    const outCols = this.outCols.ints(total);
    const outVals = this.outVals.floats(total);
    const outW = this.outWeights.floats(total);
    const kw = this.params.keptWeight;
    const drop = mode === 'train' ? this.params.inputDropout : 0;
    let a = 0;
    let b = 0;
    inPtr[0] = 0;
    outPtr[0] = 0;
    for (let t = 0; t < rows.length; t++) {
      const r = rows[t]!;
      const from = data.indptr[r]!;
      const to = data.indptr[r + 1]!;
      const rowStart = a;
      let firstTrained = -1;
      for (let p = from; p < to; p++) {
        if (held[p]) {
          if (mode === 'validate') {
            outCols[b] = data.cols[p]!;
            outW[b] = 1;
            outVals[b++] = resid[p]!;
          }
          continue;
        }
        if (firstTrained < 0) firstTrained = p;
        if (mode === 'validate') {
          inCols[a] = data.cols[p]!;
          inVals[a++] = resid[p]!;
          continue;
        }
        const hidden = drop > 0 && rng!.next() < drop;
        if (!hidden) {
          inCols[a] = data.cols[p]!;
          inVals[a++] = resid[p]!;
        }
        if (hidden || kw > 0) {
          outCols[b] = data.cols[p]!;
          outW[b] = hidden ? 1 : kw;
          outVals[b++] = resid[p]!;
        }
      }
      // Never show an empty row when the row has ratings: keep one so the code is about this row.
      if (a === rowStart && firstTrained >= 0) {
        inCols[a] = data.cols[firstTrained]!;
        inVals[a++] = resid[firstTrained]!;
      }
      const scale = a > rowStart ? 1 / Math.sqrt(a - rowStart) : 0;
      for (let p = rowStart; p < a; p++) inVals[p]! *= scale;
      inPtr[t + 1] = a;
      outPtr[t + 1] = b;
    }
    return {
      input: { rows: rows.length, indptr: inPtr.subarray(0, rows.length + 1), indices: inCols, values: inVals },
      pattern: { rows: rows.length, indptr: outPtr.subarray(0, rows.length + 1), indices: outCols },
      targets: outVals.subarray(0, b),
      weights: outW.subarray(0, b),
    };
  }

  private forwardBatch(input: CsrRows, pattern: CsrPattern): Float32Array {
    const code = this.codeBatch(input);
    const h2 = this.relu2.forward(this.fromCode!.forward(code, input.rows), input.rows);
    return this.dec!.forward(h2, pattern);
  }

  private codeBatch(input: CsrRows): Float32Array {
    const h1 = this.relu1.forward(this.enc!.forward(input), input.rows);
    return this.toCode!.forward(h1, input.rows);
  }

  private backwardBatch(g: Float32Array): void {
    let d = this.dec!.backward(g);
    d = this.relu2.backward(d);
    d = this.fromCode!.backward(d);
    d = this.toCode!.backward(d);
    d = this.relu1.backward(d);
    this.enc!.backward(d);
  }

  /** Rows whose held-out ratings score the validation: all rows, or a seeded sample of VALIDATION_RATINGS of them. */
  private validationRows(data: RatingRows, held: Uint8Array, rng: Rng): Int32Array {
    let total = 0;
    for (let p = 0; p < held.length; p++) total += held[p]!;
    const order = new Int32Array(data.rows);
    for (let r = 0; r < data.rows; r++) order[r] = r;
    if (total <= VALIDATION_RATINGS) return order;
    rng.shuffle(order);
    let kept = 0;
    let n = 0;
    while (n < order.length && kept < VALIDATION_RATINGS) {
      const r = order[n++]!;
      for (let p = data.indptr[r]!; p < data.indptr[r + 1]!; p++) kept += held[p]!;
    }
    return order.slice(0, n).sort();
  }

  /** Validation masked MSE over `order`'s rows: each row's trained ratings in, its held-out ratings scored. */
  private loss(
    data: RatingRows,
    resid: Float32Array,
    held: Uint8Array,
    order: Int32Array,
    kernel: SparseAutoencoderKernel | null,
  ): number {
    let se = 0;
    let count = 0;
    const bs = 256;
    for (let start = 0; start < order.length; start += bs) {
      const rows = order.subarray(start, Math.min(order.length, start + bs));
      const { input, pattern, targets } = this.batch(data, resid, held, rows, 'validate', null);
      if (targets.length === 0) continue;
      let pred: Float32Array;
      if (kernel) {
        kernel.load(input, pattern);
        pred = kernel.forward();
      } else pred = this.forwardBatch(input, pattern);
      for (let p = 0; p < targets.length; p++) {
        const d = pred[p]! - targets[p]!;
        se += d * d;
      }
      count += targets.length;
    }
    return count ? se / count : 0;
  }

  /** Residual input of one rating list (columns beyond the fitted width and NaN ratings dropped). */
  private inputOf(cols: ArrayLike<number>, ratings: ArrayLike<number>): { input: CsrRows; bias: number } {
    const bias = this.rowBias(cols, ratings);
    const { mu, colBias } = this.centring;
    const idx = this.inCols.ints(cols.length);
    const val = this.inVals.floats(cols.length);
    let a = 0;
    for (let k = 0; k < cols.length; k++) {
      const c = cols[k]!;
      const r = ratings[k]!;
      if (c < 0 || c >= this.width || Number.isNaN(r)) continue;
      idx[a] = c;
      val[a++] = r - mu - colBias[c]! - bias;
    }
    const scale = a > 0 ? 1 / Math.sqrt(a) : 0;
    for (let k = 0; k < a; k++) val[k]! *= scale;
    const ptr = this.inPtr.ints(2);
    ptr[0] = 0;
    ptr[1] = a;
    return { input: { rows: 1, indptr: ptr.subarray(0, 2), indices: idx, values: val }, bias };
  }

  /**
   * The code of ANY rating list (a training row, a live user, anonymous ratings): one forward pass,
   * no retraining. Writes into `out` when given (length = code size).
   */
  encode(cols: ArrayLike<number>, ratings: ArrayLike<number>, out?: Float32Array): Float32Array {
    this.requireFitted();
    const { input } = this.inputOf(cols, ratings);
    const code = this.codeBatch(input);
    const o = out ?? new Float32Array(this.params.code);
    o.set(code.subarray(0, this.params.code));
    return o;
  }

  /**
   * Codes of many rows at once (rows × code, row-major), e.g. every user of a fold from that fold's
   * training ratings. `keep(p)` may leave entries out (cross-fitting).
   */
  encodeRows(data: RatingRows, keep?: (p: number) => boolean): Float32Array {
    this.requireFitted();
    if (defaultKernelBackend === 'simd') return this.encodeRowsOnKernels(data, keep);
    const k = this.params.code;
    const out = new Float32Array(data.rows * k);
    const cols: number[] = [];
    const ratings: number[] = [];
    for (let r = 0; r < data.rows; r++) {
      cols.length = 0;
      ratings.length = 0;
      for (let p = data.indptr[r]!; p < data.indptr[r + 1]!; p++) {
        if (keep && !keep(p)) continue;
        cols.push(data.cols[p]!);
        ratings.push(data.ratings[p]!);
      }
      this.encode(cols, ratings, out.subarray(r * k, (r + 1) * k));
    }
    return out;
  }

  /**
   * encodeRows on the kernel layer: rows go through the encoder in batches of about ENCODE_BATCH_RATINGS
   * ratings, each row centred and scaled exactly as inputOf does. The encoder's weights are copied into kernel
   * memory once per call.
   */
  private encodeRowsOnKernels(data: RatingRows, keep?: (p: number) => boolean): Float32Array {
    const k = this.params.code;
    const out = new Float32Array(data.rows * k);
    const kernel = new SparseAutoencoderKernel(
      { enc: this.enc!, toCode: this.toCode!, fromCode: this.fromCode!, dec: this.dec! },
      null,
    );
    const { mu, colBias, rowReg } = this.centring;
    const width = this.width;
    let start = 0;
    while (start < data.rows) {
      // A batch of whole rows of about ENCODE_BATCH_RATINGS ratings (at least one row).
      let end = start;
      let total = 0;
      while (
        end < data.rows &&
        (end === start || total + data.indptr[end + 1]! - data.indptr[end]! <= ENCODE_BATCH_RATINGS)
      ) {
        total += data.indptr[end + 1]! - data.indptr[end]!;
        end++;
      }
      const rows = end - start;
      const indptr = this.inPtr.ints(rows + 1);
      const idx = this.inCols.ints(total);
      const val = this.inVals.floats(total);
      let a = 0;
      indptr[0] = 0;
      for (let r = start; r < end; r++) {
        const from = a;
        let s = 0;
        for (let p = data.indptr[r]!; p < data.indptr[r + 1]!; p++) {
          if (keep && !keep(p)) continue;
          const c = data.cols[p]!;
          const rating = data.ratings[p]!;
          if (c < 0 || c >= width || Number.isNaN(rating)) continue;
          idx[a] = c;
          val[a] = rating - mu - colBias[c]!;
          s += val[a]!;
          a++;
        }
        const n = a - from;
        const bias = n === 0 ? 0 : s / (rowReg + n);
        const scale = n > 0 ? 1 / Math.sqrt(n) : 0;
        for (let p = from; p < a; p++) val[p] = (val[p]! - bias) * scale;
        indptr[r - start + 1] = a;
      }
      kernel.load({ rows, indptr: indptr.subarray(0, rows + 1), indices: idx, values: val }, null);
      out.set(kernel.encode(), start * k);
      start = end;
    }
    return out;
  }

  /** Predicted ratings of `targets` for a row with the given ratings (μ + b_col + b_row + output). */
  predict(cols: ArrayLike<number>, ratings: ArrayLike<number>, targets: ArrayLike<number>): Float64Array {
    this.requireFitted();
    const { input, bias } = this.inputOf(cols, ratings);
    const { mu, colBias } = this.centring;
    const out = new Float64Array(targets.length);
    const known: number[] = [];
    for (let t = 0; t < targets.length; t++) if (targets[t]! >= 0 && targets[t]! < this.width) known.push(targets[t]!);
    const pattern: CsrPattern = { rows: 1, indptr: Int32Array.of(0, known.length), indices: Int32Array.from(known) };
    const y = this.forwardBatch(input, pattern);
    let q = 0;
    for (let t = 0; t < targets.length; t++) {
      const c = targets[t]!;
      out[t] = c >= 0 && c < this.width ? mu + colBias[c]! + bias + y[q++]! : mu + bias;
    }
    return out;
  }

  /**
   * What to persist: settings, centring and report as meta, and every weight (views, not copies). An
   * autoencoder never fitted (the item autoencoder of a content-only predictor) has no arrays.
   */
  toArrays(): { meta: RatingAutoencoderMeta; arrays: Record<string, Float32Array | Float64Array> } {
    const meta: RatingAutoencoderMeta = {
      params: this.params,
      fitted: this.fitted,
      width: this.width,
      mu: this.centring.mu,
      rowReg: this.centring.rowReg,
      report: this.report,
    };
    if (!this.enc) return { meta, arrays: {} };
    return {
      meta,
      arrays: {
        colBias: this.centring.colBias,
        encWeight: this.enc.weight.value,
        encBias: this.enc.bias.value,
        toCodeWeight: this.toCode!.weight.value,
        toCodeBias: this.toCode!.bias.value,
        fromCodeWeight: this.fromCode!.weight.value,
        fromCodeBias: this.fromCode!.bias.value,
        decWeight: this.dec!.weight.value,
        decBias: this.dec!.bias.value,
      },
    };
  }

  /**
   * Takes the state of toArrays() (its arrays read from `source`, named with `prefix`) into this
   * autoencoder, whose params must be the saved ones. No fitting: encode and predict work at once.
   */
  restore(meta: RatingAutoencoderMeta, source: Pick<Artifact<unknown>, 'array'>, prefix = ''): void {
    if (JSON.stringify(meta.params) !== JSON.stringify(this.params))
      throw new Error("autoencoder: the saved settings differ from this autoencoder's");
    this.report = meta.report;
    if (!meta.fitted) return;
    const prm = this.params;
    const width = meta.width;
    const rng = new Rng(0);
    const enc = new SparseDense(width, prm.hidden, rng, 1);
    const toCode = new Dense(prm.hidden, prm.code, 'glorot', rng);
    const fromCode = new Dense(prm.code, prm.hidden, 'he', rng);
    const dec = new SparseOutput(prm.hidden, width, rng);
    const take = (into: Float32Array, name: string) => {
      const a = source.array(prefix + name, 'Float32Array');
      if (a.length !== into.length)
        throw new Error(`autoencoder: ${name} has ${a.length} values, expected ${into.length}`);
      into.set(a);
    };
    take(enc.weight.value, 'encWeight');
    take(enc.bias.value, 'encBias');
    take(toCode.weight.value, 'toCodeWeight');
    take(toCode.bias.value, 'toCodeBias');
    take(fromCode.weight.value, 'fromCodeWeight');
    take(fromCode.bias.value, 'fromCodeBias');
    take(dec.weight.value, 'decWeight');
    take(dec.bias.value, 'decBias');
    const colBias = source.array(`${prefix}colBias`, 'Float64Array');
    if (colBias.length !== width) throw new Error(`autoencoder: ${colBias.length} column biases for ${width} columns`);
    this.width = width;
    this.centring = { mu: meta.mu, colBias, rowReg: meta.rowReg };
    this.enc = enc;
    this.toCode = toCode;
    this.fromCode = fromCode;
    this.dec = dec;
  }

  save(dir: string): void {
    const { meta, arrays } = this.toArrays();
    writeModel(dir, AUTOENCODER_FORMAT, meta, arrays);
  }

  static load(dir: string): RatingAutoencoder {
    const a = readModel<RatingAutoencoderMeta>(dir, AUTOENCODER_FORMAT);
    const model = new RatingAutoencoder(a.meta.params);
    model.restore(a.meta, a);
    return model;
  }

  private requireFitted(): void {
    if (!this.enc) throw new Error('autoencoder: fit() before use');
  }
}

/** The user autoencoder is the rating autoencoder over user rows. */
export { RatingAutoencoder as UserAutoencoder };
