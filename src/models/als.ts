/**
 * Implicit-feedback matrix factorisation by alternating least squares (Hu, Koren & Volinsky, "Collaborative
 * Filtering for Implicit Feedback Datasets", ICDM 2008), following the conventions of the `implicit` library:
 *
 * - every observed rating r_ui gives a preference p_ui and a confidence c_ui (see `Confidence`); every
 *   unobserved pair has p = 0, c = 1;
 * - the objective is Σ_{u,i} c_ui (p_ui − x_uᵀy_i)² + λ(Σ_u ‖x_u‖² + Σ_i ‖y_i‖²) over all users × items, with
 *   λ added as λI to every normal-equation matrix (not scaled by the number of ratings);
 * - factors start uniform in [0, 0.01) (seeded), then each iteration solves all users with the items fixed,
 *   then all items with the users fixed;
 * - the default solver is conjugate gradient, `cgSteps` steps per row warm-started from the previous factors.
 *
 * Rows with no observations (catalogue items nobody rated in training) solve to exactly zero.
 *
 * The arithmetic runs on the kernel layer (src/math/kernels): WebAssembly SIMD row kernels (float32 CG,
 * float64 exact solves) where the engine supports them, their TypeScript reference otherwise. Both half-steps
 * run on `threads` threads (the caller and threads − 1 workers) over one shared kernel memory holding the
 * factors and the interaction matrix (als-kernels.ts), taking chunks of rows as they go; with threads = 1
 * everything runs on the calling thread. A row's arithmetic does not depend on the thread that solves it, so
 * the factors do not depend on the number of threads.
 */
import os from 'node:os';
import type { Interactions } from '../data/interactions.ts';
import { cholesky, choleskySolve } from '../math/cholesky.ts';
import { defaultKernelBackend } from '../math/kernels/index.ts';
import { ExactRows } from '../math/matvec.ts';
import { Rng } from '../math/random.ts';
import { ValidationError } from '../util/errors.ts';
import { assertMayFit } from '../util/fit-guard.ts';
import { type Progress, silentProgress } from '../util/progress.ts';
import {
  AlsWorkspace,
  CONF_BINARY,
  CONF_LINEAR,
  CONF_RATING,
  type ConfidenceSpec,
  exactFoldIn,
  gramian,
  RowSolver,
} from './als-kernels.ts';

/**
 * How an observed rating r becomes confidence c (α = `alpha`); preference p = 1 unless `negativeBelow` applies:
 * - `binary`: c = 1 + α, whatever the rating (the `implicit` library fed a matrix of ones);
 * - `rating`: c = 1 + α·r;
 * - `linear`: c = 1 + α·r / r_max, r_max the largest rating in the training data (5 on MovieLens): linear in the
 *   rating like `rating`, but a top rating weighs what every rating weighs under `binary`, so α keeps its scale.
 * With `negativeBelow = t`, a rating r < t instead gives p = 0 with c = 1 + α·(t − r), whatever the kind.
 */
export type Confidence = 'binary' | 'rating' | 'linear';

export interface AlsParams {
  /** Latent dimensions f. */
  factors: number;
  /** λ, added as λI to every row's system (not scaled by the row's number of ratings), as in `implicit`. */
  regularization: number;
  /** α of the confidence c = 1 + α·w. */
  alpha: number;
  iterations: number;
  confidence: Confidence;
  /** Ratings below this are negative preference (p = 0 with confidence 1 + α·(threshold − r)) when set; default off. */
  negativeBelow?: number;
  /** 'cg': conjugate gradient, `cgSteps` per row update, warm-started from the previous factors (as `implicit`). */
  solver: 'cg' | 'cholesky';
  cgSteps: number;
  seed: number;
  /** Worker threads for the half-steps; 0 = os.availableParallelism(); 1 = no worker, all on the caller's thread. */
  threads: number;
}

export const ALS_DEFAULTS: AlsParams = {
  factors: 64,
  regularization: 0.05,
  alpha: 1,
  iterations: 15,
  confidence: 'binary',
  solver: 'cg',
  cgSteps: 3,
  seed: 1,
  threads: 0,
};

export interface AlsFitReport {
  /**
   * Per iteration (from 1): the objective after it (Σ c (p − xᵀy)² over all users × items + λ(‖X‖² + ‖Y‖²),
   * unnormalised) and its wall-clock seconds.
   */
  iterations: { iteration: number; loss: number; seconds: number }[];
  /** Whole fit, including worker start-up. */
  seconds: number;
  /** Threads used (1: no workers). */
  threads: number;
}

