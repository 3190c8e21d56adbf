/**
 * Per-user state kept current on writes (LiveUsers, UserStates) and the strategies that keep it (ALS fold-in,
 * user clusters, segments, the neural encoder): a live user's list must always equal what a fresh computation
 * from the same ratings gives (the anonymous path, which computes everything per request), after each write, after
 * a model change under the cached state, and for a trained user who becomes live.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FittingModels } from '../../src/components/fitting.ts';
import { STRATEGIES } from '../../src/components/index.ts';
import { StrategyBook } from '../../src/components/strategy-book.ts';
import { loadConfig } from '../../src/config/config.ts';
import { historyOf } from '../../src/recommend/history.ts';
import { type History, LiveUsers, UserStates } from '../../src/recommend/live-users.ts';
import { RankingPipeline } from '../../src/recommend/pipeline.ts';
import { RuleSet } from '../../src/recommend/rules.ts';
import type { RatedMovie, TrainingData, ViewerContext } from '../../src/recommend/strategy.ts';
import { fixture } from '../models/persistence-fixture.ts';

describe('UserStates', () => {
  const h = (...items: number[]): History => ({
    items: Int32Array.from(items),
    ratings: new Float32Array(items.length).fill(4),
  });

  it('computes a live user’s state on the write, not on the reads after it', () => {
    const live = new LiveUsers();
    let calls = 0;
    const states = new UserStates(live, (history) => {
      calls++;
      return history.items.length;
    });
    live.set(7, h(1, 2, 3));
    assert.equal(calls, 1);
    assert.ok(states.holds(7));
    for (let r = 0; r < 3; r++) assert.equal(states.get(7, live.get(7)!), 3);
    assert.equal(calls, 1);
    live.set(7, h(1, 2));
    assert.equal(calls, 2);
    assert.equal(states.get(7, live.get(7)!), 2);
    assert.equal(calls, 2);
    assert.ok(live.version(7) > 0);
    assert.equal(live.version(8), 0);
  });

  it('recomputes a state whose stamp moved (a model it reads changed), once; refresh() does it at once', () => {
    const live = new LiveUsers();
    let revision = 0;
    let calls = 0;
    const states = new UserStates(
      live,
      (history) => {
        calls++;
        return history.items.length * 10 + revision;
      },
      () => revision,
    );
    live.set(1, h(5));
    live.set(2, h(5, 6));
    assert.equal(calls, 2);
    revision++;
    assert.ok(!states.holds(1));
    assert.equal(states.get(1, live.get(1)!), 11);
    assert.equal(states.get(1, live.get(1)!), 11);
    assert.equal(calls, 3);
    live.refresh(2);
    assert.equal(calls, 4);
    assert.ok(states.holds(2));
    live.refresh(2); // current: nothing to do
    assert.equal(calls, 4);
    assert.equal(states.get(2, live.get(2)!), 21);
  });

  it('caches trained users only when asked, and leaves a failed computation to the request', () => {
    const live = new LiveUsers();
    let calls = 0;
    const liveOnly = new UserStates(live, () => ++calls);
    liveOnly.get(3, h(1));
    liveOnly.get(3, h(1));
    assert.equal(calls, 2);
    const trained = new UserStates(live, () => ++calls, undefined, true);
    trained.get(3, h(1));
    trained.get(3, h(1));
    assert.equal(calls, 3);
    const failing = new UserStates(live, (history) => {
      if (history.items.length > 1) throw new Error('not positive definite');
      return 1;
    });
    assert.doesNotThrow(() => live.set(4, h(1, 2)));
    assert.ok(!failing.holds(4));
    assert.throws(() => failing.get(4, live.get(4)!), /not positive definite/);
  });
});

const root = mkdtempSync(join(tmpdir(), 'cinerec-live-state-'));
after(() => rmSync(root, { recursive: true, force: true }));

const { config } = loadConfig({
  env: {},
  cwd: root,
  overrides: {
    'content.dimensions': '8',
    'content.clusters': '5',
    'content.restarts': '1',
    'content.tagVocabulary': '100',
    'als.factors': '8',
    'als.iterations': '4',
    'als.threads': '1',
    'hybrid.clusters': '5',
    'hybrid.restarts': '1',
    'userClusters.clusters': '4',
    'userClusters.restarts': '1',
    'segments.maxK': '5',
    'segments.restarts': '1',
    'segments.users.epochs': '20',
    'neural.userHidden': '16',
    'neural.code': '8',
    'neural.itemHidden': '16',
    'neural.itemCode': '8',
    'neural.aeEpochs': '3',
    'neural.hidden': '16',
    'neural.hidden2': '8',
    'neural.epochs': '3',
    'neural.crossFolds': '2',
    'mf.factors': '8',
    'mf.epochs': '5',
  },
});

const f = fixture({ users: 80, movies: 60, unrated: 4 });
const live = new LiveUsers();
const data: TrainingData = { ...f.data, live };
const catalogue = data.catalogue;
const models = new FittingModels(data, config);
const book = new StrategyBook(data, config, models);
const pipeline = new RankingPipeline(
  () => data,
  () => new RuleSet([]),
);

/** A history as the service stores it: catalogue indices in order, with their ratings. */
function stored(ratings: readonly RatedMovie[]): History {
  const byIndex = new Map(ratings.map((r) => [catalogue.indexOf(r.movieId), r.rating] as const));
  const items = Int32Array.from([...byIndex.keys()].sort((a, b) => a - b));
  return { items, ratings: Float32Array.from(items, (i) => byIndex.get(i)!) };
}

