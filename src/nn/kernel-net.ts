/**
 * Training a Sequential network on the kernel layer (src/math/kernels): the parameters, their gradients, the
 * optimiser's moments, a batch of inputs and every layer's activations live in one KernelMemory, and a step is a
 * handful of kernel calls with no copies between layers:
 *
 * - Dense forward: Y = X·W (gemm_strided), then + b and, when a ReLU follows, max(·, 0) in the same pass
 *   (bias_act; the ReLU layer itself is then skipped);
 * - Dense backward: the ReLU mask on the incoming gradient (relu_back, from the layer's output), dW = Xᵀ·G and
 *   dX = G·Wᵀ as strided GEMMs reading the transposes in place, db = column sums of G (colsum);
 * - Adam as one SIMD pass over all weights and one over all biases (adam); any other optimiser runs its own
 *   TypeScript step on views of the kernel memory.
 *
 * Other layers (sigmoid, dropout, a ReLU that no Dense precedes, identity) run their own TypeScript forward and
 * backward on views, their results copied into the kernel buffers, so any Sequential of the nn core's layers can
 * train here. Products are float32 GEMMs (the Dense layer's own loops accumulate in float64): a network trained
 * here and one trained by Dense's loops differ by rounding, and this class never changes how a trained network
 * predicts: after training, `copyTo` writes the weights back into the Sequential, whose own forward pass (the
 * one every inference path uses) is untouched.
 *
 * Parameter gradients are overwritten by each backward (one backward per optimiser step, as in train()).
 * Deterministic: single-threaded kernels, summation orders fixed by the shapes.
 */
import {
  bindKernels,
  defaultKernelBackend,
  GEMM_SCRATCH_BYTES,
  type KernelBackend,
  type KernelFunctions,
  KernelMemory,
} from '../math/kernels/index.ts';
import { Dense, Dropout, type Layer, Linear, type Param, ReLU, Sigmoid } from './layers.ts';
import { Adam, type Optimizer } from './optim.ts';

/** What KernelNetwork needs of a Sequential (structural, so that network.ts can use this module). */
export interface LayeredNetwork {
  readonly layers: readonly Layer[];
  readonly inputSize: number;
  readonly outputSize: number;
  setTraining(training: boolean): void;
}

const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

interface DenseOp {
  kind: 'dense';
  layer: Dense;
  inputs: number;
  outputs: number;
  /** Offsets of W (inputs × outputs), b, dW, db. */
  w: number;
  b: number;
  dw: number;
  db: number;
  relu: boolean;
}

interface JsOp {
  kind: 'js';
  layer: Layer;
  width: number;
}

interface IdentityOp {
  kind: 'identity';
  width: number;
}

type Op = (DenseOp | JsOp | IdentityOp) & {
  /** Offset of the op's input and output (rows × width) in kernel memory. */
  input: number;
  inWidth: number;
  output: number;
  outWidth: number;
};

export interface KernelNetworkOptions {
  /** The largest batch forward/backward will see (predict works through larger inputs in batches). */
  maxBatch: number;
  backend?: KernelBackend;
  /** Bytes reserved for the caller's own arrays in the same memory (attach()), e.g. a training set to gather from. */
  extraBytes?: number;
}

/** Whether every layer of a network is one KernelNetwork can run (the nn core's own layer classes). */
export function kernelTrainable(net: LayeredNetwork): boolean {
  // Exact classes: a subclass may override forward, which the kernels would not follow.
  const core = new Set<unknown>([Dense, ReLU, Linear, Sigmoid, Dropout]);
  return net.layers.every((l) => core.has(Object.getPrototypeOf(l)?.constructor));
}

export class KernelNetwork {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly maxBatch: number;
  private readonly mem: KernelMemory;
  private readonly fn: KernelFunctions;
  private readonly ops: Op[];
  private readonly pack: number;
  private readonly inputPtr: number;
  /** Two gradient buffers of maxBatch × widest, used in turn going backwards. */
  private readonly grads: [number, number];
  /** Weights, then biases, each group contiguous; gradients and Adam moments in the same layout. */
  private readonly weightsAt: number;
  private readonly weightCount: number;
  private readonly biasesAt: number;
  private readonly biasCount: number;
  private readonly gradOffset: number;
  private readonly mOffset: number;
  private readonly vOffset: number;
  private readonly kernelParams: Param[];
  private readonly sources: Param[];
  private adamSteps = 0;
  private rows = 0;
  /** maxBatch i32 row indices for gatherInput. */
  private readonly indexPtr: number;

