import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Catalogue } from '../../src/data/catalogue.ts';
import {
  contentByIndex,
  FeatureEncoder,
  type FeatureParams,
  fitFeatureSpace,
} from '../../src/features/content-features.ts';
import type { Movie } from '../../src/store/types.ts';

const movie = (movieId: number, genres: string[], year: number | null): Movie => ({
  movieId,
  title: `M${movieId}`,
  displayTitle: `M${movieId}`,
  year,
  genres,
  imdbId: null,
  tmdbId: null,
  source: 'import',
});

const catalogue = new Catalogue([
  movie(10, ['Comedy', 'Drama'], 1995),
  movie(20, ['Drama'], null),
  movie(30, [], 2001),
  movie(40, ['Comedy'], 1990),
]);

const params: FeatureParams = {
  weights: { genres: 1, year: 1, tags: 1, title: 1, genome: 1, stats: 0 },
  tagVocabulary: 10,
  tagMinMovies: 2,
};

const inputs = {
  // Tags as the store returns them: one row per (movie, tag) with a count.
  tags: {
    movieId: Int32Array.from([10, 10, 20, 30, 40]),
    tag: ['funny', 'Quirky ', 'funny', 'quirky', 'solo'],
    count: Int32Array.from([3, 1, 1, 1, 1]),
  },
  genomeTags: [
    { tagId: 7, tag: 'dark' },
    { tagId: 9, tag: 'light' },
  ],
  genome: {
    movieId: Int32Array.from([10, 10, 40, 40]),
    tagId: Int32Array.from([7, 9, 7, 9]),
    relevance: Float32Array.from([0.25, 0.75, 0.5, 0.125]),
  },
};

describe('content features', () => {
  const byIndex = contentByIndex(catalogue, inputs);
  const space = fitFeatureSpace(catalogue, byIndex.tags, inputs.genomeTags, true, params);
  const enc = new FeatureEncoder(space);

  it('lays out the groups: genres, year, tag terms used on ≥ tagMinMovies movies, genome tags', () => {
    assert.deepEqual(space.genres, ['Comedy', 'Drama']);
    // "solo" is on one movie only; "quirky" is normalised from "Quirky ".
    assert.deepEqual(space.tagTerms, ['funny', 'quirky']);
    assert.deepEqual(
      space.groups.map((g) => [g.name, g.start, g.end, g.scaling]),
      [
        ['genres', 0, 2, 'block'],
        ['year', 2, 3, 'standard'],
        ['tags', 3, 5, 'block'],
        ['genome', 5, 7, 'block'],
      ],
    );
    assert.equal(space.cols, 7);
    // Smoothed IDF over 4 movies, both terms on 2: ln(5/3) + 1.
    for (const idf of space.tagIdf) assert.ok(Math.abs(idf - (Math.log(5 / 3) + 1)) < 1e-12);
  });

  it('builds sparse rows with TF-IDF (sublinear tf, L2-normalised) and group presence', () => {
    const rows = enc.rows(catalogue, byIndex.tags, byIndex.genome);
    const row = (i: number) => {
      const out: Record<number, number> = {};
      for (let p = rows.indptr[i]!; p < rows.indptr[i + 1]!; p++) out[rows.indices[p]!] = rows.values[p]!;
      return out;
    };
    const presence = (i: number) => Array.from(rows.present.subarray(i * 4, i * 4 + 4));
    // Movie 10: funny ×3 → tf 1 + ln 3, quirky ×1 → tf 1; the same idf cancels in the L2 norm.
    const a = 1 + Math.log(3);
    const norm = Math.hypot(a, 1);
    const r0 = row(0);
    assert.equal(r0[0], 1);
    assert.equal(r0[1], 1);
    assert.equal(r0[2], 1995);
    assert.ok(Math.abs(r0[3]! - a / norm) < 1e-6);
    assert.ok(Math.abs(r0[4]! - 1 / norm) < 1e-6);
    assert.ok(Math.abs(r0[5]! - 0.25) < 1e-7);
    assert.ok(Math.abs(r0[6]! - 0.75) < 1e-7);
    assert.deepEqual(presence(0), [1, 1, 1, 1]);
    // Movie 20: no year and no genome → those groups absent, not zero.
    assert.deepEqual(row(1), { 1: 1, 3: 1 });
    assert.deepEqual(presence(1), [1, 0, 1, 0]);
    // Movie 30: no genres (still present: "no genres" is information), only "quirky".
    assert.deepEqual(row(2), { 2: 2001, 4: 1 });
    assert.deepEqual(presence(2), [1, 1, 1, 0]);
    // Movie 40: its only tag is out of the vocabulary → tags absent.
    assert.deepEqual(presence(3), [1, 1, 0, 1]);
    // indices sorted within each row
    for (let i = 0; i < rows.rows; i++)
      for (let p = rows.indptr[i]! + 1; p < rows.indptr[i + 1]!; p++)
        assert.ok(rows.indices[p]! > rows.indices[p - 1]!);
  });

  it('builds the row of a movie that is not in the catalogue with the same columns', () => {
    const r = enc.row({
      genres: ['drama', 'Western'],
      year: 2026,
      tags: new Map([
        ['quirky', 2],
        ['unseen', 5],
      ]),
      genome: { tagIds: [9], relevance: [0.5] },
    });
    // Unknown genre and term are ignored; genome tag 9 is column 6.
    assert.deepEqual(Array.from(r.indices), [1, 2, 4, 6]);
    assert.deepEqual(Array.from(r.values), [1, 2026, 1, 0.5]);
    assert.deepEqual(Array.from(r.present), [1, 1, 1, 1]);
  });

  it('drops a group whose weight is 0 and caps the vocabulary', () => {
    const s = fitFeatureSpace(catalogue, byIndex.tags, inputs.genomeTags, true, {
      ...params,
      weights: { ...params.weights, year: 0 },
      tagVocabulary: 1,
    });
    assert.deepEqual(
      s.groups.map((g) => g.name),
      ['genres', 'tags', 'genome'],
    );
    assert.deepEqual(s.tagTerms, ['funny']);
    const none = fitFeatureSpace(catalogue, byIndex.tags, inputs.genomeTags, false, params);
    assert.ok(!none.groups.some((g) => g.name === 'genome'), 'no genome group without genome data');
  });
});
