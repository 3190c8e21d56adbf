import type { Interactions } from '../data/interactions.ts';
import { ColumnSums } from '../math/matvec.ts';
import { readModel, writeModel } from '../util/artifacts.ts';
import { assertMayFit } from '../util/fit-guard.ts';

/**
 * Item-based nearest neighbours with cosine similarity on binary interactions, full neighbourhood:
 * s_j = Σ_{i∈h} cos(i, j) = (1/√c_j) Σ_w X_wj v_w with v_w = Σ_{i∈h∩items(w)} 1/√c_i.
 * The factorised form costs O(nnz) per query and never materialises the items×items matrix.
 */
const ITEM_KNN_FORMAT = 'cinerec-itemknn/1';

export class ItemKnnModel {
  private x: Interactions | null = null;
  private invNorm = new Float64Array(0);
  private v = new Float64Array(0);
  private t = new Float64Array(0);
  /** X's columns in the exact column-sum kernel, made on first use. */
  private columns: ColumnSums | null = null;
  /** Explanations: mark[u] = 1 when user u rated the item being explained; the history items and their counts. */
  private mark = new Float64Array(0);
  private known = new Int32Array(0);
  private common = new Float64Array(0);

  fit(x: Interactions): void {
    assertMayFit('item kNN');
    this.x = x;
    this.columns = null;
    const counts = x.itemCounts();
    this.invNorm = new Float64Array(x.nItems);
    for (let i = 0; i < x.nItems; i++) this.invNorm[i] = counts[i]! > 0 ? 1 / Math.sqrt(counts[i]!) : 0;
    this.v = new Float64Array(x.nUsers);
  }

  /** Writes the item norms into dir; load() takes the interactions back (scoring reads them). */
  save(dir: string): void {
    const x = this.x;
    if (!x) throw new Error('item kNN: fit() before save()');
    writeModel(dir, ITEM_KNN_FORMAT, { nUsers: x.nUsers, nItems: x.nItems }, { invNorm: this.invNorm });
  }

  static load(dir: string, x: Interactions): ItemKnnModel {
    const a = readModel<{ nUsers: number; nItems: number }>(dir, ITEM_KNN_FORMAT);
    // Movies added since training widen the catalogue: they have no raters, so no similarity.
    if (x.nUsers !== a.meta.nUsers || x.nItems < a.meta.nItems)
      throw new Error(
        `${dir}: item kNN was fitted on ${a.meta.nUsers} users × ${a.meta.nItems} items, not these ${x.nUsers} × ${x.nItems} interactions`,
      );
    const model = new ItemKnnModel();
    model.x = x;
    model.invNorm = new Float64Array(x.nItems);
    model.invNorm.set(a.array('invNorm', 'Float64Array'));
    model.v = new Float64Array(x.nUsers);
    return model;
  }

  scoreInto(history: Int32Array, out: Float32Array): void {
    const x = this.x!;
    const n = x.nItems;
    const csc = x.byItem();
    const v = this.v;
    v.fill(0);
    for (let h = 0; h < history.length; h++) {
      const i = history[h]!;
      if (i >= n) continue;
      const w = this.invNorm[i]!;
      for (let p = csc.indptr[i]!; p < csc.indptr[i + 1]!; p++) v[csc.users[p]!]! += w;
    }
    // t_j = Σ v_u over j's raters, in ascending user order (as a pass over the users' rows adds them; a user
    // with v_u = 0 adds +0, which changes nothing).
    if (this.t.length < n) this.t = new Float64Array(n);
    const t = this.t;
    this.columns ??= new ColumnSums(csc.indptr, csc.users, n, x.nUsers);
    this.columns.sums(v, t);
    out.fill(0, n);
    for (let j = 0; j < n; j++) out[j] = t[j]! * this.invNorm[j]!;
  }

  /**
   * cos(i, j) for every listed history item i (items[from, to)) towards one item j, into out[0, to − from):
   * j's raters are marked once (1, the others 0), then each i sums the marks over its raters, so a history costs
   * |U_j| + Σ|U_i|. The counts are whole numbers, so every value equals similarity(i, j).
   */
  similaritiesTo(j: number, items: Int32Array, from: number, to: number, out: Float64Array): void {
    const x = this.x!;
    if (j >= x.nItems) {
      out.fill(0, 0, to - from);
      return;
    }
    const csc = x.byItem();
    const { indptr, users } = csc;
    if (this.mark.length < x.nUsers) this.mark = new Float64Array(x.nUsers);
    const mark = this.mark;
    mark.fill(0);
    for (let p = indptr[j]!; p < indptr[j + 1]!; p++) mark[users[p]!] = 1;
    // The common raters of each known history item (the rest are 0).
    if (this.known.length < to - from) {
      this.known = new Int32Array(Math.max(64, to - from));
      this.common = new Float64Array(this.known.length);
    }
    let m = 0;
    for (let k = from; k < to; k++) if (items[k]! < x.nItems) this.known[m++] = items[k]!;
    this.columns ??= new ColumnSums(indptr, users, x.nItems, x.nUsers);
    this.columns.sumsOf(this.known, 0, m, mark, this.common);
    const nj = this.invNorm[j]!;
    let t = 0;
    for (let k = from; k < to; k++) {
      const i = items[k]!;
      out[k - from] = i < x.nItems ? this.common[t++]! * this.invNorm[i]! * nj : 0;
    }
  }

  /** cos(i, j) by merging the two sorted user lists. */
  similarity(i: number, j: number): number {
    const x = this.x!;
    if (i >= x.nItems || j >= x.nItems) return 0;
    const csc = x.byItem();
    let a = csc.indptr[i]!;
    let b = csc.indptr[j]!;
    const ae = csc.indptr[i + 1]!;
    const be = csc.indptr[j + 1]!;
    let common = 0;
    while (a < ae && b < be) {
      const ua = csc.users[a]!;
      const ub = csc.users[b]!;
      if (ua === ub) {
        common++;
        a++;
        b++;
      } else if (ua < ub) a++;
      else b++;
    }
    return common * this.invNorm[i]! * this.invNorm[j]!;
  }
}
