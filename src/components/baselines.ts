import { defineModel, defineRatingModel, defineStrategy } from './define.ts';
import { int, num, section } from './params.ts';

/** Evaluation baselines: the random ranking and the bias rating baseline. */
export const RANDOM = section('random', 'the random ranking (a floor for the evaluation)', {
  seed: int(1, { min: 0, doc: 'random seed' }),
});

export const BIAS = section('bias', 'the user + item bias rating baseline (Surprise BaselineOnly)', {
  regUser: num(15, { min: 0, doc: 'regularisation of the user biases' }),
  regItem: num(10, { min: 0, doc: 'regularisation of the item biases' }),
  epochs: int(10, { min: 1, max: 1000, doc: 'alternating sweeps' }),
});

export const randomStrategy = defineStrategy({
  name: 'random',
  description: 'uniformly random order',
  reads: [RANDOM],
  params: { seed: 'random.seed' },
  models: [],
  async create({ settings }) {
    const { RandomStrategy } = await import('../recommend/strategies/random.ts');
    return new RandomStrategy(settings.random.seed);
  },
});

export const biasModel = defineModel({
  name: 'bias',
  description: 'user and item biases around the global mean',
  reads: [BIAS],
  deps: [],
  served: false,
  module: import.meta.url,
  async fit({ data, settings }) {
    const { BiasModel } = await import('../models/bias.ts');
    const model = new BiasModel(settings.bias);
    model.fit(data.interactions);
    return model;
  },
  async save(model, dir) {
    model.save(dir);
  },
  async load(dir) {
    const { BiasModel } = await import('../models/bias.ts');
    return BiasModel.load(dir);
  },
});

export const globalMeanRating = defineRatingModel({
  name: 'global-mean',
  description: 'global mean rating',
  reads: [],
  params: {},
  async create({ data }) {
    const { GlobalMeanModel } = await import('../recommend/rating-models.ts');
    return new GlobalMeanModel(data.interactions.meanRating());
  },
});

export const biasRating = defineRatingModel({
  name: 'bias',
  description: 'user + item biases (Surprise BaselineOnly)',
  reads: [],
  params: { regUser: 'bias.regUser', regItem: 'bias.regItem', epochs: 'bias.epochs' },
  model: 'bias',
  async create({ data, models }) {
    const { BiasRatingModel } = await import('../recommend/rating-models.ts');
    return new BiasRatingModel(await models.get('bias'), data.scale);
  },
});
