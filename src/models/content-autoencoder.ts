/**
 * The content model's second encoder: an autoencoder over the scaled content rows, e.g.
 * in → 512 → 256 → 64 → 256 → 512 → in (ReLU hidden, linear 64-d code, linear output, squared error,
 * Adam, seeded mini-batches, early stopping on a held-out share of the movies that restores the best
 * weights).
 *
 * The rows are wide and sparse (up to 5,000 tag terms + 1,128 genome values + genres + year), so nothing
 * catalogue-wide is densified:
 * - the first layer (SparseInputDense) reads CSR rows: the scaled, centred value z_j = (x_j − μ_j)·s_j of
 *   each stored entry plus one flag per feature group the movie has. That determines z exactly (a column
 *   it does not store in a group it has is −μ_j·s_j) at a cost of nnz × hidden, with gradients only on
 *   touched rows. (Fed x_j·s_j instead, the flags' weights would absorb the offsets exactly, but an
 *   uncentred column such as the year, ≈ 2000·s, trains badly.);
 * - the output (GramReconstruction) measures ‖z − ẑ‖² with z = S + P·C (uncentred scaled entries plus
 *   the centring offset of each present group) through the Gram matrix of its weights;
 * - the hidden layers are SimdDense (the WebAssembly SIMD kernel of src/math/matvec.ts).
 * Training is src/nn's train(): the dataset's x is the row id of each movie (the layers read the rows).
 */
import type { FeatureGroup, FeatureRows } from '../features/content-features.ts';
import { Rng } from '../math/random.ts';
import { Dense, type Layer, Linear, ReLU } from '../nn/layers.ts';
import { type NetworkSpec, Sequential, train } from '../nn/network.ts';
import { Adam } from '../nn/optim.ts';
import {
  type CsrMatrix,
  GramReconstruction,
  meanOutput,
  type ReconstructionTarget,
  RowBatch,
  SimdDense,
  SparseInputDense,
  targetRow,
} from '../nn/sparse.ts';
import { ValidationError } from '../util/errors.ts';
import { assertMayFit } from '../util/fit-guard.ts';
import type { Encoder, ScaledRow, Scaler } from './content-types.ts';

