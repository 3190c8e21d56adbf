/**
 * What a variational autoencoder for collaborative filtering (Mult-VAE, Liang et al. 2018) needs beyond the rest of
 * the nn core: the multinomial log-likelihood of a binary row under a softmax over every column, the Gaussian
 * reparameterisation z = μ + ε·σ, the KL divergence of N(μ, σ²) from N(0, I) and tanh, each with its gradient; and
 * MultVaeKernel, the network on the kernel layer (src/math/kernels):
 *
 *   CSR row → SparseDense(items → hidden) → tanh → Dense(hidden → 2·latent) = [μ | log σ²]
 *           → z = μ + ε·σ (training) or μ (scoring) → Dense(latent → hidden) → tanh → Dense(hidden → items) = logits
 *
 * The output layer is dense over every item (the softmax needs every logit), so a step costs rows × hidden × items
 * three times (forward, weight gradient, input gradient): that is what the SIMD GEMM is for. The input layer is
 * sparse (nnz × hidden) and its weight rows are updated lazily, only those a batch touched (as LazyAdam).
 *
 * The functions take float32 or float64 arrays (float64 is what finite-difference checks use) and sum in float64.
 * Encoder statistics are packed per row: stats[r] = [μ_r (latent values) | log σ²_r (latent values)].
 */

import type { KernelFunctions } from '../math/kernels/index.ts';
import { bindKernels, defaultKernelBackend, GEMM_SCRATCH_BYTES, KernelMemory } from '../math/kernels/index.ts';
import type { Rng } from '../math/random.ts';
import type { AdamOptions } from './optim.ts';
import type { CsrPattern, CsrRows } from './sparse-rows.ts';

export type Vec = Float32Array | Float64Array;

/**
 * Negative multinomial log-likelihood of binary rows: for row r with target columns T_r (the pattern's row r, each
 * entry counting once) and logits z_r over `width` columns,
 *
 *   −Σ_{i∈T_r} log softmax(z_r)_i = |T_r|·logsumexp(z_r) − Σ_{i∈T_r} z_ri,
 *
 * summed over rows and multiplied by `scale` (1/rows gives the paper's batch mean). When `grad` is given it receives
 * scale·(|T_r|·softmax(z_r) − x_r); it may be `logits` itself (each row's logits are read before they are overwritten).
 */
export function multinomialNll(
  logits: Vec,
  targets: CsrPattern,
  width: number,
  grad: Vec | null = null,
  scale = 1,
): number {
  const rows = targets.rows;
  if (logits.length < rows * width) throw new RangeError(`multinomialNll: ${logits.length} logits < ${rows}×${width}`);
  if (grad && grad.length < rows * width) throw new RangeError(`multinomialNll: ${grad.length} gradients too few`);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * width;
    const from = targets.indptr[r]!;
    const to = targets.indptr[r + 1]!;
    const n = to - from;
    if (n === 0) {
      if (grad) grad.fill(0, o, o + width);
      continue;
    }
    let picked = 0;
    for (let p = from; p < to; p++) picked += logits[o + targets.indices[p]!]!;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < width; i++) if (logits[o + i]! > max) max = logits[o + i]!;
    // One exp per column: e^(z − max) is kept in grad (each logit is read before its slot is written).
    let sum = 0;
    if (grad) {
      for (let i = 0; i < width; i++) {
        const e = Math.exp(logits[o + i]! - max);
        grad[o + i] = e;
        sum += e;
      }
    } else for (let i = 0; i < width; i++) sum += Math.exp(logits[o + i]! - max);
    total += n * (max + Math.log(sum)) - picked;
    if (!grad) continue;
    // scale·(n·softmax − x): the targets' −1 comes after, so a column listed twice counts twice.
    const k = (scale * n) / sum;
    for (let i = 0; i < width; i++) grad[o + i]! *= k;
    for (let p = from; p < to; p++) grad[o + targets.indices[p]!]! -= scale;
  }
  return scale * total;
}

