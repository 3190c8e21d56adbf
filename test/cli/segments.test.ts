/**
 * `cinerec segments users` and `segments show-user` through the real binary on ml-latest-small, with a
 * narrow k range and few autoencoder epochs to keep it quick.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { UserSegmentView } from '../../src/recommend/service.ts';
import { cli, json } from '../helpers/cli.ts';
import { realData } from '../helpers/real-data.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cinerec-segments-cli-'));
const env = {
  CINEREC_STORE: join(tmp, 'store.duckdb'),
  CINEREC_DATA_DIR: tmp,
  CINEREC_MODELS_DIR: join(tmp, 'models'),
};
const run = (...args: string[]) => cli(['--set', 'segments.maxK=5', '--set', 'segments.users.epochs=40', ...args], env);

before(async () => {
  json(await run('data', 'import', await realData('ml-latest-small'), '--json'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

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
    for (const kk of [2, 3, 4, 5])
      assert.match(r.stdout, new RegExp(`^${kk}${kk === k ? ' \\*' : '  '}\\s+\\d+\\s+-?0\\.\\d{3}`, 'm'));
    assert.match(r.stdout, /^segment\s+size\s+label\s+top genres \(liked\)\s+mean rating\s+favoured movie segments$/m);
    for (let s = 0; s < k; s++) assert.match(r.stdout, new RegExp(`^${s}\\s+\\d+\\s+\\S`, 'm'));
    assert.match(r.stderr, /user segments: k = \d+ by calinski-harabasz over 2–5/);
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
