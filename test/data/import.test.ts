import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { detectFormat } from '../../src/data/formats.ts';
import { Db, type Row } from '../../src/store/duckdb/connection.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import { ImportError, type ImportIssue, type ImportReport } from '../../src/store/duckdb/import.ts';
import type { RatingBucket, StoreCounts } from '../../src/store/types.ts';

const fixture = (name: string) => path.resolve('fixtures', name);

let root: string;
let seq = 0;
before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'cinerec-import-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/**
 * A fresh store file for one test, closed whatever happens. `close` lets a test close it early to
 * read the file with {@link query}.
 */
async function withStore<T>(
  fn: (store: DuckDbStore, file: string, close: () => Promise<void>) => Promise<T>,
): Promise<T> {
  const file = path.join(root, `store-${++seq}.duckdb`);
  const store = await DuckDbStore.open(file);
  let open = true;
  const close = async () => {
    if (open) await store.close();
    open = false;
  };
  try {
    return await fn(store, file, close);
  } finally {
    await close();
  }
}

/** Reads a closed store file directly, for what the Store interface does not expose. */
async function query<T extends Row>(file: string, sql: string): Promise<T[]> {
  const db = await Db.open(file);
  try {
    return await db.all<T>(sql);
  } finally {
    db.close();
  }
}

const counts = (c: Partial<StoreCounts>): StoreCounts => ({
  movies: 0,
  users: 0,
  ratings: 0,
  tags: 0,
  genomeTags: 0,
  genomeMovies: 0,
  ...c,
});

const histogram = (h: Record<string, number>): RatingBucket[] =>
  Object.entries(h)
    .map(([rating, count]) => ({ rating: Number(rating), count }))
    .sort((a, b) => a.rating - b.rating);

/** Runs an import that must fail and returns its ImportError. */
async function importError(store: DuckDbStore, dir: string, lenient = false): Promise<ImportError> {
  const plan = detectFormat(dir);
  let caught: unknown;
  try {
    await store.importDataset(plan, { lenient });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ImportError, `expected an ImportError from ${dir}, got ${String(caught)}`);
  return caught;
}

