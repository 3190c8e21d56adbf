/**
 * Losses over flat prediction/target arrays (rows × outputs, row-major). Each loss returns the mean
 * loss over the entries it counts and writes d(loss)/d(prediction) into a caller-provided buffer,
 * so the training loop allocates nothing. Sums run in float64; inputs may be float32 or float64
 * (float64 is what finite-difference checks use).
 */

export type Vec = Float32Array | Float64Array;

export interface Loss {
  readonly name: string;
  /**
   * Mean loss over the counted entries; writes the gradient w.r.t. pred into grad (same length).
   * With no counted entries (an all-zero mask) the loss is 0 and the gradient all zeros.
   */
  compute(pred: Vec, target: Vec, grad: Vec, mask?: Vec): number;
  /** How many entries the mean is over: combining batch means weighted by this gives the full mean. */
  count(length: number, mask?: Vec): number;
}

function checkShapes(name: string, pred: Vec, target: Vec, grad: Vec, mask?: Vec): void {
  if (target.length !== pred.length || grad.length !== pred.length || (mask && mask.length !== pred.length))
    throw new RangeError(
      `${name}: pred ${pred.length}, target ${target.length}, grad ${grad.length}${mask ? `, mask ${mask.length}` : ''} values differ`,
    );
}

function maskCount(length: number, mask?: Vec): number {
  if (!mask) return length;
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) n++;
  return n;
}

/** Mean squared error over all entries: (1/N) Σ (p − y)². A mask, if given, is ignored. */
export const mse: Loss = {
  name: 'mse',
  compute(pred, target, grad) {
    checkShapes('mse', pred, target, grad);
    const n = pred.length;
    if (n === 0) return 0;
    const scale = 2 / n;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const d = pred[i]! - target[i]!;
      sum += d * d;
      grad[i] = scale * d;
    }
    return sum / n;
  },
  count(length) {
    return length;
  },
};

/**
 * Mean squared error over observed entries only (mask ≠ 0): (1/|O|) Σ_O (p − y)². Unobserved entries
 * contribute nothing and get a zero gradient. The mask is required.
 */
export const maskedMse: Loss = {
  name: 'maskedMse',
  compute(pred, target, grad, mask) {
    if (!mask) throw new TypeError('maskedMse needs a mask');
    checkShapes('maskedMse', pred, target, grad, mask);
    const n = maskCount(pred.length, mask);
    if (n === 0) {
      grad.fill(0);
      return 0;
    }
    const scale = 2 / n;
    let sum = 0;
    for (let i = 0; i < pred.length; i++) {
      if (mask[i] === 0) {
        grad[i] = 0;
        continue;
      }
      const d = pred[i]! - target[i]!;
      sum += d * d;
      grad[i] = scale * d;
    }
    return sum / n;
  },
  count: maskCount,
};

/**
 * Binary cross-entropy on logits z (no sigmoid layer before it), in the stable form
 * max(z, 0) − z·y + log(1 + e^−|z|); gradient (σ(z) − y)/N. An optional mask restricts the mean to
 * observed entries, like maskedMse.
 */
export const bceWithLogits: Loss = {
  name: 'bceWithLogits',
  compute(pred, target, grad, mask) {
    checkShapes('bceWithLogits', pred, target, grad, mask);
    const n = maskCount(pred.length, mask);
    if (n === 0) {
      grad.fill(0);
      return 0;
    }
    let sum = 0;
    for (let i = 0; i < pred.length; i++) {
      if (mask && mask[i] === 0) {
        grad[i] = 0;
        continue;
      }
      const z = pred[i]!;
      const y = target[i]!;
      const e = Math.exp(-Math.abs(z));
      sum += Math.max(z, 0) - z * y + Math.log1p(e);
      const s = z >= 0 ? 1 / (1 + e) : e / (1 + e);
      grad[i] = (s - y) / n;
    }
    return sum / n;
  },
  count: maskCount,
};

/** Probabilities are clamped to [EPS, 1 − EPS] in bce so log never sees 0. */
export const BCE_EPS = 1e-7;

/**
 * Binary cross-entropy on probabilities p (after a sigmoid layer): −[y log p + (1 − y) log(1 − p)],
 * with p clamped to [BCE_EPS, 1 − BCE_EPS] (the gradient is zero where clamping is active). Prefer
 * bceWithLogits when the network can output logits. Optional mask as in bceWithLogits.
 */
export const bce: Loss = {
  name: 'bce',
  compute(pred, target, grad, mask) {
    checkShapes('bce', pred, target, grad, mask);
    const n = maskCount(pred.length, mask);
    if (n === 0) {
      grad.fill(0);
      return 0;
    }
    let sum = 0;
    for (let i = 0; i < pred.length; i++) {
      if (mask && mask[i] === 0) {
        grad[i] = 0;
        continue;
      }
      const raw = pred[i]!;
      const clamped = raw < BCE_EPS || raw > 1 - BCE_EPS;
      const p = Math.min(Math.max(raw, BCE_EPS), 1 - BCE_EPS);
      const y = target[i]!;
      sum -= y * Math.log(p) + (1 - y) * Math.log(1 - p);
      grad[i] = clamped ? 0 : (p - y) / (p * (1 - p)) / n;
    }
    return sum / n;
  },
  count: maskCount,
};

/** Convenience (allocating) wrapper: the loss and a fresh gradient array of pred's type. */
export function lossAndGradient(loss: Loss, pred: Vec, target: Vec, mask?: Vec): { loss: number; grad: Vec } {
  const grad = pred instanceof Float64Array ? new Float64Array(pred.length) : new Float32Array(pred.length);
  return { loss: loss.compute(pred, target, grad, mask), grad };
}

export const losses = { mse, maskedMse, bceWithLogits, bce } as const;
