import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalogue } from '../../src/data/catalogue.ts';
import { Interactions } from '../../src/data/interactions.ts';
import { Rng } from '../../src/math/random.ts';
import type { Movie, RatingColumns } from '../../src/store/types.ts';
import { testMovie } from '../helpers/records.ts';

const movie = (movieId: number): Movie => testMovie(movieId, ['Drama']);

/** Catalogue indices: 100 → 0, 200 → 1, 300 → 2, 400 → 3 (never rated). */
const catalogue = new Catalogue([100, 200, 300, 400].map(movie));

interface Row {
  user: number;
  movie: number;
  rating: number;
  ts: number;
}

function columns(rows: Row[]): RatingColumns {
  return {
    userId: Int32Array.from(rows, (r) => r.user),
    movieId: Int32Array.from(rows, (r) => r.movie),
    rating: Float32Array.from(rows, (r) => r.rating),
    timestamp: Float64Array.from(rows, (r) => r.ts),
  };
}

// Deliberately out of order by user and by movie; user ids are sparse (3, 7, 12); movie 999 is
// not in the catalogue, and user 5 rated nothing else.
const ROWS: Row[] = [
  { user: 7, movie: 300, rating: 4, ts: 70 },
  { user: 3, movie: 200, rating: 2.5, ts: 30 },
  { user: 12, movie: 100, rating: 5, ts: 120 },
  { user: 7, movie: 100, rating: 3, ts: 71 },
  { user: 3, movie: 999, rating: 1, ts: 31 },
  { user: 5, movie: 999, rating: 0.5, ts: 50 },
  { user: 3, movie: 100, rating: 4.5, ts: 32 },
  { user: 7, movie: 200, rating: 1.5, ts: 72 },
];
const rows = columns(ROWS);

/** (user id, catalogue index) → [rating, timestamp], from a CSR build, for order-free comparisons. */
function triples(x: Interactions): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (let u = 0; u < x.nUsers; u++) {
    for (let k = x.indptr[u]!; k < x.indptr[u + 1]!; k++) {
      out.set(`${x.userIds[u]}:${x.items[k]}`, [x.ratings[k]!, x.timestamps[k]!]);
    }
  }
  return out;
}

test('build gives CSR rows per user in ascending user id, items ascending, ratings and timestamps aligned', () => {
  const x = Interactions.build(rows, catalogue);
  assert.equal(x.nItems, 4, 'columns are the whole catalogue, rated or not');
  assert.deepEqual(Array.from(x.userIds), [3, 7, 12]);
  assert.equal(x.nUsers, 3);
  assert.deepEqual(Array.from(x.indptr), [0, 2, 5, 6]);
  assert.equal(x.nnz, 6);
  // user 3: movie 100 (index 0, 4.5, t32), movie 200 (index 1, 2.5, t30)
  // user 7: 100 (0, 3, t71), 200 (1, 1.5, t72), 300 (2, 4, t70)
  // user 12: 100 (0, 5, t120)
  assert.deepEqual(Array.from(x.items), [0, 1, 0, 1, 2, 0]);
  assert.deepEqual(Array.from(x.ratings), [4.5, 2.5, 3, 1.5, 4, 5]);
  assert.deepEqual(Array.from(x.timestamps), [32, 30, 71, 72, 70, 120]);
  assert.deepEqual(Array.from(x.rowItems(1)), [0, 1, 2]);
  assert.deepEqual(Array.from(x.rowRatings(1)), [3, 1.5, 4]);
  assert.deepEqual(Array.from(x.rowItems(2)), [0]);
});

test('rows of movies not in the catalogue are left out, with users who have nothing else', () => {
  const x = Interactions.build(rows, catalogue);
  assert.equal(x.userOf(5), -1, 'user 5 only rated the unknown movie 999');
  assert.equal(x.userOf(3), 0);
  assert.equal(x.userOf(7), 1);
  assert.equal(x.userOf(12), 2);
  assert.equal(x.userOf(4), -1);
  assert.equal(x.userOf(1000), -1);
  assert.deepEqual(Array.from(x.rowItems(x.userOf(3))), [0, 1], "user 3's rating of 999 is dropped");
  // Mean over the kept ratings only: (4.5 + 2.5 + 3 + 1.5 + 4 + 5) / 6 = 20.5 / 6.
  assert.ok(Math.abs(x.meanRating() - 20.5 / 6) < 1e-12);
});

