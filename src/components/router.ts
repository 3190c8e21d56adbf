import { CONTENT } from './content.ts';
import { defineStrategy } from './define.ts';
import { int, num, section, text } from './params.ts';

/** The scenario router: cold start, watched, few ratings or personalised. */
export const ROUTER = section('router', 'the scenario router', {
  minRatings: int(5, { min: 0, doc: 'fewer ratings than this → the few-ratings blend' }),
  minPositive: int(3, { min: 0, doc: 'fewer positive ratings than this → the blend as well' }),
  positiveRating: num(4, { doc: 'ratings at or above this are positive' }),
  contentWeight: num(0.2, {
    min: 0,
    max: 1,
    doc: 'weight of content similarity in the few-ratings blend (the rest is popularity)',
    search: { kind: 'uniform', min: 0, max: 1 },
  }),
  watched: text(
    'similar',
    'strategy for viewers who only said what they watched (best in `cinerec eval --scenario watched`)',
  ),
  fewRatings: text('similar', 'strategy for viewers with few ratings (best in `cinerec eval --scenario few-ratings`)'),
  personalised: text('ease', 'strategy for viewers with a rich history'),
  thinHistory: int(3, {
    min: 0,
    doc: 'watched or few-ratings viewers who gave fewer movies than this are served by router.thin (0: never)',
  }),
  thin: text(
    'also-liked',
    'strategy for watched or few-ratings viewers with a thin history (best at 1–2 movies in the scenario evaluations)',
  ),
});

export const contentPopularStrategy = defineStrategy({
  name: 'content-popular',
  description: 'content similarity to the liked movies blended with popularity (the few-ratings path)',
  reads: [ROUTER, CONTENT],
  params: {
    genres: 'content.weights.genres',
    year: 'content.weights.year',
    tags: 'content.weights.tags',
    genome: 'content.weights.genome',
    stats: 'content.weights.stats',
    dimensions: 'content.dimensions',
    clusters: 'content.clusters',
    positiveRating: 'content.positiveRating',
    contentWeight: 'router.contentWeight',
  },
  models: ['content'],
  async create({ data, settings, models }) {
    const { BlendStrategy } = await import('../recommend/strategies/blend.ts');
    const { ContentStrategy } = await import('../recommend/strategies/content.ts');
    const content = new ContentStrategy(await models.get('content'), data.catalogue, settings.content.positiveRating);
    return new BlendStrategy(content, settings.router.contentWeight, data);
  },
});

export const routerStrategy = defineStrategy({
  name: 'router',
  description: 'the scenario router: cold start, watched, few ratings or personalised, each by its own strategy',
  reads: [ROUTER],
  params: {
    minRatings: 'router.minRatings',
    minPositive: 'router.minPositive',
    positiveRating: 'router.positiveRating',
    contentWeight: 'router.contentWeight',
    thinHistory: 'router.thinHistory',
  },
  models: [],
  uses: (s) => ['popular', s.router.watched, s.router.fewRatings, s.router.personalised, s.router.thin],
  async create({ settings, strategy }) {
    const { RouterStrategy } = await import('../recommend/router.ts');
    const r = settings.router;
    // Parts are created when first routed to (see RouterStrategy.prepare). Without the models of the chosen
    // strategy (e.g. RP3beta above its size limit): content, content + popularity, ALS.
    return new RouterStrategy(
      {
        coldStart: () => strategy('popular'),
        watched: () => strategy(r.watched, 'content'),
        fewRatings: () => strategy(r.fewRatings, 'content-popular'),
        personalised: () => strategy(r.personalised, 'als'),
        thin: () => strategy(r.thin, 'most-popular'),
      },
      r,
    );
  },
});