export interface AutoencoderSettings {
  /** Hidden widths of the encoder (the decoder mirrors them), e.g. [512, 256]; [] is a linear autoencoder. */
  hidden: number[];
  /** Most epochs; early stopping usually ends sooner. */
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Stop after this many epochs without a better held-out loss (the best epoch's weights are kept). */
  patience: number;
  /** Share of the movies held out for early stopping and the reconstruction figures (0: none). */
  validation: number;
  seed: number;
}

export const AUTOENCODER_DEFAULTS: AutoencoderSettings = {
  hidden: [256, 128],
  epochs: 60,
  batchSize: 256,
  learningRate: 0.002,
  patience: 8,
  validation: 0.1,
  seed: 1,
};

export function checkAutoencoderSettings(s: AutoencoderSettings): void {
  const bad = (field: string, what: string) => {
    throw new ValidationError(`content.autoencoder.${field} must be ${what}`, `content.autoencoder.${field}`);
  };
  if (!Array.isArray(s.hidden) || s.hidden.some((h) => !(Number.isInteger(h) && h >= 1)))
    bad('hidden', 'a list of positive whole numbers');
  if (!(Number.isInteger(s.epochs) && s.epochs >= 1)) bad('epochs', 'a whole number ≥ 1');
  if (!(Number.isInteger(s.batchSize) && s.batchSize >= 1)) bad('batchSize', 'a whole number ≥ 1');
  if (!(s.learningRate > 0)) bad('learningRate', 'positive');
  if (!(Number.isInteger(s.patience) && s.patience >= 1)) bad('patience', 'a whole number ≥ 1');
  if (!(s.validation >= 0 && s.validation < 1)) bad('validation', 'in [0, 1)');
  if (!(Number.isInteger(s.seed) && s.seed >= 0)) bad('seed', 'a whole number ≥ 0');
}

/**
 * The first layer's input: per movie, its stored entries as scaled, centred values (x_j − μ_j)·s_j, then
 * a 1 in column cols + g for every feature group g it has. Zero values are left out.
 */
export function autoencoderInput(rows: FeatureRows, groups: readonly FeatureGroup[], scaler: Scaler): CsrMatrix {
  const G = groups.length;
  const { mean, scale } = scaler;
  const n = rows.rows;
  const cap = rows.indptr[n]! + n * G;
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(cap);
  const values = new Float32Array(cap);
  let o = 0;
  for (let i = 0; i < n; i++) {
    for (let p = rows.indptr[i]!; p < rows.indptr[i + 1]!; p++) {
      const j = rows.indices[p]!;
      const v = (rows.values[p]! - mean[j]!) * scale[j]!;
      if (v === 0) continue;
      indices[o] = j;
      values[o++] = v;
    }
    for (let g = 0; g < G; g++)
      if (rows.present[i * G + g]) {
        indices[o] = rows.cols + g;
        values[o++] = 1;
      }
    indptr[i + 1] = o;
  }
  return { rows: n, cols: rows.cols + G, indptr, indices: indices.slice(0, o), values: values.slice(0, o) };
}

/**
 * The scaled, centred rows z as a reconstruction target without densifying them: the stored entries'
 * uncentred scaled values x_j·s_j, plus per present group g the row C_g holding −μ_j·s_j on g's columns.
 */
export function reconstructionTarget(
  rows: FeatureRows,
  groups: readonly FeatureGroup[],
  scaler: Scaler,
): ReconstructionTarget {
  const G = groups.length;
  const { mean, scale } = scaler;
  const n = rows.rows;
  const D = rows.cols;
  const nnz = rows.indptr[n]!;
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let o = 0;
  for (let i = 0; i < n; i++) {
    for (let p = rows.indptr[i]!; p < rows.indptr[i + 1]!; p++) {
      const j = rows.indices[p]!;
      const v = rows.values[p]! * scale[j]!;
      if (v === 0) continue;
      indices[o] = j;
      values[o++] = v;
    }
    indptr[i + 1] = o;
  }
  const basis = new Float32Array(G * D);
  groups.forEach((g, gi) => {
    for (let j = g.start; j < g.end; j++) basis[gi * D + j] = -mean[j]! * scale[j]!;
  });
  const coefficients = new Float32Array(n * G);
  for (let i = 0; i < n * G; i++) coefficients[i] = rows.present[i]!;
  return {
    sparse: { rows: n, cols: D, indptr, indices: indices.slice(0, o), values: values.slice(0, o) },
    coefficients,
    basis,
    k: G,
  };
}

/** Squared reconstruction error and squared norm of the target, summed per feature group. */
export interface ErrorSums {
  error: Float64Array;
  norm: Float64Array;
  movies: number;
}

export function relativeErrors(
  sums: ErrorSums,
  groups: readonly FeatureGroup[],
): { error: number; groups: { name: string; error: number }[] } {
  let e = 0;
  let z = 0;
  for (let g = 0; g < groups.length; g++) {
    e += sums.error[g]!;
    z += sums.norm[g]!;
  }
  return {
    error: z > 0 ? e / z : 0,
    groups: groups.map((g, gi) => ({ name: g.name, error: sums.norm[gi]! > 0 ? sums.error[gi]! / sums.norm[gi]! : 0 })),
  };
}

export interface AutoencoderEpoch {
  epoch: number;
  /** Mean over the epoch's movies of ‖z − ẑ‖². */
  trainLoss: number;
  validationLoss?: number;
  seconds: number;
}

export interface AutoencoderReport {
  hidden: number[];
  parameters: number;
  trainMovies: number;
  heldOutMovies: number;
  epochs: number;
  bestEpoch: number;
  stoppedEarly: boolean;
  /** Training seconds per epoch (validation included) and training rows per second. */
  secondsPerEpoch: number;
  samplesPerSecond: number;
  history: AutoencoderEpoch[];
}

export interface AutoencoderFit {
  encoder: ContentAutoencoder;
  /** n × outputDim codes of the fitted rows (not normalised). */
  codes: Float32Array;
  /** Row indices held out of training (ascending). */
  heldOut: Int32Array;
  /** Reconstruction errors on the held-out rows (empty sums when none are held out). */
  heldOutErrors: ErrorSums;
  report: AutoencoderReport;
}

/** Initial output weight scale: Glorot's E‖ẑ‖² brought to the mean ‖z‖² of the target rows (at most 1). */
function outputScale(hidden: number, width: number, target: ReconstructionTarget): number {
  const z = new Float64Array(width);
  const n = target.sparse.rows;
  const step = Math.max(1, Math.floor(n / 2000));
  let sum = 0;
  let count = 0;
  for (let r = 0; r < n; r += step, count++) {
    targetRow(target, r, z);
    for (let j = 0; j < width; j++) sum += z[j]! * z[j]!;
  }
  const meanNorm = sum / Math.max(1, count);
  const glorot = (2 * width * hidden) / (width + hidden);
  return meanNorm > 0 ? Math.min(1, Math.sqrt(meanNorm / glorot)) : 1;
}

/** Layer index of the code (the Linear after the last encoder layer) in the training network. */
const codeLayer = (hidden: readonly number[]) => 2 * hidden.length + 1;

/**
 * Trains the autoencoder on the scaled rows (scaler fitted on all of them) and returns the encoder, the
 * codes of every row and the held-out reconstruction errors. Deterministic for settings.seed.
 */
export function fitAutoencoder(
  rows: FeatureRows,
  groups: readonly FeatureGroup[],
  scaler: Scaler,
  dimensions: number,
  settings: AutoencoderSettings,
  onEpoch?: (e: AutoencoderEpoch) => void,
): AutoencoderFit {
  assertMayFit('the content autoencoder');
  checkAutoencoderSettings(settings);
  if (!(Number.isInteger(dimensions) && dimensions >= 1))
    throw new ValidationError('content.dimensions must be a whole number ≥ 1', 'content.dimensions');
  const n = rows.rows;
  if (n < 1) throw new Error('autoencoder: no rows to fit');
  const G = groups.length;
  const D = rows.cols;
  const input = autoencoderInput(rows, groups, scaler);
  const target = reconstructionTarget(rows, groups, scaler);

  // Seeded split: a share of the movies held out for early stopping and the reconstruction figures.
  const order = Int32Array.from({ length: n }, (_, i) => i);
  new Rng(settings.seed, 1).shuffle(order);
  let nVal = settings.validation > 0 ? Math.max(1, Math.round(n * settings.validation)) : 0;
  if (n - nVal < 1) nVal = 0;
  const heldOut = order.slice(0, nVal).sort();
  const trainIds = order.slice(nVal).sort();

  const rng = new Rng(settings.seed, 2);
  const batch = new RowBatch();
  const widths = [...settings.hidden];
  const first = widths.length > 0 ? widths[0]! : dimensions;
  const meanNnz = input.indptr[n]! / n;
  const layers: Layer[] = [
    new SparseInputDense(input.cols, first, 'he', rng, { fanIn: Math.max(1, meanNnz) }).bind(input, batch),
  ];
  // Encoder: ReLU between hidden layers, a linear code.
  let width = first;
  if (widths.length > 0) {
    layers.push(new ReLU());
    for (let i = 1; i < widths.length; i++) {
      layers.push(new SimdDense(width, widths[i]!, 'he', rng), new ReLU());
      width = widths[i]!;
    }
    layers.push(new SimdDense(width, dimensions, 'glorot', rng));
    width = dimensions;
  }
  layers.push(new Linear());
  // Decoder: the hidden widths mirrored, ReLU, then the linear output fused with the squared error.
  for (let i = widths.length - 1; i >= 0; i--) {
    layers.push(new SimdDense(width, widths[i]!, 'he', rng), new ReLU());
    width = widths[i]!;
  }
  // Glorot would start with E‖ẑ‖² ≈ 2·D·H/(D + H) for unit-scale hidden units, far above the rows' own
  // E‖z‖² (each group is scaled to a total variance of weight²): start the output at the data's scale.
  const output = new GramReconstruction(width, D, rng, outputScale(width, D, target)).bind(target, batch);
  layers.push(output);
  const net = new Sequential(layers, 1);

  const ids = (list: Int32Array) => Float32Array.from(list);
  const history: AutoencoderEpoch[] = [];
  let last = performance.now();
  const started = last;
  const result = train(
    net,
    { x: ids(trainIds), y: new Float32Array(trainIds.length) },
    {
      epochs: settings.epochs,
      batchSize: settings.batchSize,
      loss: meanOutput,
      optimizer: new Adam({ lr: settings.learningRate }),
      seed: settings.seed,
      ...(nVal > 0 ? { validation: { x: ids(heldOut), y: new Float32Array(nVal) }, patience: settings.patience } : {}),
      onEpoch: (s) => {
        const now = performance.now();
        const e: AutoencoderEpoch = {
          epoch: s.epoch,
          trainLoss: s.trainLoss,
          ...(s.validationLoss !== undefined ? { validationLoss: s.validationLoss } : {}),
          seconds: (now - last) / 1000,
        };
        last = now;
        history.push(e);
        onEpoch?.(e);
      },
    },
  );
  const trainSeconds = (performance.now() - started) / 1000;

  // Codes of every row, through the trained encoder layers (batches of 1024 row ids).
  const code = codeLayer(widths);
  const codes = new Float32Array(n * dimensions);
  const runTo = (upTo: number, from: number, count: number): Float32Array => {
    let h: Float32Array = Float32Array.from({ length: count }, (_, r) => from + r);
    for (let l = 0; l <= upTo; l++) h = net.layers[l]!.forward(h, count);
    return h;
  };
  for (let from = 0; from < n; from += 1024) {
    const count = Math.min(1024, n - from);
    codes.set(runTo(code, from, count), from * dimensions);
  }

  // Held-out reconstruction errors, measured directly (dense decode), per feature group.
  const heldOutErrors: ErrorSums = { error: new Float64Array(G), norm: new Float64Array(G), movies: nVal };
  if (nVal > 0) {
    const lastHidden = net.layers.length - 2;
    const groupOf = new Int32Array(D);
    groups.forEach((g, gi) => {
      groupOf.fill(gi, g.start, g.end);
    });
    const z = new Float64Array(D);
    const decoded = new Float32Array(256 * D);
    for (let at = 0; at < nVal; at += 256) {
      const count = Math.min(256, nVal - at);
      let h: Float32Array = ids(heldOut.subarray(at, at + count));
      for (let l = 0; l <= lastHidden; l++) h = net.layers[l]!.forward(h, count);
      output.decode(h, count, decoded);
      for (let r = 0; r < count; r++) {
        targetRow(target, heldOut[at + r]!, z);
        for (let j = 0; j < D; j++) {
          const g = groupOf[j]!;
          heldOutErrors.error[g] += (z[j]! - decoded[r * D + j]!) ** 2;
          heldOutErrors.norm[g] += z[j]! ** 2;
        }
      }
    }
  }

  const encoderLayers = net.layers
    .slice(1, code + 1)
    .map((l) => (l instanceof SimdDense ? new SimdDense(l.dense).freeze() : l));
  const inputLayer = net.layers[0] as SparseInputDense;
  const encoder = new ContentAutoencoder(
    D,
    dimensions,
    G,
    { weight: inputLayer.weight.value, bias: inputLayer.bias.value, outputs: first },
    new Sequential(encoderLayers, first),
    widths,
  );
  const epochs = result.history.length;
  return {
    encoder,
    codes,
    heldOut,
    heldOutErrors,
    report: {
      hidden: widths,
      parameters: net.parameterCount(),
      trainMovies: trainIds.length,
      heldOutMovies: nVal,
      epochs,
      bestEpoch: result.bestEpoch,
      stoppedEarly: result.stoppedEarly,
      secondsPerEpoch: epochs > 0 ? trainSeconds / epochs : 0,
      samplesPerSecond: trainSeconds > 0 ? (epochs * trainIds.length) / trainSeconds : 0,
      history,
    },
  };
}

interface AutoencoderMeta {
  hidden: number[];
  groups: number;
  firstWidth: number;
  spec: NetworkSpec;
}

/**
 * The trained encoder half: the sparse first layer's weights and the rest as a Sequential. Encodes one
 * scaled row at a time (a movie added live) exactly as the rows were encoded at fit time: the same
 * first-layer summation order and the same SIMD products.
 */
export class ContentAutoencoder implements Encoder {
  readonly kind = 'autoencoder';
  private readonly first: SparseInputDense;
  private readonly row: CsrMatrix;
  private readonly one = new Int32Array(1);

