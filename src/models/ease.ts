import type { Interactions } from '../data/interactions.ts';
import { cholesky, choleskyInverse } from '../math/cholesky.ts';
import { ColumnSums, PairRows64 } from '../math/matvec.ts';
import { readModel, writeModel } from '../util/artifacts.ts';
import { ValidationError } from '../util/errors.ts';
import { assertMayFit } from '../util/fit-guard.ts';

export interface EaseParams {
  /** L2 regularisation λ (Steck 2019); 300 suits MovieLens-small sized data. */
  lambda: number;
  /** Largest dense solve accepted: min(users, items). */
  maxDense: number;
}

export const EASE_DEFAULTS: EaseParams = { lambda: 300, maxDense: 20000 };

const EASE_FORMAT = 'cinerec-ease/1';

/** Largest K·X kept for explanations (entries; 8 M is 64 MB, ml-latest-small needs 5.9 M). */
const KX_MAX = 8_000_000;

interface EaseMeta {
  params: EaseParams;
  mode: 'primal' | 'dual';
  nUsers: number;
  nItems: number;
}

/**
 * EASE (Steck 2019): B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹, on binary interactions X.
 * With fewer users than items the item-item inverse comes from the Woodbury identity
 * P = (I − Xᵀ K X)/λ, K = (λI + XXᵀ)⁻¹: exact, and a users×users solve instead of items×items.
 * Scores of unseen items for a history x: s_j = −(xP)_j / P_jj.
 */
export class EaseModel {
  private mode: 'primal' | 'dual' = 'dual';
  private p: Float64Array = new Float64Array(0); // primal: P (items×items)
  private k: Float64Array = new Float64Array(0); // dual: K (users×users)
  private diagP: Float64Array = new Float64Array(0);
  private x: Interactions | null = null;
  private nUsers = 0;
  private nItems = 0;
  private v = new Float64Array(0);
  private w = new Float64Array(0);
  /** Scratch of one request: users with v ≠ 0 (ascending), item sums (primal), K·x_j for explanations. */
  private nz = new Int32Array(0);
  private t = new Float64Array(0);
  private c = new Float64Array(0);
  private known = new Int32Array(0);
  private q = new Float64Array(0);
  /** The dual mode's kernels, made on first use: K for K·v, and X's columns for (wX)_j. */
  private kRows: PairRows64 | null = null;
  private columns: ColumnSums | null = null;
  /**
   * The dual mode's K·x_j for every item j (items × users, float64), made by prepareExplanations when it fits in KX_MAX entries:
   * an explanation then costs Σ|U_i| over the history instead of |U_j|·users per recommended item.
   */
  private kx: Float64Array | null = null;

  constructor(readonly params: EaseParams = EASE_DEFAULTS) {
    if (!(params.lambda > 0)) throw new ValidationError('ease lambda must be above 0', 'lambda');
  }

  fit(x: Interactions): void {
    assertMayFit('EASE');
    const { lambda, maxDense } = this.params;
    this.x = x;
    this.nUsers = x.nUsers;
    this.nItems = x.nItems;
    this.kRows = null;
    this.columns = null;
    const dim = Math.min(x.nUsers, x.nItems);
    if (dim > maxDense) {
      throw new ValidationError(
        `EASE needs a dense ${dim}×${dim} solve (min of ${x.nUsers} users and ${x.nItems} items); the limit is ${maxDense} (ease.maxDense)`,
        'maxDense',
      );
    }
    if (x.nUsers < x.nItems) this.fitDual(lambda);
    else this.fitPrimal(lambda);
  }

  private fitDual(lambda: number): void {
    const x = this.x!;
    const n = x.nUsers;
    // XXᵀ: user-user co-occurrence, accumulated through the item columns.
    const a = new Float64Array(n * n);
    const csc = x.byItem();
    for (let i = 0; i < x.nItems; i++) {
      const from = csc.indptr[i]!;
      const to = csc.indptr[i + 1]!;
      for (let p = from; p < to; p++) {
        const ru = csc.users[p]! * n;
        for (let q = from; q < to; q++) a[ru + csc.users[q]!]! += 1;
      }
    }
    for (let u = 0; u < n; u++) a[u * n + u]! += lambda;
    cholesky(a, n);
    const k = choleskyInverse(a, n);
    const diagP = new Float64Array(x.nItems);
    for (let i = 0; i < x.nItems; i++) {
      const from = csc.indptr[i]!;
      const to = csc.indptr[i + 1]!;
      let q = 0;
      for (let p = from; p < to; p++) {
        const ru = csc.users[p]! * n;
        for (let r = from; r < to; r++) q += k[ru + csc.users[r]!]!;
      }
      diagP[i] = (1 - q) / lambda;
    }
    this.mode = 'dual';
    this.k = k;
    this.diagP = diagP;
    this.v = new Float64Array(n);
    this.w = new Float64Array(n);
  }