describe('importing the good fixtures', () => {
  it('ml-100k: counts, latin-1 titles, genres from the 19 flags, u.user fields', async () => {
    await withStore(async (store, file, close) => {
      const report = await store.importDataset(detectFormat(fixture('ml-100k')));
      const expected = counts({ movies: 8, users: 5, ratings: 15 });
      assert.deepEqual(report.counts, expected);
      assert.deepEqual(await store.counts(), expected);
      assert.equal(report.dataset, 'ml-100k');
      assert.equal(report.format, 'ml-100k');
      assert.deepEqual(report.skipped, []);
      assert.equal(report.skippedCount, 0);

      const cafe = await store.getMovie(7);
      assert.equal(cafe?.title, 'Café au Lait (1993)', 'byte 0xE9 in u.item is latin-1 é');
      assert.equal(cafe?.displayTitle, 'Café au Lait');
      assert.equal(cafe?.year, 1993);
      assert.equal((await store.getMovie(6))?.displayTitle, 'Les Misérables');

      const toyStory = await store.getMovie(1);
      assert.deepEqual(toyStory?.genres, ['Animation', 'Children', 'Comedy'], "Children's flag → Children");
      assert.equal(toyStory?.imdbId, null, 'ml-100k has IMDb URLs, not ids');
      assert.deepEqual((await store.getMovie(2))?.genres, ['Action', 'Adventure', 'Thriller']);

      const unknown = await store.getMovie(267);
      assert.deepEqual(unknown?.genres, [], 'the "unknown" flag means no genres');
      assert.equal(unknown?.title, 'unknown');
      assert.equal(unknown?.year, null);

      assert.deepEqual(await store.ratingHistogram(), histogram({ 1: 2, 2: 2, 3: 3, 4: 5, 5: 3 }));
      const dataset = await store.dataset();
      assert.equal(dataset?.name, 'ml-100k');
      assert.equal(dataset?.format, 'ml-100k');
      assert.deepEqual(dataset?.scale, { min: 1, max: 5, step: 1 });
      assert.equal(dataset?.hasGenome, false);
      await close();
      const users = await query(file, 'SELECT user_id, age, gender, occupation, zip FROM users ORDER BY user_id');
      assert.deepEqual(users[1], { user_id: 2, age: 53, gender: 'F', occupation: 'other', zip: '94043' });
      assert.equal(users.length, 5);
    });
  });

  it('ml-1m: counts, latin-1 :: titles, whole stars, users.dat fields', async () => {
    await withStore(async (store, file, close) => {
      const report = await store.importDataset(detectFormat(fixture('ml-1m')));
      assert.deepEqual(report.counts, counts({ movies: 6, users: 4, ratings: 11 }));
      const miserables = await store.getMovie(73);
      assert.equal(miserables?.title, 'Misérables, Les (1995)');
      assert.equal(miserables?.displayTitle, 'Les Misérables');
      assert.deepEqual(miserables?.genres, ['Drama', 'Musical']);
      // A single colon inside a title is not the :: delimiter.
      assert.equal((await store.getMovie(260))?.displayTitle, 'Star Wars: Episode IV - A New Hope');
      assert.equal((await store.getMovie(11))?.displayTitle, 'The American President');
      assert.deepEqual((await store.getMovie(1))?.genres, ['Animation', 'Children', 'Comedy']);
      assert.deepEqual(await store.ratingHistogram(), histogram({ 1: 1, 2: 1, 3: 2, 4: 3, 5: 4 }));
      assert.deepEqual((await store.dataset())?.scale, { min: 1, max: 5, step: 1 });
      await close();
      const users = await query(file, 'SELECT user_id, gender, age, occupation, zip FROM users ORDER BY user_id');
      assert.deepEqual(users, [
        { user_id: 1, gender: 'F', age: 1, occupation: '10', zip: '48067' },
        { user_id: 2, gender: 'M', age: 56, occupation: '16', zip: '70072' },
        { user_id: 3, gender: 'M', age: 25, occupation: '15', zip: '55117' },
        { user_id: 4, gender: 'M', age: 45, occupation: '7', zip: '02460' },
      ]);
    });
  });

  it('ml-10m: counts, half stars kept, UTF-8 titles, tags.dat, users from tags too', async () => {
    await withStore(async (store) => {
      const report = await store.importDataset(detectFormat(fixture('ml-10m')));
      // Users 15 and 20 only tagged: they count as users all the same.
      assert.deepEqual(report.counts, counts({ movies: 6, users: 5, ratings: 8, tags: 4 }));
      assert.deepEqual(await store.ratingHistogram(), histogram({ 0.5: 1, 2.5: 1, 3: 1, 3.5: 1, 4: 1, 4.5: 1, 5: 2 }));
      const amelie = await store.getMovie(4973);
      assert.equal(amelie?.displayTitle, "Amélie (Le Fabuleux destin d'Amélie Poulain)");
      assert.equal(amelie?.year, 2001);
      const daisy = await store.getMovie(8606);
      assert.deepEqual(daisy?.genres, [], '(no genres listed) → no genres');
      assert.deepEqual(await store.topTags(4973, 5), [{ tag: 'excellent!', count: 1 }]);
      assert.deepEqual(await store.topTags(32, 5), [{ tag: 'time travel', count: 1 }]);
      assert.deepEqual((await store.dataset())?.scale, { min: 0.5, max: 5, step: 0.5 });
    });
  });

  it('genome (CSV, CRLF): counts, links, quoted fields, genome tags and scores', async () => {
    await withStore(async (store, file, close) => {
      const report = await store.importDataset(detectFormat(fixture('genome')));
      assert.deepEqual(
        report.counts,
        counts({ movies: 6, users: 5, ratings: 15, tags: 4, genomeTags: 8, genomeMovies: 6 }),
      );
      assert.deepEqual(await store.getMovie(1), {
        movieId: 1,
        title: 'Toy Story (1995)',
        displayTitle: 'Toy Story',
        year: 1995,
        genres: ['Adventure', 'Animation', 'Children', 'Comedy', 'Fantasy'],
        imdbId: 'tt0114709',
        tmdbId: 862,
        source: 'import',
      });
      const suspects = await store.getMovie(5);
      assert.equal(suspects?.title, 'Usual Suspects, The (1995)', 'quoted title with a comma');
      assert.equal(suspects?.displayTitle, 'The Usual Suspects');
      assert.equal(suspects?.imdbId, 'tt0114814');
      assert.equal(suspects?.tmdbId, null, 'empty tmdbId → null');
      assert.equal((await store.getMovie(6))?.imdbId, 'tt0068646');
      assert.deepEqual(await store.topTags(6, 5), [{ tag: 'mafia, family', count: 1 }]);
      assert.deepEqual(
        await store.ratingHistogram(),
        histogram({ 0.5: 1, 1.5: 1, 2: 1, 2.5: 1, 3: 1, 3.5: 2, 4: 3, 4.5: 2, 5: 3 }),
      );
      const dataset = await store.dataset();
      assert.equal(dataset?.hasGenome, true);
      assert.equal(dataset?.format, 'csv');
      assert.equal(dataset?.sourceDir, fixture('genome'));
      await close();

      const tags = await query<{ tag_id: number; tag: string }>(file, 'SELECT tag_id, tag FROM genome_tags ORDER BY 1');
      assert.deepEqual(
        tags.map((t) => t.tag),
        ['animation', 'family', 'fantasy', 'funny', 'crime', 'heist', 'mafia', 'violence'],
      );
      const scores = await query<{ movie_id: number; tag_id: number; relevance: number }>(
        file,
        'SELECT movie_id, tag_id, relevance FROM genome_scores ORDER BY movie_id, tag_id',
      );
      assert.equal(scores.length, 48, 'every movie has a score for every genome tag');
      const toyStory = scores.filter((s) => s.movie_id === 1).map((s) => s.relevance);
      assert.deepEqual(
        toyStory.map((r) => Math.round(r * 1e4) / 1e4),
        [0.975, 0.9325, 0.81, 0.8875, 0.0425, 0.025, 0.0175, 0.065],
      );

      // The structure fixtures/README.md promises: 1,2,3 are neighbours, and so are 4,5,6.
      const vectors = new Map<number, number[]>();
      for (const s of scores) vectors.set(s.movie_id, [...(vectors.get(s.movie_id) ?? []), s.relevance]);
      const cosine = (a: number[], b: number[]) => {
        const dot = a.reduce((sum, x, i) => sum + x * b[i]!, 0);
        return dot / Math.hypot(...a) / Math.hypot(...b);
      };
      const group = (m: number) => (m <= 3 ? [1, 2, 3] : [4, 5, 6]);
      for (const [m, v] of vectors) {
        const others = [...vectors.keys()].filter((o) => o !== m);
        others.sort((a, b) => cosine(v, vectors.get(b)!) - cosine(v, vectors.get(a)!));
        assert.deepEqual(
          others.slice(0, 2).sort(),
          group(m).filter((o) => o !== m),
          `nearest neighbours of movie ${m}`,
        );
        for (const o of others) {
          const sim = cosine(v, vectors.get(o)!);
          if (group(m).includes(o)) assert.ok(sim > 0.9, `cos(${m},${o}) = ${sim}`);
          else assert.ok(sim < 0.2, `cos(${m},${o}) = ${sim}`);
        }
      }
    });
  });

  it('importing a second data set replaces the first', async () => {
    await withStore(async (store) => {
      await store.importDataset(detectFormat(fixture('genome')));
      assert.equal((await store.getMovie(3))?.displayTitle, 'Shrek');
      const report = await store.importDataset(detectFormat(fixture('ml-1m')));
      const expected = counts({ movies: 6, users: 4, ratings: 11 });
      assert.deepEqual(report.counts, expected);
      assert.deepEqual(await store.counts(), expected, 'no tags, genome or users left from the first');
      assert.equal(await store.getMovie(3), null);
      assert.equal((await store.getMovie(1))?.imdbId, null, 'links of the first data set are gone');
      assert.deepEqual(
        (await store.listMovies()).map((m) => m.movieId),
        [1, 2, 11, 73, 260, 1136],
      );
      const dataset = await store.dataset();
      assert.equal(dataset?.name, 'ml-1m');
      assert.equal(dataset?.hasGenome, false);
      // And importing the same one again gives the same result.
      assert.deepEqual((await store.importDataset(detectFormat(fixture('ml-1m')))).counts, expected);
    });
  });
});

