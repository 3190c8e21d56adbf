import type { RatingPredictorParams } from '../models/rating-predictor.ts';
import { defineModel, defineRatingModel, defineStrategy, type ModelReport, type SettingsOf } from './define.ts';
import { choice, int, num, section, text } from './params.ts';

/** The neural rating predictor (user and item autoencoders + MLP) and the neural strategy. */
export const NEURAL = section('neural', 'the neural rating predictor and the neural strategy', {
  userHidden: int(128, { min: 1, max: 4096, doc: 'user autoencoder hidden width' }),
  code: int(64, { min: 1, max: 1024, doc: 'user autoencoder code size (the user vector)' }),
  itemHidden: int(64, { min: 1, max: 4096, doc: 'item autoencoder hidden width' }),
  itemCode: int(32, { min: 1, max: 1024, doc: 'item autoencoder code size' }),
  aeEpochs: int(30, { min: 1, max: 1000, doc: 'autoencoders: maximum epochs (early stopping)' }),
  aeLr: num(0.001, { exclusiveMin: 0, max: 1, doc: 'autoencoders: Adam learning rate' }),
  aeDropout: num(0.5, { min: 0, exclusiveMax: 1, doc: 'autoencoders: input dropout' }),
  itemVectors: choice(
    ['ae', 'content', 'both'],
    'both',
    'movie vector: item autoencoder code, genres and year, or both',
  ),
  hidden: int(64, { min: 1, max: 4096, doc: 'MLP first hidden width' }),
  hidden2: int(32, { min: 0, max: 4096, doc: 'MLP second hidden width (0: one hidden layer)' }),
  epochs: int(15, { min: 1, max: 1000, doc: 'MLP maximum epochs' }),
  lr: num(0.002, { exclusiveMin: 0, max: 1, doc: 'MLP Adam learning rate' }),
  crossFolds: int(5, {
    min: 2,
    max: 20,
    doc: 'cross-fitting parts: the MLP trains on codes computed without its rating',
  }),
  candidates: text('ease', 'neural strategy: re-rank the top `pool` of this strategy, or all'),
  pool: int(10, { min: 1, max: 100000, doc: 'neural strategy: how many candidates are re-ranked' }),
  seed: int(1, { min: 0, doc: 'random seed' }),
});

/** The predictor's parameters from the `neural` section. */
export async function predictorParams(n: SettingsOf<[typeof NEURAL]>['neural']): Promise<RatingPredictorParams> {
  const { RATING_PREDICTOR_DEFAULTS } = await import('../models/rating-predictor.ts');
  const { AUTOENCODER_DEFAULTS } = await import('../models/user-autoencoder.ts');
  const ae = { ...AUTOENCODER_DEFAULTS, epochs: n.aeEpochs, lr: n.aeLr, inputDropout: n.aeDropout, seed: n.seed };
  return {
    ...RATING_PREDICTOR_DEFAULTS,
    user: { ...ae, hidden: n.userHidden, code: n.code },
    item: { ...ae, hidden: n.itemHidden, code: n.itemCode, batchSize: 128 },
    itemVectors: n.itemVectors,
    product: false,
    hidden: n.hidden,
    hidden2: n.hidden2,
    epochs: n.epochs,
    lr: n.lr,
    crossFolds: n.crossFolds,
    seed: n.seed,
  };
}

export const neuralModel = defineModel({
  name: 'neural',
  description: 'neural rating predictor: user and movie autoencoders, MLP on the bias residual',
  reads: [NEURAL],
  ignore: ['neural.candidates', 'neural.pool'],
  deps: [],
  served: true,
  module: import.meta.url,
  async fit({ data, settings, progress }) {
    const { RatingPredictor } = await import('../models/rating-predictor.ts');
    const predictor = new RatingPredictor(await predictorParams(settings.neural));
    predictor.fit(data.interactions, data.catalogue, data.scale, progress);
    return predictor;
  },
  async save(model, dir) {
    model.save(dir);
  },
  async load(dir, { data }) {
    const { RatingPredictor } = await import('../models/rating-predictor.ts');
    return RatingPredictor.load(dir, data.catalogue);
  },
  report(model): ModelReport {
    const r = model.report;
    if (!r) return { metrics: {} };
    const best = r.curve[r.bestEpoch - 1];
    return {
      metrics: {
        ...(best ? { trainRmse: best.trainRmse, validationRmse: best.validationRmse } : {}),
        bestEpoch: r.bestEpoch,
        seconds: r.seconds,
      },
      curves: {
        trainRmse: r.curve.map((e) => ({ step: e.epoch, value: e.trainRmse })),
        validationRmse: r.curve
          .filter((e) => Number.isFinite(e.validationRmse))
          .map((e) => ({ step: e.epoch, value: e.validationRmse })),
      },
    };
  },
});

const NEURAL_PARAMS = {
  userHidden: 'neural.userHidden',
  code: 'neural.code',
  itemHidden: 'neural.itemHidden',
  itemCode: 'neural.itemCode',
  aeEpochs: 'neural.aeEpochs',
  aeLr: 'neural.aeLr',
  aeDropout: 'neural.aeDropout',
  hidden: 'neural.hidden',
  hidden2: 'neural.hidden2',
  epochs: 'neural.epochs',
  lr: 'neural.lr',
  crossFolds: 'neural.crossFolds',
  seed: 'neural.seed',
} as const;

export const neuralRating = defineRatingModel({
  name: 'neural',
  description: 'MLP over user autoencoder code ⊕ movie vector on the bias residual',
  reads: [],
  params: NEURAL_PARAMS,
  model: 'neural',
  async create({ models }) {
    const { NeuralRatingModel } = await import('../recommend/rating-models.ts');
    return new NeuralRatingModel(await models.get('neural'));
  },
});

export const neuralStrategy = defineStrategy({
  name: 'neural',
  description: 'predicted rating (MLP over user autoencoder code ⊕ movie vector) over candidates',
  reads: [NEURAL],
  params: { ...NEURAL_PARAMS, pool: 'neural.pool' },
  models: ['neural'],
  uses: (s) => (s.neural.candidates === 'all' ? [] : [s.neural.candidates]),
  async create({ data, settings, models, strategy }) {
    const { NeuralStrategy } = await import('../recommend/strategies/neural.ts');
    const c = settings.neural.candidates;
    const candidates = c === 'all' ? null : await strategy(c, 'als');
    return new NeuralStrategy(await models.get('neural'), candidates, settings.neural.pool, data);
  },
});
