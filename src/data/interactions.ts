import type { Catalogue } from './catalogue.ts';
import type { RatingColumns } from './records.ts';

/**
 * Ratings as a users × catalogue-items sparse matrix in CSR form: the input of every model.
 * Users get dense indices in ascending id order; items are catalogue indices, ascending in a row.
 */
export class Interactions {
  private readonly userIndex: Map<number, number>;
  private counts: Int32Array | null = null;
  private csc: { indptr: Int32Array; users: Int32Array; ratings: Float32Array } | null = null;

  private constructor(
    readonly nItems: number,
    readonly userIds: Int32Array,
    readonly indptr: Int32Array,
    readonly items: Int32Array,
    readonly ratings: Float32Array,
    readonly timestamps: Float64Array,
  ) {
    this.userIndex = new Map();
    for (let u = 0; u < userIds.length; u++) this.userIndex.set(userIds[u]!, u);
  }

  get nUsers(): number {
    return this.userIds.length;
  }

  get nnz(): number {
    return this.items.length;
  }

  /** Builds from rating rows (all, or the given row indices); rows of unknown movies are left out. */
  static build(rows: RatingColumns, catalogue: Catalogue, subset?: ArrayLike<number>): Interactions {
    const n = subset ? subset.length : rows.userId.length;
    const row = (k: number) => (subset ? subset[k]! : k);
    const item = new Int32Array(n);
    let maxUser = 0;
    const dense = catalogue.denseIndex();
    let ordered = true;
    let known = true;
    for (let k = 0; k < n; k++) {
      const r = row(k);
      const m = rows.movieId[r]!;
      const i = dense ? (m >= 0 && m < dense.length ? dense[m]! : -1) : catalogue.indexOf(m);
      item[k] = i;
      if (i < 0) known = false;
      const user = rows.userId[r]!;
      if (user < maxUser) ordered = false;
      else maxUser = user;
    }
    // The usual case (a snapshot or the store's ratings: ordered by user, every movie in the catalogue): the rows
    // are the runs of equal user ids, in place, with no counting sort.
    if (ordered && known) return Interactions.fromOrdered(rows, row, item, catalogue.size, subset === undefined);
    // Counting sort by user id (ids are dense small integers in every MovieLens release).
    const perUser = new Int32Array(maxUser + 2);
    let kept = 0;
    for (let k = 0; k < n; k++) {
      if (item[k]! < 0) continue;
      perUser[rows.userId[row(k)]! + 1]!++;
      kept++;
    }
    let users = 0;
    for (let id = 0; id <= maxUser; id++) if (perUser[id + 1]! > 0) users++;
    const userIds = new Int32Array(users);
    const indptr = new Int32Array(users + 1);
    const start = new Int32Array(maxUser + 1);
    let u = 0;
    let offset = 0;
    for (let id = 0; id <= maxUser; id++) {
      const c = perUser[id + 1]!;
      if (c === 0) continue;
      userIds[u] = id;
      start[id] = offset;
      offset += c;
      indptr[++u] = offset;
    }
    const items = new Int32Array(kept);
    const ratings = new Float32Array(kept);
    const timestamps = new Float64Array(kept);
    for (let k = 0; k < n; k++) {
      if (item[k]! < 0) continue;
      const r = row(k);
      const at = start[rows.userId[r]!]!++;
      items[at] = item[k]!;
      ratings[at] = rows.rating[r]!;
      timestamps[at] = rows.timestamp[r]!;
    }
    // Sort each row by item so membership tests can binary-search.
    for (let v = 0; v < users; v++) sortRow(items, ratings, timestamps, indptr[v]!, indptr[v + 1]!);
    return new Interactions(catalogue.size, userIds, indptr, items, ratings, timestamps);
  }