const first: RatedMovie[] = [1, 6, 11, 16, 21, 26, 2, 7].map((movieId, k) => ({ movieId, rating: k < 6 ? 4.5 : 2 }));
const second: RatedMovie[] = [...first.slice(2), { movieId: 31, rating: 5 }, { movieId: 36, rating: 4 }];

/** Scores and the ranked list (with reasons) of one context. */
async function listOf(name: string, ctx: ViewerContext) {
  const strategy = await book.get(name);
  const scores = new Float32Array(catalogue.size);
  strategy.score({ ctx, history: historyOf(ctx, data) }, scores);
  return { scores, ranked: pipeline.rank(strategy, { ctx, k: 10, now: new Date(0) }) };
}

async function assertSameAsFresh(name: string, userId: number, ratings: readonly RatedMovie[], when: string) {
  const a = await listOf(name, { userId });
  const b = await listOf(name, { ratings });
  assert.deepEqual(a.scores, b.scores, `${name}, ${when}: scores differ from a fresh computation`);
  assert.deepEqual(a.ranked, b.ranked, `${name}, ${when}: the list differs from a fresh computation`);
}

let nextUser = 10_000;
for (const name of STRATEGIES.keys()) {
  if (name === 'random') continue; // seeded by the user id, so a live user and an anonymous one differ by design
  it(`strategy ${name}: a live user is served what a fresh fold-in gives, after every write and model change`, async () => {
    await book.get(name);
    const userId = nextUser++;
    live.set(userId, stored(first));
    await assertSameAsFresh(name, userId, first, 'after the first write');
    live.set(userId, stored(second));
    await assertSameAsFresh(name, userId, second, 'after a second write');
    // An item factor moves under the cached state (as refolding a movie does): the next request sees it.
    const als = await models.optional('als');
    if (als) {
      const f0 = als.factors;
      als.setItemFactor(
        catalogue.indexOf(31),
        Float32Array.from({ length: f0 }, (_, k) => 0.05 * (k + 1) + 0.01 * (userId % 10)),
      );
      await assertSameAsFresh(name, userId, second, 'after an item factor changed');
      live.refresh(userId);
      await assertSameAsFresh(name, userId, second, 'after a refresh');
    }
    // A trained user who rates again becomes live.
    const trained = data.interactions.userIds[nextUser % data.interactions.nUsers]!;
    const h = historyOf({ userId: trained }, data);
    const all: RatedMovie[] = Array.from(h.items, (i, k) => ({
      movieId: catalogue.movies[i]!.movieId,
      rating: h.ratings[k]!,
    }));
    const changed = [...all.filter((r) => r.movieId !== 41), { movieId: 41, rating: 5 }];
    live.set(trained, stored(changed));
    await assertSameAsFresh(name, trained, changed, 'for a trained user who became live');
  });
}

describe('reasons for every item, whatever the viewer', () => {
  const viewers: [string, ViewerContext][] = [
    ['a watched-only viewer', { watched: [3, 8, 13] }],
    ['a viewer with nothing yet', {}],
    ['a viewer with genres only', { genres: ['Comedy'] }],
  ];
  for (const name of STRATEGIES.keys()) {
    it(`strategy ${name} says why for every item it lists`, async () => {
      const strategy = await book.get(name);
      for (const [who, ctx] of viewers) {
        for (const item of pipeline.rank(strategy, { ctx, k: 10, now: new Date(0) }))
          assert.ok(item.reason, `${name}: movie ${item.movieId} has no reason for ${who}`);
      }
    });
  }

  it('popular-genre names only the viewer’s genres of a movie', async () => {
    const strategy = await book.get('popular-genre');
    const ctx: ViewerContext = { ratings: [1, 6, 11].map((movieId) => ({ movieId, rating: 4 })) };
    const own = new Set(
      [1, 6, 11].flatMap((id) => catalogue.get(id)!.genres), // the genres of the watched movies
    );
    for (const item of pipeline.rank(strategy, { ctx, k: 20, now: new Date(0) })) {
      const named = /^popular in (.*), genres you watch$/.exec(item.reason!)?.[1]?.split(', ') ?? [];
      for (const g of named) assert.ok(own.has(g), `${item.movieId}: ${item.reason} names ${g}`);
      if (named.length === 0) assert.equal(item.reason, 'popular overall');
    }
  });
});
