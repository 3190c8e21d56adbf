/**
 * Neural-network layers over row-major float32 batches (rows × features).
 *
 * Every layer owns its output and input-gradient buffers: they grow when a larger batch arrives and
 * are reused afterwards, so forward/backward allocate nothing in steady state. The arrays returned by
 * forward/backward are therefore only valid until the layer's next call; copy them to keep them.
 * Randomness (initialisation, dropout masks) comes from a caller-owned Rng, never global state.
 */
import type { Rng } from '../math/random.ts';

/** A trainable tensor and its gradient (same length). backward() adds into grad; zero it between steps. */
export interface Param {
  readonly name: string;
  readonly value: Float32Array;
  readonly grad: Float32Array;
  /** Whether weight decay applies (weights yes, biases no). */
  readonly decay: boolean;
}

/** JSON-serialisable description of a layer (its parameters travel separately as typed arrays). */
export type LayerSpec =
  | { type: 'dense'; inputs: number; outputs: number }
  | { type: 'relu' }
  | { type: 'sigmoid' }
  | { type: 'linear' }
  | { type: 'dropout'; p: number };

export interface Layer {
  /** Output width for a given input width (throws when the input width does not fit the layer). */
  outputSize(inputSize: number): number;
  /** x holds rows × inputSize values; returns rows × outputSize values (an internal buffer). */
  forward(x: Float32Array, rows: number): Float32Array;
  /**
   * Gradient of the loss w.r.t. this layer's output (same shape as the last forward output) →
   * gradient w.r.t. its input. Parameter gradients are accumulated (added) into Param.grad.
   * With computeGradIn = false only the parameter gradients are computed and an empty array returned.
   */
  backward(gradOut: Float32Array, computeGradIn?: boolean): Float32Array;
  params(): Param[];
  /** Training mode switches dropout on; evaluation mode (the default) makes it the identity. */
  setTraining(training: boolean): void;
  describe(): LayerSpec;
}

const EMPTY = new Float32Array(0);

/** A growable float32 buffer handing out exact-length views; reallocates only when capacity grows. */
export class Scratch {
  private buffer = new Float32Array(0);
  private view = this.buffer;

  get(length: number): Float32Array {
    if (this.view.length === length) return this.view;
    if (this.buffer.length < length) this.buffer = new Float32Array(Math.max(length, this.buffer.length * 2));
    this.view = this.buffer.subarray(0, length);
    return this.view;
  }
}

function checkRows(x: Float32Array, rows: number, width: number, what: string): void {
  if (!(Number.isInteger(rows) && rows >= 0) || x.length !== rows * width)
    throw new RangeError(`${what}: expected ${rows} rows × ${width} = ${rows * width} values, got ${x.length}`);
}

export type Init = 'he' | 'glorot';

/** Fully connected layer y = x·W + b with W stored row-major as inputs × outputs. */
export class Dense implements Layer {
  readonly weight: Param;
  readonly bias: Param;
  private input: Float32Array = EMPTY;
  private rows = 0;
  private readonly out = new Scratch();
  private readonly gradIn = new Scratch();
  /** Float64 accumulator for one output row, so sums over many inputs keep their precision. */
  private readonly acc: Float64Array;

  constructor(
    readonly inputs: number,
    readonly outputs: number,
    init: Init,
    rng: Rng,
  ) {
    if (!(Number.isInteger(inputs) && inputs > 0 && Number.isInteger(outputs) && outputs > 0))
      throw new RangeError(`Dense needs positive integer sizes, got ${inputs} × ${outputs}`);
    const w = new Float32Array(inputs * outputs);
    if (init === 'he') {
      const sd = Math.sqrt(2 / inputs);
      for (let i = 0; i < w.length; i++) w[i] = rng.normal() * sd;
    } else if (init === 'glorot') {
      const a = Math.sqrt(6 / (inputs + outputs));
      for (let i = 0; i < w.length; i++) w[i] = (2 * rng.next() - 1) * a;
    } else {
      throw new RangeError(`unknown init ${String(init)}`);
    }
    this.weight = { name: 'weight', value: w, grad: new Float32Array(w.length), decay: true };
    this.bias = { name: 'bias', value: new Float32Array(outputs), grad: new Float32Array(outputs), decay: false };
    this.acc = new Float64Array(outputs);
  }

  outputSize(inputSize: number): number {
    if (inputSize !== this.inputs) throw new RangeError(`Dense expects ${this.inputs} inputs, got ${inputSize}`);
    return this.outputs;
  }

