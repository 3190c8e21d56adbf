/**
 * The neural rating predictor: an MLP over [user vector ⊕ movie vector (⊕ their elementwise product)
 * (⊕ genres and year)] predicting the residual of the bias baseline, r − (μ + b_u + b_i), added back
 * and clipped to the scale.
 *
 * - User vector: the code of the user autoencoder (AutoRec over the user's ratings).
 * - Movie vector: the code of the same autoencoder over the movie's column of ratings (an item
 *   autoencoder), row i = catalogue index i by construction, so it cannot be misaligned; optionally
 *   the catalogue's genres and year, which every movie has, even one nobody rated.
 *
 * No leakage: both autoencoders, the biases and the MLP see the fitted (training) ratings only; a
 * prediction for a held-out rating uses codes computed from training ratings. The MLP is trained on
 * cross-fitted codes: the training ratings are split into K parts and a rating in part k is paired with
 * codes computed without part k, so the MLP never learns to read a rating back out of a code that
 * contains it, which is exactly the situation at prediction time.
 */
import type { Catalogue } from '../data/catalogue.ts';
import type { Interactions } from '../data/interactions.ts';
import { defaultKernelBackend } from '../math/kernels/index.ts';
import { Rng } from '../math/random.ts';
import { KernelNetwork } from '../nn/kernel-net.ts';
import { Dense, Dropout, type Layer, ReLU } from '../nn/layers.ts';
import { mse } from '../nn/losses.ts';
import { type NetworkSpec, type SavedNetwork, Sequential } from '../nn/network.ts';
import { Adam } from '../nn/optim.ts';
import type { RatingScale } from '../store/types.ts';
import { readModel, writeModel } from '../util/artifacts.ts';
import { assertMayFit } from '../util/fit-guard.ts';
import { type Progress, silentProgress } from '../util/progress.ts';
import { BIAS_DEFAULTS, BiasModel, type BiasParams } from './bias.ts';
import {
  AUTOENCODER_DEFAULTS,
  type AutoencoderParams,
  RatingAutoencoder,
  type RatingAutoencoderMeta,
  type RatingRows,
} from './user-autoencoder.ts';

export type ItemVectors = 'ae' | 'content' | 'both';

export interface RatingPredictorParams {
  /** The user autoencoder. */
  user: AutoencoderParams;
  /** The item autoencoder (the same model over movie columns). */
  item: AutoencoderParams;
  itemVectors: ItemVectors;
  /** Add the elementwise product user ⊙ movie code to the input (needs equal code sizes). */
  product: boolean;
  /** MLP hidden widths (a 0 drops the second layer). */
  hidden: number;
  hidden2: number;
  dropout: number;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** K of the cross-fitting (≥ 2). */
  crossFolds: number;
  /** Share of the training ratings held out for the MLP's early stopping. */
  validation: number;
  patience: number;
  seed: number;
}

export const RATING_PREDICTOR_DEFAULTS: RatingPredictorParams = {
  user: { ...AUTOENCODER_DEFAULTS },
  item: { ...AUTOENCODER_DEFAULTS },
  itemVectors: 'both',
  product: true,
  hidden: 128,
  hidden2: 64,
  dropout: 0,
  epochs: 30,
  batchSize: 256,
  lr: 0.001,
  weightDecay: 0,
  crossFolds: 5,
  validation: 0.05,
  patience: 3,
  seed: 1,
};

export interface PredictorEpoch {
  epoch: number;
  /** RMSE of the residual on the MLP's training samples, as seen during the epoch. */
  trainRmse: number;
  validationRmse: number;
  /** Wall time of the epoch's training pass (without validation). */
  seconds: number;
}

export interface RatingPredictorReport {
  curve: PredictorEpoch[];
  /** Ratings the MLP trained on per epoch (the rest of the training ratings validate it). */
  trainSamples: number;
  bestEpoch: number;
  stoppedEarly: boolean;
  userAutoencoder: { bestEpoch: number; epochs: number; seconds: number };
  itemAutoencoder: { bestEpoch: number; epochs: number; seconds: number };
  seconds: number;
}

