/**
 * `cinerec segments users` and `segments show-user` through the real binary on a model version trained on
 * ml-latest-small (the shared fixture, default settings): the segments are trained, the commands only load them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { UserSegmentView } from '../../src/serving/views.ts';
import { cli, json } from '../helpers/cli.ts';
import { realData } from '../helpers/real-data.ts';
import { type Trained, trained } from '../helpers/trained.ts';

let fixture: Trained;
const run = (...args: string[]) => cli(args, fixture.env);

before(async () => {
  fixture = await trained('ml-latest-small', await realData('ml-latest-small'));
});
after(() => fixture?.cleanup());

describe('segments from the command line on ml-latest-small', () => {
  test('segments users: the chosen k, every k’s four scores, one row per segment', async () => {
    const r = await run('segments', 'users');
    assert.equal(r.code, 0, r.stderr);
    const head =
      /^(\d+) user segments of 610 users, chosen by calinski-harabasz \(elbow of the inertia curve at k = \d+\)$/m.exec(
        r.stdout,
      );
    assert.ok(head, r.stdout);
    const k = Number(head[1]);
    assert.match(r.stdout, /^profiles: \d+ features over \d+ movie segments → autoencoder \d+ → 32 → 8, \d+ epochs/m);
    assert.match(r.stdout, /^k\s+inertia\s+silhouette\s+Davies–Bouldin\s+Calinski–Harabasz$/m);
    // Every k of the trained range is scored, the chosen one starred.
    const { minK, maxK } = fixture.config.segments;
    assert.ok(k >= minK && k <= maxK, `k = ${k} in ${minK}–${maxK}`);
    for (let kk = minK; kk <= maxK; kk++)
      assert.match(r.stdout, new RegExp(`^${kk}${kk === k ? ' \\*' : '  '}\\s+\\d+\\s+-?0\\.\\d{3}`, 'm'));
    assert.match(r.stdout, /^segment\s+size\s+label\s+top genres \(liked\)\s+mean rating\s+favoured movie segments$/m);
    for (let s = 0; s < k; s++) assert.match(r.stdout, new RegExp(`^${s}\\s+\\d+\\s+\\S`, 'm'));
    // Nothing is fitted (no fitting log): the command only loads the trained segments.
    assert.equal(r.stderr, '');
    // Each label names only genres its members like most, as its description lists them.
    const segments = json<{ segments: { label: string; topGenres: { genre: string }[]; description: string }[] }>(
      await run('--json', 'segments', 'users'),
    ).segments;
    for (const s of segments)
      for (const genre of /^(.*) fans/.exec(s.label)?.[1]?.split(' & ') ?? [])
        assert.ok(
          s.topGenres.some((g) => g.genre === genre),
          `${s.label} vs ${s.description}`,
        );
  });

  test('segments show-user 1: the segment, its description and the profile; --json matches', async () => {
    const r = await run('segments', 'show-user', '1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^user 1: segment \d+ \(.+\)$/m);
    assert.match(r.stdout, /^segment: \d+ viewers, /m);
    assert.match(r.stdout, /^profile: 232 ratings, \d+ positive, mean 4\.37; liked movies are \w+ \d+%/m);
    assert.match(r.stdout, /^movie segment\s+share of ratings\s+lift\s+mean rating$/m);

    const v = json<UserSegmentView>(await run('segments', 'show-user', '1', '--json'));
    assert.equal(v.source, 'fitted');
    assert.equal(v.profile.ratings, 232);
    assert.ok(v.details, 'the segment’s details');
    assert.ok(
      r.stdout.includes(`user 1: segment ${v.segment} (${v.details.label})\nsegment: ${v.details.description}\n`),
      r.stdout,
    );
  });

  test('an unknown user is a one-line error', async () => {
    const r = await run('segments', 'show-user', '999999');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no user with id 999999/);
  });
});
