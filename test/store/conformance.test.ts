/**
 * One store contract, two implementations: the same tests run against the embedded DuckDB file and a real
 * PostgreSQL (started by the test). Imports of every format, all-or-nothing on a broken release, the reads the
 * models and the services make, and every write the API takes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { detectFormat } from '../../src/data/formats.ts';
import { userRatingSums, usersWithOtherSums } from '../../src/data/rating-diff.ts';
import type { ImportingStore } from '../../src/store/import-types.ts';
import { ImportError } from '../../src/store/import-types.ts';
import { openStore } from '../../src/store/open.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';

const fixture = (name: string) => path.resolve('fixtures', name);

let root: string;
let postgres: TestPostgres;
before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'cinerec-store-'));
  postgres = await startPostgres();
});
after(async () => {
  await postgres?.stop();
  await rm(root, { recursive: true, force: true });
});

let seq = 0;
const BACKENDS: { name: string; open(): Promise<ImportingStore> }[] = [
  {
    name: 'DuckDB',
    open: () => openStore({ path: path.join(root, `store-${++seq}.duckdb`), memoryLimit: '1GB' }),
  },
  {
    name: 'PostgreSQL',
    open: async () => openStore({ url: await postgres.database(), path: '', memoryLimit: '1GB' }),
  },
];

async function withStore(backend: (typeof BACKENDS)[number], fn: (s: ImportingStore) => Promise<void>) {
  const store = await backend.open();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

for (const backend of BACKENDS) {
  describe(`the ${backend.name} store`, () => {
    it('imports the genome release: counts, movies, tags, genome, ratings as sorted columns', async () => {
      await withStore(backend, async (store) => {
        const report = await store.importDataset(detectFormat(fixture('genome')));
        assert.equal(report.dataset, 'genome');
        const counts = await store.counts();
        assert.deepEqual(counts, report.counts);
        assert.ok(counts.movies > 0 && counts.ratings > 0 && counts.genomeTags > 0 && counts.genomeMovies > 0);
        const info = await store.dataset();
        assert.equal(info?.name, 'genome');
        assert.deepEqual(info?.scale, { min: 0.5, max: 5, step: 0.5 });
        const movies = await store.listMovies();
        assert.equal(movies.length, counts.movies);
        assert.deepEqual(
          movies.map((m) => m.movieId),
          [...movies.map((m) => m.movieId)].sort((a, b) => a - b),
        );
        const one = await store.getMovie(movies[0]!.movieId);
        assert.deepEqual(one, movies[0]);
        assert.ok(Array.isArray(one!.genres));
        const ratings = await store.ratingColumns();
        assert.equal(ratings.userId.length, counts.ratings);
        for (let k = 1; k < ratings.userId.length; k++) {
          const order =
            ratings.userId[k - 1]! < ratings.userId[k]! ||
            (ratings.userId[k - 1] === ratings.userId[k] && ratings.movieId[k - 1]! < ratings.movieId[k]!);
          assert.ok(order, `ratings are ordered by (user, movie) at row ${k}`);
        }
        const histogram = await store.ratingHistogram();
        assert.equal(
          histogram.reduce((s, b) => s + b.count, 0),
          counts.ratings,
        );
        const genome = await store.genomeColumns();
        assert.equal(genome.movieId.length, (await store.genomeColumns()).relevance.length);
        assert.ok(genome.relevance.every((r) => r >= 0 && r <= 1));
        assert.ok((await store.genomeTags()).length === counts.genomeTags);
        const tags = await store.movieTagCounts();
        assert.equal(tags.movieId.length, tags.tag.length);
        const stats = await store.movieStats();
        assert.equal(stats.totalRatings, counts.ratings);
      });
    });

    it('imports ml-1m (:: and Latin-1) and ml-100k formats alike', async () => {
      for (const name of ['ml-1m', 'ml-100k']) {
        await withStore(backend, async (store) => {
          const report = await store.importDataset(detectFormat(fixture(name)));
          assert.ok(report.counts.ratings > 0, `${name} ratings`);
          const titles = (await store.listMovies()).map((m) => m.title);
          assert.ok(titles.every((t) => t.length > 0));
        });
      }
    });

    it('a broken release changes nothing (all or nothing)', async () => {
      await withStore(backend, async (store) => {
        await store.importDataset(detectFormat(fixture('genome')));
        const before = await store.counts();
        await assert.rejects(store.importDataset(detectFormat(fixture('broken/late-failure'))), ImportError);
        assert.deepEqual(await store.counts(), before);
        assert.equal((await store.dataset())?.name, 'genome');
      });
    });

    it('writes: movies, users, ratings (replacing), rules; reads them back', async () => {
      await withStore(backend, async (store) => {
        await store.importDataset(detectFormat(fixture('genome')));
        const movies = await store.listMovies();
        const next = movies.at(-1)!.movieId + 1;
        const tag = (await store.genomeTags())[0]!;
        const added = await store.addMovie({
          movie: {
            movieId: next,
            title: 'Arrival Test (2016)',
            displayTitle: 'Arrival Test',
            year: 2016,
            genres: ['Drama', 'Sci-Fi'],
            imdbId: null,
            tmdbId: 123,
          },
          tags: ['aliens', 'language'],
          genome: [{ tagId: tag.tagId, relevance: 0.9 }],
        });
        assert.equal(added.source, 'live');
        const after = await store.moviesAfter(next - 1);
        assert.deepEqual(after, { total: movies.length + 1, movies: [added] });
        assert.deepEqual((await store.moviesAfter(next)).movies, []);
        assert.deepEqual(added.genres, ['Drama', 'Sci-Fi']);
        assert.deepEqual((await store.topTags(next, 5)).map((t) => t.tag).sort(), ['aliens', 'language']);

        const userId = await store.addUser([
          { movieId: movies[0]!.movieId, rating: 4.5 },
          { movieId: next, rating: 5 },
        ]);
        assert.ok(await store.hasUser(userId));
        const second = await store.addUser([{ movieId: movies[1]!.movieId, rating: 3 }]);
        assert.equal(second, userId + 1, 'ids are handed out one after the other');
        await store.putRatings(userId, [{ movieId: next, rating: 2 }]);
        const mine = await store.userRatings(userId);
        assert.deepEqual(
          mine.map((r) => [r.movieId, r.rating]).sort((a, b) => a[0]! - b[0]!),
          [
            [movies[0]!.movieId, 4.5],
            [next, 2],
          ],
        );

        // Per-user checksums: the store's SQL and the JS of data/rating-diff.ts agree on every user, and a changed
        // rating changes its user's sum and nobody else's; ratingsOfUsers reads just those users, in order.
        const before = userRatingSums(await store.ratingColumns());
        assert.deepEqual(await store.userRatingSums(), before);
        await store.putRatings(second, [{ movieId: movies[1]!.movieId, rating: 3.5 }]);
        const now = await store.userRatingSums();
        assert.deepEqual(Array.from(usersWithOtherSums(before, now)), [second]);
        const theirs = await store.ratingsOfUsers(Int32Array.from([userId, second]));
        assert.deepEqual(Array.from(theirs.userId), [userId, userId, second]);
        assert.deepEqual(Array.from(theirs.rating), [4.5, 2, 3.5]);
        assert.equal((await store.ratingsOfUsers(new Int32Array(0))).userId.length, 0);

        const until = new Date(Date.now() + 86_400_000).toISOString();
        const rule = await store.putRule({ movieId: next, action: 'promote', boost: 2, until, reason: 'launch' });
        assert.equal(rule.boost, 2);
        assert.equal(rule.until, until);
        assert.deepEqual(
          (await store.listRules()).map((r) => r.movieId),
          [next],
        );
        await store.putRule({ movieId: next, action: 'block', boost: 1, until: null, reason: null });
        assert.equal((await store.listRules())[0]!.action, 'block');
        assert.equal(await store.removeRule(next), true);
        assert.equal(await store.removeRule(next), false);
      });
    });
  });
}
