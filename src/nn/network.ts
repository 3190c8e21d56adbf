/**
 * A sequential network, a mini-batch training loop with seeded shuffling and early stopping, and
 * save/load as plain typed arrays plus a JSON description.
 */
import { defaultKernelBackend } from '../math/kernels/index.ts';
import { Rng } from '../math/random.ts';
import { assertMayFit } from '../util/fit-guard.ts';
import { KernelNetwork, kernelTrainable } from './kernel-net.ts';
import { Dense, Dropout, type Layer, type LayerSpec, Linear, type Param, ReLU, Sigmoid } from './layers.ts';
import type { Loss } from './losses.ts';
import type { Optimizer } from './optim.ts';

/** JSON-serialisable description of a Sequential network. */
export interface NetworkSpec {
  format: 'cinerec-nn';
  version: 1;
  inputSize: number;
  layers: LayerSpec[];
}

/** A saved network: the spec plus one array per Param, in params() order (weight then bias per Dense). */
export interface SavedNetwork {
  spec: NetworkSpec;
  arrays: Float32Array[];
}

export class Sequential {
  readonly layers: readonly Layer[];
  readonly inputSize: number;
  readonly outputSize: number;
  private readonly paramList: Param[];

  /**
   * @param inputSize needed only when no layer fixes it (a network without Dense layers); otherwise
   *   it is taken from the first Dense layer and checked against this value if given.
   */
  constructor(layers: readonly Layer[], inputSize?: number) {
    if (layers.length === 0) throw new RangeError('Sequential needs at least one layer');
    const firstDense = layers.find((l): l is Dense => l instanceof Dense);
    const inferred = firstDense?.inputs ?? inputSize;
    if (inferred === undefined) throw new RangeError('Sequential: inputSize is required without a Dense layer');
    if (inputSize !== undefined && inputSize !== inferred)
      throw new RangeError(`Sequential: inputSize ${inputSize} does not match the first Dense layer (${inferred})`);
    let size = inferred;
    for (const layer of layers) size = layer.outputSize(size);
    this.layers = [...layers];
    this.inputSize = inferred;
    this.outputSize = size;
    this.paramList = this.layers.flatMap((l) => l.params());
  }

  params(): Param[] {
    return this.paramList;
  }

  parameterCount(): number {
    let n = 0;
    for (const p of this.paramList) n += p.value.length;
    return n;
  }

  setTraining(training: boolean): void {
    for (const layer of this.layers) layer.setTraining(training);
  }

  zeroGrad(): void {
    for (const p of this.paramList) p.grad.fill(0);
  }

  /** Forward pass in the current mode; the result is an internal buffer valid until the next call. */
  forward(x: Float32Array, rows: number): Float32Array {
    let h = x;
    for (const layer of this.layers) h = layer.forward(h, rows);
    return h;
  }

  /** Backpropagates d(loss)/d(output) of the last forward pass, accumulating parameter gradients. */
  backward(gradOut: Float32Array): void {
    let g = gradOut;
    for (let i = this.layers.length - 1; i >= 0; i--) g = this.layers[i]!.backward(g, i > 0);
  }

  /** Outputs for x (rows × inputSize) in evaluation mode, as a fresh array; works through batchSize rows at a time. */
  predict(x: Float32Array, batchSize = 1024): Float32Array {
    const rows = rowsOf(x, this.inputSize, 'predict: x');
    const out = new Float32Array(rows * this.outputSize);
    this.setTraining(false);
    for (let start = 0; start < rows; start += batchSize) {
      const n = Math.min(batchSize, rows - start);
      const y = this.forward(x.subarray(start * this.inputSize, (start + n) * this.inputSize), n);
      out.set(y, start * this.outputSize);
    }
    return out;
  }

  /** The spec and copies of all parameter arrays. */
  toArrays(): SavedNetwork {
    return {
      spec: {
        format: 'cinerec-nn',
        version: 1,
        inputSize: this.inputSize,
        layers: this.layers.map((l) => l.describe()),
      },
      arrays: this.paramList.map((p) => new Float32Array(p.value)),
    };
  }