interface BrokenCase {
  kind: string;
  file: string;
  lines: number[];
  field?: string;
  message: RegExp;
  /** Counts after a lenient import, which skips the bad lines. */
  lenient: StoreCounts | null;
}

const BASE = counts({ movies: 5, users: 3, ratings: 8 });

const BROKEN: BrokenCase[] = [
  {
    kind: 'malformed-line',
    file: 'ratings.csv',
    lines: [5],
    message: /malformed line: expected 4 fields, found 3/,
    lenient: { ...BASE, ratings: 7 },
  },
  {
    kind: 'non-numeric',
    file: 'ratings.csv',
    lines: [4],
    field: 'rating',
    message: /cannot read "four" as a number/,
    lenient: { ...BASE, ratings: 7 },
  },
  {
    kind: 'rating-out-of-scale',
    file: 'ratings.csv',
    lines: [3, 8],
    field: 'rating',
    message: /rating 6\.0 is outside the scale 0\.5–5\.0 in steps of 0\.5/,
    lenient: { ...BASE, ratings: 6 },
  },
  {
    kind: 'unknown-movie-rating',
    file: 'ratings.csv',
    lines: [6],
    field: 'movieId',
    message: /unknown movie id 99 \(not in movies\.csv\)/,
    lenient: { ...BASE, ratings: 7 },
  },
  {
    kind: 'unknown-movie-tag',
    file: 'tags.csv',
    lines: [3],
    field: 'movieId',
    message: /unknown movie id 42/,
    lenient: { ...BASE, tags: 2 },
  },
  {
    kind: 'duplicate-rating',
    file: 'ratings.csv',
    lines: [7],
    message: /duplicate rating of movie 3 by user 1 \(first on line 3\)/,
    lenient: { ...BASE, ratings: 7 },
  },
  {
    kind: 'bad-encoding',
    file: 'movies.csv',
    lines: [4],
    message: /bad encoding/,
    lenient: BASE,
  },
  {
    kind: 'wrong-header',
    file: 'ratings.csv',
    lines: [1],
    message: /expected header "userId,movieId,rating,timestamp", found "userId,movieId,timestamp,rating"/,
    lenient: null,
  },
  {
    kind: 'empty-required',
    file: 'ratings.csv',
    lines: [8],
    field: 'rating',
    message: /empty value/,
    lenient: { ...BASE, ratings: 7 },
  },
  {
    kind: 'late-failure',
    file: 'genome-scores.csv',
    lines: [14],
    field: 'relevance',
    message: /relevance 1\.25 outside 0–1/,
    lenient: { ...BASE, tags: 3, genomeTags: 3, genomeMovies: 5 },
  },
];