/** A user as the predictor sees them: the autoencoder code and the bias folded in from their ratings. */
export interface UserVector {
  code: Float32Array;
  bias: number;
}

/** The items × users transpose, remembering each entry's position in the CSR arrays (for cross-fitting). */
function transpose(x: Interactions): { rows: RatingRows; origin: Int32Array } {
  const counts = new Int32Array(x.nItems + 1);
  for (let k = 0; k < x.nnz; k++) counts[x.items[k]! + 1]!++;
  for (let i = 0; i < x.nItems; i++) counts[i + 1]! += counts[i]!;
  const indptr = counts;
  const fill = indptr.slice(0, x.nItems);
  const cols = new Int32Array(x.nnz);
  const ratings = new Float32Array(x.nnz);
  const origin = new Int32Array(x.nnz);
  for (let u = 0; u < x.nUsers; u++) {
    for (let k = x.indptr[u]!; k < x.indptr[u + 1]!; k++) {
      const at = fill[x.items[k]!]!++;
      cols[at] = u;
      ratings[at] = x.ratings[k]!;
      origin[at] = k;
    }
  }
  return { rows: { rows: x.nItems, width: x.nUsers, indptr, cols, ratings }, origin };
}

/**
 * Sizing to the data: an MLP epoch trains on at most EPOCH_SAMPLES training ratings (a fresh seeded draw every
 * epoch; all of them up to that size), and early stopping measures at most VALIDATION_SAMPLES held-out ratings.
 */
export const EPOCH_SAMPLES = 1_500_000;
export const VALIDATION_SAMPLES = 200_000;

const RATING_PREDICTOR_FORMAT = 'cinerec-rating-predictor/1';

interface RatingPredictorMeta {
  params: RatingPredictorParams;
  report: RatingPredictorReport | null;
  /** Clipping bounds (±Infinity when fitted without a rating scale). */
  lo: number;
  hi: number;
  nUsers: number;
  nItems: number;
  inputSize: number;
  genreBits: number;
  years: { min: number; span: number };
  biasParams: BiasParams;
  mu: number;
  userAe: RatingAutoencoderMeta;
  itemAe: RatingAutoencoderMeta;
  net: NetworkSpec;
  netArrays: number;
}

export class RatingPredictor {
  readonly params: RatingPredictorParams;
  readonly userAe: RatingAutoencoder;
  readonly itemAe: RatingAutoencoder;
  readonly bias: BiasModel;
  report: RatingPredictorReport | null = null;
  private net: Sequential | null = null;
  private catalogue: Catalogue | null = null;
  private lo = Number.NEGATIVE_INFINITY;
  private hi = Number.POSITIVE_INFINITY;
  /** Codes from all training ratings: users × code, items × code. */
  private userCodes: Float32Array = new Float32Array(0);
  private itemCodes: Float32Array = new Float32Array(0);
  private nUsers = 0;
  private nItems = 0;
  private emptyItemCode: Float32Array = new Float32Array(0);
  private x = new Float32Array(0);
  /** Width of the MLP input (known after fit: the genre block has one entry per catalogue genre). */
  inputSize = 0;
  private genreBits = 0;
  private years = { min: 0, span: 1 };

  constructor(params: Partial<RatingPredictorParams> = {}) {
    this.params = { ...RATING_PREDICTOR_DEFAULTS, ...params };
    const p = this.params;
    if (!(Number.isInteger(p.crossFolds) && p.crossFolds >= 2))
      throw new RangeError('rating predictor: crossFolds must be a whole number ≥ 2');
    if (p.product && p.user.code !== p.item.code)
      throw new RangeError('rating predictor: product needs equal user and item code sizes');
    for (const k of ['hidden', 'epochs', 'batchSize', 'patience'] as const)
      if (!(Number.isInteger(p[k]) && p[k] >= 1))
        throw new RangeError(`rating predictor: ${k} must be a whole number ≥ 1`);
    if (!(p.validation > 0 && p.validation < 1)) throw new RangeError('rating predictor: validation must be in (0, 1)');
    this.userAe = new RatingAutoencoder(p.user);
    this.itemAe = new RatingAutoencoder(p.item);
    this.bias = new BiasModel(BIAS_DEFAULTS);
  }

