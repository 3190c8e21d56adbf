/**
 * User segments on synthetic viewers built to separate: four groups, each loving one genre (ratings
 * 4–5 there) and rating a few movies of the other genres low (1–2.5). Each genre is one movie segment.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Catalogue } from '../../src/data/catalogue.ts';
import { Interactions } from '../../src/data/interactions.ts';
import { Rng } from '../../src/math/random.ts';
import type { FittedMovieSegments } from '../../src/models/movie-segments.ts';
import { SegmentScores } from '../../src/models/segment-scores.ts';
import { type MovieSegmentsInput, UserSegmentModel, type UserSegmentSettings } from '../../src/models/user-segments.ts';
import { SegmentStrategy, type SegmentStrategySettings } from '../../src/recommend/strategies/segment.ts';
import type { Movie } from '../../src/store/types.ts';

const GENRES = ['Action', 'Comedy', 'Horror', 'Romance'];
const PER_GENRE = 30;
const PER_GROUP = 40;

const movies: Movie[] = [];
for (let g = 0; g < GENRES.length; g++)
  for (let j = 0; j < PER_GENRE; j++) {
    const movieId = g * PER_GENRE + j + 1;
    movies.push({
      movieId,
      title: `${GENRES[g]} ${j} (2000)`,
      displayTitle: `${GENRES[g]} ${j}`,
      year: 2000,
      genres: [GENRES[g]!],
      imdbId: null,
      tmdbId: null,
      source: 'import',
    });
  }
const catalogue = new Catalogue(movies);
const genreOf = (index: number) => catalogue.movies[index]!.genres[0]!;

/** Ratings of one synthetic viewer who loves `genre` (movie ids, ratings on a half-star grid). */
function viewer(rng: Rng, genre: number): { movieId: number; rating: number }[] {
  const out: { movieId: number; rating: number }[] = [];
  // Half the loved genre's movies, the first ones more often: some are popular within the group.
  for (let j = 0; j < PER_GENRE; j++)
    if (rng.next() < (j < 10 ? 0.85 : 0.35))
      out.push({ movieId: genre * PER_GENRE + j + 1, rating: 4 + rng.int(3) / 2 });
  for (let g = 0; g < GENRES.length; g++) {
    if (g === genre) continue;
    for (let t = 0; t < 2; t++) {
      const movieId = g * PER_GENRE + rng.int(PER_GENRE) + 1;
      if (!out.some((r) => r.movieId === movieId)) out.push({ movieId, rating: 1 + rng.int(4) / 2 });
    }
  }
  return out;
}

const rng = new Rng(11);
const group = new Map<number, number>();
const userId: number[] = [];
const movieId: number[] = [];
const rating: number[] = [];
for (let g = 0; g < GENRES.length; g++)
  for (let u = 0; u < PER_GROUP; u++) {
    const id = g * PER_GROUP + u + 1;
    group.set(id, g);
    for (const r of viewer(rng, g)) {
      userId.push(id);
      movieId.push(r.movieId);
      rating.push(r.rating);
    }
  }
const interactions = Interactions.build(
  {
    userId: Int32Array.from(userId),
    movieId: Int32Array.from(movieId),
    rating: Float32Array.from(rating),
    timestamp: new Float64Array(userId.length),
  },
  catalogue,
);
const movieSegments: MovieSegmentsInput = {
  k: GENRES.length,
  assignment: Int32Array.from({ length: catalogue.size }, (_, i) => GENRES.indexOf(genreOf(i))),
  segments: GENRES.map((genre, segment) => ({ segment, topGenres: [{ genre }] })),
};
const settings: UserSegmentSettings = {
  minK: 2,
  maxK: 8,
  rule: 'calinski-harabasz',
  seed: 1,
  restarts: 2,
  positiveRating: 3.5,
  hidden: 16,
  code: 8,
  epochs: 100,
  patience: 10,
  batchSize: 16,
  learningRate: 0.01,
  validationShare: 0.1,
  meanShrinkage: 2,
};
const model = UserSegmentModel.fit(catalogue, interactions, movieSegments, settings);

/** The segment holding most of a group's users. */
function segmentOfGroup(g: number): number {
  const votes = new Map<number, number>();
  model.userIds.forEach((id, r) => {
    if (group.get(id) === g) votes.set(model.assignment[r]!, (votes.get(model.assignment[r]!) ?? 0) + 1);
  });
  return [...votes.entries()].sort((a, b) => b[1] - a[1])[0]![0];
}

/** A history as catalogue indices, sorted. */
function history(ratings: { movieId: number; rating: number }[]) {
  const sorted = ratings.map((r) => ({ i: catalogue.indexOf(r.movieId), r: r.rating })).sort((a, b) => a.i - b.i);
  return { items: Int32Array.from(sorted, (x) => x.i), ratings: Float32Array.from(sorted, (x) => x.r) };
}