describe('broken fixtures fail with the file, line and field', () => {
  for (const c of BROKEN) {
    it(`${c.kind}: ${c.file} line ${c.lines.join(', ')}${c.field ? ` field ${c.field}` : ''}`, async () => {
      await withStore(async (store) => {
        const err = await importError(store, fixture(`broken/${c.kind}`));
        assert.ok(err.message.startsWith(`${c.file} line ${c.lines[0]}: `), err.message);
        if (c.field) assert.match(err.message, new RegExp(`: field ${c.field}: `));
        assert.match(err.message, c.message);
        assert.equal(err.total, c.lines.length);
        assert.deepEqual(
          err.issues.map((i) => [i.file, i.line, i.field]),
          c.lines.map((line) => [c.file, line, c.field]),
        );
        // Nothing was imported: the store is still empty.
        assert.deepEqual(await store.counts(), counts({}));
        assert.equal(await store.dataset(), null);
      });
    });
  }

  it('the message reads as one sentence and says how many more problems there are', async () => {
    await withStore(async (store) => {
      const one = await importError(store, fixture('broken/malformed-line'));
      assert.equal(one.message, 'ratings.csv line 5: malformed line: expected 4 fields, found 3');
      const two = await importError(store, fixture('broken/rating-out-of-scale'));
      assert.equal(
        two.message,
        'ratings.csv line 3: field rating: rating 6.0 is outside the scale 0.5–5.0 in steps of 0.5 ' +
          '(and 1 more problem; --lenient skips bad lines)',
      );
      assert.match(two.issues[1]!.message, /rating 3\.3 is outside the scale/);
    });
  });

  it('whole stars: 3.5 is outside the ml-1m scale', async () => {
    const dir = path.join(root, 'ml-1m-half');
    await mkdir(dir);
    for (const f of ['movies.dat', 'users.dat']) await copyFile(fixture(`ml-1m/${f}`), path.join(dir, f));
    await writeFile(path.join(dir, 'ratings.dat'), '1::1::5::978824268\n2::11::3.5::978299026\n');
    await withStore(async (store) => {
      const err = await importError(store, dir);
      assert.equal(
        err.message,
        'ratings.dat line 2: field rating: rating 3.5 is outside the scale 1.0–5.0 in steps of 1',
      );
    });
  });
});

