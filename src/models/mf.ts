import type { Interactions } from '../data/interactions.ts';
import { bindKernels, defaultKernelBackend, type KernelFunctions, KernelMemory } from '../math/kernels/index.ts';
import { Rng } from '../math/random.ts';
import type { RatingScale } from '../store/types.ts';
import { readModel, writeModel } from '../util/artifacts.ts';
import { assertMayFit } from '../util/fit-guard.ts';
import { type Progress, silentProgress } from '../util/progress.ts';
import { BIAS_DEFAULTS } from './bias.ts';

/**
 * Biased matrix factorisation ("SVD" in Surprise, Funk/Koren): r̂_ui = μ + b_u + b_i + p_uᵀq_i,
 * fitted by per-sample SGD over the shuffled training ratings, minimising per rating
 *   L = ½(r − r̂)² + ½λ_b(b_u² + b_i²) + ½λ(‖p_u‖² + ‖q_i‖²).
 * Optional early stopping holds out a seeded share of the training ratings, tracks the validation
 * RMSE per epoch and restores the parameters of the best epoch.
 */
export interface MfParams {
  /** Latent dimensions k. */
  factors: number;
  /** Maximum SGD passes over the training ratings. */
  epochs: number;
  /** Learning rate (of the first epoch). */
  lr: number;
  /** L2 regularisation of the factors p_u, q_i. */
  reg: number;
  /** L2 regularisation of the biases b_u, b_i. */
  regBias: number;
  /** The learning rate is multiplied by this after every epoch (1 = constant). */
  lrDecay: number;
  /** Standard deviation of the normal initialisation of the factors. */
  initStd: number;
  /** 1: start b_u, b_i from the ALS bias baseline (BiasModel) instead of 0. */
  initBiases: number;
  /** Share of the training ratings held out for early stopping (0 = off: run every epoch). */
  validation: number;
  /** Early stopping: stop after this many epochs without a better validation RMSE. */
  patience: number;
  /**
   * Above this many ratings, early stopping holds out a validation sample even when `validation` is 0:
   * VALIDATION_SAMPLE ratings (at most 2 % of them), so a large data set stops when it stops improving
   * instead of running every epoch. 0: never.
   */
  validationAbove: number;
  /**
   * Above this many training ratings, each epoch is a fresh seeded draw of this many of them (SGD's passes sized
   * to the data: 40 epochs of 4 M ratings is 6.4 passes over 25 M). 0: every rating in every epoch.
   */
  epochSample: number;
  seed: number;
}

/** An epoch's ratings in a[0, count): all of them shuffled, or a fresh draw of count (so small data trains as before). */
function drawEpoch(rng: Rng, a: Uint32Array, count: number): void {
  if (count >= a.length) rng.shuffle(a);
  else rng.shuffleFirst(a, count);
}

/** Ratings held out for early stopping above validationAbove (when validation is 0). */
export const VALIDATION_SAMPLE = 200_000;

/** Tuned on ml-latest-small, 5-fold over ratings: RMSE 0.8466 (bias baseline 0.8726), ~2 s per fold. */
export const MF_DEFAULTS: MfParams = {
  factors: 100,
  epochs: 40,
  lr: 0.01,
  reg: 0.06,
  regBias: 0.02,
  lrDecay: 1,
  initStd: 0.05,
  initBiases: 0,
  validation: 0,
  patience: 5,
  validationAbove: 2_000_000,
  epochSample: 4_000_000,
  seed: 1,
};

export interface MfEpoch {
  epoch: number;
  /**
   * RMSE on the ratings trained on, as seen during the epoch (each rating's error just before its SGD
   * step, unclipped): free to compute, and slightly above the RMSE after the epoch.
   */
  trainRmse: number;
  /** RMSE on the held-out share (NaN without early stopping). */
  validationRmse: number;
}

export interface MfReport {
  curve: MfEpoch[];
  /** 1-based epoch whose parameters were kept (the last one without early stopping). */
  bestEpoch: number;
  stoppedEarly: boolean;
  trainRatings: number;
  validationRatings: number;
  seconds: number;
}

