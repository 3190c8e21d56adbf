import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RouterStrategy } from '../../src/recommend/router.ts';
import type { Query, Strategy } from '../../src/recommend/strategy.ts';

const stub = (name: string): Strategy => ({
  name,
  description: name,
  score(_q, scores) {
    scores.fill(name.length);
    return undefined;
  },
  explain: () => `from ${name}`,
});

const router = new RouterStrategy(
  {
    coldStart: stub('popular'),
    watched: stub('content'),
    fewRatings: stub('content-popular'),
    personalised: stub('ease'),
    thin: stub('also-liked'),
  },
  { minRatings: 5, minPositive: 3, positiveRating: 4, thinHistory: 0 },
);

/** A query whose history holds these ratings (NaN = watched without a rating). */
function query(ratings: number[], genres: string[] = []): Query {
  return {
    ctx: genres.length ? { genres } : {},
    history: { items: Int32Array.from(ratings, (_, i) => i), ratings: Float32Array.from(ratings) },
  };
}

describe('router decisions at the threshold edges', () => {
  it('nothing known: cold start, with or without genres', () => {
    assert.equal(router.decide(query([])).scenario, 'cold-start');
    const d = router.decide(query([], ['Comedy']));
    assert.equal(d.strategy.name, 'popular');
    assert.match(d.reason, /chosen genres/);
  });

  it('watched only: content', () => {
    const d = router.decide(query([Number.NaN, Number.NaN]));
    assert.equal(d.scenario, 'watched');
    assert.equal(d.strategy.name, 'content');
  });

  it('4 ratings: few-ratings; 5 and 6 ratings with 3 positives: personalised', () => {
    assert.equal(router.decide(query([5, 5, 5, 5])).scenario, 'few-ratings');
    assert.equal(router.decide(query([5, 5, 5, 2, 2])).scenario, 'personalised');
    assert.equal(router.decide(query([5, 4, 4, 1, 2, 3])).scenario, 'personalised');
  });

  it('5 or 6 ratings but 2 positives: few-ratings; the positive threshold is inclusive', () => {
    const d = router.decide(query([5, 4, 3.5, 3, 2]));
    assert.equal(d.scenario, 'few-ratings');
    assert.match(d.reason, /2 positive ratings/);
    assert.equal(router.decide(query([4, 4, 3.5, 3.5, 3.5, 3.5])).scenario, 'few-ratings');
    assert.equal(router.decide(query([4, 4, 4, 3.5, 3.5, 3.5])).scenario, 'personalised');
  });

  it('watched movies do not count as ratings', () => {
    assert.equal(router.decide(query([5, 5, 5, 5, Number.NaN])).scenario, 'few-ratings');
  });

  it('a thin history (fewer movies than thinHistory) takes the thin part in the watched and few-ratings scenarios', () => {
    const thin = new RouterStrategy(router.parts, { ...router.settings, thinHistory: 3 });
    const one = thin.decide(query([Number.NaN]));
    assert.equal(one.scenario, 'watched');
    assert.equal(one.strategy.name, 'also-liked');
    assert.match(one.reason, /1 watched movie and no ratings: movies most liked by the viewers/);
    assert.equal(thin.decide(query([Number.NaN, Number.NaN, Number.NaN])).strategy.name, 'content');
    const two = thin.decide(query([5, 4]));
    assert.equal(two.scenario, 'few-ratings');
    assert.equal(two.strategy.name, 'also-liked');
    assert.equal(thin.decide(query([5, 4, 4])).strategy.name, 'content-popular');
    assert.equal(thin.decide(query([])).strategy.name, 'popular');
  });

  it('thresholds are settings', () => {
    const strict = new RouterStrategy(router.parts, {
      minRatings: 10,
      minPositive: 1,
      positiveRating: 4.5,
      thinHistory: 0,
    });
    assert.equal(strict.decide(query([5, 5, 5, 5, 5, 5])).scenario, 'few-ratings');
    const loose = new RouterStrategy(router.parts, {
      minRatings: 1,
      minPositive: 1,
      positiveRating: 4.5,
      thinHistory: 0,
    });
    assert.equal(loose.decide(query([5])).scenario, 'personalised');
  });

  it('scores and explains with the strategy it chose', () => {
    const scores = new Float32Array(3);
    const q = query([5, 5, 5, 5, 5]);
    router.score(q, scores);
    assert.deepEqual(Array.from(scores), [4, 4, 4]);
    assert.equal(router.explain(q, 0), 'from ease');
  });

  it('creates a part only when a query is routed to it, once; decide before that says so', async () => {
    const created: string[] = [];
    const lazy = (name: string) => async () => {
      created.push(name);
      return stub(name);
    };
    const r = new RouterStrategy(
      {
        coldStart: lazy('popular'),
        watched: lazy('content'),
        fewRatings: lazy('content-popular'),
        personalised: lazy('ease'),
        thin: lazy('also-liked'),
      },
      { minRatings: 5, minPositive: 3, positiveRating: 4, thinHistory: 3 },
    );
    const rich = query([5, 5, 5, 5, 5]);
    assert.equal(r.scenarioOf(rich), 'personalised');
    assert.throws(() => r.decide(rich), /personalised strategy is not created yet/);
    assert.equal((await r.route(rich)).strategy.name, 'ease');
    await Promise.all([r.route(rich), r.route(rich)]);
    assert.deepEqual(created, ['ease']);
    assert.equal((await r.route(query([Number.NaN]))).strategy.name, 'also-liked');
    assert.deepEqual(created, ['ease', 'also-liked']);
    await r.prepare();
    assert.deepEqual(created.sort(), ['also-liked', 'content', 'content-popular', 'ease', 'popular']);
    assert.equal(r.decide(query([])).strategy.name, 'popular');
  });
});