  /**
   * Rebuilds a network from toArrays() output (the spec may have been through JSON). Arrays are copied.
   * rng only seeds dropout masks for further training; initial weights are overwritten anyway.
   */
  static fromArrays(spec: NetworkSpec, arrays: readonly Float32Array[], rng: Rng = new Rng(0)): Sequential {
    if (spec.format !== 'cinerec-nn' || spec.version !== 1)
      throw new RangeError(`unsupported network spec ${spec.format} v${spec.version}`);
    const layers = spec.layers.map((s): Layer => {
      switch (s.type) {
        case 'dense':
          return new Dense(s.inputs, s.outputs, 'glorot', rng);
        case 'relu':
          return new ReLU();
        case 'sigmoid':
          return new Sigmoid();
        case 'linear':
          return new Linear();
        case 'dropout':
          return new Dropout(s.p, rng);
        default:
          throw new RangeError(`unknown layer type ${(s as { type: string }).type}`);
      }
    });
    const net = new Sequential(layers, spec.inputSize);
    net.setWeights(arrays);
    return net;
  }

  /** Copies arrays (params() order) into the parameters. */
  setWeights(arrays: readonly Float32Array[]): void {
    const params = this.paramList;
    if (arrays.length !== params.length) throw new RangeError(`expected ${params.length} arrays, got ${arrays.length}`);
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      const a = arrays[i]!;
      if (a.length !== p.value.length)
        throw new RangeError(`array ${i} (${p.name}) has ${a.length} values, expected ${p.value.length}`);
      p.value.set(a);
    }
  }
}

function rowsOf(a: Float32Array, width: number, what: string): number {
  const rows = a.length / width;
  if (!Number.isInteger(rows)) throw new RangeError(`${what} has ${a.length} values, not a multiple of ${width}`);
  return rows;
}

export interface Dataset {
  /** rows × inputSize, row-major. */
  x: Float32Array;
  /** rows × outputSize, row-major. */
  y: Float32Array;
  /** rows × outputSize; entries ≠ 0 are observed (used by masked losses). */
  mask?: Float32Array;
}

export interface EpochStats {
  /** 1-based. */
  epoch: number;
  /** Mean training loss over the epoch's batches (weights as they were when each batch was seen). */
  trainLoss: number;
  /** Loss on the validation set after the epoch, in evaluation mode. */
  validationLoss?: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  loss: Loss;
  optimizer: Optimizer;
  validation?: Dataset;
  /**
   * Stop after this many epochs without a validation improvement (needs validation). Whenever a
   * validation set is given, the best epoch's weights are restored at the end. Default: never stop.
   */
  patience?: number;
  /** An epoch improves when its validation loss is below best − minDelta. Default 0. */
  minDelta?: number;
  /** Seeds the per-epoch shuffling. */
  seed: number;
  onEpoch?: (stats: EpochStats) => void;
}

export interface TrainResult {
  history: EpochStats[];
  /** The epoch whose weights the network holds afterwards (the best validation epoch, else the last). */
  bestEpoch: number;
  bestValidationLoss?: number;
  stoppedEarly: boolean;
}

function checkDataset(net: Sequential, data: Dataset, what: string): number {
  const rows = rowsOf(data.x, net.inputSize, `${what}.x`);
  if (data.y.length !== rows * net.outputSize)
    throw new RangeError(`${what}.y has ${data.y.length} values, expected ${rows} × ${net.outputSize}`);
  if (data.mask && data.mask.length !== data.y.length)
    throw new RangeError(`${what}.mask has ${data.mask.length} values, expected ${data.y.length}`);
  return rows;
}

/**
 * Mean loss of net on data in evaluation mode, combining batch means weighted by loss.count so the
 * result is the mean over the whole set (e.g. over all observed entries for masked losses).
 */
export function evaluate(net: Sequential, data: Dataset, loss: Loss, batchSize = 1024): number {
  const rows = checkDataset(net, data, 'evaluate');
  const nIn = net.inputSize;
  const nOut = net.outputSize;
  const grad = new Float32Array(Math.min(batchSize, Math.max(rows, 1)) * nOut);
  net.setTraining(false);
  let total = 0;
  let count = 0;
  for (let start = 0; start < rows; start += batchSize) {
    const n = Math.min(batchSize, rows - start);
    const pred = net.forward(data.x.subarray(start * nIn, (start + n) * nIn), n);
    const y = data.y.subarray(start * nOut, (start + n) * nOut);
    const m = data.mask?.subarray(start * nOut, (start + n) * nOut);
    const c = loss.count(y.length, m);
    if (c === 0) continue;
    total += loss.compute(pred, y, grad.subarray(0, n * nOut), m) * c;
    count += c;
  }
  return count === 0 ? 0 : total / count;
}