  private featureSize(): number {
    const p = this.params;
    let d = p.user.code;
    if (p.itemVectors !== 'content') d += p.item.code;
    if (p.product && p.itemVectors !== 'content') d += p.user.code;
    if (p.itemVectors !== 'ae') d += this.genreBits + 1;
    return d;
  }

  fit(
    x: Interactions,
    catalogue: Catalogue,
    scale?: RatingScale,
    progress: Progress = silentProgress,
  ): RatingPredictorReport {
    assertMayFit('the neural rating predictor');
    const started = performance.now();
    const p = this.params;
    this.catalogue = catalogue;
    this.lo = scale ? scale.min : Number.NEGATIVE_INFINITY;
    this.hi = scale ? scale.max : Number.POSITIVE_INFINITY;
    this.nUsers = x.nUsers;
    this.nItems = x.nItems;
    let minYear = Number.POSITIVE_INFINITY;
    let maxYear = Number.NEGATIVE_INFINITY;
    for (const m of catalogue.movies) {
      if (m.year === null || m.year === undefined) continue;
      minYear = Math.min(minYear, m.year);
      maxYear = Math.max(maxYear, m.year);
    }
    // Genres the catalogue has now (a genre first seen later is not an input).
    this.genreBits = Math.min(32, catalogue.genres().length);
    this.inputSize = this.featureSize();
    this.x = new Float32Array(this.inputSize);
    this.years = Number.isFinite(minYear)
      ? { min: minYear, span: Math.max(1, maxYear - minYear) }
      : { min: 0, span: 1 };

    this.parts = null;
    this.bias.fit(x);
    const userRows: RatingRows = {
      rows: x.nUsers,
      width: x.nItems,
      indptr: x.indptr,
      cols: x.items,
      ratings: x.ratings,
    };
    const { rows: itemRows, origin } = transpose(x);
    const useItemAe = p.itemVectors !== 'content';
    // Progress in steps: autoencoder epochs, the K + 1 encodings, MLP epochs (each at most its maximum).
    const steps = p.user.epochs + (useItemAe ? p.item.epochs : 0) + p.crossFolds + 1 + p.epochs;
    let done = 0;
    progress.start(steps, 'neural: autoencoders, encodings, MLP epochs');
    const tick = () => progress.update(++done);
    const ur = this.userAe.fit(
      userRows,
      { mu: this.bias.mu, colBias: this.bias.bi, rowReg: BIAS_DEFAULTS.regUser },
      tick,
    );
    done = p.user.epochs;
    const ir = useItemAe
      ? this.itemAe.fit(itemRows, { mu: this.bias.mu, colBias: this.bias.bu, rowReg: BIAS_DEFAULTS.regItem }, tick)
      : null;
    done = p.user.epochs + (useItemAe ? p.item.epochs : 0);
    progress.update(done);

    // Cross-fitting: part of every training rating, codes without that part.
    const rng = new Rng(p.seed, 7);
    const K = p.crossFolds;
    const part = new Uint8Array(x.nnz);
    for (let k = 0; k < x.nnz; k++) part[k] = rng.int(K);
    const uc = p.user.code;
    const ic = p.item.code;
    const zs: Float32Array[] = [];
    const vs: Float32Array[] = [];
    for (let k = 0; k < K; k++) {
      zs.push(this.userAe.encodeRows(userRows, (q) => part[q] !== k));
      vs.push(useItemAe ? this.itemAe.encodeRows(itemRows, (q) => part[origin[q]!] !== k) : new Float32Array(0));
      tick();
    }
    this.userCodes = this.userAe.encodeRows(userRows);
    this.itemCodes = useItemAe ? this.itemAe.encodeRows(itemRows) : new Float32Array(0);
    this.emptyItemCode = useItemAe ? this.itemAe.encode([], []) : new Float32Array(0);
    tick();

    // Samples: (rating position) with residual targets; a seeded share held out for early stopping.
    const users = new Int32Array(x.nnz);
    for (let u = 0; u < x.nUsers; u++) users.fill(u, x.indptr[u]!, x.indptr[u + 1]!);
    const target = new Float32Array(x.nnz);
    for (let k = 0; k < x.nnz; k++) target[k] = x.ratings[k]! - this.bias.predict(users[k]!, x.items[k]!);
    const order = new Int32Array(x.nnz);
    for (let k = 0; k < x.nnz; k++) order[k] = k;
    rng.shuffle(order);
    const nHeld = Math.max(1, Math.round(x.nnz * p.validation));
    // The held-out share is not trained on; at most VALIDATION_SAMPLES of it are measured.
    const nVal = Math.min(nHeld, VALIDATION_SAMPLES);
    const val = order.slice(0, nVal);
    const train = order.slice(nHeld);
    const perEpoch = Math.min(train.length, EPOCH_SAMPLES);

    const d = this.inputSize;
    const fill = (k: number, out: Float32Array): void => {
      const u = users[k]!;
      const i = x.items[k]!;
      const pk = part[k]!;
      this.features(
        zs[pk]!.subarray(u * uc, (u + 1) * uc),
        useItemAe ? vs[pk]!.subarray(i * ic, (i + 1) * ic) : null,
        i,
        out,
      );
    };

    const layers: Layer[] = [new Dense(d, p.hidden, 'he', rng), new ReLU()];
    if (p.dropout > 0) layers.push(new Dropout(p.dropout, rng));
    let last = p.hidden;
    if (p.hidden2 > 0) {
      layers.push(new Dense(p.hidden, p.hidden2, 'he', rng), new ReLU());
      last = p.hidden2;
    }
    layers.push(new Dense(last, 1, 'glorot', rng));
    const net = new Sequential(layers);
    this.net = net;
    const params = net.params();
    const opt = new Adam({ lr: p.lr, weightDecay: p.weightDecay });
    const bs = p.batchSize;
    let bestRmse = Number.POSITIVE_INFINITY;
    let bestEpoch = 0;
    let stoppedEarly = false;
    const curve: PredictorEpoch[] = [];
    const mlp = defaultKernelBackend === 'simd' ? this.kernelMlp(net, opt, x, users, part, zs, vs) : null;
    let best: Float32Array[] = mlp ? mlp.kn.snapshot() : params.map((q) => new Float32Array(q.value));
    const xb = mlp ? null : new Float32Array(bs * d);
    const yb = new Float32Array(bs);
    const gb = new Float32Array(bs);
    /** The MLP inputs of samples positions[0..n) into the batch (kernel input rows, or xb). */
    const load = (positions: Int32Array, n: number): Float32Array | null => {
      if (mlp) {
        mlp.gather(positions, n);
        return null;
      }
      const xv = n === bs ? xb! : xb!.subarray(0, n * d);
      for (let r = 0; r < n; r++) fill(positions[r]!, xv.subarray(r * d, (r + 1) * d));
      return xv;
    };
    const forward = (xv: Float32Array | null, n: number, training: boolean): Float32Array => {
      if (mlp) return mlp.kn.forward(n, training);
      net.setTraining(training);
      return net.forward(xv!, n);
    };
    for (let epoch = 1; epoch <= p.epochs; epoch++) {
      // All samples shuffled, or a fresh draw of perEpoch of them.
      if (perEpoch === train.length) rng.shuffle(train);
      else rng.shuffleFirst(train, perEpoch);
      const epochStart = performance.now();
      let se = 0;
      for (let start = 0; start < perEpoch; start += bs) {
        const n = Math.min(bs, perEpoch - start);
        const batch = train.subarray(start, start + n);
        const yv = n === bs ? yb : yb.subarray(0, n);
        const gv = mlp ? null : n === bs ? gb : gb.subarray(0, n);
        for (let r = 0; r < n; r++) yv[r] = target[batch[r]!]!;
        const xv = load(batch, n);
        if (!mlp) net.zeroGrad();
        const pred = forward(xv, n, true);
        se += mse.compute(pred, yv, mlp ? mlp.kn.outputGrad() : gv!) * n;
        if (mlp) {
          mlp.kn.backward();
          mlp.kn.step();
        } else {
          net.backward(gv!);
          opt.step(params);
        }
      }
      const seconds = (performance.now() - epochStart) / 1000;
      let vse = 0;
      for (let start = 0; start < nVal; start += bs) {
        const n = Math.min(bs, nVal - start);
        const batch = val.subarray(start, start + n);
        const pv = forward(load(batch, n), n, false);
        for (let t = 0; t < n; t++) {
          const k = batch[t]!;
          const full = this.bias.predict(users[k]!, x.items[k]!) + pv[t]!;
          const e = x.ratings[k]! - Math.min(this.hi, Math.max(this.lo, full));
          vse += e * e;
        }
      }
      const validationRmse = Math.sqrt(vse / nVal);
      curve.push({ epoch, trainRmse: Math.sqrt(se / Math.max(1, perEpoch)), validationRmse, seconds });
      tick();
      if (validationRmse < bestRmse) {
        bestRmse = validationRmse;
        bestEpoch = epoch;
        if (mlp) best = mlp.kn.snapshot(best);
        else for (let i = 0; i < params.length; i++) best[i]!.set(params[i]!.value);
      } else if (epoch - bestEpoch >= p.patience) {
        stoppedEarly = epoch < p.epochs;
        break;
      }
    }
    if (mlp) {
      mlp.kn.restore(best);
      mlp.kn.copyTo();
    } else for (let i = 0; i < params.length; i++) params[i]!.value.set(best[i]!);
    progress.stop();
    net.setTraining(false);
    const aeReport = (r: typeof ur | null) =>
      r
        ? { bestEpoch: r.bestEpoch, epochs: r.curve.length, seconds: r.seconds }
        : { bestEpoch: 0, epochs: 0, seconds: 0 };
    this.report = {
      curve,
      trainSamples: perEpoch,
      bestEpoch,
      stoppedEarly,
      userAutoencoder: aeReport(ur),
      itemAutoencoder: aeReport(ir),
      seconds: (performance.now() - started) / 1000,
    };
    return this.report;
  }