/**
 * KL(N(μ, σ²) ‖ N(0, I)) = ½ Σ (σ² + μ² − 1 − log σ²) over `rows` rows of packed stats, times `scale`. When `grad`
 * is given (same packing) it is ADDED to: ∂/∂μ = scale·μ, ∂/∂log σ² = scale·½(σ² − 1), so it goes on top of the
 * likelihood's gradient from reparameteriseBackward.
 */
export function gaussianKl(stats: Vec, rows: number, latent: number, grad: Vec | null = null, scale = 1): number {
  const w = 2 * latent;
  if (stats.length < rows * w) throw new RangeError(`gaussianKl: ${stats.length} values < ${rows}×${w}`);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * w;
    for (let j = 0; j < latent; j++) {
      const mu = stats[o + j]!;
      const lv = stats[o + latent + j]!;
      const v = Math.exp(lv);
      total += v + mu * mu - 1 - lv;
      if (grad) {
        grad[o + j]! += scale * mu;
        grad[o + latent + j]! += scale * 0.5 * (v - 1);
      }
    }
  }
  return 0.5 * scale * total;
}

/** z = μ + ε·exp(½ log σ²), rows × latent, from packed stats and standard normal draws ε (rows × latent). */
export function reparameterise(stats: Vec, rows: number, latent: number, eps: Vec, z: Vec): void {
  const w = 2 * latent;
  for (let r = 0; r < rows; r++) {
    const o = r * w;
    const e = r * latent;
    for (let j = 0; j < latent; j++) z[e + j] = stats[o + j]! + eps[e + j]! * Math.exp(0.5 * stats[o + latent + j]!);
  }
}

/**
 * The gradient of the packed stats from the gradient of z (OVERWRITES grad): ∂z/∂μ = 1, ∂z/∂log σ² = ½ε·σ. With
 * ε = 0 this is the deterministic path μ → z.
 */
export function reparameteriseBackward(gz: Vec, stats: Vec, rows: number, latent: number, eps: Vec, grad: Vec): void {
  const w = 2 * latent;
  for (let r = 0; r < rows; r++) {
    const o = r * w;
    const e = r * latent;
    for (let j = 0; j < latent; j++) {
      const g = gz[e + j]!;
      grad[o + j] = g;
      grad[o + latent + j] = g * eps[e + j]! * 0.5 * Math.exp(0.5 * stats[o + latent + j]!);
    }
  }
}

/** x[from … from + n) = tanh(x) in place. */
export function tanhInPlace(x: Vec, n: number, from = 0): void {
  for (let i = from; i < from + n; i++) x[i] = Math.tanh(x[i]!);
}

/** g[i] ·= 1 − y[i]² for n values, y = tanh(·) the forward output: the gradient through tanh, in place. */
export function tanhBackward(g: Vec, y: Vec, n: number, gFrom = 0, yFrom = 0): void {
  for (let i = 0; i < n; i++) {
    const t = y[yFrom + i]!;
    g[gFrom + i]! *= 1 - t * t;
  }
}

/** Mult-VAE's sizes. */
export interface MultVaeShape {
  items: number;
  hidden: number;
  latent: number;
}

/**
 * The parameters, row-major, each weight inputs × outputs (y = x·W + b): enc1 items × hidden (row k is input item
 * k's), enc2 hidden × 2·latent, dec1 latent × hidden, dec2 hidden × items.
 */
export interface MultVaeWeights {
  enc1W: Float32Array;
  enc1B: Float32Array;
  enc2W: Float32Array;
  enc2B: Float32Array;
  dec1W: Float32Array;
  dec1B: Float32Array;
  dec2W: Float32Array;
  dec2B: Float32Array;
}

export const MULT_VAE_WEIGHT_NAMES = [
  'enc1W',
  'enc1B',
  'enc2W',
  'enc2B',
  'dec1W',
  'dec1B',
  'dec2W',
  'dec2B',
] as const satisfies readonly (keyof MultVaeWeights)[];