/** evaluate() through a KernelNetwork's forward pass (float32 products): the validation loss while training there. */
function evaluateOn(kn: KernelNetwork, data: Dataset, loss: Loss): number {
  const nIn = kn.inputSize;
  const nOut = kn.outputSize;
  const rows = data.x.length / nIn;
  const bs = kn.maxBatch;
  const grad = new Float32Array(bs * nOut);
  let total = 0;
  let count = 0;
  for (let start = 0; start < rows; start += bs) {
    const n = Math.min(bs, rows - start);
    kn.input(n).set(data.x.subarray(start * nIn, (start + n) * nIn));
    const pred = kn.forward(n, false);
    const y = data.y.subarray(start * nOut, (start + n) * nOut);
    const m = data.mask?.subarray(start * nOut, (start + n) * nOut);
    const c = loss.count(y.length, m);
    if (c === 0) continue;
    total += loss.compute(pred, y, grad.subarray(0, n * nOut), m) * c;
    count += c;
  }
  return count === 0 ? 0 : total / count;
}

/**
 * Mini-batch training. Each epoch visits the rows in a fresh order from Rng(seed); the network is in
 * training mode for the updates and evaluation mode for validation. The net is modified in place.
 *
 * A network of the core's own layers (Dense, ReLU, Linear, Sigmoid, Dropout) trains on the SIMD kernel layer
 * (kernel-net.ts: float32 GEMMs, fused bias and ReLU, SIMD Adam), validation included; its weights, and an
 * Adam optimiser's moments, are written back at the end. Other layers (the sparse and fused layers of
 * sparse.ts) train through their own forward and backward.
 */
export function train(net: Sequential, data: Dataset, options: TrainOptions): TrainResult {
  if (defaultKernelBackend === 'simd' && kernelTrainable(net)) return trainOnKernels(net, data, options);
  return trainLayers(net, data, options);
}

/** train() on the kernel layer: the same epochs, shuffles, losses and early stopping. */
function trainOnKernels(net: Sequential, data: Dataset, options: TrainOptions): TrainResult {
  assertMayFit('a neural network');
  const { epochs, batchSize, loss, optimizer, validation, onEpoch } = options;
  const patience = options.patience ?? Number.POSITIVE_INFINITY;
  const minDelta = options.minDelta ?? 0;
  if (!(Number.isInteger(epochs) && epochs >= 0)) throw new RangeError(`epochs must be a non-negative integer`);
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`batchSize must be a positive integer`);
  const rows = checkDataset(net, data, 'data');
  if (validation) checkDataset(net, validation, 'validation');
  const nIn = net.inputSize;
  const nOut = net.outputSize;
  const rng = new Rng(options.seed);
  const order = new Int32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  const bs = Math.min(batchSize, Math.max(rows, 1));
  const { x, y, mask } = data;
  // The training inputs go into kernel memory once (up to 1 GiB), so a batch is gathered row by row there.
  const attach = x.byteLength <= 1 << 30;
  const kn = new KernelNetwork(net, optimizer, {
    maxBatch: Math.max(bs, 256),
    extraBytes: attach ? x.byteLength + 64 : 0,
  });
  const xAt = attach ? kn.attach(x) : 0;
  const yb = new Float32Array(bs * nOut);
  const mb = data.mask ? new Float32Array(bs * nOut) : undefined;
  let best: Float32Array[] | null = null;
  let bestLoss = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  let sinceBest = 0;
  let stoppedEarly = false;
  const history: EpochStats[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    rng.shuffle(order);
    let total = 0;
    let count = 0;
    for (let start = 0; start < rows; start += bs) {
      const n = Math.min(bs, rows - start);
      const yv = n === bs ? yb : yb.subarray(0, n * nOut);
      const mv = mb ? (n === bs ? mb : mb.subarray(0, n * nOut)) : undefined;
      const batch = order.subarray(start, start + n);
      if (attach) kn.gatherInput(xAt, nIn, batch, n);
      else {
        const xv = kn.input(n);
        for (let r = 0; r < n; r++) xv.set(x.subarray(batch[r]! * nIn, (batch[r]! + 1) * nIn), r * nIn);
      }
      for (let r = 0; r < n; r++) {
        const src = batch[r]!;
        const yo = src * nOut;
        for (let j = 0; j < nOut; j++) yv[r * nOut + j] = y[yo + j]!;
        if (mv && mask) for (let j = 0; j < nOut; j++) mv[r * nOut + j] = mask[yo + j]!;
      }
      const c = loss.count(yv.length, mv);
      if (c === 0) continue;
      const pred = kn.forward(n, true);
      total += loss.compute(pred, yv, kn.outputGrad(), mv) * c;
      count += c;
      kn.backward();
      kn.step();
    }
    const stats: EpochStats = { epoch, trainLoss: count === 0 ? 0 : total / count };
    if (validation) {
      const v = evaluateOn(kn, validation, loss);
      stats.validationLoss = v;
      if (v < bestLoss - minDelta || (bestEpoch === 0 && Number.isFinite(v))) {
        bestLoss = v;
        bestEpoch = epoch;
        sinceBest = 0;
        best = kn.snapshot(best ?? undefined);
      } else {
        sinceBest++;
      }
    }
    history.push(stats);
    onEpoch?.(stats);
    if (validation && sinceBest >= patience && epoch < epochs) {
      stoppedEarly = true;
      break;
    }
  }
  if (validation && bestEpoch > 0 && best) kn.restore(best);
  kn.copyTo();
  net.setTraining(false);
  if (validation && bestEpoch > 0) return { history, bestEpoch, bestValidationLoss: bestLoss, stoppedEarly };
  return { history, bestEpoch: history.length, stoppedEarly };
}

