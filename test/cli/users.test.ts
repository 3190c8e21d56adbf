/**
 * Users and the router through the real `cinerec` binary, on a model version trained on fixtures/genome
 * (6 movies, users 1–5): create, rate, show, recommend for a user and for anonymous ratings, with the
 * scenario the router chose.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RoutedList, UserView } from '../../src/serving/views.ts';
import { cli, json } from '../helpers/cli.ts';
import { trainedGenome } from '../helpers/genome-trained.ts';
import type { Trained } from '../helpers/trained.ts';

// Read commands serve a trained model version: the fixture is trained once (two content clusters) and this
// file gets its own copy of the store and versions.
let fixture: Trained;
const run = (...args: string[]) => cli(args, fixture.env);

before(async () => {
  fixture = await trainedGenome();
});
after(() => fixture?.cleanup());

describe('users and the router from the command line', () => {
  test('users add, then rate: each change is stored and moves the scenario', async () => {
    const added = json<UserView>(await run('users', 'add', '--ratings', '1:5,4:2', '--json'));
    assert.equal(added.userId, 6);
    assert.equal(added.scenario, 'few-ratings');
    const few = json<RoutedList>(await run('recommend', '--user', '6', '--json'));
    assert.equal(few.scenario, 'few-ratings');
    assert.ok(!few.items.some((m) => m.movieId === 1 || m.movieId === 4), 'rated movies are not recommended');

    const rated = json<UserView>(await run('users', 'rate', '6', '--ratings', '3:4.5,2:4,5:1', '--json'));
    assert.equal(rated.ratings, 5);
    assert.equal(rated.scenario, 'personalised');
    const personal = await run('recommend', '--user', '6');
    assert.equal(personal.code, 0, personal.stderr);
    assert.match(personal.stdout, /^scenario personalised: 5 ratings, 3 positive: personalised by ease \(ease\)$/m);
    assert.match(personal.stdout, /Godfather/, 'the one unrated movie');

    const shown = await run('users', 'show', '6');
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^user 6: 5 ratings, 3 positive, mean 3\.30; taste cluster \d+; scenario personalised/m);
  });

  test('anonymous ratings and a strategy override', async () => {
    const anon = json<RoutedList>(await run('recommend', '--ratings', '1:5,3:4.5', '--k', '3', '--json'));
    assert.equal(anon.scenario, 'few-ratings');
    assert.equal(anon.strategy, 'similar', 'the router’s few-ratings strategy (router.fewRatings)');
    const over = json<RoutedList>(await run('recommend', '--user', '1', '--strategy', 'itemknn', '--json'));
    assert.equal(over.scenario, 'override');
    assert.equal(over.strategy, 'itemknn');
  });

  test('predict: the predicted rating of a movie by a user', async () => {
    const r = await run('predict', '--user', '2', '--movie', '4,1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^predicted ratings for user 2 \(mf\)$/m);
    assert.match(r.stdout, /^4\s+Heat \(1995\)\s+\d\.\d\d\s+5\.0$/m);
  });

  test('predict --model neural: the autoencoder + MLP predictor', async () => {
    const r = await run('predict', '--user', '2', '--movie', '4,1', '--model', 'neural');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^predicted ratings for user 2 \(neural\)$/m);
    assert.match(r.stdout, /^4\s+Heat \(1995\)\s+\d\.\d\d\s+5\.0$/m);
  });

  test('segments movies: the chosen k and every k’s scores', async () => {
    const r = await run('segments', 'movies');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^\d+ movie segments, chosen by calinski-harabasz \(elbow of the inertia curve at k = \d+\)$/m,
    );
    assert.match(r.stdout, /Davies–Bouldin\s+Calinski–Harabasz/);
  });

  test('bad input names the parameter', async () => {
    const cases: [string[], RegExp][] = [
      [['users', 'add', '--ratings', '1:5,x'], /ratings must look like 1:5,32:4\.5/],
      [['users', 'add', '--ratings', '1:4.3'], /steps of 0\.5/],
      [['users', 'add', '--ratings', '99:4'], /unknown movie id 99/],
      [['users', 'rate', '999', '--ratings', '1:4'], /no user with id 999/],
      [['recommend', '--user', '999'], /no user with id 999/],
      [['recommend', '--user', '1', '--strategy', 'magic'], /unknown strategy "magic"/],
      [['predict', '--user', '1', '--movie', 'x'], /--movie must be movie ids/],
      [['predict', '--user', '1', '--movie', '1', '--model', 'magic'], /--model must be mf or neural/],
    ];
    for (const [args, pattern] of cases) {
      const r = await run(...args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, pattern, args.join(' '));
    }
  });
});