/** The length of every parameter of a shape. */
export function multVaeSizes({ items, hidden, latent }: MultVaeShape): Record<keyof MultVaeWeights, number> {
  return {
    enc1W: items * hidden,
    enc1B: hidden,
    enc2W: hidden * 2 * latent,
    enc2B: 2 * latent,
    dec1W: latent * hidden,
    dec1B: hidden,
    dec2W: hidden * items,
    dec2B: items,
  };
}

/** Glorot-uniform weights over the true fan-in and fan-out (the paper's Xavier initialisation), zero biases. */
export function initMultVaeWeights(shape: MultVaeShape, rng: Rng): MultVaeWeights {
  const sizes = multVaeSizes(shape);
  const { items, hidden, latent } = shape;
  const glorot = (fanIn: number, fanOut: number): Float32Array => {
    const w = new Float32Array(fanIn * fanOut);
    const a = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < w.length; i++) w[i] = (2 * rng.next() - 1) * a;
    return w;
  };
  return {
    enc1W: glorot(items, hidden),
    enc1B: new Float32Array(sizes.enc1B),
    enc2W: glorot(hidden, 2 * latent),
    enc2B: new Float32Array(sizes.enc2B),
    dec1W: glorot(latent, hidden),
    dec1B: new Float32Array(sizes.dec1B),
    dec2W: glorot(hidden, items),
    dec2B: new Float32Array(sizes.dec2B),
  };
}

interface Slot {
  /** Byte offsets of the value and, when training, its gradient and Adam moments. */
  w: number;
  g: number;
  m: number;
  v: number;
  length: number;
  decay: boolean;
}

const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/**
 * Mult-VAE on the kernel layer: every weight (and, when training, its gradient and Adam moments) lives in one
 * KernelMemory; a batch's CSR rows are copied in above them and released by the next batch. float32 throughout;
 * single-threaded, so a seed gives the same weights on every run of a backend.
 */
export class MultVaeKernel {
  private readonly mem: KernelMemory;
  private readonly fn: KernelFunctions;
  private readonly slots: Record<keyof MultVaeWeights, Slot>;
  private readonly pack: number;
  private readonly training: boolean;
  private readonly lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  /** Rows of enc1W a batch touched (stamped, so each is listed once). */
  private readonly stamp: Int32Array;
  private generation = 0;
  private touched = new Int32Array(1024);
  private nTouched = 0;
  private t = 0;
  private readonly batchMark: number;
  private epsDraws = new Float32Array(0);
  /** Sums of the last trainStep, over its rows: the multinomial NLL and the KL term (before β). */
  lastNll = 0;
  lastKl = 0;

  /**
   * @param optimizer Adam's settings for training, or null for scoring only (no gradients or moments are kept).
   */
  constructor(
    readonly shape: MultVaeShape,
    weights: MultVaeWeights,
    optimizer: AdamOptions | null,
  ) {
    const sizes = multVaeSizes(shape);
    for (const name of MULT_VAE_WEIGHT_NAMES)
      if (weights[name].length !== sizes[name])
        throw new RangeError(`MultVaeKernel: ${name} has ${weights[name].length} values, expected ${sizes[name]}`);
    this.training = optimizer !== null;
    this.lr = optimizer?.lr ?? 1e-3;
    this.beta1 = optimizer?.beta1 ?? 0.9;
    this.beta2 = optimizer?.beta2 ?? 0.999;
    this.eps = optimizer?.eps ?? 1e-8;
    this.weightDecay = optimizer?.weightDecay ?? 0;
    const copies = this.training ? 4 : 1;
    const paramBytes = MULT_VAE_WEIGHT_NAMES.reduce((s, n) => s + copies * align(4 * sizes[n]), 0);
    // Batches are allocated above the parameters; the memory grows when a larger batch arrives.
    const initial = paramBytes + GEMM_SCRATCH_BYTES + (4 << 20);
    this.mem = KernelMemory.create(initial, Math.max(initial * 2, initial + (1 << 30)));
    this.fn = bindKernels(this.mem, defaultKernelBackend);
    const slot = (a: Float32Array, decay: boolean): Slot => {
      const w = this.mem.copyIn(a);
      if (!this.training) return { w, g: 0, m: 0, v: 0, length: a.length, decay };
      const s = {
        w,
        g: this.zeros(a.length),
        m: this.zeros(a.length),
        v: this.zeros(a.length),
        length: a.length,
        decay,
      };
      return s;
    };
    this.slots = {
      enc1W: slot(weights.enc1W, true),
      enc1B: slot(weights.enc1B, false),
      enc2W: slot(weights.enc2W, true),
      enc2B: slot(weights.enc2B, false),
      dec1W: slot(weights.dec1W, true),
      dec1B: slot(weights.dec1B, false),
      dec2W: slot(weights.dec2W, true),
      dec2B: slot(weights.dec2B, false),
    };
    this.pack = this.mem.alloc(GEMM_SCRATCH_BYTES);
    this.stamp = new Int32Array(this.training ? shape.items : 0);
    this.batchMark = this.mem.used;
  }

