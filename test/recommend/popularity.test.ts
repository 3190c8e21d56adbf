import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalogue } from '../../src/data/catalogue.ts';
import { Interactions } from '../../src/data/interactions.ts';
import {
  extendPopularity,
  fitPopularity,
  fitPopularityFromInteractions,
  quantile,
  weightedRating,
} from '../../src/models/popularity.ts';
import type { Movie } from '../../src/store/types.ts';

const movie = (movieId: number, genres: string[]): Movie => ({
  movieId,
  title: `Movie ${movieId} (2000)`,
  displayTitle: `Movie ${movieId}`,
  year: 2000,
  genres,
  imdbId: null,
  tmdbId: null,
  source: 'import',
});

test('weighted rating is v/(v+m)·R + m/(v+m)·C', () => {
  // Hand-computed: v = 30, R = 4.5, m = 10, C = 3 → 0.75·4.5 + 0.25·3 = 4.125
  assert.equal(weightedRating(30, 4.5, 10, 3), 4.125);
  assert.equal(weightedRating(0, 0, 10, 3), 3);
  assert.equal(weightedRating(0, 0, 0, 3), 3);
});

test('quantile interpolates linearly like numpy', () => {
  const sorted = [1, 2, 3, 4, 5];
  assert.equal(quantile(sorted, 0.5), 3);
  assert.equal(quantile(sorted, 0.9), 4.6);
  assert.equal(quantile(sorted, 0), 1);
  assert.equal(quantile(sorted, 1), 5);
});

test('fitPopularity uses the vote-count quantile of rated movies for m; unrated movies score C', () => {
  const votes = Int32Array.from([2, 0, 8]);
  const mean = Float32Array.from([5, 0, 4]);
  const model = fitPopularity(votes, mean, 4.2, { minVotesQuantile: 0.5 });
  assert.equal(model.m, 5); // median of the rated movies' counts [2, 8]
  assert.equal(model.C, 4.2);
  assert.ok(Math.abs(model.score[0]! - weightedRating(2, 5, 5, 4.2)) < 1e-6);
  assert.ok(Math.abs(model.score[1]! - 4.2) < 1e-6);
  assert.ok(Math.abs(model.score[2]! - weightedRating(8, 4, 5, 4.2)) < 1e-6);
  const fixed = fitPopularity(votes, mean, 4.2, { minVotesQuantile: 0.5, minVotes: 0 });
  assert.ok(Math.abs(fixed.score[0]! - 5) < 1e-6);
  const grown = extendPopularity(model, 5);
  assert.equal(grown.score.length, 5);
  assert.ok(Math.abs(grown.score[4]! - 4.2) < 1e-6);
  assert.equal(grown.votes[4], 0);
});

test('fitPopularityFromInteractions counts votes and means per catalogue item', () => {
  const catalogue = new Catalogue([movie(10, ['Comedy']), movie(20, ['Drama']), movie(30, ['Comedy'])]);
  const rows = {
    userId: Int32Array.from([1, 1, 2, 3]),
    movieId: Int32Array.from([10, 30, 30, 30]),
    rating: Float32Array.from([5, 4, 3, 2]),
    timestamp: new Float64Array(4),
  };
  const model = fitPopularityFromInteractions(Interactions.build(rows, catalogue), { minVotesQuantile: 0 });
  assert.deepEqual(Array.from(model.votes), [1, 0, 3]);
  assert.deepEqual(Array.from(model.mean), [5, 0, 3]);
  assert.equal(model.C, 3.5);
  assert.equal(model.m, 1);
});
