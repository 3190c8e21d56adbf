import { CONTENT } from './content.ts';
import { defineStrategy } from './define.ts';
import { choice, int, num, section } from './params.ts';

/** "More like these": similar-movie lists and the watched scenario. */
export const SIMILAR = section('similar', 'similar movies and the watched scenario, method by the movie’s situation', {
  method: choice(
    ['walk', 'hybrid', 'content'],
    'walk',
    'how a movie with ratings finds its neighbours: the co-watching walk (RP3beta), the hybrid space or content',
  ),
  minRatings: int(5, {
    min: 1,
    doc: 'a movie with fewer training ratings than this is judged by its content',
    search: { kind: 'log', min: 1, max: 50 },
  }),
  popularity: num(0.9, {
    min: 0,
    max: 10,
    doc: 'weight of the popularity percentile added to the normalised similarity (also breaks ties)',
    search: { kind: 'uniform', min: 0, max: 1 },
  }),
});

export const similarStrategy = defineStrategy({
  name: 'similar',
  description: 'similar to the watched movies: by who watched them (RP3beta walk) or by content for unrated ones',
  reads: [SIMILAR, CONTENT],
  params: {
    minRatings: 'similar.minRatings',
    popularity: 'similar.popularity',
    alpha: 'rp3beta.alpha',
    beta: 'rp3beta.beta',
    neighbours: 'rp3beta.neighbours',
  },
  models: ['content', 'rp3beta', 'hybrid'],
  async create({ data, settings, models }) {
    const { SimilarStrategy } = await import('../recommend/strategies/similar.ts');
    const s = settings.similar;
    return new SimilarStrategy(
      data.interactions,
      data.catalogue,
      await models.get('content'),
      s.method === 'walk' ? await models.get('rp3beta') : null,
      s.method === 'hybrid' ? await models.get('hybrid') : null,
      { ...s, positiveRating: settings.content.positiveRating },
    );
  },
});