  private zeros(n: number): number {
    const p = this.mem.alloc(4 * n);
    this.mem.f32At(p, n).fill(0);
    return p;
  }

  /** The batch's buffers above the parameters (the previous batch's are released). */
  private load(input: CsrRows, withGradients: boolean) {
    const mem = this.mem;
    mem.release(this.batchMark);
    const rows = input.rows;
    const nnz = input.indptr[rows]!;
    const { items, hidden: H, latent: L } = this.shape;
    return {
      rows,
      indptr: mem.copyIn(input.indptr.subarray(0, rows + 1)),
      idx: mem.copyIn(input.indices.subarray(0, nnz)),
      vals: mem.copyIn(input.values.subarray(0, nnz)),
      h1: mem.alloc(4 * rows * H),
      stats: mem.alloc(4 * rows * 2 * L),
      z: mem.alloc(4 * rows * L),
      h2: mem.alloc(4 * rows * H),
      logits: mem.alloc(4 * rows * items),
      dh2: withGradients ? mem.alloc(4 * rows * H) : 0,
      dz: withGradients ? mem.alloc(4 * rows * L) : 0,
      dstats: withGradients ? mem.alloc(4 * rows * 2 * L) : 0,
      dh1: withGradients ? mem.alloc(4 * rows * H) : 0,
    };
  }

  /** Encoder, then the decoder from z (sampled when `rng` is given, else μ): logits of the loaded rows. */
  private forward(b: ReturnType<MultVaeKernel['load']>, rng: Rng | null): void {
    const { fn, mem, pack } = this;
    const s = this.slots;
    const { items, hidden: H, latent: L } = this.shape;
    const rows = b.rows;
    fn.spmm_rows(b.indptr, b.idx, b.vals, rows, s.enc1W.w, H, s.enc1B.w, b.h1);
    tanhInPlace(mem.f32(), rows * H, b.h1 >> 2);
    fn.gemm_strided(rows, 2 * L, H, b.h1, 4 * H, 4, s.enc2W.w, 8 * L, 4, b.stats, 2 * L, 0, pack);
    fn.bias_act(b.stats, rows, 2 * L, 2 * L, s.enc2B.w, 0);
    const stats = mem.f32At(b.stats, rows * 2 * L);
    const z = mem.f32At(b.z, rows * L);
    if (rng) {
      if (this.epsDraws.length < rows * L) this.epsDraws = new Float32Array(rows * L);
      const e = this.epsDraws;
      for (let i = 0; i < rows * L; i++) e[i] = rng.normal();
      reparameterise(stats, rows, L, e, z);
    } else {
      for (let r = 0; r < rows; r++) z.set(stats.subarray(r * 2 * L, r * 2 * L + L), r * L);
    }
    fn.gemm_strided(rows, H, L, b.z, 4 * L, 4, s.dec1W.w, 4 * H, 4, b.h2, H, 0, pack);
    fn.bias_act(b.h2, rows, H, H, s.dec1B.w, 0);
    tanhInPlace(mem.f32(), rows * H, b.h2 >> 2);
    if (rows === 1) fn.gemv(1, H, items, s.dec2W.w, items, b.h2, b.logits, 0);
    else fn.gemm_strided(rows, items, H, b.h2, 4 * H, 4, s.dec2W.w, 4 * items, 4, b.logits, items, 0, pack);
    fn.bias_act(b.logits, rows, items, items, s.dec2B.w, 0);
  }