describe('lenient imports skip bad lines and report them', () => {
  for (const c of BROKEN) {
    const expected = c.lenient;
    if (expected === null) {
      it(`${c.kind}: a wrong header cannot be skipped`, async () => {
        await withStore(async (store) => {
          const err = await importError(store, fixture(`broken/${c.kind}`), true);
          assert.match(err.message, c.message);
          assert.deepEqual(await store.counts(), counts({}));
        });
      });
      continue;
    }
    it(`${c.kind}: skips ${c.file} line ${c.lines.join(', ')}`, async () => {
      await withStore(async (store) => {
        const report = await store.importDataset(detectFormat(fixture(`broken/${c.kind}`)), { lenient: true });
        assert.equal(report.skippedCount, c.lines.length);
        assert.deepEqual(
          report.skipped.map((i) => [i.file, i.line, i.field]),
          c.lines.map((line) => [c.file, line, c.field]),
        );
        assert.match(report.skipped[0]!.message, c.message);
        assert.deepEqual(report.counts, expected);
        assert.deepEqual(await store.counts(), expected);
      });
    });
  }

  it('duplicate rating: the first one is kept', async () => {
    await withStore(async (store) => {
      await store.importDataset(detectFormat(fixture('broken/duplicate-rating')), { lenient: true });
      const cols = await store.ratingColumns();
      const i = [...cols.userId.keys()].find((k) => cols.userId[k] === 1 && cols.movieId[k] === 3);
      assert.ok(i !== undefined);
      assert.equal(cols.rating[i], 4, 'line 3 (4.0) stays, line 7 (2.0) goes');
    });
  });

  it('repeated movie ids, links and genome scores: the repeat is reported, the first kept', async () => {
    const dir = path.join(root, 'repeats');
    await mkdir(dir);
    const files: Record<string, string[]> = {
      'movies.csv': ['movieId,title,genres', '1,Heat (1995),Crime', '2,Up (2009),Comedy', '1,Heat again (1995),Drama'],
      'ratings.csv': ['userId,movieId,rating,timestamp', '1,1,4.0,1', '1,2,3.0,2'],
      'links.csv': ['movieId,imdbId,tmdbId', '1,0113277,949', '2,1049413,14160', '2,1049413,14160'],
      'genome-tags.csv': ['tagId,tag', '1,crime', '2,funny'],
      'genome-scores.csv': ['movieId,tagId,relevance', '1,1,0.9', '1,2,0.1', '2,1,0.2', '2,2,0.8', '2,2,0.7'],
    };
    for (const [name, lines] of Object.entries(files)) await writeFile(path.join(dir, name), `${lines.join('\n')}\n`);
    await withStore(async (store) => {
      const err = await importError(store, dir);
      assert.equal(err.message, 'movies.csv line 4: field movieId: duplicate movieId 1 (first on line 2)');
      const report = await store.importDataset(detectFormat(dir), { lenient: true });
      assert.deepEqual(
        report.skipped.map((i) => `${i.file} line ${i.line}: ${i.message}`),
        [
          'movies.csv line 4: duplicate movieId 1 (first on line 2)',
          'links.csv line 4: duplicate links for movie 2 (first on line 3)',
          'genome-scores.csv line 6: duplicate score of genome tag 2 for movie 2 (first on line 5)',
        ],
      );
      assert.deepEqual(report.counts, counts({ movies: 2, users: 1, ratings: 2, genomeTags: 2, genomeMovies: 2 }));
      const heat = await store.getMovie(1);
      assert.equal(heat?.title, 'Heat (1995)');
      assert.deepEqual(heat?.genres, ['Crime']);
      assert.equal((await store.getMovie(2))?.tmdbId, 14160);
    });
  });

  it('a skipped movie takes its ratings with it, each reported', async () => {
    const dir = path.join(root, 'cascade');
    await mkdir(dir);
    await writeFile(
      path.join(dir, 'movies.csv'),
      Buffer.concat([
        Buffer.from('movieId,title,genres\n1,Toy Story (1995),Animation\n2,Caf'),
        Buffer.from([0xe9]),
        Buffer.from(' au Lait (1993),Comedy\n3,Heat (1995),Crime\n'),
      ]),
    );
    await writeFile(
      path.join(dir, 'ratings.csv'),
      'userId,movieId,rating,timestamp\n1,1,4.0,1\n1,2,3.0,2\n2,3,5.0,3\n2,2,1.0,4\n',
    );
    await withStore(async (store) => {
      const report = await store.importDataset(detectFormat(dir), { lenient: true });
      assert.deepEqual(report.counts, counts({ movies: 2, users: 2, ratings: 2 }));
      assert.deepEqual(
        report.skipped.map((i) => [i.file, i.line]),
        [
          ['movies.csv', 3],
          ['ratings.csv', 3],
          ['ratings.csv', 5],
        ],
      );
      assert.equal(report.skippedCount, 3);
    });
  });
});

