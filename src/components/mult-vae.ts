import { defineModel, defineStrategy, type ModelReport } from './define.ts';
import { int, num, section } from './params.ts';

/** Mult-VAE (Liang et al. 2018): a variational autoencoder over binary user rows, multinomial likelihood. */
export const MULT_VAE = section('multVae', 'the Mult-VAE variational autoencoder (evaluation only, not served)', {
  latent: int(200, { min: 1, max: 4096, doc: 'size of the latent code z' }),
  hidden: int(600, { min: 1, max: 8192, doc: 'width of the encoder’s and the decoder’s hidden layer' }),
  epochs: int(40, {
    min: 1,
    max: 10000,
    doc: 'passes over the users (about 1.3 s each on ml-latest-small)',
    search: { kind: 'uniform', min: 20, max: 60 },
  }),
  batch: int(64, { min: 1, max: 100000, doc: 'users per update' }),
  lr: num(0.001, {
    exclusiveMin: 0,
    max: 1,
    doc: 'Adam learning rate',
    search: { kind: 'log', min: 0.0003, max: 0.003 },
  }),
  betaMax: num(0.2, {
    min: 0,
    max: 10,
    doc: 'largest weight of the KL term (reached after annealSteps updates)',
    search: { kind: 'uniform', min: 0.05, max: 0.5 },
  }),
  annealSteps: int(300, {
    min: 0,
    doc: 'updates over which the KL weight rises linearly from 0 to betaMax (0: betaMax throughout)',
  }),
  dropout: num(0.5, {
    min: 0,
    exclusiveMax: 1,
    doc: 'probability that an input movie is hidden from the encoder in training',
    search: { kind: 'uniform', min: 0.3, max: 0.7 },
  }),
  weightDecay: num(0, { min: 0, doc: 'decoupled (AdamW) weight decay of the weights' }),
  seed: int(1, { min: 0, doc: 'random seed (initialisation, user order, dropout, sampling)' }),
});

export const multVaeModel = defineModel({
  name: 'mult-vae',
  description: 'Mult-VAE: variational autoencoder over binary user rows (multinomial likelihood)',
  reads: [MULT_VAE],
  deps: [],
  // Evaluation only: minutes of training on larger data, so `cinerec train` does not fit it.
  served: false,
  module: import.meta.url,
  async fit({ data, settings, progress }) {
    const { MultVaeModel } = await import('../models/mult-vae.ts');
    const s = settings.multVae;
    const model = new MultVaeModel({
      latent: s.latent,
      hidden: s.hidden,
      epochs: s.epochs,
      batchSize: s.batch,
      lr: s.lr,
      betaMax: s.betaMax,
      annealSteps: s.annealSteps,
      dropout: s.dropout,
      weightDecay: s.weightDecay,
      seed: s.seed,
    });
    progress.start(s.epochs, 'Mult-VAE epochs');
    model.fit(data.interactions, (epoch) => progress.update(epoch));
    progress.stop();
    return model;
  },
  async save(model, dir) {
    model.save(dir);
  },
  async load(dir) {
    const { MultVaeModel } = await import('../models/mult-vae.ts');
    return MultVaeModel.load(dir);
  },
  report(model): ModelReport {
    const r = model.report;
    if (!r) return { metrics: {} };
    const last = r.curve.at(-1);
    return {
      metrics: { ...(last ? { nll: last.nll, kl: last.kl } : {}), steps: r.steps, seconds: r.seconds },
      curves: {
        nll: r.curve.map((e) => ({ step: e.epoch, value: e.nll })),
        kl: r.curve.map((e) => ({ step: e.epoch, value: e.kl })),
      },
    };
  },
});

export const multVaeStrategy = defineStrategy({
  name: 'mult-vae',
  description:
    'Mult-VAE: variational autoencoder over the viewer’s movies (evaluation only: model versions do not hold it)',
  reads: [],
  params: {
    latent: 'multVae.latent',
    hidden: 'multVae.hidden',
    epochs: 'multVae.epochs',
    batch: 'multVae.batch',
    lr: 'multVae.lr',
    betaMax: 'multVae.betaMax',
    annealSteps: 'multVae.annealSteps',
    dropout: 'multVae.dropout',
    weightDecay: 'multVae.weightDecay',
    seed: 'multVae.seed',
  },
  models: ['mult-vae'],
  async create({ models }) {
    const { MultVaeStrategy } = await import('../recommend/strategies/mult-vae.ts');
    return new MultVaeStrategy(await models.get('mult-vae'));
  },
});