  /**
   * The MLP on the kernel layer, its inputs gathered there: the K parts' user codes stacked (part k's user u
   * is row k·users + u) and likewise the movie codes, plus each movie's genres and year, all copied into the
   * network's memory once, so a batch is three row gathers. With the product feature (computed per sample)
   * the rows are written by TypeScript instead.
   */
  private kernelMlp(
    net: Sequential,
    opt: Adam,
    x: Interactions,
    users: Int32Array,
    part: Uint8Array,
    zs: Float32Array[],
    vs: Float32Array[],
  ): { kn: KernelNetwork; gather(positions: Int32Array, n: number): void } {
    const p = this.params;
    const d = this.inputSize;
    const uc = p.user.code;
    const ic = p.item.code;
    const K = zs.length;
    const withCodes = p.itemVectors !== 'content';
    const statics = p.itemVectors !== 'ae' ? this.genreBits + 1 : 0;
    const bytes = 4 * (K * x.nUsers * uc + (withCodes ? K * x.nItems * ic : 0) + x.nItems * statics) + 4096;
    const kn = new KernelNetwork(net, opt, { maxBatch: Math.max(p.batchSize, 256), extraBytes: bytes });
    if (p.product) {
      const row = new Float32Array(d);
      return {
        kn,
        gather: (positions, n) => {
          const xv = kn.input(n);
          for (let r = 0; r < n; r++) {
            const k = positions[r]!;
            const u = users[k]!;
            const i = x.items[k]!;
            const pk = part[k]!;
            this.features(
              zs[pk]!.subarray(u * uc, (u + 1) * uc),
              withCodes ? vs[pk]!.subarray(i * ic, (i + 1) * ic) : null,
              i,
              row,
            );
            xv.set(row, r * d);
          }
        },
      };
    }
    const stack = (parts: Float32Array[]): number => {
      const total = parts.reduce((s, a) => s + a.length, 0);
      const all = new Float32Array(total);
      let o = 0;
      for (const a of parts) {
        all.set(a, o);
        o += a.length;
      }
      return kn.attach(all);
    };
    const zAt = stack(zs);
    const vAt = withCodes ? stack(vs) : 0;
    let sAt = 0;
    if (statics > 0) {
      const s = new Float32Array(x.nItems * statics);
      const zero = new Float32Array(uc);
      const row = new Float32Array(d);
      for (let i = 0; i < x.nItems; i++) {
        this.features(zero, withCodes ? new Float32Array(ic) : null, i, row);
        s.set(row.subarray(d - statics), i * statics);
      }
      sAt = kn.attach(s);
    }
    const bs = kn.maxBatch;
    const iu = new Int32Array(bs);
    const ii = new Int32Array(bs);
    const is = new Int32Array(bs);
    return {
      kn,
      gather: (positions, n) => {
        for (let r = 0; r < n; r++) {
          const k = positions[r]!;
          const pk = part[k]!;
          iu[r] = pk * x.nUsers + users[k]!;
          ii[r] = pk * x.nItems + x.items[k]!;
          is[r] = x.items[k]!;
        }
        kn.gatherInput(zAt, uc, iu, n, 0, uc);
        if (withCodes) kn.gatherInput(vAt, ic, ii, n, uc, ic);
        if (statics > 0) kn.gatherInput(sAt, statics, is, n, d - statics, statics);
      },
    };
  }