/** The persisted form's small part (JSON); the factor matrices go with it in `AlsArrays`. */
export interface AlsMeta {
  format: 'als-v1';
  factors: number;
  nUsers: number;
  nItems: number;
  /** The largest training rating: the `linear` confidence's divisor. */
  ratingMax: number;
  params: AlsParams;
}

export interface AlsArrays {
  userFactors: Float32Array;
  itemFactors: Float32Array;
}

const CONFIDENCE_KINDS: Record<Confidence, number> = { binary: CONF_BINARY, rating: CONF_RATING, linear: CONF_LINEAR };

function checkParams(p: AlsParams): void {
  const bad = (field: string, why: string) => new ValidationError(`als ${field} ${why}`, field);
  if (!(Number.isInteger(p.factors) && p.factors >= 1)) throw bad('factors', 'must be an integer ≥ 1');
  if (!(p.regularization > 0 && Number.isFinite(p.regularization))) throw bad('regularization', 'must be above 0');
  if (!(p.alpha >= 0 && Number.isFinite(p.alpha))) throw bad('alpha', 'must be ≥ 0');
  if (!(Number.isInteger(p.iterations) && p.iterations >= 0)) throw bad('iterations', 'must be an integer ≥ 0');
  if (!(p.confidence in CONFIDENCE_KINDS)) throw bad('confidence', 'must be binary, rating or linear');
  if (p.negativeBelow !== undefined && !Number.isFinite(p.negativeBelow))
    throw bad('negativeBelow', 'must be a number');
  if (p.solver !== 'cg' && p.solver !== 'cholesky') throw bad('solver', 'must be cg or cholesky');
  if (!(Number.isInteger(p.cgSteps) && p.cgSteps >= 1)) throw bad('cgSteps', 'must be an integer ≥ 1');
  if (!Number.isFinite(p.seed)) throw bad('seed', 'must be a finite number');
  if (!(Number.isInteger(p.threads) && p.threads >= 0)) throw bad('threads', 'must be an integer ≥ 0');
}

function confidenceSpec(p: AlsParams, ratingMax: number): ConfidenceSpec {
  return {
    kind: CONFIDENCE_KINDS[p.confidence],
    alpha: p.alpha,
    ratingMax,
    negativeBelow: p.negativeBelow ?? Number.NEGATIVE_INFINITY,
  };
}

/** Implicit ALS factors with fold-in, scoring and explanations; see the module comment. */
export class AlsModel {
  readonly factors: number;
  readonly nUsers: number;
  nItems: number;
  /** nUsers × f, row u = the user at dense index u of the Interactions it was fitted on. */
  userFactors: Float32Array;
  /** nItems × f, row i = catalogue index i (a view of a larger buffer once items are added). */
  itemFactors: Float32Array;
  readonly params: AlsParams;
  /** The largest training rating (the `linear` confidence's r_max). */
  readonly ratingMax: number;
  private itemStore: Float32Array;
  private itemGram: Float64Array | null = null;
  private userGram: Float64Array | null = null;
  private readonly conf: ConfidenceSpec;
  /** Scratch for fold-in and explanations (models are used from one thread). */
  private readonly solver: RowSolver;
  private foldIndex = new Int32Array(64);
  private foldRatings = new Float32Array(64);
  /** The prepared explanation (prepareExplanation): its own solver and entries, so fold-ins do not disturb it. */
  private readonly explainer: RowSolver;
  private explainIndex = new Int32Array(64);
  private explainRatings = new Float32Array(64);
  private explainCount = 0;
  private explainW = new Float64Array(0);
  private explainDots = new Float64Array(0);
  /** Numbers each prepareExplanation, so a caller can tell whether the prepared history is still its own. */
  private explainToken = 0;
  /**
   * Changes whenever an item factor does (setItemFactor, which also moves YᵀY): a user folded in before a change
   * is stale after it.
   */
  revision = 0;
  /** The item factors in the exact scoring kernel (made on first use, kept current by setItemFactor). */
  private scoring: ExactRows | null = null;