  private fitPrimal(lambda: number): void {
    const x = this.x!;
    const n = x.nItems;
    const g = new Float64Array(n * n);
    for (let u = 0; u < x.nUsers; u++) {
      const from = x.indptr[u]!;
      const to = x.indptr[u + 1]!;
      for (let p = from; p < to; p++) {
        const ri = x.items[p]! * n;
        for (let q = from; q < to; q++) g[ri + x.items[q]!]! += 1;
      }
    }
    for (let i = 0; i < n; i++) g[i * n + i]! += lambda;
    cholesky(g, n);
    this.p = choleskyInverse(g, n);
    this.diagP = new Float64Array(n);
    for (let i = 0; i < n; i++) this.diagP[i] = this.p[i * n + i]!;
    this.mode = 'primal';
  }

  /** Scores every item for a history (catalogue indices); items beyond the fitted catalogue get 0. */
  scoreInto(history: Int32Array, out: Float32Array): void {
    const n = this.nItems;
    out.fill(0, n);
    if (this.mode === 'primal') {
      const p = this.p;
      if (this.t.length < n) this.t = new Float64Array(n);
      const t = this.t;
      t.fill(0, 0, n);
      for (let h = 0; h < history.length; h++) {
        const i = history[h]!;
        if (i >= n) continue;
        const ri = i * n;
        for (let j = 0; j < n; j++) t[j]! += p[ri + j]!;
      }
      for (let j = 0; j < n; j++) out[j] = -t[j]! / this.diagP[j]!;
      return;
    }
    const x = this.x!;
    const csc = x.byItem();
    const nu = this.nUsers;
    const v = this.v;
    const w = this.w;
    v.fill(0);
    for (let h = 0; h < history.length; h++) {
      const i = history[h]!;
      if (i >= n) continue;
      for (let p = csc.indptr[i]!; p < csc.indptr[i + 1]!; p++) v[csc.users[p]!]! += 1;
    }
    // w = K v over the users with v ≠ 0 only, each w_a summed over b in ascending order: a zero term adds
    // nothing (a sum that starts at +0 is never −0), so this is the full product bit for bit.
    if (this.nz.length < nu) this.nz = new Int32Array(nu);
    const nz = this.nz;
    let m = 0;
    for (let b = 0; b < nu; b++) if (v[b] !== 0) nz[m++] = b;
    const kRows = this.kRows ?? this.makeKernels().kRows;
    kRows.dots(nz, 0, m, v, w);
    // (xP)_j = (x_j − (wX)_j)/λ; for unseen j, s_j = (wX)_j / (λ·P_jj). (wX)_j is summed over j's raters in
    // ascending user order (the item-major copy lists them so), as a pass over the users' rows would.
    if (this.t.length < n) this.t = new Float64Array(n);
    const t = this.t;
    (this.columns ?? this.makeKernels().columns).sums(w, t);
    const lambda = this.params.lambda;
    for (let j = 0; j < n; j++) out[j] = t[j]! / (lambda * this.diagP[j]!);
  }

  /**
   * Keeps K·X for explanations (dual mode, up to KX_MAX entries): a server calls this once when it warms up, so that
   * every explanation afterwards costs Σ|U_i| over the history; a one-off command does not pay for it (~0.2 s on
   * ml-latest-small).
   */
  prepareExplanations(): void {
    if (this.mode === 'dual' && !this.kx && this.x && this.nItems * this.nUsers <= KX_MAX)
      this.kx = this.kTimesColumns();
  }

  /** K·x_j for every item j, row j at j·users: what weightsTo forms per call, formed once. */
  private kTimesColumns(): Float64Array {
    const { indptr, users } = this.x!.byItem();
    const nu = this.nUsers;
    const kx = new Float64Array(this.nItems * nu);
    const c = new Float64Array(nu);
    const kRows = this.kRows ?? this.makeKernels().kRows;
    for (let j = 0; j < this.nItems; j++) {
      kRows.dots(users, indptr[j]!, indptr[j + 1]!, null, c);
      kx.set(c, j * nu);
    }
    return kx;
  }

  /** K and X's columns in the exact kernels (WebAssembly SIMD where available), made on first use. */
  private makeKernels(): { kRows: PairRows64; columns: ColumnSums } {
    const csc = this.x!.byItem();
    this.kRows ??= new PairRows64(this.k, this.nUsers, this.nUsers);
    this.columns ??= new ColumnSums(csc.indptr, csc.users, this.nItems, this.nUsers);
    return { kRows: this.kRows, columns: this.columns };
  }