  /** Writes one MLP input row: user code, movie code, product, genres and year. */
  private features(z: Float32Array, v: Float32Array | null, item: number, out: Float32Array): void {
    const p = this.params;
    let o = 0;
    out.set(z, o);
    o += z.length;
    if (v) {
      out.set(v, o);
      o += v.length;
      if (p.product) {
        for (let f = 0; f < z.length; f++) out[o + f] = z[f]! * v[f]!;
        o += z.length;
      }
    }
    if (p.itemVectors !== 'ae') {
      const mask = item < this.catalogue!.size ? this.catalogue!.genreMask(item) : 0;
      for (let g = 0; g < this.genreBits; g++) out[o + g] = (mask >>> g) & 1;
      o += this.genreBits;
      const year = item < this.catalogue!.size ? this.catalogue!.movies[item]!.year : null;
      out[o++] = year === null || year === undefined ? 0 : (year - this.years.min) / this.years.span;
    }
  }

  private requireFitted(): Sequential {
    if (!this.net) throw new Error('rating predictor: fit() before use');
    return this.net;
  }

  /** A training user's vector (codes from their training ratings), or null for an unknown index. */
  trainedUser(u: number): UserVector | null {
    if (!(u >= 0 && u < this.nUsers)) return null;
    const k = this.params.user.code;
    return { code: this.userCodes.subarray(u * k, (u + 1) * k), bias: this.bias.bu[u]! };
  }