/** The learned parameters, flat: p is nUsers × k, q is nItems × k, row-major. */
export interface MfState {
  k: number;
  mu: number;
  bu: Float64Array;
  bi: Float64Array;
  p: Float64Array;
  q: Float64Array;
}

/** The per-sample loss L above (for tests and diagnostics). */
export function sampleLoss(s: MfState, reg: number, regBias: number, u: number, i: number, r: number): number {
  const k = s.k;
  const pu = u * k;
  const qi = i * k;
  let dot = 0;
  let pp = 0;
  let qq = 0;
  for (let f = 0; f < k; f++) {
    dot += s.p[pu + f]! * s.q[qi + f]!;
    pp += s.p[pu + f]! * s.p[pu + f]!;
    qq += s.q[qi + f]! * s.q[qi + f]!;
  }
  const e = r - (s.mu + s.bu[u]! + s.bi[i]! + dot);
  return 0.5 * e * e + 0.5 * regBias * (s.bu[u]! ** 2 + s.bi[i]! ** 2) + 0.5 * reg * (pp + qq);
}

/**
 * One SGD step on one rating: θ ← θ − lr·∂L/∂θ for b_u, b_i, p_u, q_i, all gradients taken at the old
 * values. Allocation-free; this is the training inner loop. Returns the error r − r̂ before the step.
 */
export function sgdStep(s: MfState, reg: number, regBias: number, u: number, i: number, r: number, lr: number): number {
  const k = s.k;
  const p = s.p;
  const q = s.q;
  const pu = u * k;
  const qi = i * k;
  let dot = 0;
  for (let f = 0; f < k; f++) dot += p[pu + f]! * q[qi + f]!;
  const bu = s.bu[u]!;
  const bi = s.bi[i]!;
  const e = r - (s.mu + bu + bi + dot);
  s.bu[u] = bu + lr * (e - regBias * bu);
  s.bi[i] = bi + lr * (e - regBias * bi);
  for (let f = 0; f < k; f++) {
    const pf = p[pu + f]!;
    const qf = q[qi + f]!;
    p[pu + f] = pf + lr * (e * qf - reg * pf);
    q[qi + f] = qf + lr * (e * pf - reg * qf);
  }
  return e;
}

/**
 * An MF fit's state and ratings in one kernel memory: p, q, bu, bi (float64) and the rating positions, users,
 * items and ratings the epoch kernel reads; `order` (the training positions) is shuffled in place every epoch.
 */
class SgdKernel {
  readonly p: Float64Array;
  readonly q: Float64Array;
  readonly bu: Float64Array;
  readonly bi: Float64Array;
  readonly order: Uint32Array;
  private readonly fn: KernelFunctions;
  private readonly at: {
    p: number;
    q: number;
    bu: number;
    bi: number;
    order: number;
    users: number;
    items: number;
    ratings: number;
  };

  constructor(
    x: Interactions,
    users: Int32Array,
    train: Uint32Array,
    private readonly k: number,
  ) {
    const n = x.nnz;
    const bytes = 8 * k * (x.nUsers + x.nItems) + 8 * (x.nUsers + x.nItems) + 4 * (train.length + 3 * n) + 1024;
    const mem = KernelMemory.create(bytes, bytes + (1 << 20));
    this.fn = bindKernels(mem);
    const p = mem.alloc(8 * k * x.nUsers);
    const q = mem.alloc(8 * k * x.nItems);
    const bu = mem.alloc(8 * x.nUsers);
    const bi = mem.alloc(8 * x.nItems);
    const order = mem.copyIn(new Int32Array(train.buffer, train.byteOffset, train.length));
    this.at = {
      p,
      q,
      bu,
      bi,
      order,
      users: mem.copyIn(users),
      items: mem.copyIn(x.items),
      ratings: mem.copyIn(x.ratings),
    };
    this.p = mem.f64At(p, k * x.nUsers);
    this.q = mem.f64At(q, k * x.nItems);
    this.bu = mem.f64At(bu, x.nUsers);
    this.bi = mem.f64At(bi, x.nItems);
    this.order = new Uint32Array(mem.buffer, order, train.length);
  }

