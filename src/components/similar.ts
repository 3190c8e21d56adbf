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
  smoothing: num(5, {
    min: 0,
    max: 100000,
    doc: 'also-liked: pseudo-viewers that shrink a movie’s share of likes among a seed’s viewers to its share among all',
    search: { kind: 'log', min: 1, max: 1000 },
  }),
  lift: num(0.1, {
    min: 0,
    max: 1,
    doc: 'also-liked: divide by (share of likes)^lift; 0 keeps the estimate, higher favours less widely liked movies',
    search: { kind: 'uniform', min: 0, max: 1 },
  }),
});

export const similarStrategy = defineStrategy({
  name: 'similar',
  description: 'similar to the watched movies: by who watched them (RP3beta walk) or by content for unrated ones',
  reads: [SIMILAR, CONTENT],
  params: {
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

export const alsoLikedStrategy = defineStrategy({
  name: 'also-liked',
  description: 'liked by the viewers of the watched or liked movies, shrunk towards how widely each movie is liked',
  reads: [SIMILAR, CONTENT],
  params: { smoothing: 'similar.smoothing', lift: 'similar.lift' },
  models: [],
  uses: () => ['similar'],
  async create({ data, settings, strategy }) {
    const { AlsoLikedStrategy } = await import('../recommend/strategies/also-liked.ts');
    // A movie nobody has rated is judged by its content: `similar` serves such a history.
    return new AlsoLikedStrategy(data.interactions, data.catalogue, await strategy('similar', 'content'), {
      smoothing: settings.similar.smoothing,
      positiveRating: settings.content.positiveRating,
      lift: settings.similar.lift,
    });
  },
});
