import type { AlsArrays, AlsFitReport, AlsMeta } from '../models/als.ts';
import { defineModel, defineStrategy, type ModelReport } from './define.ts';
import { choice, int, num, section } from './params.ts';

/** Implicit ALS (Hu, Koren & Volinsky 2008). */
export const ALS = section('als', 'implicit ALS user and item factors', {
  factors: int(64, { min: 1, max: 1024, doc: 'latent factors', search: { kind: 'log', min: 16, max: 256 } }),
  regularization: num(0.05, {
    exclusiveMin: 0,
    doc: 'λ added to every row system, as in implicit',
    search: { kind: 'log', min: 0.01, max: 100 },
  }),
  alpha: num(1, { min: 0, doc: 'α of the confidence c = 1 + α·w', search: { kind: 'log', min: 0.1, max: 40 } }),
  iterations: int(15, { min: 0, max: 1000, doc: 'alternating sweeps', search: { kind: 'uniform', min: 5, max: 25 } }),
  confidence: choice(
    ['binary', 'rating', 'linear'],
    'binary',
    'confidence of an interaction: binary, rating or linear',
  ),
  solver: choice(['cg', 'cholesky'], 'cg', 'conjugate gradient (as implicit) or exact Cholesky'),
  cgSteps: int(3, { min: 1, max: 100, doc: 'conjugate-gradient steps per row update' }),
  seed: int(1, { min: 0, doc: 'random seed' }),
  threads: int(0, { min: 0, max: 256, doc: 'worker threads; 0 = all cores' }),
});

const ALS_FORMAT = 'als';

export const alsModel = defineModel({
  name: 'als',
  description: 'implicit ALS user and item factors',
  reads: [ALS],
  ignore: ['als.threads'],
  deps: [],
  served: true,
  module: import.meta.url,
  async fit({ data, settings, progress }) {
    const { AlsModel } = await import('../models/als.ts');
    return AlsModel.fit(data.interactions, settings.als, progress);
  },
  async save(model, dir) {
    const { writeArtifact } = await import('../util/artifacts.ts');
    const { meta, arrays } = model.toArrays();
    writeArtifact(dir, ALS_FORMAT, meta, { userFactors: arrays.userFactors, itemFactors: arrays.itemFactors });
  },
  async load(dir) {
    const { AlsModel } = await import('../models/als.ts');
    const { readArtifact } = await import('../util/artifacts.ts');
    const a = readArtifact<AlsMeta>(dir, ALS_FORMAT);
    const arrays: AlsArrays = {
      userFactors: a.array('userFactors', 'Float32Array'),
      itemFactors: a.array('itemFactors', 'Float32Array'),
    };
    return AlsModel.fromArrays(a.meta, arrays);
  },
  report(model): ModelReport {
    const r = 'report' in model ? (model as { report: AlsFitReport }).report : null;
    if (!r) return { metrics: {} };
    const iters = r.iterations;
    return {
      metrics: { loss: iters.at(-1)?.loss ?? 0, seconds: r.seconds, threads: r.threads },
      curves: {
        loss: iters.map((it) => ({ step: it.iteration, value: it.loss })),
        seconds: iters.map((it) => ({ step: it.iteration, value: it.seconds })),
      },
    };
  },
});

export const alsStrategy = defineStrategy({
  name: 'als',
  description: 'implicit ALS; live users folded in',
  reads: [],
  params: {
    factors: 'als.factors',
    regularization: 'als.regularization',
    alpha: 'als.alpha',
    iterations: 'als.iterations',
  },
  models: ['als'],
  async create({ data, models }) {
    const { AlsStrategy } = await import('../recommend/strategies/als.ts');
    // Where the hybrid model is there (a served version), unrated movies carry its bridged factors.
    await models.optional('hybrid');
    return new AlsStrategy(await models.get('als'), data);
  },
});