  /** build()'s fast path: rows(k) ordered by user id, item[k] every rating's catalogue index. */
  private static fromOrdered(
    rows: RatingColumns,
    row: (k: number) => number,
    items: Int32Array,
    nItems: number,
    everyRow: boolean,
  ): Interactions {
    const n = items.length;
    let users = 0;
    // Whether every row is already ordered by item too: then (with no subset) the rating and time columns are used
    // as they are, not copied, since nothing will reorder them.
    let itemOrdered = true;
    for (let k = 0; k < n; k++) {
      if (k === 0 || rows.userId[row(k)] !== rows.userId[row(k - 1)]) users++;
      else if (items[k]! < items[k - 1]!) itemOrdered = false;
    }
    const userIds = new Int32Array(users);
    const indptr = new Int32Array(users + 1);
    const whole = itemOrdered && everyRow;
    const ratings = whole ? rows.rating : new Float32Array(n);
    const timestamps = whole ? rows.timestamp : new Float64Array(n);
    let u = 0;
    for (let k = 0; k < n; k++) {
      const r = row(k);
      const user = rows.userId[r]!;
      if (k === 0 || user !== userIds[u - 1]) {
        userIds[u] = user;
        indptr[u++] = k;
      }
      if (!whole) {
        ratings[k] = rows.rating[r]!;
        timestamps[k] = rows.timestamp[r]!;
      }
    }
    indptr[users] = n;
    if (!itemOrdered) for (let v = 0; v < users; v++) sortRow(items, ratings, timestamps, indptr[v]!, indptr[v + 1]!);
    return new Interactions(nItems, userIds, indptr, items, ratings, timestamps);
  }

  /** Dense index of a user id, or -1. */
  userOf(userId: number): number {
    return this.userIndex.get(userId) ?? -1;
  }

  rowItems(u: number): Int32Array {
    return this.items.subarray(this.indptr[u]!, this.indptr[u + 1]!);
  }

  rowRatings(u: number): Float32Array {
    return this.ratings.subarray(this.indptr[u]!, this.indptr[u + 1]!);
  }

  /** Number of users who interacted with each item. */
  itemCounts(): Int32Array {
    if (!this.counts) {
      const c = new Int32Array(this.nItems);
      for (let k = 0; k < this.items.length; k++) c[this.items[k]!]!++;
      this.counts = c;
    }
    return this.counts;
  }

  /** The transpose (items × users), built once on first use. */
  byItem(): { indptr: Int32Array; users: Int32Array; ratings: Float32Array } {
    if (!this.csc) {
      const counts = this.itemCounts();
      const indptr = new Int32Array(this.nItems + 1);
      for (let i = 0; i < this.nItems; i++) indptr[i + 1] = indptr[i]! + counts[i]!;
      const fill = indptr.slice(0, this.nItems);
      const users = new Int32Array(this.nnz);
      const ratings = new Float32Array(this.nnz);
      for (let u = 0; u < this.nUsers; u++) {
        for (let k = this.indptr[u]!; k < this.indptr[u + 1]!; k++) {
          const at = fill[this.items[k]!]!++;
          users[at] = u;
          ratings[at] = this.ratings[k]!;
        }
      }
      this.csc = { indptr, users, ratings };
    }
    return this.csc;
  }

  meanRating(): number {
    let s = 0;
    for (let k = 0; k < this.ratings.length; k++) s += this.ratings[k]!;
    return this.ratings.length > 0 ? s / this.ratings.length : 0;
  }
}

function sortRow(items: Int32Array, ratings: Float32Array, ts: Float64Array, from: number, to: number): void {
  let sorted = true;
  for (let i = from + 1; i < to && sorted; i++) sorted = items[i - 1]! <= items[i]!;
  if (sorted) return; // the usual case: the store keeps ratings ordered by (user, movie)
  if (to - from > 64) {
    const order = Array.from({ length: to - from }, (_, k) => from + k).sort((a, b) => items[a]! - items[b]!);
    const it = order.map((k) => items[k]!);
    const ra = order.map((k) => ratings[k]!);
    const t = order.map((k) => ts[k]!);
    items.set(it, from);
    ratings.set(ra, from);
    ts.set(t, from);
    return;
  }
  for (let i = from + 1; i < to; i++) {
    const it = items[i]!;
    const ra = ratings[i]!;
    const t = ts[i]!;
    let j = i - 1;
    while (j >= from && items[j]! > it) {
      items[j + 1] = items[j]!;
      ratings[j + 1] = ratings[j]!;
      ts[j + 1] = ts[j]!;
      j--;
    }
    items[j + 1] = it;
    ratings[j + 1] = ra;
    ts[j + 1] = t;
  }
}