  /** One SGD pass over the first `count` ratings of the current order; Σ e². */
  epoch(mu: number, lr: number, reg: number, regBias: number, count = this.order.length): number {
    const a = this.at;
    return this.fn.mf_sgd(
      a.order,
      count,
      a.users,
      a.items,
      a.ratings,
      a.p,
      a.q,
      a.bu,
      a.bi,
      this.k,
      mu,
      lr,
      reg,
      regBias,
    );
  }
}

const MF_FORMAT = 'cinerec-mf/1';

interface MfMeta {
  params: MfParams;
  k: number;
  mu: number;
  nUsers: number;
  nItems: number;
  /** Clipping bounds (±Infinity when fitted without a rating scale). */
  lo: number;
  hi: number;
  report: MfReport | null;
}

export class MfModel {
  readonly params: MfParams;
  state: MfState = {
    k: 0,
    mu: 0,
    bu: new Float64Array(0),
    bi: new Float64Array(0),
    p: new Float64Array(0),
    q: new Float64Array(0),
  };
  report: MfReport | null = null;
  private lo = Number.NEGATIVE_INFINITY;
  private hi = Number.POSITIVE_INFINITY;

  constructor(params: Partial<MfParams> = {}) {
    this.params = { ...MF_DEFAULTS, ...params };
    const { factors, epochs, validation, patience } = this.params;
    if (!(Number.isInteger(factors) && factors >= 1)) throw new RangeError(`mf: factors must be ≥ 1, got ${factors}`);
    if (!(Number.isInteger(epochs) && epochs >= 1)) throw new RangeError(`mf: epochs must be ≥ 1, got ${epochs}`);
    if (!(validation >= 0 && validation < 1))
      throw new RangeError(`mf: validation must be in [0, 1), got ${validation}`);
    if (!(patience >= 1)) throw new RangeError(`mf: patience must be ≥ 1, got ${patience}`);
  }