  /** A movie's autoencoder code from its training ratings (null beyond the fitted items or without item codes). */
  trainedItem(i: number): Float32Array | null {
    if (!(i >= 0 && i < this.nItems) || this.params.itemVectors === 'content') return null;
    const k = this.params.item.code;
    return this.itemCodes.subarray(i * k, (i + 1) * k);
  }

  /** The vector of ANY rating list (catalogue indices): the autoencoder's forward pass and the folded b_u. */
  userVector(items: ArrayLike<number>, ratings: ArrayLike<number>): UserVector {
    this.requireFitted();
    return { code: this.userAe.encode(items, ratings), bias: this.userAe.rowBias(items, ratings) };
  }

  /** Predicted rating of catalogue item `item` by a user vector, clipped to the scale. */
  predictFor(user: UserVector, item: number): number {
    const net = this.requireFitted();
    const ic = this.params.item.code;
    const known = item >= 0 && item < this.nItems;
    const v =
      this.params.itemVectors === 'content'
        ? null
        : known
          ? this.itemCodes.subarray(item * ic, (item + 1) * ic)
          : this.emptyItemCode;
    this.features(user.code, v, item, this.x);
    const residual = net.forward(this.x, 1)[0]!;
    const r = this.bias.mu + user.bias + (known ? this.bias.bi[item]! : 0) + residual;
    return Math.min(this.hi, Math.max(this.lo, r));
  }

