import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalogue } from '../../src/data/catalogue.ts';
import { Interactions } from '../../src/data/interactions.ts';
import { AlsoLikedStrategy } from '../../src/recommend/strategies/also-liked.ts';
import type { Query, Strategy } from '../../src/recommend/strategy.ts';
import type { Movie } from '../../src/store/types.ts';
import { testMovie } from '../helpers/records.ts';

const movie = (movieId: number): Movie => testMovie(movieId, ['Drama']);

// Four viewers, four movies (index = id − 1). Movie 1 was seen by users 1–3.
//   user 1: 1 (5), 2 (4), 3 (2)
//   user 2: 1 (3), 2 (5)
//   user 3: 1 (4), 3 (4.5)
//   user 4: 2 (4), 4 (5)
const rows = [
  [1, 1, 5],
  [1, 2, 4],
  [1, 3, 2],
  [2, 1, 3],
  [2, 2, 5],
  [3, 1, 4],
  [3, 3, 4.5],
  [4, 2, 4],
  [4, 4, 5],
] as const;
const catalogue = new Catalogue([1, 2, 3, 4, 5].map(movie));
const x = Interactions.build(
  {
    userId: Int32Array.from(rows, (r) => r[0]),
    movieId: Int32Array.from(rows, (r) => r[1]),
    rating: Float32Array.from(rows, (r) => r[2]),
    timestamp: new Float64Array(rows.length),
  },
  catalogue,
);

const settings = (smoothing: number) => ({ smoothing, positiveRating: 4, lift: 0 });

const watched = (...indices: number[]): Query => ({
  ctx: {},
  history: { items: Int32Array.from(indices), ratings: new Float32Array(indices.length).fill(Number.NaN) },
});

test('one seed: (likes among its viewers + m × share of likes among all viewers) / (viewers + m)', () => {
  const m = 2;
  const s = new AlsoLikedStrategy(x, catalogue, null, settings(m));
  const scores = new Float32Array(catalogue.size);
  s.score(watched(0), scores);
  // Movie 1 has 3 viewers; likes among them: movie 1 ×2 (users 1, 3), movie 2 ×2 (users 1, 2), movie 3 ×1 (user 3).
  // Shares of likes among all 4 viewers: movie 1 2/4, movie 2 3/4, movie 3 1/4, movie 4 1/4, movie 5 (added) 0.
  const expected = [(2 + m * 0.5) / 5, (2 + m * 0.75) / 5, (1 + m * 0.25) / 5, (0 + m * 0.25) / 5, 0];
  for (const [i, e] of expected.entries())
    assert.ok(Math.abs(scores[i]! - e) < 1e-6, `movie ${i + 1}: ${scores[i]} vs ${e}`);
  assert.equal(s.explain(watched(0), 1), 'liked by 67 % of the 3 viewers of Movie 1');
});

test('several seeds add up; with no seed, or no stand-in for an unrated one, the share of likes remains', () => {
  const s = new AlsoLikedStrategy(x, catalogue, null, settings(1));
  const a = new Float32Array(catalogue.size);
  const b = new Float32Array(catalogue.size);
  const both = new Float32Array(catalogue.size);
  s.score(watched(0), a);
  s.score(watched(3), b);
  s.score(watched(0, 3), both);
  for (const [i, v] of both.entries()) assert.ok(Math.abs(v - a[i]! - b[i]!) < 1e-6);

  const none = new Float32Array(catalogue.size);
  s.score({ ctx: {}, history: { items: new Int32Array(0), ratings: new Float32Array(0) } }, none);
  assert.deepEqual(Array.from(none), [0.5, 0.75, 0.25, 0.25, 0]);
  const unrated = new Float32Array(catalogue.size);
  s.score(watched(4), unrated);
  assert.deepEqual(Array.from(unrated), [0.5, 0.75, 0.25, 0.25, 0]);
  assert.equal(s.explain(watched(4), 1), 'liked by 75 % of all viewers');
});

test('a history holding a movie nobody rated goes to the fallback, explanations included', () => {
  const content: Strategy = {
    name: 'similar',
    description: 'stand-in for similar',
    score(_q, scores) {
      scores.fill(7);
      return undefined;
    },
    explain: () => 'because you watched it',
  };
  const s = new AlsoLikedStrategy(x, catalogue, content, settings(1));
  const scores = new Float32Array(catalogue.size);
  s.score(watched(0, 4), scores); // movie 5 was added after training: nobody rated it
  assert.deepEqual(Array.from(scores), [7, 7, 7, 7, 7]);
  assert.equal(s.explain(watched(0, 4), 1), 'because you watched it');
  s.score(watched(0), scores); // movie 1 has 3 viewers: its own list
  assert.ok(Math.abs(scores[1]! - (2 + 0.75) / 4) < 1e-6);
  assert.match(s.explain(watched(0), 1)!, /^liked by 67 % of the 3 viewers of Movie 1$/);
});

test('rated seeds must be liked: a movie rated below the threshold is not a seed while a liked one is', () => {
  const s = new AlsoLikedStrategy(x, catalogue, null, settings(1));
  const mixed = new Float32Array(catalogue.size);
  const liked = new Float32Array(catalogue.size);
  s.score({ ctx: {}, history: { items: Int32Array.from([0, 3]), ratings: Float32Array.from([5, 2]) } }, mixed);
  s.score(watched(0), liked);
  assert.deepEqual(Array.from(mixed), Array.from(liked));
});