describe('a failed import changes nothing', () => {
  it('rollback: a late failure (genome-scores.csv) leaves the previous data set exactly as it was', async () => {
    await withStore(async (store) => {
      await store.importDataset(detectFormat(fixture('genome')));
      const before = {
        counts: await store.counts(),
        movies: await store.listMovies(),
        movie: await store.getMovie(1),
        dataset: await store.dataset(),
        histogram: await store.ratingHistogram(),
        tags: await store.topTags(6, 5),
      };
      const err = await importError(store, fixture('broken/late-failure'));
      assert.equal(err.issues[0]!.file, 'genome-scores.csv');
      assert.equal(err.issues[0]!.line, 14);
      const early = await importError(store, fixture('broken/bad-encoding'));
      assert.equal(early.issues[0]!.line, 4);
      assert.deepEqual(await store.counts(), before.counts);
      assert.deepEqual(await store.listMovies(), before.movies);
      assert.deepEqual(await store.getMovie(1), before.movie);
      assert.equal((await store.getMovie(1))?.displayTitle, 'Toy Story');
      assert.deepEqual(await store.dataset(), before.dataset);
      assert.deepEqual(await store.ratingHistogram(), before.histogram);
      assert.deepEqual(await store.topTags(6, 5), before.tags);
      // The store still works: the next good import goes through.
      const report = await store.importDataset(detectFormat(fixture('ml-10m')));
      assert.equal(report.counts.movies, 6);
      assert.equal((await store.dataset())?.name, 'ml-10m');
    });
  });
});

