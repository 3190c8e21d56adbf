import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { PopularList } from '../../src/serving/views.ts';
import { cli, json } from '../helpers/cli.ts';
import { realData } from '../helpers/real-data.ts';
import { type Trained, trained } from '../helpers/trained.ts';

/** An empty store of its own: what `data import` fills. */
const tmp = mkdtempSync(join(tmpdir(), 'cinerec-cli-'));
const freshEnv = {
  CINEREC_STORE: join(tmp, 'store.duckdb'),
  CINEREC_DATA_DIR: tmp,
  CINEREC_MODELS_DIR: join(tmp, 'models'),
};
const fresh = (...args: string[]) => cli(args, freshEnv);
/** Read commands serve a trained model version: this file's copy of the shared ml-latest-small fixture. */
let fixture: Trained;
const run = (...args: string[]) => cli(args, fixture.env);
let dataDir = '';

before(async () => {
  dataDir = await realData('ml-latest-small');
  fixture = await trained('ml-latest-small', dataDir);
});
after(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await fixture?.cleanup();
});

describe('cinerec CLI on ml-latest-small', () => {
  test('commands refuse an empty store and say how to fill it', async () => {
    for (const args of [
      ['recommend', '--genres', 'Comedy'],
      ['data', 'info'],
      ['similar', '1'],
    ]) {
      const r = await fresh(...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /holds no data yet: run `npx cinerec data fetch ml-latest-small`/, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line, no stack: ${r.stderr}`);
    }
    assert.ok(!existsSync(freshEnv.CINEREC_STORE), 'a read command leaves no empty store file behind');
  });

  test('limits and help texts agree with the code', async () => {
    // One limit, recommend.maxK, whatever --k asks.
    for (const k of ['100000', '600']) {
      const r = await run('recommend', '--genres', 'Comedy', '--k', k);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /k must be a whole number from 1 to 500 \(recommend\.maxK\)/, k);
    }
    assert.match((await run('recommend', '--help')).stdout, /hybrid/, 'recommend --help names --method hybrid');
    const train = (await run('train', '--help')).stdout.replace(/\s+/g, ' ');
    for (const stage of ['snapshot', 'neural', 'rp3beta', 'evaluation'])
      assert.match(train, new RegExp(`\\b${stage}\\b`));
  });

  test('data import reports the counts; data info shows them with the histogram', async () => {
    const report = json<{ counts: { movies: number; users: number; ratings: number; tags: number } }>(
      await fresh('data', 'import', dataDir, '--json'),
    );
    assert.deepEqual(
      { ...report.counts },
      { movies: 9742, users: 610, ratings: 100836, tags: 3683, genomeTags: 0, genomeMovies: 0 },
    );
    const info = await fresh('data', 'info');
    assert.equal(info.code, 0);
    assert.match(info.stdout, /9742\s+610\s+100836\s+3683/);
    assert.match(info.stdout, /^ 4\.0\s+26818\s+26\.6%/m);
  });

  test('before any training, search works and recommendations say to train, in one line', async () => {
    const search = json<{ items: { movieId: number }[] }>(await fresh('movies', 'search', 'matrix', '--json'));
    assert.equal(search.items[0]!.movieId, 2571);
    const r = await fresh('recommend', '--genres', 'Comedy');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /cinerec train/);
    assert.ok(!/\bat .+:\d+:\d+/.test(r.stderr), `no stack trace: ${r.stderr}`);
  });

  test('recommend --genres Comedy --k 5: the cold-start answer', async () => {
    const list = json<PopularList>(await run('recommend', '--genres', 'Comedy', '--k', '5', '--json'));
    assert.deepEqual(
      list.items.map((m) => m.movieId),
      [296, 1197, 356, 750, 4973],
    );
    for (const m of list.items) assert.ok(m.genres.includes('Comedy'));
    const scores = list.items.map((m) => m.score);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
    );
    assert.equal(list.items[0]!.votes, 307);
    assert.equal(list.minVotes, 27);
    const human = await run('recommend', '--genres', 'Comedy', '--k', '5');
    assert.match(human.stdout, /1\s+296\s+Pulp Fiction \(1994\)/);
  });

  test('match any ranks movies matching more of the genres first; match all keeps only full matches', async () => {
    const any = json<PopularList>(await run('recommend', '--genres', 'western,MUSICAL', '--k', '30', '--json'));
    assert.deepEqual(any.genres, ['Western', 'Musical']);
    const both = (g: string[]) => g.includes('Western') && g.includes('Musical');
    const bothCR = (g: string[]) => g.includes('Comedy') && g.includes('Romance');
    const firstSingle = any.items.findIndex((m) => !both(m.genres));
    assert.ok(firstSingle > 0);
    assert.ok(any.items.slice(firstSingle).every((m) => !both(m.genres)));
    const all = json<PopularList>(
      await run('recommend', '--genres', 'Comedy,Romance', '--match', 'all', '--k', '20', '--json'),
    );
    assert.equal(all.items.length, 20);
    assert.ok(all.items.every((m) => bothCR(m.genres)));
  });

  test('bad arguments fail with one line on stderr naming the parameter', async () => {
    const genre = await run('recommend', '--genres', 'Comdy', '--json');
    assert.equal(genre.code, 1);
    assert.equal(genre.stdout, '');
    assert.match(genre.stderr, /unknown genre "Comdy"; valid genres: Action, .*Comedy/);
    const k = await run('recommend', '--k', '0');
    assert.notEqual(k.code, 0);
    assert.match(k.stderr, /--k must be a whole number from 1/);
    const id = await run('movies', 'show', 'abc');
    assert.notEqual(id.code, 0);
    assert.match(id.stderr, /movieId must be a whole number/);
    const release = await run('data', 'fetch', 'ml-999');
    assert.equal(release.code, 1);
    assert.match(release.stderr, /unknown release "ml-999"; choose one of: ml-latest-small/);
    const dir = await run('data', 'import', join(tmp, 'nowhere'));
    assert.equal(dir.code, 1);
    assert.match(dir.stderr, /nowhere: no such directory/);
  });

  test('genres, movies show and movies search', async () => {
    const genres = json<{ genre: string; movies: number }[]>(await run('genres', '--json'));
    assert.deepEqual(genres[0], { genre: 'Drama', movies: 4361 });
    assert.ok(!genres.some((g) => g.genre === '(no genres listed)'));
    const matrix = json<{ displayTitle: string; year: number; imdbId: string; topTags: { tag: string }[] }>(
      await run('movies', 'show', '2571', '--json'),
    );
    assert.equal(matrix.displayTitle, 'The Matrix');
    assert.equal(matrix.year, 1999);
    assert.equal(matrix.imdbId, 'tt0133093');
    assert.ok(matrix.topTags.some((t) => t.tag === 'philosophy'));
    const missing = await run('movies', 'show', '999999');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no movie with id 999999/);
    const search = json<{ total: number; items: { movieId: number }[] }>(
      await run('movies', 'search', 'matrix', '--json'),
    );
    assert.equal(search.items[0]!.movieId, 2571);
    const accents = json<{ items: { movieId: number }[] }>(await run('movies', 'search', 'amelie', '--json'));
    assert.equal(accents.items[0]!.movieId, 4973);
  });

  test('rules: block removes, promote lifts and marks, list and remove', async () => {
    json(await run('rules', 'block', '296', '--reason', 'licence ended', '--json'));
    const promoted = json<{ boost: number; until: string }>(
      await run('rules', 'promote', '4973', '--boost', '1.2', '--until', '2999-12-31', '--json'),
    );
    assert.equal(promoted.boost, 1.2);
    assert.match(promoted.until, /^2999-12-31T23:59:59/);
    const list = json<PopularList>(await run('recommend', '--genres', 'Comedy', '--k', '5', '--json'));
    assert.ok(!list.items.some((m) => m.movieId === 296));
    assert.equal(list.items[0]!.movieId, 4973);
    assert.equal(list.items[0]!.promoted, true);
    const rules = json<{ movieId: number; action: string; active: boolean }[]>(await run('rules', 'list', '--json'));
    assert.deepEqual(
      rules.map((r) => [r.movieId, r.action, r.active]),
      [
        [296, 'block', true],
        [4973, 'promote', true],
      ],
    );
    assert.equal((await run('rules', 'remove', '296')).code, 0);
    assert.equal((await run('rules', 'remove', '4973')).code, 0);
    const again = await run('rules', 'remove', '296');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no rule for movie 296/);
    const boost = await run('rules', 'promote', '1', '--boost', '-1');
    assert.notEqual(boost.code, 0);
    assert.match(boost.stderr, /--boost must be a number above 0/);
    const date = await run('rules', 'block', '1', '--until', 'tomorrow');
    assert.equal(date.code, 1);
    assert.match(date.stderr, /until must be an ISO date/);
    const restored = json<PopularList>(await run('recommend', '--genres', 'Comedy', '--k', '1', '--json'));
    assert.equal(restored.items[0]!.movieId, 296);
  });

  test('every command has --help', async () => {
    for (const args of [
      [],
      ['data'],
      ['data', 'fetch'],
      ['data', 'import'],
      ['recommend'],
      ['rules', 'promote'],
      ['movies', 'search'],
      ['serve'],
    ]) {
      const r = await run(...args, '--help');
      assert.equal(r.code, 0, `${args.join(' ')} --help`);
      assert.match(r.stdout, /Usage: cinerec/);
    }
  });
});