  /**
   * One Adam step on a batch: `input` is the encoder's view of the rows (normalised, dropout applied), `targets`
   * their full binary rows. Loss: mean over rows of the multinomial NLL + β·KL. Sets lastNll and lastKl (sums).
   */
  trainStep(input: CsrRows, targets: CsrPattern, rng: Rng, beta: number): void {
    this.gradients(input, targets, rng, beta);
    this.step(input);
  }

  /**
   * The gradients of the batch loss (mean over rows of NLL + β·KL) into the parameters' gradient slots, without a
   * step; sets lastNll and lastKl. trainStep is this and an Adam step; alone it serves gradient checks.
   */
  gradients(input: CsrRows, targets: CsrPattern, rng: Rng, beta: number): void {
    if (!this.training) throw new Error('MultVaeKernel: made for scoring only');
    if (targets.rows !== input.rows) throw new RangeError('MultVaeKernel: input and targets differ in rows');
    const { fn, mem, pack } = this;
    const s = this.slots;
    const { items, hidden: H, latent: L } = this.shape;
    const b = this.load(input, true);
    const rows = b.rows;
    this.forward(b, rng);
    const scale = 1 / rows;
    // Logits become their gradient in place.
    const logits = mem.f32At(b.logits, rows * items);
    this.lastNll = multinomialNll(logits, targets, items, logits, scale) / scale;
    const g = b.logits;
    fn.gemm_strided(H, items, rows, b.h2, 4, 4 * H, g, 4 * items, 4, s.dec2W.g, items, 0, pack);
    fn.colsum(g, rows, items, items, s.dec2B.g, 0);
    fn.gemm_strided(rows, H, items, g, 4 * items, 4, s.dec2W.w, 4, 4 * items, b.dh2, H, 0, pack);
    tanhBackward(mem.f32(), mem.f32(), rows * H, b.dh2 >> 2, b.h2 >> 2);
    fn.gemm_strided(L, H, rows, b.z, 4, 4 * L, b.dh2, 4 * H, 4, s.dec1W.g, H, 0, pack);
    fn.colsum(b.dh2, rows, H, H, s.dec1B.g, 0);
    fn.gemm_strided(rows, L, H, b.dh2, 4 * H, 4, s.dec1W.w, 4, 4 * H, b.dz, L, 0, pack);
    const stats = mem.f32At(b.stats, rows * 2 * L);
    const dstats = mem.f32At(b.dstats, rows * 2 * L);
    reparameteriseBackward(mem.f32At(b.dz, rows * L), stats, rows, L, this.epsDraws, dstats);
    // β·KL's gradient goes on top of the likelihood's; at β = 0 (the start of the annealing) only its value is kept.
    const klScale = beta * scale;
    this.lastKl = klScale > 0 ? gaussianKl(stats, rows, L, dstats, klScale) / klScale : gaussianKl(stats, rows, L);
    fn.gemm_strided(H, 2 * L, rows, b.h1, 4, 4 * H, b.dstats, 8 * L, 4, s.enc2W.g, 2 * L, 0, pack);
    fn.colsum(b.dstats, rows, 2 * L, 2 * L, s.enc2B.g, 0);
    fn.gemm_strided(rows, H, 2 * L, b.dstats, 8 * L, 4, s.enc2W.w, 4, 8 * L, b.dh1, H, 0, pack);
    tanhBackward(mem.f32(), mem.f32(), rows * H, b.dh1 >> 2, b.h1 >> 2);
    fn.spmm_t_rows(b.indptr, b.idx, b.vals, rows, b.dh1, H, s.enc1W.g);
    fn.colsum(b.dh1, rows, H, H, s.enc1B.g, 0);
  }