  fit(x: Interactions, scale?: RatingScale, progress: Progress = silentProgress): MfReport {
    assertMayFit('matrix factorisation (mf)');
    const started = performance.now();
    const prm = this.params;
    const k = prm.factors;
    this.lo = scale ? scale.min : Number.NEGATIVE_INFINITY;
    this.hi = scale ? scale.max : Number.POSITIVE_INFINITY;
    const rng = new Rng(prm.seed);

    // Ratings as (user, item, rating) triples; a seeded share held out for early stopping.
    const n = x.nnz;
    const users = new Int32Array(n);
    for (let u = 0; u < x.nUsers; u++) users.fill(u, x.indptr[u]!, x.indptr[u + 1]!);
    const order = new Uint32Array(n);
    for (let t = 0; t < n; t++) order[t] = t;
    rng.shuffle(order);
    const share =
      prm.validation > 0
        ? prm.validation
        : prm.validationAbove > 0 && n > prm.validationAbove
          ? Math.min(0.02, VALIDATION_SAMPLE / n)
          : 0;
    const nVal = share > 0 ? Math.min(n - 1, Math.round(n * share)) : 0;
    const valIdx = order.slice(0, nVal);
    const train = order.slice(nVal);

    // μ and the bias start from the training share only.
    let sum = 0;
    for (let t = 0; t < train.length; t++) sum += x.ratings[train[t]!]!;
    const mu = train.length > 0 ? sum / train.length : 0;
    let bu: Float64Array = new Float64Array(x.nUsers);
    let bi: Float64Array = new Float64Array(x.nItems);
    if (prm.initBiases && train.length > 0) {
      baselineBiases(train, users, x.items, x.ratings, mu, bu, bi);
    }
    // On the SIMD kernels the whole state and the ratings live in one kernel memory and an epoch is one call
    // (mf_sgd); the arrays below are then views of it, copied out at the end.
    const kernel = defaultKernelBackend === 'simd' ? new SgdKernel(x, users, train, k) : null;
    const p = kernel ? kernel.p : new Float64Array(x.nUsers * k);
    const q = kernel ? kernel.q : new Float64Array(x.nItems * k);
    for (let j = 0; j < p.length; j++) p[j] = prm.initStd * rng.normal();
    for (let j = 0; j < q.length; j++) q[j] = prm.initStd * rng.normal();
    // Rows never trained on keep zero factors, so they predict μ + biases, not noise.
    const seenU = new Uint8Array(x.nUsers);
    const seenI = new Uint8Array(x.nItems);
    for (let t = 0; t < train.length; t++) {
      seenU[users[train[t]!]!] = 1;
      seenI[x.items[train[t]!]!] = 1;
    }
    for (let u = 0; u < x.nUsers; u++) if (!seenU[u]) p.fill(0, u * k, (u + 1) * k);
    for (let i = 0; i < x.nItems; i++) if (!seenI[i]) q.fill(0, i * k, (i + 1) * k);
    if (kernel) {
      kernel.bu.set(bu);
      kernel.bi.set(bi);
      bu = kernel.bu;
      bi = kernel.bi;
    }
    const s: MfState = { k, mu, bu, bi, p, q };
    this.state = s;

    const best =
      nVal > 0
        ? { bu: new Float64Array(bu), bi: new Float64Array(bi), p: new Float64Array(p), q: new Float64Array(q) }
        : null;
    let bestRmse = Number.POSITIVE_INFINITY;
    let bestEpoch = 0;
    let stoppedEarly = false;
    const curve: MfEpoch[] = [];
    const { reg, regBias } = prm;
    const items = x.items;
    const ratings = x.ratings;
    let lr = prm.lr;
    const perEpoch = prm.epochSample > 0 ? Math.min(train.length, prm.epochSample) : train.length;
    progress.start(prm.epochs, 'mf epochs');
    for (let epoch = 1; epoch <= prm.epochs; epoch++) {
      progress.update(epoch - 1);
      let se = 0;
      if (kernel) {
        drawEpoch(rng, kernel.order, perEpoch);
        se = kernel.epoch(mu, lr, reg, regBias, perEpoch);
      } else {
        drawEpoch(rng, train, perEpoch);
        for (let t = 0; t < perEpoch; t++) {
          const j = train[t]!;
          const e = sgdStep(s, reg, regBias, users[j]!, items[j]!, ratings[j]!, lr);
          se += e * e;
        }
      }
      lr *= prm.lrDecay;
      const trainRmse = perEpoch > 0 ? Math.sqrt(se / perEpoch) : Number.NaN;
      const validationRmse = nVal > 0 ? this.rmseOn(valIdx, users, items, ratings) : Number.NaN;
      curve.push({ epoch, trainRmse, validationRmse });
      if (!best) {
        bestEpoch = epoch;
        continue;
      }
      if (validationRmse < bestRmse) {
        bestRmse = validationRmse;
        bestEpoch = epoch;
        best.bu.set(bu);
        best.bi.set(bi);
        best.p.set(p);
        best.q.set(q);
      } else if (epoch - bestEpoch >= prm.patience) {
        stoppedEarly = epoch < prm.epochs;
        break;
      }
    }
    progress.stop();
    if (best) {
      bu.set(best.bu);
      bi.set(best.bi);
      p.set(best.p);
      q.set(best.q);
    }
    if (kernel) {
      // Out of kernel memory, which is then dropped.
      this.state = { k, mu, bu: bu.slice(), bi: bi.slice(), p: p.slice(), q: q.slice() };
    }
    this.report = {
      curve,
      bestEpoch,
      stoppedEarly,
      trainRatings: train.length,
      validationRatings: nVal,
      seconds: (performance.now() - started) / 1000,
    };
    return this.report;
  }