  private constructor(
    params: AlsParams,
    ratingMax: number,
    nUsers: number,
    nItems: number,
    userFactors: Float32Array,
    itemFactors: Float32Array,
  ) {
    this.params = { ...params };
    this.factors = params.factors;
    this.ratingMax = ratingMax;
    this.nUsers = nUsers;
    this.nItems = nItems;
    this.userFactors = userFactors;
    this.itemStore = itemFactors;
    this.itemFactors = itemFactors.subarray(0, nItems * params.factors);
    this.conf = confidenceSpec(params, ratingMax);
    this.solver = new RowSolver(params.factors);
    this.explainer = new RowSolver(params.factors);
    this.explainW = new Float64Array(params.factors);
  }

  /** Fits on the interactions (ratings as implicit feedback); see AlsParams. Workers are stopped before it returns. */
  static async fit(
    x: Interactions,
    params: AlsParams,
    progress: Progress = silentProgress,
  ): Promise<AlsModel & { report: AlsFitReport }> {
    assertMayFit('ALS');
    checkParams(params);
    const started = performance.now();
    const f = params.factors;
    const { nUsers, nItems } = x;
    const threads = Math.max(1, params.threads === 0 ? os.availableParallelism() : params.threads);
    let ratingMax = 0;
    for (let k = 0; k < x.ratings.length; k++) if (x.ratings[k]! > ratingMax) ratingMax = x.ratings[k]!;
    if (!(ratingMax > 0)) ratingMax = 1;

    // Initial factors uniform in [0, 0.01): users first, then items, from one seeded stream.
    const rng = new Rng(params.seed);
    const userFactors = new Float32Array(nUsers * f);
    const itemFactors = new Float32Array(nItems * f);
    for (let k = 0; k < userFactors.length; k++) userFactors[k] = rng.next() * 0.01;
    for (let k = 0; k < itemFactors.length; k++) itemFactors[k] = rng.next() * 0.01;

    const csc = x.byItem();
    const ws = await AlsWorkspace.create(
      {
        f,
        nUsers,
        nItems,
        byUser: { indptr: x.indptr, index: x.items, ratings: x.ratings },
        byItem: { indptr: csc.indptr, index: csc.users, ratings: csc.ratings },
        userFactors,
        itemFactors,
        lambda: params.regularization,
        cgSteps: params.cgSteps,
        exact: params.solver === 'cholesky',
        conf: confidenceSpec(params, ratingMax),
        threads,
        backend: defaultKernelBackend,
      },
      new URL('./als-worker.ts', import.meta.url),
    );
    const iterations: AlsFitReport['iterations'] = [];
    progress.start(params.iterations, 'als');
    try {
      await ws.gram('items');
      for (let it = 1; it <= params.iterations; it++) {
        const t0 = performance.now();
        // Users with the items (and their Gramian) fixed, then items with the users fixed; the item
        // half-step also records each item row's observed share of the loss.
        await ws.solve('users');
        await ws.gram('users');
        await ws.solve('items');
        await ws.gram('items');
        iterations.push({ iteration: it, loss: ws.loss(), seconds: (performance.now() - t0) / 1000 });
        progress.update(it);
      }
    } finally {
      progress.stop();
      await ws.close();
    }

    const model = new AlsModel(params, ratingMax, nUsers, nItems, ws.factors('users'), ws.factors('items'));
    model.itemGram = ws.gramOf('items');
    // XᵀX of the final X (the one the last item half-step used); not valid before any iteration.
    model.userGram = params.iterations > 0 ? ws.gramOf('users') : null;
    const report: AlsFitReport = { iterations, seconds: (performance.now() - started) / 1000, threads };
    return Object.assign(model, { report });
  }

  /** YᵀY (f×f, float64, full symmetric), cached after fit and kept current by setItemFactor. */
  gramian(): Float64Array {
    this.itemGram ??= gramian(this.itemFactors, this.nItems, this.factors, new Float64Array(this.factors ** 2));
    return this.itemGram;
  }

  /** XᵀX over the trained users, cached. */
  userGramian(): Float64Array {
    this.userGram ??= gramian(this.userFactors, this.nUsers, this.factors, new Float64Array(this.factors ** 2));
    return this.userGram;
  }