  constructor(
    private readonly net: LayeredNetwork,
    private readonly optimizer: Optimizer | null,
    options: KernelNetworkOptions,
  ) {
    if (!kernelTrainable(net)) throw new Error('KernelNetwork: the network has a layer it cannot run');
    const maxBatch = options.maxBatch;
    if (!(Number.isInteger(maxBatch) && maxBatch >= 1)) throw new RangeError('KernelNetwork: maxBatch must be ≥ 1');
    this.maxBatch = maxBatch;
    this.inputSize = net.inputSize;
    this.outputSize = net.outputSize;

    // Sizes first: parameters, activations, gradient buffers, GEMM scratch.
    const dense = net.layers.filter((l): l is Dense => l instanceof Dense);
    const weightCount = dense.reduce((s, d) => s + d.inputs * d.outputs, 0);
    const biasCount = dense.reduce((s, d) => s + d.outputs, 0);
    const paramBytes = align(4 * weightCount) + align(4 * biasCount);
    let widest = net.inputSize;
    let activationBytes = align(4 * maxBatch * net.inputSize);
    let width = net.inputSize;
    for (const l of net.layers) {
      width = l.outputSize(width);
      widest = Math.max(widest, width);
      activationBytes += align(4 * maxBatch * width);
    }
    const extra = options.extraBytes ?? 0;
    if (!(Number.isSafeInteger(extra) && extra >= 0)) throw new RangeError('KernelNetwork: bad extraBytes');
    const total =
      4 * paramBytes +
      activationBytes +
      2 * align(4 * maxBatch * widest) +
      align(4 * maxBatch) +
      GEMM_SCRATCH_BYTES +
      extra +
      4096;
    this.mem = KernelMemory.create(total, total + (1 << 20));
    this.fn = bindKernels(this.mem, options.backend ?? defaultKernelBackend);
    const mem = this.mem;

    this.weightCount = weightCount;
    this.biasCount = biasCount;
    this.weightsAt = mem.alloc(4 * weightCount);
    this.biasesAt = mem.alloc(4 * biasCount);
    const block = mem.used - this.weightsAt;
    // Gradients and moments mirror the parameter block at fixed distances.
    const g = mem.alloc(block);
    const m = mem.alloc(block);
    const v = mem.alloc(block);
    this.gradOffset = g - this.weightsAt;
    this.mOffset = m - this.weightsAt;
    this.vOffset = v - this.weightsAt;
    mem.f32At(g, (3 * block) / 4).fill(0);
    this.pack = mem.alloc(GEMM_SCRATCH_BYTES);
    this.inputPtr = mem.alloc(4 * maxBatch * net.inputSize);
    this.grads = [mem.alloc(4 * maxBatch * widest), mem.alloc(4 * maxBatch * widest)];
    this.indexPtr = mem.alloc(4 * maxBatch);

    // Ops: every Dense owns a slice of the parameter block; a ReLU right after a Dense is fused into it.
    const ops: Op[] = [];
    let wAt = this.weightsAt;
    let bAt = this.biasesAt;
    let input = this.inputPtr;
    let inWidth = net.inputSize;
    const layers = net.layers;
    this.sources = [];
    this.kernelParams = [];
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i]!;
      const outWidth = layer.outputSize(inWidth);
      if (layer instanceof Dense) {
        const relu = layers[i + 1] instanceof ReLU;
        const output = mem.alloc(4 * maxBatch * outWidth);
        const op: Op = {
          kind: 'dense',
          layer,
          inputs: layer.inputs,
          outputs: layer.outputs,
          w: wAt,
          b: bAt,
          dw: wAt + this.gradOffset,
          db: bAt + this.gradOffset,
          relu,
          input,
          inWidth,
          output,
          outWidth,
        };
        mem.f32At(wAt, layer.inputs * layer.outputs).set(layer.weight.value);
        mem.f32At(bAt, layer.outputs).set(layer.bias.value);
        this.sources.push(layer.weight, layer.bias);
        this.kernelParams.push(
          this.viewParam(layer.weight, wAt, layer.inputs * layer.outputs),
          this.viewParam(layer.bias, bAt, layer.outputs),
        );
        wAt += 4 * layer.inputs * layer.outputs;
        bAt += 4 * layer.outputs;
        ops.push(op);
        input = output;
        inWidth = outWidth;
        if (relu) i++;
      } else if (layer instanceof Linear) {
        ops.push({ kind: 'identity', width: outWidth, input, inWidth, output: input, outWidth });
      } else {
        const output = mem.alloc(4 * maxBatch * outWidth);
        ops.push({ kind: 'js', layer, width: outWidth, input, inWidth, output, outWidth });
        input = output;
        inWidth = outWidth;
      }
    }
    this.ops = ops;
    if (optimizer instanceof Adam) {
      // Continue from the optimiser's own state (moments and step count), as its TypeScript step would.
      this.adamSteps = optimizer.steps;
      for (let p = 0; p < this.sources.length; p++) {
        const own = optimizer.momentsOf(this.sources[p]!);
        const at = this.kernelParams[p]!;
        this.momentView(at, this.mOffset).set(own.m);
        this.momentView(at, this.vOffset).set(own.v);
      }
    }
  }

  private viewParam(source: Param, at: number, length: number): Param {
    return {
      name: source.name,
      value: this.mem.f32At(at, length),
      grad: this.mem.f32At(at + this.gradOffset, length),
      decay: source.decay,
    };
  }

  private momentView(p: Param, offset: number): Float32Array {
    return this.mem.f32At(p.value.byteOffset + offset, p.value.length);
  }

  /** The input rows of the next forward (rows × inputSize, a view of kernel memory): fill it, then forward(rows). */
  input(rows: number): Float32Array {
    this.checkRows(rows);
    return this.mem.f32At(this.inputPtr, rows * this.inputSize);
  }

  /**
   * Copies an array into the network's memory (within options.extraBytes) and returns its offset, for
   * gatherInput. It stays there for the network's lifetime.
   */
  attach(data: Float32Array): number {
    return this.mem.copyIn(data);
  }

  /**
   * Fills input columns [column, column + width) of batch rows t < count with rows indices[t] of an attached
   * matrix (at `src`, rows of `stride` floats): one memory copy per row, no TypeScript loop over values.
   */
  gatherInput(src: number, stride: number, indices: Int32Array, count: number, column = 0, width = stride): void {
    this.checkRows(count);
    if (!(column >= 0 && width >= 0 && column + width <= this.inputSize && width <= stride))
      throw new RangeError(`gatherInput: columns [${column}, ${column + width}) outside the ${this.inputSize} inputs`);
    this.mem.i32At(this.indexPtr, count).set(indices.subarray(0, count));
    this.fn.gather_rows(
      src,
      4 * stride,
      this.indexPtr,
      count,
      this.inputPtr + 4 * column,
      4 * this.inputSize,
      4 * width,
    );
  }

  private checkRows(rows: number): void {
    if (!(Number.isInteger(rows) && rows >= 0 && rows <= this.maxBatch))
      throw new RangeError(`KernelNetwork: ${rows} rows, at most ${this.maxBatch}`);
  }

  private get lastOutput(): number {
    return this.ops.length ? this.ops[this.ops.length - 1]!.output : this.inputPtr;
  }

  /**
   * Forward pass of the rows in input(): training mode switches dropout on. Returns the output (rows ×
   * outputSize), a view valid until the next forward.
   */
  forward(rows: number, training: boolean): Float32Array {
    this.checkRows(rows);
    this.rows = rows;
    const fn = this.fn;
    const mem = this.mem;
    for (const op of this.ops) {
      if (op.kind === 'dense') {
        const { inputs, outputs } = op;
        fn.gemm_strided(
          rows,
          outputs,
          inputs,
          op.input,
          4 * inputs,
          4,
          op.w,
          4 * outputs,
          4,
          op.output,
          outputs,
          0,
          this.pack,
        );
        fn.bias_act(op.output, rows, outputs, outputs, op.b, op.relu ? 1 : 0);
      } else if (op.kind === 'js') {
        op.layer.setTraining(training);
        const y = op.layer.forward(mem.f32At(op.input, rows * op.inWidth), rows);
        const out = mem.f32At(op.output, rows * op.outWidth);
        if (y !== out) out.set(y);
      }
    }
    return mem.f32At(this.lastOutput, rows * this.outputSize);
  }

  /** Where the caller writes d(loss)/d(output) of the last forward (rows × outputSize) before backward(). */
  outputGrad(): Float32Array {
    return this.mem.f32At(this.grads[0], this.rows * this.outputSize);
  }

  /** Backpropagates outputGrad() through the last forward; parameter gradients are overwritten. */
  backward(): void {
    const rows = this.rows;
    const fn = this.fn;
    const mem = this.mem;
    let g = 0;
    for (let i = this.ops.length - 1; i >= 0; i--) {
      const op = this.ops[i]!;
      const gOut = this.grads[g]!;
      const gIn = this.grads[1 - g]!;
      const needIn = i > 0;
      if (op.kind === 'dense') {
        const { inputs, outputs } = op;
        if (op.relu) fn.relu_back(gOut, op.output, rows * outputs);
        // dW = Xᵀ·G: op(A) = Xᵀ read in place (rsa 4, csa a row of X).
        fn.gemm_strided(
          inputs,
          outputs,
          rows,
          op.input,
          4,
          4 * inputs,
          gOut,
          4 * outputs,
          4,
          op.dw,
          outputs,
          0,
          this.pack,
        );
        fn.colsum(gOut, rows, outputs, outputs, op.db, 0);
        if (needIn) {
          // dX = G·Wᵀ: op(B) = Wᵀ gathered while packed (rsb 4, csb a row of W).
          fn.gemm_strided(rows, inputs, outputs, gOut, 4 * outputs, 4, op.w, 4, 4 * outputs, gIn, inputs, 0, this.pack);
          g = 1 - g;
        }
      } else if (op.kind === 'js') {
        const gi = op.layer.backward(mem.f32At(gOut, rows * op.outWidth), needIn);
        if (needIn) {
          mem.f32At(gIn, rows * op.inWidth).set(gi);
          g = 1 - g;
        }
      }
    }
  }

  /** One optimiser step from the gradients of the last backward. */
  step(): void {
    const opt = this.optimizer;
    if (!opt) throw new Error('KernelNetwork: no optimiser');
    if (!(opt instanceof Adam)) {
      opt.step(this.kernelParams);
      return;
    }
    this.adamSteps++;
    const t = this.adamSteps;
    const c1 = 1 - opt.beta1 ** t;
    const c2 = 1 - opt.beta2 ** t;
    const step = opt.lr / c1;
    const shrink = opt.weightDecay > 0 ? 1 - opt.lr * opt.weightDecay : 1;
    const run = (at: number, count: number, s: number) =>
      this.fn.adam(
        at,
        at + this.gradOffset,
        at + this.mOffset,
        at + this.vOffset,
        count,
        opt.beta1,
        opt.beta2,
        step,
        1 / c2,
        opt.eps,
        s,
        0,
      );
    run(this.weightsAt, this.weightCount, shrink);
    run(this.biasesAt, this.biasCount, 1);
  }

  /** Outputs for x (rows × inputSize) in evaluation mode, as a fresh array, maxBatch rows at a time. */
  predict(x: Float32Array): Float32Array {
    const rows = x.length / this.inputSize;
    if (!Number.isInteger(rows)) throw new RangeError(`predict: ${x.length} values are not rows of ${this.inputSize}`);
    const out = new Float32Array(rows * this.outputSize);
    for (let start = 0; start < rows; start += this.maxBatch) {
      const n = Math.min(this.maxBatch, rows - start);
      this.input(n).set(x.subarray(start * this.inputSize, (start + n) * this.inputSize));
      out.set(this.forward(n, false), start * this.outputSize);
    }
    return out;
  }

  /** Copies of the current parameters, in the Sequential's params() order. */
  snapshot(into?: Float32Array[]): Float32Array[] {
    const out = into ?? this.kernelParams.map((p) => new Float32Array(p.value.length));
    this.kernelParams.forEach((p, i) => {
      out[i]!.set(p.value);
    });
    return out;
  }

  /** Loads parameters (params() order) into the kernel copy. */
  restore(arrays: readonly Float32Array[]): void {
    this.kernelParams.forEach((p, i) => {
      p.value.set(arrays[i]!);
    });
  }

  /**
   * Writes the parameters back into the Sequential (and the Adam moments and step count into its optimiser),
   * so that it predicts, saves and continues training as if it had been trained by its own loops.
   */
  copyTo(): void {
    this.sources.forEach((p, i) => {
      p.value.set(this.kernelParams[i]!.value);
    });
    const opt = this.optimizer;
    if (opt instanceof Adam) {
      opt.restoreSteps(this.adamSteps);
      this.sources.forEach((p, i) => {
        const own = opt.momentsOf(p);
        own.m.set(this.momentView(this.kernelParams[i]!, this.mOffset));
        own.v.set(this.momentView(this.kernelParams[i]!, this.vOffset));
      });
    }
    this.net.setTraining(false);
  }
}