  forward(x: Float32Array, rows: number): Float32Array {
    const nIn = this.inputs;
    const nOut = this.outputs;
    checkRows(x, rows, nIn, 'Dense.forward');
    const y = this.out.get(rows * nOut);
    const w = this.weight.value;
    const b = this.bias.value;
    const acc = this.acc;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < nOut; j++) acc[j] = b[j]!;
      const xo = r * nIn;
      for (let k = 0; k < nIn; k++) {
        const xk = x[xo + k]!;
        if (xk === 0) continue; // sparse inputs (ratings, ReLU outputs) are common
        const wo = k * nOut;
        for (let j = 0; j < nOut; j++) acc[j] += xk * w[wo + j]!;
      }
      const yo = r * nOut;
      for (let j = 0; j < nOut; j++) y[yo + j] = acc[j]!;
    }
    this.input = x;
    this.rows = rows;
    return y;
  }

  backward(gradOut: Float32Array, computeGradIn = true): Float32Array {
    const nIn = this.inputs;
    const nOut = this.outputs;
    const rows = this.rows;
    const x = this.input;
    checkRows(gradOut, rows, nOut, 'Dense.backward');
    const w = this.weight.value;
    const dw = this.weight.grad;
    const db = this.bias.grad;
    for (let r = 0; r < rows; r++) {
      const go = r * nOut;
      for (let j = 0; j < nOut; j++) db[j] += gradOut[go + j]!;
      const xo = r * nIn;
      for (let k = 0; k < nIn; k++) {
        const xk = x[xo + k]!;
        if (xk === 0) continue;
        const wo = k * nOut;
        for (let j = 0; j < nOut; j++) dw[wo + j] += xk * gradOut[go + j]!;
      }
    }
    if (!computeGradIn) return EMPTY;
    const gi = this.gradIn.get(rows * nIn);
    for (let r = 0; r < rows; r++) {
      const go = r * nOut;
      const io = r * nIn;
      for (let k = 0; k < nIn; k++) {
        const wo = k * nOut;
        let s = 0;
        for (let j = 0; j < nOut; j++) s += gradOut[go + j]! * w[wo + j]!;
        gi[io + k] = s;
      }
    }
    return gi;
  }

  params(): Param[] {
    return [this.weight, this.bias];
  }

  setTraining(_training: boolean): void {}

  describe(): LayerSpec {
    return { type: 'dense', inputs: this.inputs, outputs: this.outputs };
  }
}

/** Shared plumbing for parameter-free elementwise layers. */
abstract class Elementwise implements Layer {
  protected readonly out = new Scratch();
  protected readonly gradIn = new Scratch();
  /** The last forward output (what ReLU and sigmoid derivatives are computed from). */
  protected y: Float32Array = EMPTY;

  outputSize(inputSize: number): number {
    return inputSize;
  }

  abstract forward(x: Float32Array, rows: number): Float32Array;
  abstract backward(gradOut: Float32Array, computeGradIn?: boolean): Float32Array;
  abstract describe(): LayerSpec;

  params(): Param[] {
    return [];
  }

  setTraining(_training: boolean): void {}

  protected checkGrad(gradOut: Float32Array): void {
    if (gradOut.length !== this.y.length)
      throw new RangeError(`backward: gradient has ${gradOut.length} values, output had ${this.y.length}`);
  }
}

export class ReLU extends Elementwise {
  forward(x: Float32Array, _rows: number): Float32Array {
    const y = this.out.get(x.length);
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      y[i] = Math.max(v, 0);
    }
    this.y = y;
    return y;
  }

  backward(gradOut: Float32Array): Float32Array {
    this.checkGrad(gradOut);
    const y = this.y;
    const g = this.gradIn.get(gradOut.length);
    for (let i = 0; i < g.length; i++) g[i] = y[i]! > 0 ? gradOut[i]! : 0;
    return g;
  }

  describe(): LayerSpec {
    return { type: 'relu' };
  }
}

export class Sigmoid extends Elementwise {
  forward(x: Float32Array, _rows: number): Float32Array {
    const y = this.out.get(x.length);
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      // Evaluate through exp(-|v|) so neither branch overflows.
      if (v >= 0) y[i] = 1 / (1 + Math.exp(-v));
      else {
        const e = Math.exp(v);
        y[i] = e / (1 + e);
      }
    }
    this.y = y;
    return y;
  }

  backward(gradOut: Float32Array): Float32Array {
    this.checkGrad(gradOut);
    const y = this.y;
    const g = this.gradIn.get(gradOut.length);
    for (let i = 0; i < g.length; i++) {
      const s = y[i]!;
      g[i] = gradOut[i]! * s * (1 - s);
    }
    return g;
  }

  describe(): LayerSpec {
    return { type: 'sigmoid' };
  }
}

/** Identity activation: passes arrays through untouched (no copy). */
export class Linear extends Elementwise {
  forward(x: Float32Array, _rows: number): Float32Array {
    this.y = x;
    return x;
  }

  backward(gradOut: Float32Array): Float32Array {
    this.checkGrad(gradOut);
    return gradOut;
  }

  describe(): LayerSpec {
    return { type: 'linear' };
  }
}

/**
 * Inverted dropout: in training mode each value is zeroed with probability p and the survivors are
 * scaled by 1 / (1 − p), so evaluation mode (the identity) needs no rescaling.
 */
export class Dropout extends Elementwise {
  private training = false;
  private readonly mask = new Scratch();
  private lastWasTraining = false;

  constructor(
    readonly p: number,
    private readonly rng: Rng,
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new RangeError(`Dropout p must be in [0, 1), got ${p}`);
  }

  override setTraining(training: boolean): void {
    this.training = training;
  }

  forward(x: Float32Array, _rows: number): Float32Array {
    this.lastWasTraining = this.training && this.p > 0;
    if (!this.lastWasTraining) {
      this.y = x;
      return x;
    }
    const y = this.out.get(x.length);
    const m = this.mask.get(x.length);
    const keep = 1 / (1 - this.p);
    const p = this.p;
    const rng = this.rng;
    for (let i = 0; i < x.length; i++) {
      const k = rng.next() < p ? 0 : keep;
      m[i] = k;
      y[i] = x[i]! * k;
    }
    this.y = y;
    return y;
  }

  backward(gradOut: Float32Array): Float32Array {
    this.checkGrad(gradOut);
    if (!this.lastWasTraining) return gradOut;
    const m = this.mask.get(gradOut.length);
    const g = this.gradIn.get(gradOut.length);
    for (let i = 0; i < g.length; i++) g[i] = gradOut[i]! * m[i]!;
    return g;
  }

  describe(): LayerSpec {
    return { type: 'dropout', p: this.p };
  }
}
