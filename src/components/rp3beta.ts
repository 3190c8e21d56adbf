import { defineModel, defineStrategy } from './define.ts';
import { int, num, section } from './params.ts';

/** RP3beta (Paudel et al. 2016): a popularity-penalised random walk on the rating graph. */
export const RP3BETA = section('rp3beta', 'the RP3beta graph model', {
  alpha: num(0.8, {
    exclusiveMin: 0,
    max: 4,
    doc: 'exponent of the walk’s transition probabilities',
    search: { kind: 'uniform', min: 0.3, max: 1.5 },
  }),
  beta: num(0.15, {
    min: 0,
    max: 2,
    doc: 'popularity penalty: arrival at a movie is divided by its raters^β',
    search: { kind: 'uniform', min: 0, max: 1 },
  }),
  neighbours: int(40, {
    min: 0,
    max: 100000,
    doc: 'strongest neighbours kept per movie (0: all)',
    search: { kind: 'log', min: 20, max: 2000 },
  }),
  maxWork: num(5e9, {
    exclusiveMin: 0,
    doc: 'largest fit accepted, in multiply-adds (Σ over users of ratings²); above it RP3beta is not trained',
  }),
});

export const rp3betaModel = defineModel({
  name: 'rp3beta',
  description: 'RP3beta item-item walk weights (strongest neighbours per movie)',
  reads: [RP3BETA],
  deps: [],
  served: true,
  module: import.meta.url,
  skip(data, settings) {
    // The cost is known before fitting; lazy import is not possible in a synchronous check, so count here.
    const x = data.interactions;
    let work = 0;
    for (let u = 0; u < x.nUsers; u++) work += (x.indptr[u + 1]! - x.indptr[u]!) ** 2;
    return work > settings.rp3beta.maxWork
      ? `RP3beta needs ${work.toExponential(2)} multiply-adds, above rp3beta.maxWork (${settings.rp3beta.maxWork.toExponential(2)}): not trained`
      : null;
  },
  async fit({ data, settings, progress }) {
    const { Rp3BetaModel } = await import('../models/rp3beta.ts');
    const { alpha, beta, neighbours } = settings.rp3beta;
    const model = new Rp3BetaModel({ alpha, beta, neighbours });
    model.fit(data.interactions, progress);
    return model;
  },
  async save(model, dir) {
    model.save(dir);
  },
  async load(dir, { data }) {
    const { Rp3BetaModel } = await import('../models/rp3beta.ts');
    return Rp3BetaModel.load(dir, data.interactions);
  },
  report: (m) => ({ metrics: { items: m.size, weights: m.nonZeros } }),
});

export const rp3betaStrategy = defineStrategy({
  name: 'rp3beta',
  description: 'RP3beta random walk item → viewer → item, popularity-penalised',
  reads: [],
  params: { alpha: 'rp3beta.alpha', beta: 'rp3beta.beta', neighbours: 'rp3beta.neighbours' },
  models: ['rp3beta'],
  async create({ data, models }) {
    const { Rp3BetaStrategy } = await import('../recommend/strategies/rp3beta.ts');
    return new Rp3BetaStrategy(await models.get('rp3beta'), data.catalogue);
  },
});