/** train() through the layers' own forward and backward passes. */
function trainLayers(net: Sequential, data: Dataset, options: TrainOptions): TrainResult {
  assertMayFit('a neural network');
  const { epochs, batchSize, loss, optimizer, validation, onEpoch } = options;
  const patience = options.patience ?? Number.POSITIVE_INFINITY;
  const minDelta = options.minDelta ?? 0;
  if (!(Number.isInteger(epochs) && epochs >= 0)) throw new RangeError(`epochs must be a non-negative integer`);
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`batchSize must be a positive integer`);
  const rows = checkDataset(net, data, 'data');
  if (validation) checkDataset(net, validation, 'validation');

  const nIn = net.inputSize;
  const nOut = net.outputSize;
  const rng = new Rng(options.seed);
  const order = new Int32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;

  // Batch buffers, plus views for the final partial batch, made once.
  const bs = Math.min(batchSize, Math.max(rows, 1));
  const rem = rows % bs;
  const xb = new Float32Array(bs * nIn);
  const yb = new Float32Array(bs * nOut);
  const mb = data.mask ? new Float32Array(bs * nOut) : undefined;
  const gb = new Float32Array(bs * nOut);
  const xr = xb.subarray(0, rem * nIn);
  const yr = yb.subarray(0, rem * nOut);
  const mr = mb?.subarray(0, rem * nOut);
  const gr = gb.subarray(0, rem * nOut);

  const params = net.params();
  const best = params.map((p) => new Float32Array(p.value));
  let bestLoss = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  let sinceBest = 0;
  let stoppedEarly = false;
  const history: EpochStats[] = [];
  const { x, y, mask } = data;

  for (let epoch = 1; epoch <= epochs; epoch++) {
    rng.shuffle(order);
    net.setTraining(true);
    let total = 0;
    let count = 0;
    for (let start = 0; start < rows; start += bs) {
      const n = Math.min(bs, rows - start);
      const full = n === bs;
      const xv = full ? xb : xr;
      const yv = full ? yb : yr;
      const mv = full ? mb : mr;
      const gv = full ? gb : gr;
      for (let r = 0; r < n; r++) {
        const src = order[start + r]!;
        xv.set(x.subarray(src * nIn, (src + 1) * nIn), r * nIn);
        yv.set(y.subarray(src * nOut, (src + 1) * nOut), r * nOut);
        if (mv && mask) mv.set(mask.subarray(src * nOut, (src + 1) * nOut), r * nOut);
      }
      const c = loss.count(yv.length, mv);
      if (c === 0) continue; // nothing observed: no gradient, and Adam should not take an empty step
      net.zeroGrad();
      const pred = net.forward(xv, n);
      total += loss.compute(pred, yv, gv, mv) * c;
      count += c;
      net.backward(gv);
      optimizer.step(params);
    }
    const stats: EpochStats = { epoch, trainLoss: count === 0 ? 0 : total / count };
    if (validation) {
      const v = evaluate(net, validation, loss, Math.max(bs, 1024));
      stats.validationLoss = v;
      if (v < bestLoss - minDelta || (bestEpoch === 0 && Number.isFinite(v))) {
        bestLoss = v;
        bestEpoch = epoch;
        sinceBest = 0;
        for (let i = 0; i < params.length; i++) best[i]!.set(params[i]!.value);
      } else {
        sinceBest++;
      }
    }
    history.push(stats);
    onEpoch?.(stats);
    if (validation && sinceBest >= patience && epoch < epochs) {
      stoppedEarly = true;
      break;
    }
  }
  net.setTraining(false);

  if (validation && bestEpoch > 0) {
    for (let i = 0; i < params.length; i++) params[i]!.value.set(best[i]!);
    return { history, bestEpoch, bestValidationLoss: bestLoss, stoppedEarly };
  }
  return { history, bestEpoch: history.length, stoppedEarly };
}