  /**
   * Predicted ratings of many items by one user vector (every catalogue index when `items` is null,
   * out then having the catalogue's length). Without the product feature the first layer splits into a
   * user part (z·W_user, once per call) and an item part (movie features·W_item + b, computed once after
   * fitting), so a whole catalogue costs one add and the small upper layers per movie.
   *
   * With the product feature each prediction is predictFor's; `exact`, when given, then also receives it unrounded
   * (float64), so a caller can reuse it (e.g. for a reason) instead of predicting again. Returns whether it did.
   */
  predictMany(user: UserVector, items: Int32Array | null, out: Float32Array, exact?: Float64Array): boolean {
    const net = this.requireFitted();
    const n = items ? items.length : out.length;
    if (out.length < n) throw new RangeError(`predictMany: out has ${out.length} values for ${n} items`);
    if (this.params.product) {
      for (let t = 0; t < n; t++) {
        const p = this.predictFor(user, items ? items[t]! : t);
        out[t] = p;
        if (exact) exact[t] = p;
      }
      return !!exact;
    }
    const first = net.layers[0] as Dense;
    const h = first.outputs;
    const parts = this.itemParts();
    const uc = this.params.user.code;
    const userPart = this.userPart;
    const w = first.weight.value;
    userPart.fill(0);
    for (let k = 0; k < uc; k++) {
      const zk = user.code[k]!;
      if (zk === 0) continue;
      for (let j = 0; j < h; j++) userPart[j]! += zk * w[k * h + j]!;
    }
    const bs = 512;
    if (this.batchX.length < bs * h) this.batchX = new Float32Array(bs * h);
    const upper = net.layers.slice(1);
    for (let start = 0; start < n; start += bs) {
      const m = Math.min(bs, n - start);
      const hb = this.batchX.subarray(0, m * h);
      for (let r = 0; r < m; r++) {
        const item = items ? items[start + r]! : start + r;
        if (item >= 0 && item < this.nItems) {
          for (let j = 0; j < h; j++) hb[r * h + j] = userPart[j]! + parts[item * h + j]!;
        } else {
          // A movie added after fitting: its part from the features it has (genres, year; empty code).
          const x = this.x;
          this.features(
            new Float32Array(uc),
            this.params.itemVectors === 'content' ? null : this.emptyItemCode,
            item,
            x,
          );
          const pre = first.forward(x, 1);
          for (let j = 0; j < h; j++) hb[r * h + j] = userPart[j]! + pre[j]!;
        }
      }
      let y: Float32Array = hb;
      for (const layer of upper) y = layer.forward(y, m);
      for (let r = 0; r < m; r++) {
        const item = items ? items[start + r]! : start + r;
        const known = item >= 0 && item < this.nItems;
        const v = this.bias.mu + user.bias + (known ? this.bias.bi[item]! : 0) + y[r]!;
        out[r + start] = Math.min(this.hi, Math.max(this.lo, v));
      }
    }
    return false;
  }

  /** Movie part of the first layer for every fitted movie (nItems × hidden), bias included; built once. */
  private itemParts(): Float32Array {
    if (this.parts) return this.parts;
    const net = this.requireFitted();
    const first = net.layers[0] as Dense;
    const h = first.outputs;
    const d = this.inputSize;
    const uc = this.params.user.code;
    const ic = this.params.item.code;
    const zero = new Float32Array(uc);
    const parts = new Float32Array(this.nItems * h);
    const bs = 512;
    const xb = new Float32Array(bs * d);
    for (let start = 0; start < this.nItems; start += bs) {
      const m = Math.min(bs, this.nItems - start);
      for (let r = 0; r < m; r++) {
        const i = start + r;
        const v = this.params.itemVectors === 'content' ? null : this.itemCodes.subarray(i * ic, (i + 1) * ic);
        this.features(zero, v, i, xb.subarray(r * d, (r + 1) * d));
      }
      parts.set(first.forward(xb.subarray(0, m * d), m), start * h);
    }
    this.parts = parts;
    this.userPart = new Float32Array(h);
    return parts;
  }

  private parts: Float32Array | null = null;
  private userPart = new Float32Array(0);
  private batchX = new Float32Array(0);
  private anonymous: UserVector | null = null;