  /**
   * The least-squares factor of a new or changed user from their items/ratings against the fixed item factors:
   * x = (YᵀY + λI + Yᵀ(C_u − I)Y)⁻¹ YᵀC_u p_u, solved exactly (Cholesky) with the cached YᵀY. The same kernel
   * (als_exact) as the fit's Cholesky user half-step. Items outside [0, nItems) are ignored.
   */
  foldInUser(items: ArrayLike<number>, ratings: ArrayLike<number>, out?: Float32Array): Float32Array {
    return this.foldIn(items, ratings, this.nItems, this.itemFactors, this.gramian(), out);
  }

  /** The same for an item from the users (dense indices) who rated it, against the fixed user factors (XᵀX cached). */
  foldInItem(users: ArrayLike<number>, ratings: ArrayLike<number>, out?: Float32Array): Float32Array {
    return this.foldIn(users, ratings, this.nUsers, this.userFactors, this.userGramian(), out);
  }

  /**
   * Fold-in of an item from raters given as factor rows (m × f: trained users' rows and folded-in live
   * users alike), against the cached XᵀX of the trained users.
   */
  foldInItemFromVectors(vectors: Float32Array, ratings: ArrayLike<number>, out?: Float32Array): Float32Array {
    const m = ratings.length;
    if (vectors.length < m * this.factors) throw new RangeError(`need ${m} rows of ${this.factors} floats`);
    const index = Int32Array.from({ length: m }, (_, k) => k);
    return this.foldIn(index, ratings, m, vectors, this.userGramian(), out);
  }

  private foldIn(
    index: ArrayLike<number>,
    ratings: ArrayLike<number>,
    limit: number,
    fixed: Float32Array,
    gram: Float64Array,
    out: Float32Array | undefined,
  ): Float32Array {
    const f = this.factors;
    const result = out ?? new Float32Array(f);
    if (result.length < f) throw new RangeError(`fold-in output needs ${f} floats, got ${result.length}`);
    const n = this.gather(index, ratings, limit);
    if (n === 0) {
      result.fill(0, 0, f);
      return result;
    }
    const lambda = this.params.regularization;
    exactFoldIn(defaultKernelBackend, f, lambda, this.conf, gram, fixed, this.foldIndex, this.foldRatings, n, result);
    return result;
  }

  /** Copies the in-range entries into the fold-in scratch; returns their number. */
  private gather(index: ArrayLike<number>, ratings: ArrayLike<number>, limit: number): number {
    if (index.length !== ratings.length) {
      throw new RangeError(`fold-in: ${index.length} indices but ${ratings.length} ratings`);
    }
    if (index.length > this.foldIndex.length) {
      const size = Math.max(index.length, this.foldIndex.length * 2);
      this.foldIndex = new Int32Array(size);
      this.foldRatings = new Float32Array(size);
    }
    return gatherInto(index, ratings, limit, this.foldIndex, this.foldRatings);
  }

  /** scores[i] = x · y_i for every item i < nItems (float64 sums rounded to float32). */
  scoreItems(userVector: Float32Array, scores: Float32Array): void {
    if (userVector.length < this.factors) throw new RangeError(`user vector needs ${this.factors} floats`);
    if (scores.length < this.nItems) throw new RangeError(`scores needs ${this.nItems} slots, got ${scores.length}`);
    if (!this.scoring) {
      this.scoring = ExactRows.create(Math.ceil(this.nItems * 1.1), this.factors);
      this.scoring.set(this.itemFactors, this.nItems);
    }
    this.scoring.multiply(userVector, scores);
  }

  /**
   * Why `item` scores what it does for the user with this history: the paper's exact decomposition (section 5).
   * With W_u = (YᵀC_uY + λI)⁻¹, the fold-in factor is x_u = W_u YᵀC_u p_u, so the score is
   *   y_iᵀx_u = Σ_{j: p_uj = 1} s_ij c_uj,  s_ij = y_iᵀ W_u y_j,
   * and item j's contribution (`weight`) is s_ij·c_uj: the weights sum to the score of `item` for the user
   * folded in from this history. Negative-preference items (p = 0) contribute nothing and are left out. Sorted
   * by weight, highest first (ties by item). Costs one fold-in (a Cholesky factorisation) plus O(n·f).
   */
  explain(items: ArrayLike<number>, ratings: ArrayLike<number>, item: number): { item: number; weight: number }[] {
    this.checkExplained(item);
    if (this.prepareExplanation(items, ratings) === 0) return [];
    const w = this.solveExplained(item);
    const out: { item: number; weight: number }[] = [];
    for (let k = 0; k < this.explainCount; k++) {
      const weight = this.contribution(k, w);
      if (weight !== null) out.push({ item: this.explainIndex[k]!, weight });
    }
    return out.sort((a, b) => b.weight - a.weight || a.item - b.item);
  }

