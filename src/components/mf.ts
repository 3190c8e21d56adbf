import { defineModel, defineRatingModel, type ModelReport } from './define.ts';
import { int, num, section } from './params.ts';

/** Biased matrix factorisation μ + b_u + b_i + p_uᵀq_i (SGD): the default rating predictor. */
export const MF = section('mf', 'the biased matrix factorisation rating predictor', {
  factors: int(100, { min: 1, max: 1024, doc: 'latent dimensions', search: { kind: 'log', min: 8, max: 256 } }),
  epochs: int(40, { min: 1, max: 10000, doc: 'maximum SGD passes' }),
  lr: num(0.01, { exclusiveMin: 0, max: 1, doc: 'learning rate', search: { kind: 'log', min: 0.001, max: 0.05 } }),
  reg: num(0.06, { min: 0, doc: 'L2 regularisation of the factors', search: { kind: 'log', min: 0.005, max: 0.2 } }),
  regBias: num(0.02, { min: 0, doc: 'L2 regularisation of the biases' }),
  lrDecay: num(1, { exclusiveMin: 0, max: 1, doc: 'learning rate multiplier after every epoch' }),
  initStd: num(0.05, { min: 0, doc: 'standard deviation of the factor initialisation' }),
  initBiases: int(0, { min: 0, max: 1, doc: '1: start the biases from the bias baseline' }),
  validation: num(0, { min: 0, max: 0.5, doc: 'share held out for early stopping (0: off)' }),
  patience: int(5, { min: 1, doc: 'epochs without a better validation RMSE before stopping' }),
  validationAbove: int(2_000_000, {
    min: 0,
    doc: 'above this many ratings, stop early on a 200 k-rating validation sample even when validation is 0 (0: never)',
  }),
  epochSample: int(4_000_000, {
    min: 0,
    doc: 'above this many training ratings, each epoch is a fresh seeded draw of this many (0: all, every epoch)',
  }),
  seed: int(1, { min: 0, doc: 'random seed' }),
});

export const mfModel = defineModel({
  name: 'mf',
  description: 'biased matrix factorisation (SGD), the default rating predictor',
  reads: [MF],
  deps: [],
  served: true,
  module: import.meta.url,
  async fit({ data, settings, progress }) {
    const { MfModel } = await import('../models/mf.ts');
    const model = new MfModel(settings.mf);
    model.fit(data.interactions, data.scale, progress);
    return model;
  },
  async save(model, dir) {
    model.save(dir);
  },
  async load(dir) {
    const { MfModel } = await import('../models/mf.ts');
    return MfModel.load(dir);
  },
  report(model): ModelReport {
    const r = model.report;
    if (!r) return { metrics: {} };
    const best = r.curve[r.bestEpoch - 1];
    const validated = r.curve.filter((e) => Number.isFinite(e.validationRmse));
    return {
      metrics: {
        trainRmse: best?.trainRmse ?? 0,
        ...(best && Number.isFinite(best.validationRmse) ? { validationRmse: best.validationRmse } : {}),
        bestEpoch: r.bestEpoch,
        seconds: r.seconds,
      },
      curves: {
        trainRmse: r.curve.map((e) => ({ step: e.epoch, value: e.trainRmse })),
        ...(validated.length
          ? { validationRmse: validated.map((e) => ({ step: e.epoch, value: e.validationRmse })) }
          : {}),
      },
    };
  },
});

export const mfRating = defineRatingModel({
  name: 'mf',
  description: 'biased matrix factorisation μ + b_u + b_i + p_uᵀq_i (SGD)',
  reads: [],
  params: { factors: 'mf.factors', epochs: 'mf.epochs', lr: 'mf.lr', reg: 'mf.reg', regBias: 'mf.regBias' },
  model: 'mf',
  async create({ models }) {
    const { MfRatingModel } = await import('../recommend/rating-models.ts');
    return new MfRatingModel(await models.get('mf'));
  },
});
