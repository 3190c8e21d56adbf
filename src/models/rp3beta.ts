import type { Interactions } from '../data/interactions.ts';
import { indexInSorted } from '../math/sorted.ts';
import { readModel, writeModel } from '../util/artifacts.ts';
import { ValidationError } from '../util/errors.ts';
import { assertMayFit } from '../util/fit-guard.ts';
import { type Progress, silentProgress } from '../util/progress.ts';

export interface Rp3BetaParams {
  /** Exponent of the transition probabilities (1: the plain random walk). */
  alpha: number;
  /** Popularity penalty: the walk's arrival probability at j is divided by (raters of j)^β. */
  beta: number;
  /** Strongest neighbours kept per item (0: every one). */
  neighbours: number;
}

export const RP3BETA_DEFAULTS: Rp3BetaParams = { alpha: 0.8, beta: 0.4, neighbours: 200 };

const FORMAT = 'cinerec-rp3beta/1';

interface Rp3Meta {
  params: Rp3BetaParams;
  nItems: number;
  nUsers: number;
}

/** The value of rank r (0-based, ascending) among a[0, n): Hoare's selection, reordering a in place. */
function select(a: Float64Array, n: number, r: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (r <= j) hi = j;
    else if (r >= i) lo = i;
    else return a[r]!;
  }
  return a[r]!;
}

/**
 * RP3beta (Paudel, Christoffel, Newell & Bernstein 2016; the variant of Dacrema et al. 2019): a three-step random
 * walk item → user → item on the bipartite rating graph, with transition probabilities raised to α, and the
 * arrival probability of item j divided by its popularity^β:
 *   W_ij = (Σ_{u ∈ U_i ∩ U_j} |U_i|^−α · |I_u|^−α) / |U_j|^β,   W_ii = 0,
 * keeping the strongest `neighbours` of each row. A history h scores s_j = Σ_{i ∈ h} W_ij, so an anonymous or live
 * viewer is scored exactly like a trained one. Rows are stored sparse, columns ascending (binary search for reasons).
 */
export class Rp3BetaModel {
  private indptr = new Int32Array(1);
  private cols = new Int32Array(0);
  private vals = new Float32Array(0);
  private nItems = 0;
  private nUsers = 0;

  constructor(readonly params: Rp3BetaParams = RP3BETA_DEFAULTS) {
    if (!(params.alpha > 0)) throw new ValidationError('rp3beta alpha must be above 0', 'alpha');
    if (!(params.beta >= 0)) throw new ValidationError('rp3beta beta must be at least 0', 'beta');
    if (!(Number.isInteger(params.neighbours) && params.neighbours >= 0))
      throw new ValidationError('rp3beta neighbours must be a whole number ≥ 0', 'neighbours');
  }

  /** Multiply-adds of a fit, Σ_u |I_u|²: what `skip` compares with rp3beta.maxWork. */
  static work(x: Interactions): number {
    let w = 0;
    for (let u = 0; u < x.nUsers; u++) {
      const n = x.indptr[u + 1]! - x.indptr[u]!;
      w += n * n;
    }
    return w;
  }

