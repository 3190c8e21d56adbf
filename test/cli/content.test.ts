/**
 * The content model through the real `cinerec` binary: similar movies, recommendations from watched
 * movies, live movie addition and content clusters, on a model version trained on fixtures/genome
 * (two clusters: family/animation 1, 2, 3 and crime 4, 5, 6), plus one run on ml-latest-small.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type {
  AddedMovie,
  ClusterOverview,
  MovieDetails,
  PopularList,
  RoutedList,
  SimilarList,
} from '../../src/serving/views.ts';
import { cli, json } from '../helpers/cli.ts';
import { trainedGenome } from '../helpers/genome-trained.ts';
import { realData } from '../helpers/real-data.ts';
import { type Trained, trained } from '../helpers/trained.ts';

// Every assert.ok carries a message: without one, Node re-parses the source to build it (slow under tsx).

const FAMILY = [1, 2, 3];
const CRIME = [4, 5, 6];

/** Files the tests write (genome CSVs). */
const tmp = mkdtempSync(join(tmpdir(), 'cinerec-content-cli-'));
/** This file's copy of fixtures/genome, trained with two content clusters. */
let genome: Trained;
const run = (...args: string[]) => cli(args, genome.env);

/** Writes a file in the temp dir and returns its path. */
function file(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

/** A genome close to Toy Story's row of fixtures/genome/genome-scores.csv. */
const TOY_STORY_LIKE = 'tagId,relevance\n1,0.96\n2,0.91\n3,0.85\n4,0.9\n5,0.04\n6,0.03\n7,0.02\n8,0.07\n';

after(() => rmSync(tmp, { recursive: true, force: true }));

// The two stores are independent: the real-data suite runs beside the fixture suite.
describe('content model CLI', { concurrency: true }, () => {
  describe('on fixtures/genome (content.clusters=2)', { concurrency: false }, () => {
    let familyCluster = -1;
    let crimeCluster = -1;

    before(async () => {
      genome = await trainedGenome();
    });
    after(() => genome?.cleanup());

    test('similar 1 --json: Shrek then Jumanji, then the crime movies; cluster, shared content and reasons', async () => {
      const r = json<SimilarList>(await run('similar', '1', '--method', 'content', '--json'));
      assert.equal(r.method, 'content');
      assert.equal(r.movie.movieId, 1);
      assert.equal(r.movie.displayTitle, 'Toy Story');
      const ids = r.items.map((m) => m.movieId);
      assert.deepEqual(ids.slice(0, 2), [3, 2]);
      assert.deepEqual([...ids.slice(2)].sort(), CRIME);
      assert.ok(!ids.includes(1), 'the movie itself is not similar to itself');
      const scores = r.items.map((m) => m.score);
      assert.deepEqual(
        scores,
        [...scores].sort((a, b) => b - a),
      );
      assert.ok(
        r.items.slice(2).every((m) => m.score < 0),
        'crime movies have a negative cosine',
      );
      familyCluster = r.movie.cluster;
      const [shrek, jumanji, ...crime] = r.items;
      assert.equal(shrek!.cluster, familyCluster);
      assert.equal(jumanji!.cluster, familyCluster);
      crimeCluster = crime[0]!.cluster;
      assert.notEqual(crimeCluster, familyCluster);
      assert.ok(
        crime.every((m) => m.cluster === crimeCluster),
        'the crime movies share one cluster',
      );
      assert.deepEqual(shrek!.shared.genres, ['Adventure', 'Animation', 'Children', 'Comedy', 'Fantasy']);
      assert.deepEqual([...shrek!.shared.tags].sort(), ['animation', 'family', 'funny']);
      assert.equal(
        shrek!.reason,
        'shares Adventure, Animation, Children, Comedy, Fantasy; tags animation, funny, family',
      );
      assert.deepEqual(jumanji!.shared.genres, ['Adventure', 'Children', 'Fantasy']);
      assert.match(jumanji!.reason, /^shares Adventure, Children, Fantasy; tags /);
      for (const m of crime) {
        assert.deepEqual(m.shared, { genres: [], tags: [] });
        assert.equal(m.reason, 'similar in content');
      }
      assert.ok(
        r.items.every((m) => m.promoted === false),
        'no rules: nothing promoted',
      );
    });

    test('similar 1 (human): a header naming the movie and cluster, rows in cosine order with reasons', async () => {
      const r = await run('similar', '1', '--method', 'content', '--k', '2');
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.equal(lines[0], `similar to Toy Story (1995) [1], cluster ${familyCluster}, by content over all movies`);
      assert.match(lines[1]!, /^#\s+id\s+title\s+genres\s+cosine\s+cluster\s+why$/);
      const rows = lines.slice(3);
      assert.equal(rows.length, 2);
      assert.match(
        rows[0]!,
        new RegExp(`^1\\s+3\\s+Shrek \\(2001\\)\\s+\\S+\\s+0\\.9\\d\\d\\s+${familyCluster}\\s+shares `),
      );
      assert.match(
        rows[1]!,
        new RegExp(`^2\\s+2\\s+Jumanji \\(1995\\)\\s+\\S+\\s+0\\.\\d{3}\\s+${familyCluster}\\s+shares `),
      );
      assert.match(rows[0]!, /tags animation, funny, family$/);
    });

    test('--method cluster keeps to the movie’s cluster', async () => {
      const heat = json<SimilarList>(await run('similar', '4', '--method', 'cluster', '--json'));
      assert.equal(heat.method, 'cluster');
      assert.equal(heat.movie.cluster, crimeCluster);
      assert.deepEqual(
        heat.items.map((m) => m.movieId),
        [5, 6],
      );
      assert.ok(
        heat.items.every((m) => m.cluster === crimeCluster && m.shared.genres.includes('Crime')),
        'only crime movies of the crime cluster',
      );
      const toy = json<SimilarList>(await run('similar', '1', '--method', 'cluster', '--k', '10', '--json'));
      assert.deepEqual(
        toy.items.map((m) => m.movieId),
        [3, 2],
      );
    });

    test('recommend --watched: unwatched movies with "because you watched" reasons', async () => {
      const r = json<RoutedList>(await run('recommend', '--watched', '1,2', '--json'));
      // The router's watched strategy (router.watched): movies this thinly rated are judged by their content.
      assert.equal(r.strategy, 'similar');
      assert.deepEqual(r.warnings, []);
      const ids = r.items.map((m) => m.movieId);
      assert.equal(ids[0], 3);
      assert.deepEqual([...ids].sort(), [3, 4, 5, 6]);
      assert.ok(!ids.includes(1) && !ids.includes(2), 'the watched movies are excluded');
      // Movies that share nothing with either seed are ranked by popularity alone, and say so.
      for (const m of r.items)
        assert.match(
          m.reason ?? '',
          /^(because you watched (Toy Story \(1995\)|Jumanji \(1995\))|popular: rated by \d+ viewers?)/,
        );
      assert.match(
        r.items[0]!.reason!,
        /^because you watched Toy Story \(1995\): Adventure, Animation, Children, Comedy/,
      );
      const crime = json<RoutedList>(await run('recommend', '--watched', '4', '--method', 'cluster', '--json'));
      assert.equal(crime.strategy, 'content-cluster');
      assert.deepEqual(
        crime.items.map((m) => m.movieId),
        [5, 6],
      );
      assert.ok(
        crime.items.every((m) => m.reason?.startsWith('because you watched Heat (1995)')),
        'reasons name Heat',
      );
      const human = await run('recommend', '--watched', '1', '--k', '2');
      assert.equal(human.code, 0, human.stderr);
      assert.match(
        human.stdout,
        /^scenario watched: 1 watched movie and no ratings: movies watched by the same viewers \(by content for movies nobody rated\), leaning on popularity \(similar\)$/m,
      );
      assert.match(human.stdout, /^1\s+3\s+Shrek \(2001\).*because you watched Toy Story \(1995\)/m);
    });

    test('an unknown watched id is a warning; only unknown ids is an error naming them', async () => {
      const some = await run('recommend', '--watched', '1,99', '--json');
      assert.equal(some.code, 0, some.stderr);
      assert.match(some.stderr, /warning: unknown movie id ignored: 99/);
      const r = JSON.parse(some.stdout) as RoutedList;
      assert.deepEqual(r.warnings, ['unknown movie id ignored: 99']);
      assert.equal(r.items[0]!.movieId, 3);
      const none = await run('recommend', '--watched', '98,99', '--json');
      assert.equal(none.code, 1);
      assert.equal(none.stdout, '');
      assert.match(none.stderr, /unknown movie ids 98, 99/);
    });

    test('a block rule removes Shrek from similar and watched lists until it is removed', async () => {
      const blocked = await run('rules', 'block', '3');
      assert.equal(blocked.code, 0, blocked.stderr);
      try {
        const similar = json<SimilarList>(await run('similar', '1', '--method', 'content', '--json'));
        assert.deepEqual(
          similar.items.map((m) => m.movieId),
          [2, 6, 4, 5],
        );
        const cluster = json<SimilarList>(await run('similar', '1', '--method', 'cluster', '--json'));
        assert.deepEqual(
          cluster.items.map((m) => m.movieId),
          [2],
        );
        const watched = json<RoutedList>(await run('recommend', '--watched', '1', '--json'));
        assert.ok(!watched.items.some((m) => m.movieId === 3), 'Shrek is blocked');
        assert.equal(watched.items[0]!.movieId, 2);
      } finally {
        const removed = await run('rules', 'remove', '3');
        assert.equal(removed.code, 0, removed.stderr);
      }
    });

    test('a promote rule lifts and marks a movie in the similar list (and Shrek is back)', async () => {
      assert.equal((await run('rules', 'promote', '2', '--boost', '2')).code, 0);
      try {
        const similar = json<SimilarList>(await run('similar', '1', '--k', '2', '--json'));
        assert.deepEqual(
          similar.items.map((m) => [m.movieId, m.promoted]),
          [
            [2, true],
            [3, false],
          ],
        );
      } finally {
        assert.equal((await run('rules', 'remove', '2')).code, 0);
      }
    });

    test('clusters movies --json: two clusters, sizes summing to the movie count, top genres and examples', async () => {
      const o = json<ClusterOverview>(await run('clusters', 'movies', '--examples', '2', '--json'));
      assert.equal(o.k, 2);
      assert.equal(o.clusters.length, 2);
      assert.equal(
        o.clusters.reduce((s, c) => s + c.size, 0),
        6,
      );
      const family = o.clusters.find((c) => c.cluster === familyCluster)!;
      const crime = o.clusters.find((c) => c.cluster === crimeCluster)!;
      assert.equal(family.size, 3);
      assert.equal(crime.size, 3);
      assert.deepEqual(family.topGenres[0], { genre: 'Adventure', share: 1 });
      assert.ok(
        family.topGenres.some((g) => g.genre === 'Children' && g.share === 1),
        'Children is a top genre of the family cluster',
      );
      assert.deepEqual(crime.topGenres[0], { genre: 'Crime', share: 1 });
      assert.ok(family.topTags.includes('animation'), `family tags: ${family.topTags.join(', ')}`);
      assert.ok(crime.topTags.includes('crime'), `crime tags: ${crime.topTags.join(', ')}`);
      assert.equal(family.examples.length, 2);
      assert.equal(crime.examples.length, 2);
      assert.ok(
        family.examples.every((m) => FAMILY.includes(m.movieId)),
        'family examples are family movies',
      );
      assert.ok(
        crime.examples.every((m) => CRIME.includes(m.movieId)),
        'crime examples are crime movies',
      );
      assert.ok(o.silhouette > 0 && o.silhouette <= 1, `silhouette ${o.silhouette}`);
      const human = await run('clusters', 'movies');
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /^2 content clusters over \d+-d vectors/);
      assert.match(human.stdout, /Toy Story \(1995\)/);
      assert.match(human.stdout, /Crime 100%/);
    });

    test('bad arguments: a clear error on stderr and a non-zero exit', async () => {
      const [abc, method, watched, unknown, recMethod, k] = await Promise.all([
        run('similar', 'abc'),
        run('similar', '1', '--method', 'foo'),
        run('recommend', '--watched', '1,x'),
        run('similar', '999', '--json'),
        run('recommend', '--watched', '1', '--method', 'nearest'),
        run('similar', '1', '--k', '0'),
      ]);
      assert.notEqual(abc.code, 0);
      assert.match(abc.stderr, /movieId must be a whole number/);
      assert.notEqual(method.code, 0);
      assert.match(method.stderr, /--method must be "auto", "content", "cluster" or "hybrid", not "foo"/);
      assert.notEqual(watched.code, 0);
      assert.match(watched.stderr, /--watched must be movie ids separated by commas/);
      assert.equal(unknown.code, 1);
      assert.equal(unknown.stdout, '');
      assert.match(unknown.stderr, /^cinerec: no movie with id 999$/m);
      assert.ok(!/\bat .+:\d+:\d+/.test(unknown.stderr), 'no stack trace');
      assert.notEqual(recMethod.code, 0);
      assert.match(recMethod.stderr, /--method must be "auto", "content", "cluster" or "hybrid", not "nearest"/);
      assert.notEqual(k.code, 0);
      assert.match(k.stderr, /--k must be a whole number from 1/);
    });

    describe('movies add', () => {
      test('adds Coco as movie 7 in Toy Story’s cluster and prints its nearest movies', async () => {
        const human = await run('movies', 'add', '--title', 'Coco (2017)', '--genres', 'Animation|Children');
        assert.equal(human.code, 0, human.stderr);
        assert.match(
          human.stdout,
          new RegExp(`^added Coco \\(2017\\) as movie 7, content cluster ${familyCluster}$`, 'm'),
        );
        assert.match(human.stdout, /^nearest by content:$/m);
        const rows = human.stdout.split('\n').filter((l) => /^\d+\s/.test(l));
        assert.equal(rows.length, 5);
        assert.match(rows[0]!, /^(1|3)\s+(Toy Story|Shrek)/);
        assert.match(rows[0]!, /shares Animation, Children$/);
      });

      test('in new processes the added movie is similar, genre-listed, shown and in its cluster', async () => {
        const similar = json<SimilarList>(await run('similar', '7', '--json'));
        assert.equal(similar.movie.displayTitle, 'Coco');
        assert.equal(similar.movie.cluster, familyCluster);
        assert.deepEqual(
          similar.items.slice(0, 3).map((m) => m.movieId),
          [3, 1, 2],
        );
        const popular = json<PopularList>(await run('recommend', '--genres', 'Animation', '--json'));
        assert.ok(
          popular.items.some((m) => m.movieId === 7 && m.votes === 0),
          'Coco is listed for Animation, with no votes',
        );
        const show = json<MovieDetails>(await run('movies', 'show', '7', '--json'));
        assert.equal(show.title, 'Coco (2017)');
        assert.equal(show.year, 2017);
        assert.deepEqual(show.genres, ['Animation', 'Children']);
        assert.equal(show.source, 'live');
        assert.equal(show.cluster, familyCluster);
      });

      test('bad input names the field; a duplicate names the existing movie; nothing is stored', async () => {
        // One process at a time: a store is opened by a single process.
        const genre = await run('movies', 'add', '--title', 'Up (2009)', '--genres', 'Animation|Cartoon');
        const title = await run('movies', 'add', '--title', '', '--genres', 'Animation');
        const duplicate = await run('movies', 'add', '--title', 'Coco (2017)', '--genres', 'Animation|Children');
        const duplicateByYear = await run('movies', 'add', '--title', 'coco', '--year', '2017', '--genres', 'Comedy');
        assert.equal(genre.code, 1);
        assert.match(genre.stderr, /unknown genre "Cartoon"; valid genres: .*Animation/);
        assert.equal(title.code, 1);
        assert.match(title.stderr, /title must not be empty/);
        for (const r of [duplicate, duplicateByYear]) {
          assert.equal(r.code, 1);
          assert.match(r.stderr, /"Coco \(2017\)" is already in the catalogue as movie 7/);
        }
      });

      test('a bad genome file names the file and the line; an unknown genome tag id is refused', async () => {
        const badValue = file('bad-value.csv', 'tagId,relevance\n1,0.9\n2,high\n');
        const badRange = file('bad-range.csv', 'tagId,relevance\n1,1.5\n');
        const badTag = file('bad-tag.csv', 'tagId,relevance\n1,0.9\n2,0.8\nx,0.5\n');
        const badColumns = file('bad-columns.csv', 'tagId,relevance\n1,0.9,7\n');
        const badHeader = file('bad-header.csv', 'tag,score\n1,0.9\n');
        const unknownTag = file('unknown-tag.csv', 'tagId,relevance\n1,0.9\n99,0.5\n');
        const add = (genome: string) =>
          run('movies', 'add', '--title', 'Up (2009)', '--genres', 'Animation', '--genome', genome);
        // The file is read before the store is opened, so these can run side by side.
        const [value, range, tag, columns, header, absent] = await Promise.all(
          [badValue, badRange, badTag, badColumns, badHeader, join(tmp, 'no-such-genome.csv')].map(add),
        );
        assert.equal(value.code, 1);
        assert.match(value.stderr, /bad-value\.csv line 3: field relevance: "high" is not a number from 0 to 1/);
        assert.equal(range.code, 1);
        assert.match(range.stderr, /bad-range\.csv line 2: field relevance/);
        assert.equal(tag.code, 1);
        assert.match(tag.stderr, /bad-tag\.csv line 4: field tagId: "x" is not a whole number/);
        assert.equal(columns.code, 1);
        assert.match(columns.stderr, /bad-columns\.csv line 2/);
        assert.equal(header.code, 1);
        assert.match(header.stderr, /bad-header\.csv line 1: header must be "tagId,relevance"/);
        const unknown = await add(unknownTag);
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /unknown tag id 99/);
        assert.equal(absent.code, 1);
        assert.match(absent.stderr, /no-such-genome\.csv: cannot read/);
        for (const r of [value, range, tag, columns, header, unknown, absent]) {
          assert.ok(!/\bat .+:\d+:\d+/.test(r.stderr), `no stack trace: ${r.stderr}`);
        }
      });

      test('with a Toy-Story-like --genome, Toy Story and Shrek are its nearest and it joins their cluster', async () => {
        const genome = file('up-genome.csv', TOY_STORY_LIKE);
        const added = json<AddedMovie>(
          await run(
            'movies',
            'add',
            '--title',
            'Up',
            '--year',
            '2009',
            '--genres',
            'Adventure,Animation',
            '--tags',
            'balloons,pixar',
            '--genome',
            genome,
            '--imdb',
            'tt1049413',
            '--tmdb',
            '14160',
            '--json',
          ),
        );
        // The failed attempts above used no id.
        assert.equal(added.movie.movieId, 8);
        assert.equal(added.movie.title, 'Up (2009)');
        assert.equal(added.movie.imdbId, 'tt1049413');
        assert.equal(added.movie.tmdbId, 14160);
        assert.equal(added.movie.source, 'live');
        assert.equal(added.cluster, familyCluster);
        assert.equal(added.movie.cluster, familyCluster);
        assert.deepEqual(
          added.similar
            .slice(0, 2)
            .map((m) => m.movieId)
            .sort(),
          [1, 3],
        );
        assert.ok(
          added.similar.slice(0, 2).every((m) => m.score > 0.5 && m.shared.tags.includes('animation')),
          'close by genome: shares the animation genome tag',
        );
        // In a new process: Up is close to Toy Story, far above Coco (no genome) and the crime movies.
        const toy = json<SimilarList>(await run('similar', '1', '--k', '3', '--json'));
        assert.deepEqual(toy.items.map((m) => m.movieId).sort(), [2, 3, 8]);
        assert.equal(toy.items.find((m) => m.movieId === 8)!.cluster, familyCluster);
      });
    });
  });

  describe('on ml-latest-small (default settings)', { concurrency: false }, () => {
    let real: Trained;
    let realEnv: Record<string, string>;
    before(async () => {
      real = await trained('ml-latest-small', await realData('ml-latest-small'));
      realEnv = real.env;
    });
    after(() => real?.cleanup());

    test('similar 1 --k 10: Toy Story’s neighbours share its genres, mostly Animation, Toy Story 2 among them', async () => {
      const similar = json<SimilarList>(await cli(['similar', '1', '--k', '10', '--json'], realEnv));
      assert.equal(similar.movie.displayTitle, 'Toy Story');
      const toyGenres = similar.movie.genres;
      assert.equal(similar.items.length, 10);
      for (const m of similar.items) {
        assert.ok(
          m.genres.some((g) => toyGenres.includes(g)),
          `${m.title} shares a genre with Toy Story`,
        );
      }
      const animation = similar.items.filter((m) => m.genres.includes('Animation')).length;
      assert.ok(animation >= 6, `${animation} of 10 are Animation`);
      const ids = similar.items.map((m) => m.movieId);
      assert.ok(ids.includes(3114), `Toy Story 2 (3114) is among the top 10: ${ids.join(', ')}`);
    });

    test('recommend --watched 1: what Toy Story’s viewers liked most (also-liked), each reason with the share', async () => {
      const rec = json<RoutedList>(await cli(['recommend', '--watched', '1', '--k', '10', '--json'], realEnv));
      assert.equal(rec.scenario, 'watched');
      assert.equal(rec.strategy, 'also-liked', 'the router’s thin-history strategy (router.thin)');
      assert.match(
        rec.reason,
        /^1 watched movie and no ratings: movies most liked by the viewers of the ones watched$/,
      );
      assert.equal(rec.items.length, 10);
      for (const m of rec.items) {
        assert.notEqual(m.movieId, 1);
        assert.match(m.reason ?? '', /^liked by \d+ % of the 215 viewers of Toy Story$/);
      }
      const shares = rec.items.map((m) => Number(/liked by (\d+) %/.exec(m.reason!)![1]));
      assert.ok(shares[0]! >= 40, `the first is liked by most of Toy Story's viewers: ${shares.join(', ')}`);
      const two = json<RoutedList>(await cli(['recommend', '--ratings', '1:5,2571:4', '--k', '5', '--json'], realEnv));
      assert.equal(two.scenario, 'few-ratings');
      assert.equal(two.strategy, 'also-liked');
      const three = json<RoutedList>(await cli(['recommend', '--watched', '1,2355,3114', '--json'], realEnv));
      assert.equal(three.strategy, 'similar', 'from three movies on, similar (router.thinHistory = 3)');
    });

    test('recommend --watched 1,2355,3114 --k 10: none of the three, every reason "because you watched"', async () => {
      const watched = [1, 2355, 3114];
      const rec = json<RoutedList>(
        await cli(['recommend', '--watched', watched.join(','), '--k', '10', '--json'], realEnv),
      );
      assert.equal(rec.items.length, 10);
      assert.deepEqual(rec.warnings, []);
      for (const m of rec.items) {
        assert.ok(!watched.includes(m.movieId), `${m.movieId} was watched`);
        assert.ok(m.reason?.startsWith('because you watched'), `reason of ${m.movieId}: ${m.reason}`);
      }
    });
  });
});