  /** A copy of one parameter's gradient (after gradients(); enc1W's is cleared by each step). */
  gradientOf(name: keyof MultVaeWeights): Float32Array {
    const sl = this.slots[name];
    if (!this.training) throw new Error('MultVaeKernel: made for scoring only');
    return Float32Array.from(this.mem.f32At(sl.g, sl.length));
  }

  /** Adam: dense on every parameter but enc1W, lazy (touched rows only) on enc1W, whose gradient rows are cleared. */
  private step(input: CsrRows): void {
    const { fn, mem } = this;
    const s = this.slots;
    const H = this.shape.hidden;
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    const step = this.lr / c1;
    const invc2 = 1 / c2;
    const shrink = (sl: Slot) => (sl.decay && this.weightDecay > 0 ? 1 - this.lr * this.weightDecay : 1);
    for (const sl of [s.enc1B, s.enc2W, s.enc2B, s.dec1W, s.dec1B, s.dec2W, s.dec2B])
      fn.adam(sl.w, sl.g, sl.m, sl.v, sl.length, this.beta1, this.beta2, step, invc2, this.eps, shrink(sl), 0);
    this.collectTouched(input);
    const rowsAt = mem.alloc(4 * this.nTouched);
    mem.i32At(rowsAt, this.nTouched).set(this.touched.subarray(0, this.nTouched));
    const e = s.enc1W;
    fn.adam_rows(
      e.w,
      e.g,
      e.m,
      e.v,
      H,
      rowsAt,
      this.nTouched,
      this.beta1,
      this.beta2,
      step,
      invc2,
      this.eps,
      shrink(e),
      0,
    );
    const g = mem.f32();
    const base = e.g >> 2;
    for (let t = 0; t < this.nTouched; t++) {
      const r = this.touched[t]!;
      g.fill(0, base + r * H, base + (r + 1) * H);
    }
  }

  private collectTouched(input: CsrRows): void {
    this.generation++;
    if (this.generation === 0x7fffffff) {
      this.stamp.fill(0);
      this.generation = 1;
    }
    this.nTouched = 0;
    const nnz = input.indptr[input.rows]!;
    for (let p = 0; p < nnz; p++) {
      const r = input.indices[p]!;
      if (this.stamp[r] === this.generation) continue;
      this.stamp[r] = this.generation;
      if (this.nTouched === this.touched.length) {
        const grown = new Int32Array(this.touched.length * 2);
        grown.set(this.touched);
        this.touched = grown;
      }
      this.touched[this.nTouched++] = r;
    }
  }

  /** Logits of every item for the input rows through μ (no sampling), into out (rows × items). */
  logits(input: CsrRows, out: Float32Array): void {
    const { items } = this.shape;
    if (out.length < input.rows * items) throw new RangeError(`MultVaeKernel.logits: out holds ${out.length} values`);
    const b = this.load(input, false);
    this.forward(b, null);
    out.set(this.mem.f32At(b.logits, input.rows * items));
  }

  /** Copies the current parameters out (into `into` when given). */
  weights(into?: MultVaeWeights): MultVaeWeights {
    const out = into ?? initEmpty(this.shape);
    for (const name of MULT_VAE_WEIGHT_NAMES) {
      const sl = this.slots[name];
      out[name].set(this.mem.f32At(sl.w, sl.length));
    }
    return out;
  }
}

function initEmpty(shape: MultVaeShape): MultVaeWeights {
  const sizes = multVaeSizes(shape);
  return {
    enc1W: new Float32Array(sizes.enc1W),
    enc1B: new Float32Array(sizes.enc1B),
    enc2W: new Float32Array(sizes.enc2W),
    enc2B: new Float32Array(sizes.enc2B),
    dec1W: new Float32Array(sizes.dec1W),
    dec1B: new Float32Array(sizes.dec1B),
    dec2W: new Float32Array(sizes.dec2W),
    dec2B: new Float32Array(sizes.dec2B),
  };
}
