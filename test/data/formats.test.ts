import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { detectFormat, FormatError, ML100K_GENRES, type SourceFile } from '../../src/data/formats.ts';

const FIXTURES = path.resolve('fixtures');
const fixture = (name: string) => path.join(FIXTURES, name);

const summary = (files: SourceFile[]) => files.map((f) => [f.kind, f.name]);
const byKind = (files: SourceFile[], kind: SourceFile['kind']): SourceFile => {
  const file = files.find((f) => f.kind === kind);
  assert.ok(file, `no ${kind} file`);
  return file;
};

describe('detectFormat on the fixtures', () => {
  it('ml-100k: u.item (latin-1, |, 19 genre flags), u.data (tab), u.user; whole stars', () => {
    const plan = detectFormat(fixture('ml-100k'));
    assert.equal(plan.format, 'ml-100k');
    assert.equal(plan.name, 'ml-100k');
    assert.equal(plan.dir, fixture('ml-100k'));
    assert.deepEqual(plan.scale, { min: 1, max: 5, step: 1 });
    assert.deepEqual(summary(plan.files), [
      ['movies', 'u.item'],
      ['ratings', 'u.data'],
      ['users', 'u.user'],
    ]);
    const item = byKind(plan.files, 'movies');
    assert.equal(item.delimiter, '|');
    assert.equal(item.encoding, 'latin-1');
    assert.equal(item.header, false);
    assert.equal(item.columns.length, 24, 'the README lists 24 fields per u.item line');
    assert.deepEqual(plan.genreFlags, ML100K_GENRES);
    assert.equal(ML100K_GENRES.length, 19);
    assert.equal(ML100K_GENRES[0], 'unknown');
    assert.equal(ML100K_GENRES[4], "Children's");
    const data = byKind(plan.files, 'ratings');
    assert.equal(data.delimiter, '\t');
    assert.deepEqual(
      data.columns.map(([name]) => name),
      ['userId', 'movieId', 'rating', 'timestamp'],
    );
    assert.deepEqual(
      byKind(plan.files, 'users').columns.map(([name]) => name),
      ['userId', 'age', 'gender', 'occupation', 'zip'],
    );
  });

  it('ml-1m: :: files with users.dat, latin-1, whole stars', () => {
    const plan = detectFormat(fixture('ml-1m'));
    assert.equal(plan.format, 'dat');
    assert.deepEqual(plan.scale, { min: 1, max: 5, step: 1 });
    assert.deepEqual(summary(plan.files), [
      ['movies', 'movies.dat'],
      ['ratings', 'ratings.dat'],
      ['users', 'users.dat'],
    ]);
    for (const f of plan.files) {
      assert.equal(f.delimiter, '::');
      assert.equal(f.quote, '', 'the :: format never quotes');
      assert.equal(f.header, false);
      assert.equal(f.encoding, 'latin-1');
    }
    assert.deepEqual(
      byKind(plan.files, 'users').columns.map(([name]) => name),
      ['userId', 'gender', 'age', 'occupation', 'zip'],
    );
    assert.equal(plan.genreFlags, undefined);
  });

  it('ml-10m: :: files with tags.dat and no users.dat, UTF-8, half stars', () => {
    const plan = detectFormat(fixture('ml-10m'));
    assert.equal(plan.format, 'dat');
    assert.deepEqual(plan.scale, { min: 0.5, max: 5, step: 0.5 });
    assert.deepEqual(summary(plan.files), [
      ['movies', 'movies.dat'],
      ['ratings', 'ratings.dat'],
      ['tags', 'tags.dat'],
    ]);
    for (const f of plan.files) assert.equal(f.encoding, 'utf-8');
    // Like tags.csv: an empty tag is skipped at import, not an error.
    assert.deepEqual(byKind(plan.files, 'tags').required, ['userId', 'movieId']);
  });

  it('CSV release with links and the tag genome', () => {
    const plan = detectFormat(fixture('genome'));
    assert.equal(plan.format, 'csv');
    assert.equal(plan.name, 'genome');
    assert.deepEqual(plan.scale, { min: 0.5, max: 5, step: 0.5 });
    assert.deepEqual(summary(plan.files), [
      ['movies', 'movies.csv'],
      ['ratings', 'ratings.csv'],
      ['tags', 'tags.csv'],
      ['links', 'links.csv'],
      ['genomeTags', 'genome-tags.csv'],
      ['genomeScores', 'genome-scores.csv'],
    ]);
    for (const f of plan.files) {
      assert.equal(f.header, true);
      assert.equal(f.delimiter, ',');
      assert.equal(f.quote, '"');
      assert.equal(f.encoding, 'utf-8');
      assert.equal(f.path, path.join(fixture('genome'), f.name));
      assert.ok(existsSync(f.path));
    }
    assert.deepEqual(
      byKind(plan.files, 'genomeScores').columns.map(([name]) => name),
      ['movieId', 'tagId', 'relevance'],
    );
  });

  it('CSV release with only movies.csv and ratings.csv', () => {
    const plan = detectFormat(fixture('broken/malformed-line'));
    assert.equal(plan.format, 'csv');
    assert.deepEqual(summary(plan.files), [
      ['movies', 'movies.csv'],
      ['ratings', 'ratings.csv'],
    ]);
  });

  it('takes a relative path and names the data set after the folder', () => {
    const plan = detectFormat('fixtures/ml-1m');
    assert.equal(plan.dir, fixture('ml-1m'));
    assert.equal(plan.name, 'ml-1m');
    assert.ok(path.isAbsolute(byKind(plan.files, 'ratings').path));
  });

  it('lets the caller override the rating scale', () => {
    const scale = { min: 1, max: 10, step: 1 };
    assert.deepEqual(detectFormat(fixture('genome'), { scale }).scale, scale);
    assert.deepEqual(detectFormat(fixture('ml-100k'), { scale }).scale, scale);
  });
});