describe('line numbers in larger files', () => {
  const MOVIES = 1000;
  const LINES = 50_000; // physical lines of ratings.csv, header included

  /** ratings.csv with LINES lines; `line(n)` may replace physical line n (2..LINES). */
  async function bigDataset(name: string, replace: Record<number, string>): Promise<string> {
    const dir = path.join(root, name);
    await mkdir(dir);
    const movies = ['movieId,title,genres'];
    for (let m = 1; m <= MOVIES; m++) movies.push(`${m},Movie ${m} (${1950 + (m % 70)}),Drama`);
    await writeFile(path.join(dir, 'movies.csv'), `${movies.join('\r\n')}\r\n`);
    const lines = ['userId,movieId,rating,timestamp'];
    for (let n = 2; n <= LINES; n++) {
      // Line n: user n / MOVIES, movie n % MOVIES: every (user, movie) pair is distinct.
      const user = Math.floor(n / MOVIES) + 1;
      const movie = (n % MOVIES) + 1;
      lines.push(replace[n] ?? `${user},${movie},${((n % 10) + 1) / 2},${1_000_000_000 + n}`);
    }
    await writeFile(path.join(dir, 'ratings.csv'), `${lines.join('\r\n')}\r\n`);
    return dir;
  }

  it('an error deep in a 50,000-line file is reported at its line', async () => {
    const dir = await bigDataset('deep', { 43210: '44,211,7.5,1000043210' });
    await withStore(async (store) => {
      const err = await importError(store, dir);
      assert.equal(err.total, 1);
      assert.equal(
        err.message,
        'ratings.csv line 43210: field rating: rating 7.5 is outside the scale 0.5–5.0 in steps of 0.5',
      );
    });
  });

  it('rejected lines, a blank line and repeats before the error keep the numbers right', async () => {
    const first = (n: number) => `${Math.floor(n / MOVIES) + 1},${(n % MOVIES) + 1},3.0,1`;
    const dir = await bigDataset('mixed', {
      1234: '2,235,4.0', // too few fields: DuckDB rejects it
      25000: '26,1,x,1', // not a number: DuckDB rejects it
      30000: '', // blank: DuckDB skips it silently
      43210: '44,211,7.5,1', // outside the scale
      49999: first(48_999), // repeats the rating on line 48,999
    });
    await withStore(async (store) => {
      const err = await importError(store, dir);
      assert.deepEqual(
        err.issues.map((i) => i.line),
        [1_234, 25_000],
        'strict mode stops at the reader errors',
      );
      const report: ImportReport = await store.importDataset(detectFormat(dir), { lenient: true });
      assert.deepEqual(
        report.skipped.map((i: ImportIssue) => [i.line, i.field ?? null]),
        [
          [1_234, null],
          [25_000, 'rating'],
          [43_210, 'rating'],
          [49_999, null],
        ],
      );
      assert.match(report.skipped[3]!.message, /\(first on line 48999\)$/);
      assert.equal(report.skippedCount, 4);
      // 49,999 data lines, one blank, four skipped.
      assert.equal(report.counts.ratings, 49_999 - 1 - 4);
    });
  });

  it('quoted fields spanning lines and blank lines in tags.csv', async () => {
    const dir = path.join(root, 'multiline');
    await mkdir(dir);
    await writeFile(path.join(dir, 'movies.csv'), 'movieId,title,genres\n1,Heat (1995),Crime\n2,Up (2009),Comedy\n');
    await writeFile(path.join(dir, 'ratings.csv'), 'userId,movieId,rating,timestamp\n1,1,4.0,1\n');
    await writeFile(
      path.join(dir, 'tags.csv'),
      [
        'userId,movieId,tag,timestamp', // 1
        '1,1,funny,1', // 2
        '1,2,"two', // 3
        'lines",2', // 4
        '2,1,x,y', // 5: timestamp not a number
        '2,999,unknown movie,3', // 6
        '', // 7
        '3,1,"a, b",4', // 8
        '3,77,z,5', // 9
        '',
      ].join('\n'),
    );
    await withStore(async (store) => {
      const report = await store.importDataset(detectFormat(dir), { lenient: true });
      assert.deepEqual(
        report.skipped.map((i) => [i.line, i.field ?? null]),
        [
          [5, 'timestamp'],
          [6, 'movieId'],
          [9, 'movieId'],
        ],
      );
      assert.equal(report.counts.tags, 3);
      assert.deepEqual(await store.topTags(2, 5), [{ tag: 'two\nlines', count: 1 }]);
      assert.deepEqual(await store.topTags(1, 5), [
        { tag: 'a, b', count: 1 },
        { tag: 'funny', count: 1 },
      ]);
    });
  });
});