  fit(x: Interactions, progress: Progress = silentProgress): void {
    assertMayFit('RP3beta');
    const { alpha, beta, neighbours } = this.params;
    const n = x.nItems;
    this.nItems = n;
    this.nUsers = x.nUsers;
    const counts = x.itemCounts();
    // Step weights: user → item |I_u|^−α, item → user |U_i|^−α; arrival penalty |U_j|^−β.
    const userStep = new Float64Array(x.nUsers);
    for (let u = 0; u < x.nUsers; u++) {
      const len = x.indptr[u + 1]! - x.indptr[u]!;
      userStep[u] = len > 0 ? len ** -alpha : 0;
    }
    const penalty = new Float64Array(n);
    for (let j = 0; j < n; j++) penalty[j] = counts[j]! > 0 ? counts[j]! ** -beta : 0;
    const csc = x.byItem();
    const acc = new Float64Array(n);
    const keep = neighbours > 0 ? neighbours : n;
    const rowCols: Int32Array[] = [];
    const rowVals: Float32Array[] = [];
    let nnz = 0;
    const order = new Int32Array(n);
    const values = new Float64Array(n);
    const { indptr, items } = x;
    progress.start(n, 'rp3beta movies');
    for (let i = 0; i < n; i++) {
      if ((i & 255) === 0) progress.update(i);
      const from = csc.indptr[i]!;
      const to = csc.indptr[i + 1]!;
      if (to === from) {
        rowCols.push(new Int32Array(0));
        rowVals.push(new Float32Array(0));
        continue;
      }
      // The walk from i: a plain scatter over its raters' rows (no bookkeeping in the hot loop), then one
      // sequential pass over the catalogue for what it reached.
      const start = (to - from) ** -alpha;
      for (let p = from; p < to; p++) {
        const u = csc.users[p]!;
        const w = start * userStep[u]!;
        const end = indptr[u + 1]!;
        for (let q = indptr[u]!; q < end; q++) acc[items[q]!]! += w;
      }
      acc[i] = 0;
      let c = 0;
      for (let j = 0; j < n; j++) {
        if (acc[j] !== 0) {
          acc[j]! *= penalty[j]!;
          order[c++] = j;
        }
      }
      let chosen = order.subarray(0, c);
      if (c > keep) {
        // The keep-th largest weight (selection, linear time), then every weight above it and the lowest-indexed
        // ties at it. `chosen` is ascending already (the scan went in catalogue order).
        for (let t = 0; t < c; t++) values[t] = acc[chosen[t]!]!;
        const threshold = select(values, c, c - keep);
        let above = 0;
        for (let t = 0; t < c; t++) if (acc[chosen[t]!]! > threshold) above++;
        let ties = keep - above;
        let o = 0;
        for (let t = 0; t < c; t++) {
          const j = chosen[t]!;
          const v = acc[j]!;
          if (v > threshold || (v === threshold && ties-- > 0)) chosen[o++] = j;
        }
        chosen = chosen.subarray(0, o);
      }
      const cols = Int32Array.from(chosen);
      const vals = Float32Array.from(cols, (j) => acc[j]!);
      acc.fill(0);
      rowCols.push(cols);
      rowVals.push(vals);
      nnz += cols.length;
    }
    progress.stop();
    this.indptr = new Int32Array(n + 1);
    this.cols = new Int32Array(nnz);
    this.vals = new Float32Array(nnz);
    let o = 0;
    for (let i = 0; i < n; i++) {
      this.cols.set(rowCols[i]!, o);
      this.vals.set(rowVals[i]!, o);
      o += rowCols[i]!.length;
      this.indptr[i + 1] = o;
    }
  }

  get size(): number {
    return this.nItems;
  }

  get nonZeros(): number {
    return this.cols.length;
  }

  /** s_j = Σ_{i ∈ history} W_ij; items beyond the fitted catalogue (added live) score 0. */
  scoreInto(history: Int32Array, out: Float32Array): void {
    out.fill(0);
    const { indptr, cols, vals } = this;
    for (let h = 0; h < history.length; h++) {
      const i = history[h]!;
      if (i >= this.nItems) continue;
      for (let p = indptr[i]!; p < indptr[i + 1]!; p++) out[cols[p]!]! += vals[p]!;
    }
  }

  /** out_j += scale · W_ij over i's kept neighbours; returns max_j W_ij (0 for a movie without any). */
  addRow(i: number, scale: number, out: Float32Array): number {
    if (i >= this.nItems) return 0;
    const { indptr, cols, vals } = this;
    for (let p = indptr[i]!; p < indptr[i + 1]!; p++) out[cols[p]!]! += scale * vals[p]!;
    return this.rowMax(i);
  }

  /** The strongest weight of row i (0 for a movie without neighbours). */
  rowMax(i: number): number {
    if (i >= this.nItems) return 0;
    let m = 0;
    for (let p = this.indptr[i]!; p < this.indptr[i + 1]!; p++) if (this.vals[p]! > m) m = this.vals[p]!;
    return m;
  }

  /** W_ij (0 when j is not among i's kept neighbours). */
  weight(i: number, j: number): number {
    if (i >= this.nItems || j >= this.nItems) return 0;
    const p = indexInSorted(this.cols, j, this.indptr[i]!, this.indptr[i + 1]!);
    return p >= 0 ? this.vals[p]! : 0;
  }

  /** W_ij for every listed history item i (items[from, to)) towards j, into out[0, to − from). */
  weightsTo(j: number, items: Int32Array, from: number, to: number, out: Float64Array): void {
    for (let k = from; k < to; k++) out[k - from] = this.weight(items[k]!, j);
  }

  save(dir: string): void {
    const meta: Rp3Meta = { params: this.params, nItems: this.nItems, nUsers: this.nUsers };
    writeModel(dir, FORMAT, meta, { indptr: this.indptr, cols: this.cols, vals: this.vals });
  }

  static load(dir: string, x: Interactions): Rp3BetaModel {
    const a = readModel<Rp3Meta>(dir, FORMAT);
    if (x.nItems < a.meta.nItems)
      throw new Error(`${dir}: RP3beta was fitted on ${a.meta.nItems} items, more than these ${x.nItems}`);
    const model = new Rp3BetaModel(a.meta.params);
    model.nItems = a.meta.nItems;
    model.nUsers = a.meta.nUsers;
    model.indptr = a.array('indptr', 'Int32Array');
    model.cols = a.array('cols', 'Int32Array');
    model.vals = a.array('vals', 'Float32Array');
    return model;
  }
}
