import { defineModel, defineStrategy } from './define.ts';
import { int, num, section } from './params.ts';

/** EASE (Steck 2019): the closed-form item-item model. */
export const EASE = section('ease', 'the EASE item-item model', {
  lambda: num(300, { exclusiveMin: 0, doc: 'L2 regularisation λ', search: { kind: 'log', min: 10, max: 5000 } }),
  maxDense: int(20000, {
    min: 1,
    doc: 'largest dense solve (min of users and items); above it EASE is not trained and the router uses ALS',
  }),
});

export const easeModel = defineModel({
  name: 'ease',
  description: 'EASE item-item weights (dual form: a users × users inverse)',
  reads: [EASE],
  deps: [],
  served: true,
  module: import.meta.url,
  skip(data, settings) {
    const { nUsers, nItems } = data.interactions;
    const dim = Math.min(nUsers, nItems);
    return dim > settings.ease.maxDense
      ? `EASE needs a dense ${dim}×${dim} solve, above ease.maxDense (${settings.ease.maxDense}): not trained; the router uses ALS`
      : null;
  },
  async fit({ data, settings }) {
    const { EaseModel } = await import('../models/ease.ts');
    const model = new EaseModel(settings.ease);
    model.fit(data.interactions);
    return model;
  },
  async save(model, dir) {
    model.save(dir);
  },
  async load(dir, { data }) {
    const { EaseModel } = await import('../models/ease.ts');
    return EaseModel.load(dir, data.interactions);
  },
});

export const easeStrategy = defineStrategy({
  name: 'ease',
  description: 'EASE closed-form item-item model',
  reads: [],
  params: { lambda: 'ease.lambda', maxDense: 'ease.maxDense' },
  models: ['ease'],
  async create({ data, models }) {
    const { EaseStrategy } = await import('../recommend/strategies/neighbours.ts');
    return new EaseStrategy(await models.get('ease'), data.catalogue);
  },
});

export const itemKnnModel = defineModel({
  name: 'itemknn',
  description: 'item kNN (cosine over binary interactions, all neighbours)',
  reads: [],
  deps: [],
  served: true,
  module: import.meta.url,
  async fit({ data }) {
    const { ItemKnnModel } = await import('../models/itemknn.ts');
    const model = new ItemKnnModel();
    model.fit(data.interactions);
    return model;
  },
  async save(model, dir) {
    model.save(dir);
  },
  async load(dir, { data }) {
    const { ItemKnnModel } = await import('../models/itemknn.ts');
    return ItemKnnModel.load(dir, data.interactions);
  },
});

export const itemKnnStrategy = defineStrategy({
  name: 'itemknn',
  description: 'item kNN, cosine, all neighbours',
  reads: [],
  params: {},
  models: ['itemknn'],
  async create({ data, models }) {
    const { ItemKnnStrategy } = await import('../recommend/strategies/neighbours.ts');
    return new ItemKnnStrategy(await models.get('itemknn'), data.catalogue);
  },
});
