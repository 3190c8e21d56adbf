import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalogue } from '../../src/data/catalogue.ts';
import { Interactions } from '../../src/data/interactions.ts';
import { ItemKnnModel } from '../../src/models/itemknn.ts';
import type { Movie } from '../../src/store/types.ts';
import { testMovie } from '../helpers/records.ts';

const movie = (movieId: number): Movie => testMovie(movieId);

/**
 * 4 users × 3 items, binary (the ratings differ but cosine here ignores them):
 *
 *          i0  i1  i2
 *   u0      1   1   .
 *   u1      1   .   1
 *   u2      1   1   1
 *   u3      .   1   .
 *
 * Column counts c0 = 3, c1 = 3, c2 = 2. Co-occurrences: i0∧i1 = {u0, u2} = 2, i0∧i2 = {u1, u2} = 2,
 * i1∧i2 = {u2} = 1. Cosine = co-occurrence / √(c_a·c_b):
 *   cos(0,1) = 2/√(3·3) = 2/3
 *   cos(0,2) = 2/√(3·2) = 2/√6 ≈ 0.8165
 *   cos(1,2) = 1/√(3·2) = 1/√6 ≈ 0.4082
 *   cos(i,i) = c_i/c_i = 1
 * A fourth catalogue item (i3) has no interactions: similarity 0 with everything, score 0.
 */
const catalogue = new Catalogue([10, 20, 30, 40].map(movie));
const x = Interactions.build(
  {
    userId: Int32Array.from([1, 1, 2, 2, 3, 3, 3, 4]),
    movieId: Int32Array.from([10, 20, 10, 30, 10, 20, 30, 20]),
    rating: Float32Array.from([5, 1, 2, 4.5, 3, 0.5, 4, 2]),
    timestamp: new Float64Array(8),
  },
  catalogue,
);
const model = new ItemKnnModel();
model.fit(x);

const R6 = Math.sqrt(6);
const COS = [
  [1, 2 / 3, 2 / R6, 0],
  [2 / 3, 1, 1 / R6, 0],
  [2 / R6, 1 / R6, 1, 0],
  [0, 0, 0, 0],
];

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} vs ${expected}`);
}

test('similarity is the hand-computed cosine on the binary matrix, symmetric, 0 for unrated items', () => {
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) close(model.similarity(i, j), COS[i]![j]!, `cos(${i},${j})`);
  assert.equal(model.similarity(0, 4), 0, 'beyond the fitted catalogue');
  assert.equal(model.similarity(7, 1), 0);
});

test('scores are Σ over the history of cos(i, j)', () => {
  const cases: [number[], number[]][] = [
    // history {i0}: row 0 of COS
    [[0], [1, 2 / 3, 2 / R6, 0]],
    // history {i1}: row 1
    [[1], [2 / 3, 1, 1 / R6, 0]],
    // history {i0, i1}: i2 gets 2/√6 + 1/√6 = 3/√6 ≈ 1.2247; i0 and i1 get 1 + 2/3 = 5/3
    [
      [0, 1],
      [5 / 3, 5 / 3, 3 / R6, 0],
    ],
    // history {i2}: i0 2/√6 ≈ 0.8165 ranks above i1 1/√6 ≈ 0.4082
    [[2], [2 / R6, 1 / R6, 1, 0]],
    // the unrated item contributes nothing
    [[3], [0, 0, 0, 0]],
    [[], [0, 0, 0, 0]],
  ];
  for (const [history, expected] of cases) {
    const out = new Float32Array(4).fill(-7);
    model.scoreInto(Int32Array.from(history), out);
    for (let j = 0; j < 4; j++) close(out[j]!, expected[j]!, `score ${j} for [${history}]`);
  }
});

test('history items beyond the fitted catalogue are ignored; extra output slots score 0', () => {
  const out = new Float32Array(6).fill(9);
  model.scoreInto(Int32Array.from([2, 4, 5]), out);
  const expected = [2 / R6, 1 / R6, 1, 0, 0, 0];
  for (let j = 0; j < 6; j++) close(out[j]!, expected[j]!, `score ${j}`);
});

test('repeated queries do not leak state between calls', () => {
  const a = new Float32Array(4);
  const b = new Float32Array(4);
  model.scoreInto(Int32Array.from([0, 1, 2]), a);
  model.scoreInto(Int32Array.from([1]), b);
  // {i1} again must give row 1 exactly as a fresh query would.
  for (let j = 0; j < 4; j++) close(b[j]!, COS[1]![j]!, `score ${j}`);
  // and the first query is the sum of all rows.
  for (let j = 0; j < 4; j++) close(a[j]!, COS[0]![j]! + COS[1]![j]! + COS[2]![j]!, `sum score ${j}`);
});

test('similaritiesTo gives similarity(i, j) exactly for every listed history item', () => {
  const history = Int32Array.from([0, 1, 2, 3, 7]);
  const out = new Float64Array(history.length);
  for (let j = 0; j < 5; j++) {
    model.similaritiesTo(j, history, 0, history.length, out);
    for (let k = 0; k < history.length; k++)
      assert.ok(Object.is(out[k], model.similarity(history[k]!, j)), `cos(${history[k]}, ${j})`);
    model.similaritiesTo(j, history, 2, 4, out);
    assert.ok(Object.is(out[0], model.similarity(2, j)) && Object.is(out[1], model.similarity(3, j)));
  }
});
