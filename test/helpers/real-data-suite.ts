import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { detectFormat } from '../../src/data/formats.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import type { ImportReport } from '../../src/store/duckdb/import.ts';

/**
 * The real GroupLens files, linked into ./data by CI (data/ is git-ignored). These tests never
 * skip themselves: a missing data set is a failure that says how to get it.
 */
const HOW_TO_GET: Record<string, string> = {
  'ml-latest-small': 'run `npx cinerec data fetch ml-latest-small` (it downloads into ./data/ml-latest-small)',
  'ml-latest-small-2016':
    'it is the October 2016 snapshot of ml-latest-small, which GroupLens no longer publishes; ' +
    'link your copy with `ln -sfn /path/to/ml-latest-small-2016 data/ml-latest-small-2016`',
};

export function requireData(name: string): string {
  const dir = path.resolve('data', name);
  for (const file of ['movies.csv', 'ratings.csv', 'tags.csv', 'links.csv']) {
    if (!existsSync(path.join(dir, file))) {
      throw new Error(
        `./data/${name}/${file} is missing: the real-data tests need the MovieLens ${name} release in ./data/${name}. ` +
          `To get it, ${HOW_TO_GET[name]}.`,
      );
    }
  }
  return dir;
}

interface Expected {
  counts: { movies: number; users: number; ratings: number; tags: number };
  ratedMovies: number;
  withoutGenres: number;
  /** Ratings per star value, 0.5 to 5.0 (counted independently with cut | sort | uniq -c). */
  histogram: number[];
}

const EXPECTED = {
  'ml-latest-small': {
    counts: { movies: 9742, users: 610, ratings: 100_836, tags: 3683 },
    ratedMovies: 9724,
    withoutGenres: 34,
    histogram: [1370, 2811, 1791, 7551, 5550, 20_047, 13_136, 26_818, 8551, 13_211],
  },
  'ml-latest-small-2016': {
    counts: { movies: 9125, users: 671, ratings: 100_004, tags: 1296 },
    ratedMovies: 9066,
    withoutGenres: 18,
    histogram: [1101, 3326, 1687, 7271, 4449, 20_064, 10_538, 28_750, 7723, 15_095],
  },
} satisfies Record<string, Expected>;

const HALF_STARS = [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5];

/** The checks every genuine ml-latest-small release must pass; `locate` finds (or fetches) its directory. */
export function realDataSuite(name: keyof typeof EXPECTED, locate: () => Promise<string> | string): void {
  const expected = EXPECTED[name]!;
  describe(`real data: ${name}`, () => {
    let root: string;
    let store: DuckDbStore;
    let report: ImportReport;

    before(async () => {
      const dir = await locate();
      root = await mkdtemp(path.join(os.tmpdir(), 'cinerec-real-'));
      store = await DuckDbStore.open(path.join(root, 'store.duckdb'));
      report = await store.importDataset(detectFormat(dir));
    });
    after(async () => {
      await store?.close();
      if (root) await rm(root, { recursive: true, force: true });
    });

    it('imports the exact counts', async () => {
      const counts = { ...expected.counts, genomeTags: 0, genomeMovies: 0 };
      assert.deepEqual(report.counts, counts);
      assert.deepEqual(await store.counts(), counts);
      assert.equal(report.skippedCount, 0);
      assert.equal(report.format, 'csv');
      assert.equal(report.dataset, name);
    });

    it(`${expected.ratedMovies} of ${expected.counts.movies} movies have ratings`, async () => {
      const stats = await store.movieStats();
      assert.equal(stats.movieId.length, expected.ratedMovies);
      assert.equal(stats.totalRatings, expected.counts.ratings);
      let sum = 0;
      for (const n of stats.count) sum += n;
      assert.equal(sum, expected.counts.ratings);
    });

    it(`${expected.withoutGenres} movies have no genres ("(no genres listed)")`, async () => {
      const movies = await store.listMovies();
      assert.equal(movies.length, expected.counts.movies);
      assert.equal(movies.filter((m) => m.genres.length === 0).length, expected.withoutGenres);
      assert.ok(!movies.some((m) => m.genres.includes('(no genres listed)')));
      const genres = new Set(movies.flatMap((m) => m.genres));
      assert.deepEqual([...genres].sort(), [
        'Action',
        'Adventure',
        'Animation',
        'Children',
        'Comedy',
        'Crime',
        'Documentary',
        'Drama',
        'Fantasy',
        'Film-Noir',
        'Horror',
        'IMAX',
        'Musical',
        'Mystery',
        'Romance',
        'Sci-Fi',
        'Thriller',
        'War',
        'Western',
      ]);
    });

    it('"Matrix, The (1999)" is "The Matrix", 1999, with its links', async () => {
      assert.deepEqual(await store.getMovie(2571), {
        movieId: 2571,
        title: 'Matrix, The (1999)',
        displayTitle: 'The Matrix',
        year: 1999,
        genres: ['Action', 'Sci-Fi', 'Thriller'],
        imdbId: 'tt0133093',
        tmdbId: 603,
        source: 'import',
      });
      const toyStory = await store.getMovie(1);
      assert.equal(toyStory?.imdbId, 'tt0114709');
      assert.equal(toyStory?.tmdbId, 862);
    });

    it('ratings are 0.5 to 5.0 in half steps, with the published counts', async () => {
      const histogram = await store.ratingHistogram();
      assert.deepEqual(
        histogram.map((b) => b.rating),
        HALF_STARS,
      );
      assert.deepEqual(
        histogram.map((b) => b.count),
        expected.histogram,
      );
    });

    it('the data set is recorded in the store', async () => {
      const dataset = await store.dataset();
      assert.equal(dataset?.name, name);
      assert.equal(dataset?.format, 'csv');
      assert.deepEqual(dataset?.scale, { min: 0.5, max: 5, step: 0.5 });
      assert.equal(dataset?.hasGenome, false);
    });
  });
}
