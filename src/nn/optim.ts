/**
 * Optimisers updating Param.value from Param.grad in place. They do not zero the gradients; the
 * training loop does that before each backward pass. Per-parameter state (momentum, Adam moments)
 * is allocated on the first step for each Param and reused afterwards.
 */
import type { Param } from './layers.ts';

export interface Optimizer {
  step(params: readonly Param[]): void;
  /** Forget moments and step counts (e.g. before training a fresh network). */
  reset(): void;
}

export interface SgdOptions {
  lr: number;
  /** Classical momentum coefficient, 0 (default) for plain SGD. */
  momentum?: number;
  /** L2 penalty coefficient added to the gradient of decaying params (weights, not biases). */
  weightDecay?: number;
}

export class Sgd implements Optimizer {
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  private velocity = new Map<Param, Float32Array>();

  constructor(options: SgdOptions) {
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    if (!(this.lr > 0)) throw new RangeError(`Sgd lr must be positive, got ${this.lr}`);
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new RangeError(`Sgd momentum must be in [0, 1)`);
  }

  step(params: readonly Param[]): void {
    const lr = this.lr;
    const mu = this.momentum;
    for (const p of params) {
      const w = p.value;
      const g = p.grad;
      const wd = p.decay ? this.weightDecay : 0;
      if (mu === 0) {
        for (let i = 0; i < w.length; i++) w[i] -= lr * (g[i]! + wd * w[i]!);
        continue;
      }
      let v = this.velocity.get(p);
      if (!v) {
        v = new Float32Array(w.length);
        this.velocity.set(p, v);
      }
      for (let i = 0; i < w.length; i++) {
        const vi = mu * v[i]! + g[i]! + wd * w[i]!;
        v[i] = vi;
        w[i] -= lr * vi;
      }
    }
  }

  reset(): void {
    this.velocity = new Map();
  }
}

export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /**
   * Decoupled weight decay (AdamW): decaying params shrink by lr·weightDecay·w each step,
   * independent of the adaptive scaling. 0 by default.
   */
  weightDecay?: number;
}

export interface Moments {
  m: Float32Array;
  v: Float32Array;
}

/** Adam with bias correction (Kingma & Ba); defaults lr 1e-3, β1 0.9, β2 0.999, ε 1e-8. */
export class Adam implements Optimizer {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private t = 0;
  private moments = new Map<Param, Moments>();

  constructor(options: AdamOptions = {}) {
    this.lr = options.lr ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    if (!(this.lr > 0)) throw new RangeError(`Adam lr must be positive, got ${this.lr}`);
    if (!(this.beta1 >= 0 && this.beta1 < 1 && this.beta2 >= 0 && this.beta2 < 1))
      throw new RangeError('Adam betas must be in [0, 1)');
  }

  /** Number of steps taken so far. */
  get steps(): number {
    return this.t;
  }

  /** A parameter's moments (zeros before its first step): a kernel-side trainer reads and writes them. */
  momentsOf(p: Param): Moments {
    let st = this.moments.get(p);
    if (!st) {
      st = { m: new Float32Array(p.value.length), v: new Float32Array(p.value.length) };
      this.moments.set(p, st);
    }
    return st;
  }

  /** Sets the step count (after steps taken elsewhere on this optimiser's moments). */
  restoreSteps(t: number): void {
    if (!(Number.isInteger(t) && t >= 0)) throw new RangeError(`Adam: bad step count ${t}`);
    this.t = t;
  }

  step(params: readonly Param[]): void {
    this.t++;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    const stepSize = this.lr / c1;
    const eps = this.eps;
    for (const p of params) {
      const { m, v } = this.momentsOf(p);
      const w = p.value;
      const g = p.grad;
      const shrink = p.decay && this.weightDecay > 0 ? 1 - this.lr * this.weightDecay : 1;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]!;
        const mi = b1 * m[i]! + (1 - b1) * gi;
        const vi = b2 * v[i]! + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i]! * shrink - (stepSize * mi) / (Math.sqrt(vi / c2) + eps);
      }
    }
  }

  reset(): void {
    this.t = 0;
    this.moments = new Map();
  }
}