  constructor(
    readonly inputDim: number,
    readonly outputDim: number,
    /** Number of feature groups (presence flags after the inputDim columns). */
    readonly groups: number,
    input: { weight: Float32Array; bias: Float32Array; outputs: number },
    /** From the first layer's output to the code. */
    readonly net: Sequential,
    readonly hidden: readonly number[],
  ) {
    const cols = inputDim + groups;
    if (input.weight.length !== cols * input.outputs || input.bias.length !== input.outputs)
      throw new RangeError(`autoencoder: first layer arrays do not fit ${cols} × ${input.outputs}`);
    if (net.inputSize !== input.outputs || net.outputSize !== outputDim)
      throw new RangeError('autoencoder: encoder layers do not fit the first layer and the code size');
    // The saved weights, not a fresh initialisation (the Rng only fills arrays that are overwritten).
    this.first = new SparseInputDense(cols, input.outputs, 'he', new Rng(0));
    this.first.weight.value.set(input.weight);
    this.first.bias.value.set(input.bias);
    this.row = {
      rows: 1,
      cols,
      indptr: new Int32Array(2),
      indices: new Int32Array(cols),
      values: new Float32Array(cols),
    };
  }

  encode(z: ScaledRow, out: Float32Array, offset: number): void {
    const m = this.row;
    let o = 0;
    for (let p = 0; p < z.nnz; p++) {
      const v = Math.fround(z.values[p]!);
      if (v === 0) continue;
      m.indices[o] = z.indices[p]!;
      m.values[o++] = v;
    }
    for (let g = 0; g < this.groups; g++)
      if (z.present[g]) {
        m.indices[o] = this.inputDim + g;
        m.values[o++] = 1;
      }
    m.indptr[1] = o;
    // The net starts with the first layer's ReLU (or is only the linear code when there are no hidden layers).
    const h = this.net.forward(this.first.forwardRows(m, this.one, 1), 1);
    out.set(h.subarray(0, this.outputDim), offset);
  }

