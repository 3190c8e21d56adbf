import { defineModel, defineStrategy } from './define.ts';
import { num, optionalNum, section } from './params.ts';

/** Popularity: the Bayesian weighted rating of the cold-start list. */
export const POPULARITY = section('popularity', 'the weighted rating WR = v/(v+m)·R + m/(v+m)·C', {
  minVotesQuantile: num(0.9, {
    min: 0,
    max: 1,
    doc: 'm in the weighted rating: this quantile of the vote counts of rated movies…',
  }),
  minVotes: optionalNum({ min: 0, doc: '…unless fixed here' }),
});

export const popularityModel = defineModel({
  name: 'popularity',
  description: 'Bayesian weighted rating of every movie',
  reads: [POPULARITY],
  deps: [],
  served: true,
  module: import.meta.url,
  async fit({ data, settings }) {
    const { fitPopularityFromInteractions } = await import('../models/popularity.ts');
    return fitPopularityFromInteractions(data.interactions, settings.popularity);
  },
  async save(model, dir) {
    const { savePopularity } = await import('../models/popularity.ts');
    savePopularity(dir, model);
  },
  async load(dir, { data }) {
    const { extendPopularity, loadPopularity } = await import('../models/popularity.ts');
    return extendPopularity(loadPopularity(dir), data.catalogue.size);
  },
  report: (m) => ({ metrics: { minVotes: m.m, meanRating: m.C } }),
});

export const popularStrategy = defineStrategy({
  name: 'popular',
  description: 'Bayesian weighted rating (the cold-start list)',
  reads: [],
  params: { minVotesQuantile: 'popularity.minVotesQuantile' },
  models: ['popularity'],
  async create({ data, models }) {
    const { PopularStrategy } = await import('../recommend/strategies/popular.ts');
    return new PopularStrategy(await models.get('popularity'), data.catalogue);
  },
});

export const mostPopularStrategy = defineStrategy({
  name: 'most-popular',
  description: 'number of ratings',
  reads: [],
  params: {},
  models: [],
  async create({ data }) {
    const { MostPopularStrategy } = await import('../recommend/strategies/most-popular.ts');
    return new MostPopularStrategy(data);
  },
});

export const popularGenreStrategy = defineStrategy({
  name: 'popular-genre',
  description: "most popular in the user's genres",
  reads: [],
  params: {},
  models: [],
  async create({ data }) {
    const { PopularGenreStrategy } = await import('../recommend/strategies/popular-genre.ts');
    return new PopularGenreStrategy(data);
  },
});