  /** Writes the learned parameters, the clipping bounds, the settings and the fit report into dir. */
  save(dir: string): void {
    const s = this.state;
    const meta: MfMeta = {
      params: this.params,
      k: s.k,
      mu: s.mu,
      nUsers: s.bu.length,
      nItems: s.bi.length,
      lo: this.lo,
      hi: this.hi,
      report: this.report,
    };
    writeModel(dir, MF_FORMAT, meta, { bu: s.bu, bi: s.bi, p: s.p, q: s.q });
  }

  /** The model saved in dir: predicts exactly as the model that was saved. */
  static load(dir: string): MfModel {
    const a = readModel<MfMeta>(dir, MF_FORMAT);
    const { params, k, mu, nUsers, nItems } = a.meta;
    const state: MfState = {
      k,
      mu,
      bu: a.array('bu', 'Float64Array'),
      bi: a.array('bi', 'Float64Array'),
      p: a.array('p', 'Float64Array'),
      q: a.array('q', 'Float64Array'),
    };
    if (
      state.bu.length !== nUsers ||
      state.bi.length !== nItems ||
      state.p.length !== nUsers * k ||
      state.q.length !== nItems * k
    )
      throw new Error(`${dir}: mf arrays do not fit ${nUsers} users × ${nItems} items × ${k} factors`);
    const model = new MfModel(params);
    model.state = state;
    model.lo = a.meta.lo;
    model.hi = a.meta.hi;
    model.report = a.meta.report;
    return model;
  }

  /** Clipped prediction; an unknown user (−1) or an item beyond the fitted range gets μ + the known biases. */
  predict(user: number, item: number): number {
    const s = this.state;
    const ku = user >= 0 && user < s.bu.length;
    const ki = item >= 0 && item < s.bi.length;
    let r = s.mu + (ku ? s.bu[user]! : 0) + (ki ? s.bi[item]! : 0);
    if (ku && ki) {
      const k = s.k;
      const pu = user * k;
      const qi = item * k;
      for (let f = 0; f < k; f++) r += s.p[pu + f]! * s.q[qi + f]!;
    }
    return Math.min(this.hi, Math.max(this.lo, r));
  }

  private rmseOn(idx: Uint32Array, users: Int32Array, items: Int32Array, ratings: Float32Array): number {
    if (idx.length === 0) return Number.NaN;
    let se = 0;
    for (let t = 0; t < idx.length; t++) {
      const j = idx[t]!;
      const e = ratings[j]! - this.predict(users[j]!, items[j]!);
      se += e * e;
    }
    return Math.sqrt(se / idx.length);
  }
}

/**
 * μ + b_u + b_i on the given ratings by BiasModel's alternating least squares (Surprise BaselineOnly's
 * defaults), written over (user, item, rating) triples so it can run on the training share alone.
 */
function baselineBiases(
  train: Uint32Array,
  users: Int32Array,
  items: Int32Array,
  ratings: Float32Array,
  mu: number,
  bu: Float64Array,
  bi: Float64Array,
): void {
  const { regUser, regItem, epochs } = BIAS_DEFAULTS;
  const nu = new Float64Array(bu.length);
  const ni = new Float64Array(bi.length);
  for (let t = 0; t < train.length; t++) {
    nu[users[train[t]!]!]!++;
    ni[items[train[t]!]!]!++;
  }
  const su = new Float64Array(bu.length);
  const si = new Float64Array(bi.length);
  for (let e = 0; e < epochs; e++) {
    si.fill(0);
    for (let t = 0; t < train.length; t++) {
      const j = train[t]!;
      si[items[j]!]! += ratings[j]! - mu - bu[users[j]!]!;
    }
    for (let i = 0; i < bi.length; i++) bi[i] = si[i]! / (regItem + ni[i]!);
    su.fill(0);
    for (let t = 0; t < train.length; t++) {
      const j = train[t]!;
      su[users[j]!]! += ratings[j]! - mu - bi[items[j]!]!;
    }
    for (let u = 0; u < bu.length; u++) bu[u] = su[u]! / (regUser + nu[u]!);
  }
}