  /**
   * Factors one history's system W_u⁻¹ = YᵀC_uY + λI for explanations of many items (strongestContribution), so
   * a list of k reasons costs one factorisation, not k. Returns a token: while `explanationToken` still equals
   * it, the prepared history is this one.
   */
  prepareExplanation(items: ArrayLike<number>, ratings: ArrayLike<number>): number {
    if (items.length !== ratings.length) {
      throw new RangeError(`explain: ${items.length} indices but ${ratings.length} ratings`);
    }
    if (items.length > this.explainIndex.length) {
      const size = Math.max(items.length, this.explainIndex.length * 2);
      this.explainIndex = new Int32Array(size);
      this.explainRatings = new Float32Array(size);
    }
    const n = gatherInto(items, ratings, this.nItems, this.explainIndex, this.explainRatings);
    this.explainCount = n;
    this.explainToken++;
    if (n === 0) return 0;
    const s = this.explainer;
    s.weigh(this.explainRatings, 0, n, this.conf);
    s.buildSystem(this.gramian(), this.params.regularization, this.itemFactors, this.explainIndex, 0, n);
    cholesky(s.a, this.factors);
    return this.explainToken;
  }

  /** The token of the history prepared last (0 when it had no entries). */
  get explanationToken(): number {
    return this.explainCount === 0 ? 0 : this.explainToken;
  }

  /**
   * The strongest contribution to `item` in the prepared history: explain()'s first entry (highest weight, ties by
   * item), without building the list; null when nothing contributes.
   */
  strongestContribution(item: number): { item: number; weight: number } | null {
    this.checkExplained(item);
    if (this.explainCount === 0) return null;
    const w = this.solveExplained(item);
    const n = this.explainCount;
    if (this.explainDots.length < n) this.explainDots = new Float64Array(this.explainIndex.length);
    // y_jᵀw for every entry, each summed over a in order (as contribution() sums it), four entries per pass.
    dotRows64(this.itemFactors, this.factors, this.explainIndex, n, w, this.explainDots);
    let best = -1;
    let bestWeight = 0;
    for (let k = 0; k < n; k++) {
      if (this.explainRatings[k]! < this.conf.negativeBelow) continue;
      const weight = (1 + this.explainer.weightOf(k)) * this.explainDots[k]!;
      const j = this.explainIndex[k]!;
      if (best < 0 || weight > bestWeight || (weight === bestWeight && j < best)) {
        best = j;
        bestWeight = weight;
      }
    }
    return best < 0 ? null : { item: best, weight: bestWeight };
  }

  private checkExplained(item: number): void {
    if (!(Number.isInteger(item) && item >= 0 && item < this.nItems)) {
      throw new RangeError(`explain: item ${item} not in [0, ${this.nItems})`);
    }
  }

  /** W_u y_item from the prepared factor. */
  private solveExplained(item: number): Float64Array {
    const f = this.factors;
    const w = this.explainW;
    for (let k = 0; k < f; k++) w[k] = this.itemFactors[item * f + k]!;
    choleskySolve(this.explainer.a, f, w);
    return w;
  }

  /** Entry k's contribution s_ij·c_uj, or null for a negative-preference entry. */
  private contribution(k: number, w: Float64Array): number | null {
    const f = this.factors;
    const r = this.explainRatings[k]!;
    if (r < this.conf.negativeBelow) return null;
    const j = this.explainIndex[k]!;
    const c = 1 + this.explainer.weightOf(k);
    let dot = 0;
    for (let a = 0; a < f; a++) dot += w[a]! * this.itemFactors[j * f + a]!;
    return c * dot;
  }