  save(): { meta: AutoencoderMeta; arrays: Record<string, Float32Array> } {
    const saved = this.net.toArrays();
    const arrays: Record<string, Float32Array> = {
      'autoencoder.input.weight': this.first.weight.value,
      'autoencoder.input.bias': this.first.bias.value,
    };
    saved.arrays.forEach((a, i) => {
      arrays[`autoencoder.layer.${i}`] = a;
    });
    return {
      meta: { hidden: [...this.hidden], groups: this.groups, firstWidth: this.first.outputs, spec: saved.spec },
      arrays,
    };
  }

  static load(
    inputDim: number,
    outputDim: number,
    meta: AutoencoderMeta,
    array: (name: string) => Float32Array,
  ): ContentAutoencoder {
    const count = meta.spec.layers.filter((l) => l.type === 'dense').length * 2;
    const arrays = Array.from({ length: count }, (_, i) => array(`autoencoder.layer.${i}`));
    const plain = Sequential.fromArrays(meta.spec, arrays);
    const layers = plain.layers.map((l) => (l instanceof Dense ? new SimdDense(l).freeze() : l));
    return new ContentAutoencoder(
      inputDim,
      outputDim,
      meta.groups,
      { weight: array('autoencoder.input.weight'), bias: array('autoencoder.input.bias'), outputs: meta.firstWidth },
      new Sequential(layers, meta.firstWidth),
      meta.hidden,
    );
  }
}

export type { AutoencoderMeta };