describe('user segments', () => {
  it('selectK finds the four groups and every group is one segment', () => {
    assert.equal(model.k, 4, `k = ${model.k}; CH ${model.scores.map((s) => s.calinskiHarabasz.toFixed(0)).join(' ')}`);
    assert.deepEqual(
      model.scores.map((s) => s.k),
      [2, 3, 4, 5, 6, 7, 8],
      'every k in the range is scored',
    );
    for (const s of model.scores)
      assert.ok(
        Number.isFinite(s.inertia) && Number.isFinite(s.silhouette) && Number.isFinite(s.daviesBouldin),
        `k ${s.k}: all four scores`,
      );
    const segments = GENRES.map((_, g) => segmentOfGroup(g));
    assert.equal(new Set(segments).size, 4, 'each group has its own segment');
    model.userIds.forEach((id, r) => {
      assert.equal(model.assignment[r], segments[group.get(id)!], `user ${id} is with their group`);
    });
    assert.equal(model.report.code, 8);
    assert.ok(model.report.validationUsers > 0 && model.report.bestEpoch >= 1, 'the autoencoder was validated');
  });

  it('descriptions name the group’s genre first and favour its movie segment', () => {
    GENRES.forEach((genre, g) => {
      const s = model.segments[segmentOfGroup(g)]!;
      assert.equal(s.size, PER_GROUP);
      assert.equal(s.topGenres[0]!.genre, genre, s.description);
      assert.ok(s.topGenres[0]!.share > 0.99, `${genre}: every liked movie is ${genre}`);
      assert.match(s.label, new RegExp(`^${genre} fans`), s.label);
      assert.equal(s.favouredMovieSegments[0]!.segment, g, s.description);
      assert.match(s.description, new RegExp(`^${PER_GROUP} viewers, ${genre} fans.*liked movies are ${genre} 100%`));
      assert.ok(s.meanRating > 2.5 && s.meanRating < 5, `${genre}: mean rating ${s.meanRating}`);
    });
  });

  it('a label names only genres its members like most: those its description lists', () => {
    for (const s of model.segments) {
      const named = /^(.*) fans/.exec(s.label)?.[1]?.split(' & ') ?? [];
      for (const genre of named)
        assert.ok(
          s.topGenres.some((g) => g.genre === genre),
          `${s.label}: ${genre} is among the liked genres of "${s.description}"`,
        );
    }
  });

  it('places a new viewer in the segment of their taste, without refitting', () => {
    const before = Float32Array.from(model.centroids);
    const fresh = new Rng(99);
    for (let g = 0; g < GENRES.length; g++) {
      const h = history(viewer(fresh, g));
      assert.equal(model.place(h.items, h.ratings), segmentOfGroup(g), `a new ${GENRES[g]} lover`);
      const p = model.profile(h.items, h.ratings);
      assert.equal(p.topGenres[0]!.genre, GENRES[g]);
      assert.equal(p.movieSegments[0]!.segment, g);
    }
    assert.deepEqual(model.centroids, before, 'placing changes nothing');
    assert.equal(model.place(new Int32Array(0), new Float32Array(0)), -1, 'no ratings, no segment');
    // Watched-only entries (rating NaN) do not count as ratings.
    assert.equal(model.place(Int32Array.of(0, 1), Float32Array.of(Number.NaN, Number.NaN)), -1);
  });

  it('is deterministic given the seed', () => {
    const again = UserSegmentModel.fit(catalogue, interactions, movieSegments, settings);
    assert.deepEqual(again.assignment, model.assignment);
    assert.deepEqual(again.centroids, model.centroids);
  });
});

describe('segment strategy', () => {
  const strategySettings: SegmentStrategySettings = {
    positiveRating: settings.positiveRating,
    smoothing: 5,
    movieSegmentWeight: 0.5,
    lowRatingWeight: 0.5,
  };
  const fittedMovies: FittedMovieSegments = {
    k: movieSegments.k,
    rule: 'calinski-harabasz',
    elbow: 4,
    scores: [],
    assignment: movieSegments.assignment,
    segments: GENRES.map((genre, segment) => ({
      segment,
      size: PER_GENRE,
      topGenres: [{ genre, share: 1 }],
      meanRating: null,
      medianVotes: 0,
      description: genre,
    })),
  };
  // The strategy is created from the trained models: the user segments above and their score tables.
  const tables = SegmentScores.fit(interactions, model, fittedMovies, strategySettings);
  const strategy = new SegmentStrategy(strategySettings, model, fittedMovies, tables, {
    catalogue,
    interactions,
    scale: { min: 0.5, max: 5, step: 0.5 },
  });

  it('an anonymous Horror lover gets Horror, explained by their segment', () => {
    const h = history([
      { movieId: 2 * PER_GENRE + 1, rating: 5 },
      { movieId: 2 * PER_GENRE + 2, rating: 4.5 },
      { movieId: 2 * PER_GENRE + 3, rating: 5 },
      { movieId: 5, rating: 1 },
    ]);
    const query = { ctx: { ratings: [] }, history: h };
    const scores = new Float32Array(catalogue.size);
    strategy.score(query, scores);
    const top = Array.from(scores.keys())
      .filter((i) => !h.items.includes(i))
      .sort((a, b) => scores[b]! - scores[a]! || a - b)
      .slice(0, 10);
    assert.ok(
      top.every((i) => genreOf(i) === 'Horror'),
      `top 10: ${top.map(genreOf).join(', ')}`,
    );
    const seg = segmentOfGroup(2);
    assert.equal(strategy.segmentOf(query), seg);
    assert.match(
      strategy.explain(query, top[0]!) ?? '',
      new RegExp(`^liked by \\d+ of the ${PER_GROUP} viewers like you \\(segment ${seg}: Horror fans`),
    );
  });

  it('a fitted user keeps the segment they were fitted in', () => {
    const id = 3 * PER_GROUP + 1;
    const u = interactions.userOf(id);
    const query = {
      ctx: { userId: id },
      history: { items: interactions.rowItems(u), ratings: interactions.rowRatings(u) },
    };
    const v = strategy.viewer(query);
    assert.equal(v.segment, segmentOfGroup(3));
    assert.equal(v.source, 'fitted');
    assert.equal(v.details?.topGenres[0]?.genre, 'Romance');
  });
});