  /**
   * Writes the fitted solve (K in the dual mode, P in the primal one, and diag(P)) into dir. The
   * interactions are not saved: load() takes them back, as scoring reads them in the dual mode.
   */
  save(dir: string): void {
    if (!this.x) throw new Error('ease: fit() before save()');
    const meta: EaseMeta = { params: this.params, mode: this.mode, nUsers: this.nUsers, nItems: this.nItems };
    writeModel(dir, EASE_FORMAT, meta, {
      ...(this.mode === 'dual' ? { k: this.k } : { p: this.p }),
      diagP: this.diagP,
    });
  }

  /**
   * The model saved in dir, re-attached to the interactions it was fitted on (checked by shape; the catalogue may
   * have grown by movies added live, which have no interactions).
   */
  static load(dir: string, x: Interactions): EaseModel {
    const a = readModel<EaseMeta>(dir, EASE_FORMAT);
    const { params, mode, nUsers, nItems } = a.meta;
    // Movies added since training widen the catalogue (they score 0 here); users and fitted items must match.
    if (x.nUsers !== nUsers || x.nItems < nItems)
      throw new Error(
        `${dir}: EASE was fitted on ${nUsers} users × ${nItems} items, not these ${x.nUsers} × ${x.nItems} interactions`,
      );
    const model = new EaseModel(params);
    model.x = x;
    model.mode = mode;
    model.nUsers = nUsers;
    model.nItems = nItems;
    model.diagP = a.array('diagP', 'Float64Array');
    if (mode === 'dual') {
      model.k = a.array('k', 'Float64Array');
      model.v = new Float64Array(nUsers);
      model.w = new Float64Array(nUsers);
    } else {
      model.p = a.array('p', 'Float64Array');
    }
    return model;
  }

  /** B_ij: how much history item i contributes to item j's score. */
  weight(i: number, j: number): number {
    if (i >= this.nItems || j >= this.nItems || i === j) return 0;
    if (this.mode === 'primal') return -this.p[i * this.nItems + j]! / this.diagP[j]!;
    const csc = this.x!.byItem();
    const nu = this.nUsers;
    let q = 0;
    for (let p = csc.indptr[i]!; p < csc.indptr[i + 1]!; p++) {
      const ra = csc.users[p]! * nu;
      for (let r = csc.indptr[j]!; r < csc.indptr[j + 1]!; r++) q += this.k[ra + csc.users[r]!]!;
    }
    // P_ij = −x_iᵀ K x_j / λ for i ≠ j.
    return q / this.params.lambda / this.diagP[j]!;
  }

  /**
   * B_ij for every listed history item i (items[from, to)) towards one item j, into out[0, to − from): what
   * weight(i, j) gives, at the cost of one column instead of one pair. In the dual mode c = K·x_j is formed once
   * (|U_j| entries of each row of K) and each B_ij is the sum of c over i's raters, so a whole history costs
   * |U_j|·users + Σ|U_i| rather than Σ|U_i|·|U_j|. The sums are grouped differently from weight()'s (c_a first),
   * which can move the last bits of a weight, never more.
   */
  weightsTo(j: number, items: Int32Array, from: number, to: number, out: Float64Array): void {
    const n = this.nItems;
    if (j >= n) {
      out.fill(0, 0, to - from);
      return;
    }
    if (this.mode === 'primal') {
      for (let k = from; k < to; k++) {
        const i = items[k]!;
        out[k - from] = i >= n || i === j ? 0 : -this.p[i * n + j]! / this.diagP[j]!;
      }
      return;
    }
    const csc = this.x!.byItem();
    const { indptr, users } = csc;
    const nu = this.nUsers;
    // q_i = Σ c over i's raters, for the history items the model has (the rest weigh 0).
    if (this.known.length < to - from) this.known = new Int32Array(Math.max(64, to - from));
    const known = this.known;
    let m = 0;
    for (let k = from; k < to; k++) if (items[k]! < n) known[m++] = items[k]!;
    if (this.c.length < nu) this.c = new Float64Array(nu);
    const c = this.c;
    // c = K·x_j: the row kept at load, or formed here (the same kernel either way, so the same weights).
    if (this.kx) c.set(this.kx.subarray(j * nu, (j + 1) * nu));
    else (this.kRows ?? this.makeKernels().kRows).dots(users, indptr[j]!, indptr[j + 1]!, null, c);
    if (this.q.length < m) this.q = new Float64Array(known.length);
    (this.columns ?? this.makeKernels().columns).sumsOf(known, 0, m, c, this.q);
    const scale = this.params.lambda;
    const d = this.diagP[j]!;
    let t = 0;
    for (let k = from; k < to; k++) {
      const i = items[k]!;
      if (i >= n) {
        out[k - from] = 0;
        continue;
      }
      const q = this.q[t++]!;
      out[k - from] = i === j ? 0 : q / scale / d;
    }
  }
}
