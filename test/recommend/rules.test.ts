import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalogue } from '../../src/data/catalogue.ts';
import { Interactions } from '../../src/data/interactions.ts';
import { RankingPipeline } from '../../src/recommend/pipeline.ts';
import { RuleSet } from '../../src/recommend/rules.ts';
import type { Strategy, TrainingData } from '../../src/recommend/strategy.ts';
import type { Movie, Rule } from '../../src/store/types.ts';

const movies: Movie[] = [1, 2, 3, 4, 5].map((movieId) => ({
  movieId,
  title: `M${movieId}`,
  displayTitle: `M${movieId}`,
  year: null,
  genres: [],
  imdbId: null,
  tmdbId: null,
  source: 'import',
}));
const catalogue = new Catalogue(movies);
const empty = {
  userId: new Int32Array(0),
  movieId: new Int32Array(0),
  rating: new Float32Array(0),
  timestamp: new Float64Array(0),
};
const data: TrainingData = {
  catalogue,
  interactions: Interactions.build(empty, catalogue),
  scale: { min: 0.5, max: 5, step: 0.5 },
};
// Scores 5, 4, 3, 2, -1 for movies 1..5.
const fixed: Strategy = {
  name: 'fixed',
  description: 'fixed scores',
  score(_ctx, scores) {
    scores.set([5, 4, 3, 2, -1]);
    return undefined;
  },
};
const rule = (movieId: number, action: Rule['action'], boost = 1, until: string | null = null): Rule => ({
  movieId,
  action,
  boost,
  until,
  reason: null,
  createdAt: '2026-01-01T00:00:00.000Z',
});
const now = new Date('2026-06-01T00:00:00Z');

function ids(rules: Rule[], k = 5, exclude: number[] = []) {
  const pipeline = new RankingPipeline(
    () => data,
    () => new RuleSet(rules),
  );
  return pipeline.rank(fixed, { ctx: {}, k, exclude, now }).map((r) => [r.movieId, r.promoted] as const);
}

test('blocked titles never appear, even when k covers the whole catalogue', () => {
  assert.deepEqual(
    ids([rule(1, 'block')]).map(([id]) => id),
    [2, 3, 4, 5],
  );
});

test('a promoted title is boosted by its factor and marked promoted', () => {
  // 3 × 1.5 = 4.5 lifts movie 3 above movie 2 (4) but not above movie 1 (5).
  assert.deepEqual(ids([rule(3, 'promote', 1.5)]).slice(0, 3), [
    [1, false],
    [3, true],
    [2, false],
  ]);
});

test('a boost lifts a negative score too', () => {
  const pipeline = new RankingPipeline(
    () => data,
    () => new RuleSet([rule(5, 'promote', 4)]),
  );
  const list = pipeline.rank(fixed, { ctx: {}, k: 5, now });
  assert.equal(list.find((r) => r.movieId === 5)!.score, -0.25);
});

test('expired rules stop applying; rules still in force apply', () => {
  assert.deepEqual(ids([rule(1, 'block', 1, '2026-05-31T23:59:59Z')]).map(([id]) => id)[0], 1);
  assert.deepEqual(ids([rule(1, 'block', 1, '2026-06-02T00:00:00Z')]).map(([id]) => id)[0], 2);
});

test('excluded titles are not brought back by a promotion', () => {
  assert.deepEqual(
    ids([rule(2, 'promote', 10)], 5, [2]).map(([id]) => id),
    [1, 3, 4, 5],
  );
});