describe('detectFormat errors', () => {
  let root: string;
  const dir = async (name: string, files: Record<string, string>) => {
    const d = path.join(root, name);
    await mkdir(d, { recursive: true });
    for (const [file, content] of Object.entries(files)) await writeFile(path.join(d, file), content);
    return d;
  };
  const fails = (d: string, pattern: RegExp) =>
    assert.throws(
      () => detectFormat(d),
      (err: unknown) => {
        assert.ok(err instanceof FormatError, `expected a FormatError, got ${String(err)}`);
        assert.match(err.message, pattern);
        return true;
      },
    );

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'cinerec-formats-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('missing directory', () => {
    fails(path.join(root, 'nope'), /nope: no such directory/);
  });

  it('a file instead of a directory', async () => {
    const file = path.join(root, 'ratings.csv');
    await writeFile(file, 'userId,movieId,rating,timestamp\n');
    fails(file, /ratings\.csv: not a directory/);
  });

  it('a directory without MovieLens files names the layouts it knows', async () => {
    const d = await dir('empty', { 'README.txt': 'hello' });
    fails(d, /no MovieLens files found.*movies\.csv \+ ratings\.csv.*movies\.dat \+ ratings\.dat.*u\.data \+ u\.item/);
  });

  it('CSV release missing movies.csv or ratings.csv', async () => {
    fails(await dir('csv-no-movies', { 'ratings.csv': 'x' }), /CSV format needs movies\.csv/);
    fails(await dir('csv-no-ratings', { 'movies.csv': 'x' }), /CSV format needs ratings\.csv/);
  });

  it('half a tag genome', async () => {
    const d = await dir('half-genome', { 'movies.csv': 'x', 'ratings.csv': 'x', 'genome-scores.csv': 'x' });
    fails(d, /needs both genome-scores\.csv and genome-tags\.csv/);
    await rm(path.join(d, 'genome-scores.csv'));
    await writeFile(path.join(d, 'genome-tags.csv'), 'x');
    fails(d, /needs both genome-scores\.csv and genome-tags\.csv/);
  });

  it(':: release missing movies.dat or ratings.dat', async () => {
    fails(await dir('dat-no-ratings', { 'movies.dat': 'x', 'users.dat': 'x' }), /:: format needs ratings\.dat/);
    fails(await dir('dat-no-movies', { 'ratings.dat': 'x' }), /:: format needs movies\.dat/);
  });

  it('ml-100k without u.item', async () => {
    const d = await dir('100k-no-item', {});
    await copyFile(fixture('ml-100k/u.data'), path.join(d, 'u.data'));
    fails(d, /ml-100k format needs u\.item/);
  });

  it('u.user is optional for ml-100k', async () => {
    const d = await dir('100k-no-user', {});
    await copyFile(fixture('ml-100k/u.data'), path.join(d, 'u.data'));
    await copyFile(fixture('ml-100k/u.item'), path.join(d, 'u.item'));
    const plan = detectFormat(d);
    assert.equal(plan.format, 'ml-100k');
    assert.deepEqual(summary(plan.files), [
      ['movies', 'u.item'],
      ['ratings', 'u.data'],
    ]);
  });
});