  /** RatingModel-style: a training user's dense index (or −1: no ratings known) and a catalogue index. */
  predict(u: number, item: number): number {
    const trained = this.trainedUser(u);
    if (trained) return this.predictFor(trained, item);
    if (!this.anonymous) this.anonymous = this.userVector([], []);
    return this.predictFor(this.anonymous, item);
  }

  /** The MLP's weights (copies). */
  network(): SavedNetwork {
    return this.requireFitted().toArrays();
  }

  /**
   * Writes everything prediction needs into dir: settings, report, scale bounds, the bias baseline, both
   * autoencoders (weights and centring), the MLP, and the trained user and movie codes. The catalogue is
   * not saved: load() takes it back (genres and years are read from it).
   */
  save(dir: string): void {
    const net = this.requireFitted().toArrays();
    const user = this.userAe.toArrays();
    const item = this.itemAe.toArrays();
    const meta: RatingPredictorMeta = {
      params: this.params,
      report: this.report,
      lo: this.lo,
      hi: this.hi,
      nUsers: this.nUsers,
      nItems: this.nItems,
      inputSize: this.inputSize,
      genreBits: this.genreBits,
      years: this.years,
      biasParams: this.bias.params,
      mu: this.bias.mu,
      userAe: user.meta,
      itemAe: item.meta,
      net: net.spec,
      netArrays: net.arrays.length,
    };
    const arrays: Record<string, Float32Array | Float64Array> = {
      bu: this.bias.bu,
      bi: this.bias.bi,
      userCodes: this.userCodes,
      itemCodes: this.itemCodes,
      emptyItemCode: this.emptyItemCode,
    };
    for (const [name, a] of Object.entries(user.arrays)) arrays[`user.${name}`] = a;
    for (const [name, a] of Object.entries(item.arrays)) arrays[`item.${name}`] = a;
    net.arrays.forEach((a, i) => {
      arrays[`net.${i}`] = a;
    });
    writeModel(dir, RATING_PREDICTOR_FORMAT, meta, arrays);
  }

  /**
   * The predictor saved in dir, over the catalogue it was fitted on (or that catalogue grown by movies
   * added since, which it scores from their genres and year as a fitted predictor does).
   */
  static load(dir: string, catalogue: Catalogue): RatingPredictor {
    const a = readModel<RatingPredictorMeta>(dir, RATING_PREDICTOR_FORMAT);
    const m = a.meta;
    const model = new RatingPredictor(m.params);
    model.report = m.report;
    model.catalogue = catalogue;
    model.lo = m.lo;
    model.hi = m.hi;
    model.nUsers = m.nUsers;
    model.nItems = m.nItems;
    model.genreBits = m.genreBits;
    model.inputSize = m.inputSize;
    model.x = new Float32Array(m.inputSize);
    model.years = m.years;
    if (JSON.stringify(m.biasParams) !== JSON.stringify(model.bias.params))
      throw new Error(`${dir}: the rating predictor's bias settings differ from this version's`);
    model.bias.mu = m.mu;
    model.bias.bu = a.array('bu', 'Float64Array');
    model.bias.bi = a.array('bi', 'Float64Array');
    model.userAe.restore(m.userAe, a, 'user.');
    model.itemAe.restore(m.itemAe, a, 'item.');
    model.userCodes = a.array('userCodes', 'Float32Array');
    model.itemCodes = a.array('itemCodes', 'Float32Array');
    model.emptyItemCode = a.array('emptyItemCode', 'Float32Array');
    model.net = Sequential.fromArrays(
      m.net,
      Array.from({ length: m.netArrays }, (_, i) => a.array(`net.${i}`, 'Float32Array')),
    );
    model.net.setTraining(false);
    if (model.net.inputSize !== m.inputSize || model.featureSize() !== m.inputSize)
      throw new Error(`${dir}: the saved MLP does not take ${m.inputSize} inputs`);
    if (model.bias.bu.length !== m.nUsers || model.bias.bi.length !== m.nItems)
      throw new Error(`${dir}: bias arrays do not fit ${m.nUsers} users × ${m.nItems} movies`);
    return model;
  }
}
