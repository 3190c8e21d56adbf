import type { Interactions } from '../data/interactions.ts';
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

  fit(x: Interactions): void {
    assertMayFit('item kNN');
    this.x = x;
    const counts = x.itemCounts();
    this.invNorm = new Float64Array(x.nItems);
    for (let i = 0; i < x.nItems; i++) this.invNorm[i] = counts[i]! > 0 ? 1 / Math.sqrt(counts[i]!) : 0;
    this.v = new Float64Array(x.nUsers);
    this.t = new Float64Array(x.nItems);
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
    model.t = new Float64Array(x.nItems);
    return model;
  }

  scoreInto(history: Int32Array, out: Float32Array): void {
    const x = this.x!;
    const n = x.nItems;
    const csc = x.byItem();
    const v = this.v;
    const t = this.t;
    v.fill(0);
    t.fill(0);
    for (let h = 0; h < history.length; h++) {
      const i = history[h]!;
      if (i >= n) continue;
      const w = this.invNorm[i]!;
      for (let p = csc.indptr[i]!; p < csc.indptr[i + 1]!; p++) v[csc.users[p]!]! += w;
    }
    for (let u = 0; u < x.nUsers; u++) {
      const vu = v[u]!;
      if (vu === 0) continue;
      for (let p = x.indptr[u]!; p < x.indptr[u + 1]!; p++) t[x.items[p]!]! += vu;
    }
    out.fill(0);
    for (let j = 0; j < n; j++) out[j] = t[j]! * this.invNorm[j]!;
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
