import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type SyntheticOptions, writeSyntheticMovieLens } from '../../src/cli/synthetic.ts';
import { detectFormat } from '../../src/data/formats.ts';
import { Rng } from '../../src/math/random.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import type { Progress } from '../../src/util/progress.ts';

const FILES = ['movies.csv', 'ratings.csv', 'tags.csv', 'links.csv'];
const OPTIONS: SyntheticOptions = { users: 300, movies: 3_000, ratings: 30_000, seed: 7 };
const T_START = Date.UTC(1996, 0, 1) / 1000;
const T_END = Date.UTC(2019, 0, 1) / 1000;

/** RFC 4180 fields of one line (the generator never puts newlines inside fields). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        assert.ok(q >= 0, `unterminated quote in ${line}`);
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      assert.ok(i === line.length || line[i] === ',', `text after closing quote in ${line}`);
      fields.push(value);
      i++;
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? line.length : comma;
      fields.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return fields;
}

async function lines(dir: string, file: string): Promise<string[]> {
  const text = await readFile(path.join(dir, file), 'utf8');
  assert.ok(text.endsWith('\n'), `${file} ends with a newline`);
  return text.slice(0, -1).split('\n');
}

interface Rating {
  user: number;
  movie: number;
  rating: number;
  ts: number;
}

async function ratings(dir: string): Promise<Rating[]> {
  const [header, ...rows] = await lines(dir, 'ratings.csv');
  assert.equal(header, 'userId,movieId,rating,timestamp');
  return rows.map((row) => {
    assert.match(row, /^\d+,\d+,\d\.\d,\d{9,10}$/);
    const [user, movie, rating, ts] = row.split(',').map(Number) as [number, number, number, number];
    return { user, movie, rating, ts };
  });
}

describe('writeSyntheticMovieLens', () => {
  let root: string;
  let dir: string;
  let data: Rating[];

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'cinerec-synthetic-'));
    dir = path.join(root, 'a');
    const summary = await writeSyntheticMovieLens(dir, OPTIONS);
    assert.deepEqual(
      { ...summary, seconds: 0 },
      { users: 300, movies: 3_000, ratings: 30_000, tags: 300, dir, seconds: 0 },
    );
    data = await ratings(dir);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is byte-identical for the same seed and differs for another seed', async () => {
    const again = path.join(root, 'same');
    const other = path.join(root, 'other');
    await writeSyntheticMovieLens(again, OPTIONS);
    await writeSyntheticMovieLens(other, { ...OPTIONS, seed: 8 });
    for (const file of FILES) {
      const a = await readFile(path.join(dir, file));
      assert.ok(a.equals(await readFile(path.join(again, file))), `${file} identical`);
      assert.ok(!a.equals(await readFile(path.join(other, file))), `${file} differs`);
    }
  });

  it('writes the requested counts, every user with at least 20 ratings', async () => {
    assert.equal(data.length, 30_000);
    const perUser = new Map<number, number>();
    for (const r of data) perUser.set(r.user, (perUser.get(r.user) ?? 0) + 1);
    assert.deepEqual(
      [...perUser.keys()].sort((a, b) => a - b),
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
    for (const n of perUser.values()) assert.ok(n >= 20, `user with ${n} ratings`);
    assert.equal((await lines(dir, 'movies.csv')).length, 3_001);
    assert.equal((await lines(dir, 'links.csv')).length, 3_001);
    assert.equal((await lines(dir, 'tags.csv')).length, 301);
  });

  it('has no duplicate (user, movie) pairs, only known movies, half stars and rising timestamps', async () => {
    const movieIds = new Set((await lines(dir, 'movies.csv')).slice(1).map((l) => Number(csvFields(l)[0])));
    const pairs = new Set<string>();
    let previous: Rating | null = null;
    for (const r of data) {
      const key = `${r.user},${r.movie}`;
      assert.ok(!pairs.has(key), `duplicate ${key}`);
      pairs.add(key);
      assert.ok(movieIds.has(r.movie), `unknown movie ${r.movie}`);
      assert.ok(r.rating >= 0.5 && r.rating <= 5 && Number.isInteger(r.rating * 2), `rating ${r.rating}`);
      assert.ok(r.ts >= T_START && r.ts < T_END, `timestamp ${r.ts}`);
      if (previous && previous.user === r.user) assert.ok(r.ts > previous.ts, `user ${r.user} goes back in time`);
      else if (previous) assert.ok(r.user > previous.user, 'sorted by user');
      previous = r;
    }
    // Both half and whole stars occur, whole stars more often, as in MovieLens.
    const halves = data.filter((r) => !Number.isInteger(r.rating)).length;
    assert.ok(halves > 0.1 * data.length && halves < 0.5 * data.length, `${halves} half stars`);
    const mean = data.reduce((s, r) => s + r.rating, 0) / data.length;
    assert.ok(mean > 3.2 && mean < 3.8, `mean rating ${mean}`);
  });

  it('gives whole stars only when halfStars is false', async () => {
    const whole = path.join(root, 'whole');
    await writeSyntheticMovieLens(whole, { ...OPTIONS, ratings: 10_000, halfStars: false });
    const rows = await ratings(whole);
    assert.equal(rows.length, 10_000);
    const values = new Set(rows.map((r) => r.rating));
    assert.deepEqual(
      [...values].sort((a, b) => a - b),
      [1, 2, 3, 4, 5],
    );
  });

  it('has heavy-tailed movie popularity', () => {
    const perMovie = new Map<number, number>();
    for (const r of data) perMovie.set(r.movie, (perMovie.get(r.movie) ?? 0) + 1);
    const counts = [...perMovie.values()].sort((a, b) => b - a);
    const top = counts.slice(0, OPTIONS.movies / 10).reduce((s, n) => s + n, 0);
    assert.ok(top / data.length > 0.45, `top 10% of movies hold ${top / data.length} of ratings`);
  });

  it('has structure a collaborative model can learn: biases beat the global mean on held-out ratings', () => {
    // Every 5th rating held out; damped user and movie mean offsets fitted on the rest.
    const train = data.filter((_, i) => i % 5 !== 0);
    const test = data.filter((_, i) => i % 5 === 0);
    const mu = train.reduce((s, r) => s + r.rating, 0) / train.length;
    const offsets = (key: (r: Rating) => number, base: (r: Rating) => number) => {
      const sum = new Map<number, number>();
      const n = new Map<number, number>();
      for (const r of train) {
        sum.set(key(r), (sum.get(key(r)) ?? 0) + r.rating - base(r));
        n.set(key(r), (n.get(key(r)) ?? 0) + 1);
      }
      return (id: number) => (sum.get(id) ?? 0) / ((n.get(id) ?? 0) + 5);
    };
    const movieBias = offsets(
      (r) => r.movie,
      () => mu,
    );
    const userBias = offsets(
      (r) => r.user,
      (r) => mu + movieBias(r.movie),
    );
    const rmse = (predict: (r: Rating) => number) =>
      Math.sqrt(test.reduce((s, r) => s + (r.rating - predict(r)) ** 2, 0) / test.length);
    const flat = rmse(() => mu);
    const baseline = rmse((r) => mu + movieBias(r.movie) + userBias(r.user));
    assert.ok(baseline < 0.92 * flat, `baseline RMSE ${baseline} vs global mean ${flat}`);
  });

  it('writes ml-latest style movies, links and tags', async () => {
    const [header, ...movies] = await lines(dir, 'movies.csv');
    assert.equal(header, 'movieId,title,genres');
    const ids = movies.map((l) => {
      const fields = csvFields(l);
      assert.equal(fields.length, 3, l);
      assert.match(fields[2]!, /^(\(no genres listed\)|[A-Za-z-]+(\|[A-Za-z-]+)*)$/);
      return Number(fields[0]);
    });
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, 'movieIds ascend');
    assert.ok(ids.at(-1)! > ids.length, 'movieIds have gaps like MovieLens');
    assert.ok(
      movies.some((l) => /^\d+,"[^"]*, The \(\d{4}\)",/.test(l)),
      'quoted titles with commas',
    );
    assert.ok(
      movies.some((l) => l.includes('""')),
      'escaped quotes in titles',
    );
    assert.ok(
      movies.some((l) => l.endsWith(',(no genres listed)')),
      'some movies without genres',
    );
    assert.ok(
      movies.some((l) => csvFields(l)[2]!.includes('|')),
      'multi-genre movies',
    );

    const [linksHeader, ...links] = await lines(dir, 'links.csv');
    assert.equal(linksHeader, 'movieId,imdbId,tmdbId');
    assert.deepEqual(
      links.map((l) => Number(l.split(',')[0])),
      ids,
    );
    for (const l of links) assert.match(l, /^\d+,\d{7,},\d*$/);

    const [tagsHeader, ...tags] = await lines(dir, 'tags.csv');
    assert.equal(tagsHeader, 'userId,movieId,tag,timestamp');
    let last = [0, 0];
    for (const l of tags) {
      const [user, movie, tag, ts] = csvFields(l);
      const key = [Number(user), Number(movie)];
      assert.ok(key[0]! > last[0]! || (key[0] === last[0] && key[1]! >= last[1]!), 'tags sorted by user, movie');
      last = key;
      assert.ok(ids.includes(Number(movie)) && Number(user) >= 1 && Number(user) <= 300);
      assert.ok(tag!.trim().length > 0);
      assert.ok(Number(ts) >= T_START && Number(ts) < T_END);
    }
  });

  it('imports into DuckDB with the expected counts', async () => {
    const store = await DuckDbStore.open(path.join(root, 'store.duckdb'), { memoryLimit: '1GB' });
    try {
      const report = await store.importDataset(detectFormat(dir));
      assert.equal(report.skippedCount, 0);
      assert.deepEqual(report.counts, {
        movies: 3_000,
        users: 300,
        ratings: 30_000,
        tags: 300,
        genomeTags: 0,
        genomeMovies: 0,
      });
      const histogram = await store.ratingHistogram();
      assert.equal(
        histogram.reduce((s, b) => s + b.count, 0),
        30_000,
      );
      assert.ok(histogram.every((b) => Number.isInteger(b.rating * 2)));
    } finally {
      await store.close();
    }
  });

  it('reports progress up to the number of ratings', async () => {
    const seen: number[] = [];
    let total = 0;
    const progress: Progress = {
      start: (n) => {
        total = n;
      },
      update: (done) => seen.push(done),
      stop: () => {},
    };
    await writeSyntheticMovieLens(path.join(root, 'progress'), { ...OPTIONS, ratings: 5_000, tags: 0 }, progress);
    assert.equal(total, 5_000);
    assert.equal(seen.at(-1), 5_000);
    assert.equal((await lines(path.join(root, 'progress'), 'tags.csv')).length, 1, 'header only');
  });

  it('rejects impossible options', async () => {
    const bad: Partial<SyntheticOptions>[] = [
      { ratings: 100 }, // fewer ratings than users
      { users: 2, movies: 3, ratings: 7 }, // more than users × movies
      { movies: 0 },
      { factors: 1.5 },
      { genres: ['Drama', 'Sci|Fi'] },
    ];
    for (const patch of bad) {
      await assert.rejects(writeSyntheticMovieLens(path.join(root, 'bad'), { ...OPTIONS, ...patch }), RangeError);
    }
  });

  it('fills a dense small catalogue without duplicates', async () => {
    // 40 users × 30 movies with 1,000 ratings: most users rate most movies (the exact sampler path).
    const dense = path.join(root, 'dense');
    await writeSyntheticMovieLens(dense, { users: 40, movies: 30, ratings: 1_000, seed: 1, tags: 5 });
    const rows = await ratings(dense);
    assert.equal(rows.length, 1_000);
    assert.equal(new Set(rows.map((r) => `${r.user},${r.movie}`)).size, 1_000);
    assert.equal(new Set(rows.map((r) => r.user)).size, 40);
  });
});

describe('writeSyntheticMovieLens with a tag genome', () => {
  const GENOME_FILES = ['genome-tags.csv', 'genome-scores.csv'];
  const TAGS = 300;
  const GENOME: SyntheticOptions = { ...OPTIONS, genome: { tags: TAGS, coverage: 0.3 } };
  let root: string;
  let dir: string;
  /** Tag names by tagId − 1. */
  let tagNames: string[];
  /** movieId → genres field of movies.csv. */
  let genres: Map<number, string>;
  /** movieId → relevance by tagId − 1, in file order. */
  let relevance: Map<number, Float64Array>;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'cinerec-synthetic-genome-'));
    dir = path.join(root, 'a');
    const summary = await writeSyntheticMovieLens(dir, GENOME);
    assert.deepEqual(summary.genome, { tags: TAGS, movies: 900, scores: 900 * TAGS });

    const [tagsHeader, ...tagRows] = await lines(dir, 'genome-tags.csv');
    assert.equal(tagsHeader, 'tagId,tag');
    tagNames = tagRows.map((l, i) => {
      const fields = csvFields(l);
      assert.equal(fields.length, 2, l);
      assert.equal(Number(fields[0]), i + 1, 'tagIds 1..T in order');
      return fields[1]!;
    });
    genres = new Map((await lines(dir, 'movies.csv')).slice(1).map((l) => [Number(csvFields(l)[0]), csvFields(l)[2]!]));

    const [scoresHeader, ...scoreRows] = await lines(dir, 'genome-scores.csv');
    assert.equal(scoresHeader, 'movieId,tagId,relevance');
    relevance = new Map();
    let previous = 0;
    for (const [i, l] of scoreRows.entries()) {
      assert.match(l, /^\d+,\d+,(0\.\d{1,5}|1\.0)$/);
      const [movie, tag, value] = l.split(',').map(Number) as [number, number, number];
      // Sorted by movieId, then every tag of the movie in tagId order.
      assert.equal(tag, (i % TAGS) + 1, `row ${i + 2}: tagId`);
      if (tag === 1) {
        assert.ok(movie > previous, `row ${i + 2}: movieIds ascend`);
        previous = movie;
        relevance.set(movie, new Float64Array(TAGS));
      } else {
        assert.equal(movie, previous, `row ${i + 2}: one movie's tags together`);
      }
      relevance.get(movie)![tag - 1] = value;
    }
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes unique tag names, every tag for the covered movies, relevance in (0, 1] skewed low', () => {
    assert.equal(tagNames.length, TAGS);
    assert.equal(new Set(tagNames).size, TAGS, 'unique names');
    for (const name of ['scary', 'funny', 'bleak, but worth it', 'says "bazinga"', `tag ${TAGS}`]) {
      assert.ok(tagNames.includes(name), `tag ${name}`);
    }
    assert.equal(relevance.size, 900);
    const values: number[] = [];
    for (const [movie, row] of relevance) {
      assert.ok(genres.has(movie), `unknown movie ${movie}`);
      for (const v of row) {
        assert.ok(v > 0 && v <= 1, `relevance ${v}`);
        values.push(v);
      }
    }
    values.sort((a, b) => a - b);
    const share = (p: (v: number) => boolean) => values.filter(p).length / values.length;
    assert.ok(values[values.length >> 1]! < 0.1, `median relevance ${values[values.length >> 1]}`);
    assert.ok(share((v) => v < 0.2) > 0.7, `${share((v) => v < 0.2)} below 0.2`);
    assert.ok(share((v) => v > 0.9) > 0.0005, `${share((v) => v > 0.9)} above 0.9`);
  });

  it('covers the most popular movies', async () => {
    const perMovie = new Map<number, number>();
    for (const r of await ratings(dir)) perMovie.set(r.movie, (perMovie.get(r.movie) ?? 0) + 1);
    let covered = 0;
    let other = 0;
    for (const [movie, n] of perMovie) {
      if (relevance.has(movie)) covered += n;
      else other += n;
    }
    // 30 % of the movies, the popular end of a Zipf law: most of the ratings.
    assert.ok(covered > 2 * other, `covered movies hold ${covered} ratings, the others ${other}`);
  });

  it('is byte-identical per seed, differs for another seed, and leaves the other files as they were', async () => {
    const plain = path.join(root, 'plain');
    const again = path.join(root, 'again');
    const other = path.join(root, 'other');
    await writeSyntheticMovieLens(plain, OPTIONS);
    await writeSyntheticMovieLens(again, GENOME);
    await writeSyntheticMovieLens(other, { ...GENOME, seed: 8 });
    for (const file of GENOME_FILES) {
      const a = await readFile(path.join(dir, file));
      assert.ok(a.equals(await readFile(path.join(again, file))), `${file} identical`);
      if (file === 'genome-scores.csv') assert.ok(!a.equals(await readFile(path.join(other, file))), `${file} differs`);
    }
    for (const file of FILES) {
      assert.ok(
        (await readFile(path.join(dir, file))).equals(await readFile(path.join(plain, file))),
        `${file} unchanged`,
      );
    }
    assert.deepEqual(
      GENOME_FILES.filter((f) => existsSync(path.join(plain, f))),
      [],
      'no genome files without the option',
    );
  });

  it('gives movies with the same genres more similar genome rows than random pairs, through taste too', () => {
    // Pearson correlation of two movies' relevance, each tag centred on its mean over the movies so
    // that tags which are relevant to everything do not make every pair look alike.
    const movies = [...relevance.keys()];
    const centred = new Map<number, Float64Array>();
    const mean = new Float64Array(TAGS);
    for (const row of relevance.values()) for (let t = 0; t < TAGS; t++) mean[t]! += row[t]! / relevance.size;
    for (const [movie, row] of relevance)
      centred.set(
        movie,
        row.map((v, t) => v - mean[t]!),
      );
    const correlation = (a: number, b: number, columns: readonly number[]) => {
      const x = centred.get(a)!;
      const y = centred.get(b)!;
      let xy = 0;
      let xx = 0;
      let yy = 0;
      for (const c of columns) {
        xy += x[c]! * y[c]!;
        xx += x[c]! ** 2;
        yy += y[c]! ** 2;
      }
      return xy / Math.sqrt(xx * yy);
    };
    const sameGenres: [number, number][] = [];
    for (let i = 0; i < movies.length; i++) {
      for (let j = i + 1; j < movies.length; j++) {
        if (genres.get(movies[i]!) === genres.get(movies[j]!)) sameGenres.push([movies[i]!, movies[j]!]);
      }
    }
    const random: [number, number][] = [];
    const rng = new Rng(1);
    while (random.length < 5_000) {
      const a = movies[rng.int(movies.length)]!;
      const b = movies[rng.int(movies.length)]!;
      if (a !== b) random.push([a, b]);
    }
    const meanCorrelation = (pairs: [number, number][], columns: readonly number[]) =>
      pairs.reduce((s, [a, b]) => s + correlation(a, b, columns), 0) / pairs.length;
    assert.ok(sameGenres.length > 1_000, `${sameGenres.length} pairs with the same genres`);

    const all = Array.from({ length: TAGS }, (_, t) => t);
    const same = meanCorrelation(sameGenres, all);
    const baseline = meanCorrelation(random, all);
    assert.ok(Math.abs(baseline) < 0.03, `random pairs correlate by ${baseline}`);
    assert.ok(same > baseline + 0.1, `same genres ${same} vs random ${baseline}`);

    // Generic words lean to no genre: only the latent taste vectors (which the genres are drawn
    // from) can make them agree more for movies with the same genres.
    const generic = ['atmospheric', 'classic', 'quirky', 'twist ending', 'slow', 'boring', 'overrated', 'must see'].map(
      (name) => tagNames.indexOf(name),
    );
    assert.ok(!generic.includes(-1));
    const sameGeneric = meanCorrelation(sameGenres, generic);
    const baselineGeneric = meanCorrelation(random, generic);
    assert.ok(sameGeneric > baselineGeneric + 0.05, `generic tags: same genres ${sameGeneric} vs ${baselineGeneric}`);

    // Genre words are most relevant to movies of their genre.
    for (const [word, genre] of [
      ['scary', 'Horror'],
      ['funny', 'Comedy'],
      ['emotional', 'Drama'],
      ['action packed', 'Action'],
    ] as const) {
      const t = tagNames.indexOf(word);
      const inGenre = movies.filter((m) => genres.get(m)!.split('|').includes(genre));
      const others = movies.filter((m) => !genres.get(m)!.split('|').includes(genre));
      const avg = (ms: number[]) => ms.reduce((s, m) => s + relevance.get(m)![t]!, 0) / ms.length;
      assert.ok(avg(inGenre) > avg(others) + 0.1, `${word}: ${avg(inGenre)} for ${genre}, ${avg(others)} otherwise`);
    }
  });

  it('defaults to 1,128 tags over 22 % of the movies, and imports into DuckDB', async () => {
    const small = path.join(root, 'defaults');
    const summary = await writeSyntheticMovieLens(small, {
      users: 100,
      movies: 500,
      ratings: 5_000,
      seed: 3,
      genome: {},
    });
    assert.deepEqual(summary.genome, { tags: 1_128, movies: 110, scores: 110 * 1_128 });
    assert.equal((await lines(small, 'genome-tags.csv')).length, 1_129);
    assert.equal((await lines(small, 'genome-scores.csv')).length, 110 * 1_128 + 1);
    const store = await DuckDbStore.open(path.join(root, 'genome.duckdb'), { memoryLimit: '1GB' });
    try {
      const report = await store.importDataset(detectFormat(small));
      assert.equal(report.skippedCount, 0);
      assert.equal(report.counts.genomeTags, 1_128);
      assert.equal(report.counts.genomeMovies, 110);
      assert.equal((await store.genomeColumns()).movieId.length, 110 * 1_128);
    } finally {
      await store.close();
    }
  });

  it('rejects a bad genome', async () => {
    for (const genome of [
      { tags: 0 },
      { tags: 1.5 },
      { coverage: -0.1 },
      { coverage: 1.5 },
      { coverage: Number.NaN },
    ]) {
      await assert.rejects(writeSyntheticMovieLens(path.join(root, 'bad'), { ...OPTIONS, genome }), RangeError);
    }
  });
});