  /**
   * Sets the factor of catalogue item `index`, growing the item matrix when the index is new (rows in between
   * are zero: such items score 0 until folded in or bridged). Keeps the cached YᵀY current.
   */
  setItemFactor(index: number, vector: Float32Array): void {
    const f = this.factors;
    if (!(Number.isInteger(index) && index >= 0)) throw new RangeError(`setItemFactor: bad index ${index}`);
    if (vector.length < f) throw new RangeError(`setItemFactor: need ${f} floats, got ${vector.length}`);
    if (index >= this.nItems) {
      const rows = index + 1;
      if (rows * f > this.itemStore.length) {
        const grown = new Float32Array(Math.max(rows, Math.ceil(this.itemStore.length / f) * 2) * f);
        grown.set(this.itemFactors);
        this.itemStore = grown;
      }
      this.nItems = rows;
      this.itemFactors = this.itemStore.subarray(0, rows * f);
    }
    this.revision++;
    const o = index * f;
    const g = this.itemGram;
    if (g) {
      // G += y_newy_newᵀ − y_oldy_oldᵀ, in the float32 values actually stored.
      const old = Float64Array.from(this.itemFactors.subarray(o, o + f));
      for (let a = 0; a < f; a++) this.itemFactors[o + a] = vector[a]!;
      for (let a = 0; a < f; a++) {
        const na = this.itemFactors[o + a]!;
        const oa = old[a]!;
        for (let b = 0; b < f; b++) g[a * f + b]! += na * this.itemFactors[o + b]! - oa * old[b]!;
      }
    } else {
      for (let a = 0; a < f; a++) this.itemFactors[o + a] = vector[a]!;
    }
    this.scoring?.setRow(index, this.itemFactors, o);
  }

  /** What to persist (e.g. with writeArtifact(dir, 'als', meta, arrays)): views, not copies. */
  toArrays(): { meta: AlsMeta; arrays: AlsArrays } {
    return {
      meta: {
        format: 'als-v1',
        factors: this.factors,
        nUsers: this.nUsers,
        nItems: this.nItems,
        ratingMax: this.ratingMax,
        params: { ...this.params },
      },
      arrays: { userFactors: this.userFactors, itemFactors: this.itemFactors },
    };
  }

  /** The inverse of toArrays (takes ownership of the arrays). */
  static fromArrays(meta: AlsMeta, arrays: AlsArrays): AlsModel {
    if (meta.format !== 'als-v1') throw new Error(`ALS model format ${meta.format}, expected als-v1`);
    const f = meta.factors;
    if (meta.params.factors !== f) throw new Error('ALS model: factors disagree with params');
    if (arrays.userFactors.length !== meta.nUsers * f || arrays.itemFactors.length !== meta.nItems * f) {
      throw new Error(
        `ALS model: factor arrays of ${arrays.userFactors.length} and ${arrays.itemFactors.length} floats do not fit ${meta.nUsers} users × ${meta.nItems} items × ${f}`,
      );
    }
    return new AlsModel(meta.params, meta.ratingMax, meta.nUsers, meta.nItems, arrays.userFactors, arrays.itemFactors);
  }
}

/** Copies the entries with an index in [0, limit) into index/ratings scratch (long enough); returns their number. */
function gatherInto(
  index: ArrayLike<number>,
  ratings: ArrayLike<number>,
  limit: number,
  outIndex: Int32Array,
  outRatings: Float32Array,
): number {
  let n = 0;
  for (let k = 0; k < index.length; k++) {
    const j = index[k]!;
    if (!(j >= 0 && j < limit && Number.isInteger(j))) continue;
    outIndex[n] = j;
    outRatings[n] = ratings[k]!;
    n++;
  }
  return n;
}

/**
 * out[k] = Σ_a rows[index[k]·f + a]·w[a] for k < n (float32 rows, a float64 vector), each summed over a in order in
 * float64, four rows per pass sharing each w[a].
 */
function dotRows64(
  rows: Float32Array,
  f: number,
  index: Int32Array,
  n: number,
  w: Float64Array,
  out: Float64Array,
): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const o0 = index[k]! * f;
    const o1 = index[k + 1]! * f;
    const o2 = index[k + 2]! * f;
    const o3 = index[k + 3]! * f;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let a = 0; a < f; a++) {
      const x = w[a]!;
      s0 += x * rows[o0 + a]!;
      s1 += x * rows[o1 + a]!;
      s2 += x * rows[o2 + a]!;
      s3 += x * rows[o3 + a]!;
    }
    out[k] = s0;
    out[k + 1] = s1;
    out[k + 2] = s2;
    out[k + 3] = s3;
  }
  for (; k < n; k++) {
    const o = index[k]! * f;
    let s = 0;
    for (let a = 0; a < f; a++) s += w[a]! * rows[o + a]!;
    out[k] = s;
  }
}
