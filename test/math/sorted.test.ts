import assert from 'node:assert/strict';
import { test } from 'node:test';
import { indexInSorted } from '../../src/math/sorted.ts';

test('indexInSorted finds a value in the whole array or a range, -1 when absent', () => {
  const a = Int32Array.from([1, 3, 5, 7, 9, 11]);
  a.forEach((v, i) => {
    assert.equal(indexInSorted(a, v), i);
  });
  for (const v of [0, 2, 8, 12]) assert.equal(indexInSorted(a, v), -1);
  assert.equal(indexInSorted(a, 7, 2, 4), 3);
  assert.equal(indexInSorted(a, 1, 2, 4), -1, 'outside the range');
  assert.equal(indexInSorted(a, 9, 2, 4), -1, 'the range end is exclusive');
  assert.equal(indexInSorted(new Float64Array(0), 1), -1);
});