test('subset builds from exactly the given row indices', () => {
  // Rows 1 (3→200), 2 (12→100), 5 (5→999, unknown) and 7 (7→200): user 7 keeps only movie 200.
  const x = Interactions.build(rows, catalogue, [7, 2, 1, 5]);
  assert.deepEqual(Array.from(x.userIds), [3, 7, 12]);
  assert.deepEqual(Array.from(x.indptr), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(x.items), [1, 1, 0]);
  assert.deepEqual(Array.from(x.ratings), [2.5, 1.5, 5]);
  assert.deepEqual(Array.from(x.timestamps), [30, 72, 120]);
  assert.ok(Math.abs(x.meanRating() - 3) < 1e-12);

  const onlyUser7 = Interactions.build(rows, catalogue, Int32Array.from([0, 3]));
  assert.deepEqual(Array.from(onlyUser7.userIds), [7]);
  assert.deepEqual(Array.from(onlyUser7.rowItems(0)), [0, 2]);
  assert.deepEqual(Array.from(onlyUser7.rowRatings(0)), [3, 4]);
  assert.equal(onlyUser7.userOf(3), -1);

  const none = Interactions.build(rows, catalogue, []);
  assert.equal(none.nUsers, 0);
  assert.equal(none.nnz, 0);
  assert.equal(none.meanRating(), 0);
  assert.deepEqual(Array.from(none.itemCounts()), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(none.byItem().indptr), [0, 0, 0, 0, 0]);
});

test('itemCounts counts users per catalogue item, 0 for unrated ones', () => {
  const x = Interactions.build(rows, catalogue);
  assert.deepEqual(Array.from(x.itemCounts()), [3, 2, 1, 0]);
});

test('byItem is the transpose: CSC columns list (user, rating) with users ascending', () => {
  const x = Interactions.build(rows, catalogue);
  const csc = x.byItem();
  // item 0 (movie 100): users 3, 7, 12 → dense 0, 1, 2 with 4.5, 3, 5
  // item 1 (movie 200): users 3, 7 → 0, 1 with 2.5, 1.5
  // item 2 (movie 300): user 7 → 1 with 4; item 3: nobody
  assert.deepEqual(Array.from(csc.indptr), [0, 3, 5, 6, 6]);
  assert.deepEqual(Array.from(csc.users), [0, 1, 2, 0, 1, 1]);
  assert.deepEqual(Array.from(csc.ratings), [4.5, 3, 5, 2.5, 1.5, 4]);
  assert.equal(x.byItem(), csc, 'built once');
});

test('on seeded random data, CSR matches the input rows and CSC is its exact transpose (long rows too)', () => {
  const rng = new Rng(11);
  const nMovies = 150;
  const cat = new Catalogue(Array.from({ length: nMovies }, (_, k) => movie(1000 + k)));
  const input: Row[] = [];
  for (const user of [2, 9, 10, 40]) {
    // User 9 rates every movie, in descending order (a row longer than 64 entries, unsorted).
    const ids =
      user === 9
        ? Array.from({ length: nMovies }, (_, k) => 1000 + nMovies - 1 - k)
        : rng.shuffle(Array.from({ length: nMovies }, (_, k) => 1000 + k)).slice(0, 5 + rng.int(30));
    for (const id of ids) input.push({ user, movie: id, rating: 0.5 * (1 + rng.int(10)), ts: rng.int(1e9) });
  }
  input.push({ user: 10, movie: 5, rating: 3, ts: 1 }); // unknown movie
  rng.shuffle(input);
  const x = Interactions.build(columns(input), cat);

  const expected = new Map<string, [number, number]>();
  for (const r of input) if (r.movie !== 5) expected.set(`${r.user}:${cat.indexOf(r.movie)}`, [r.rating, r.ts]);
  assert.deepEqual(triples(x), expected);
  assert.deepEqual(Array.from(x.userIds), [2, 9, 10, 40]);
  for (let u = 0; u < x.nUsers; u++) {
    const items = x.rowItems(u);
    for (let k = 1; k < items.length; k++) assert.ok(items[k - 1]! < items[k]!, `row ${u} sorted`);
  }
  assert.equal(x.rowItems(x.userOf(9)).length, nMovies);

  // Dense comparison: CSC entry (i, u) ⇔ CSR entry (u, i), with the same rating.
  const csc = x.byItem();
  const dense = new Float64Array(x.nUsers * nMovies).fill(Number.NaN);
  for (let u = 0; u < x.nUsers; u++)
    for (let k = x.indptr[u]!; k < x.indptr[u + 1]!; k++) dense[u * nMovies + x.items[k]!] = x.ratings[k]!;
  let seen = 0;
  const counts = x.itemCounts();
  for (let i = 0; i < nMovies; i++) {
    assert.equal(csc.indptr[i + 1]! - csc.indptr[i]!, counts[i], `column ${i} length`);
    for (let p = csc.indptr[i]!; p < csc.indptr[i + 1]!; p++) {
      if (p > csc.indptr[i]!) assert.ok(csc.users[p - 1]! < csc.users[p]!, `column ${i} users ascending`);
      assert.equal(csc.ratings[p], dense[csc.users[p]! * nMovies + i]);
      seen++;
    }
  }
  assert.equal(seen, x.nnz);
  assert.equal(csc.indptr[nMovies], x.nnz);
});
