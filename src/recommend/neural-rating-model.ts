import type { Config } from '../config/config.ts';
import { RATING_PREDICTOR_DEFAULTS, RatingPredictor, type RatingPredictorParams } from '../models/rating-predictor.ts';
import { AUTOENCODER_DEFAULTS } from '../models/user-autoencoder.ts';
import type { Params } from './registry.ts';
import type { RatingModel, TrainingData } from './strategy.ts';

export type NeuralSettings = Config['neural'];

/** Tunable numbers of the neural predictor (registry parameters), defaults from the `neural` config section. */
export function neuralParams(c: NeuralSettings): Params {
  return {
    userHidden: c.userHidden,
    code: c.code,
    itemHidden: c.itemHidden,
    itemCode: c.itemCode,
    aeEpochs: c.aeEpochs,
    aeLr: c.aeLr,
    aeDropout: c.aeDropout,
    hidden: c.hidden,
    hidden2: c.hidden2,
    epochs: c.epochs,
    lr: c.lr,
    crossFolds: c.crossFolds,
    seed: c.seed,
  };
}

/** The predictor's full parameters from the config section, overridden by registry parameters. */
export function predictorParams(c: NeuralSettings, p: Params = {}): RatingPredictorParams {
  const n = { ...neuralParams(c), ...p } as Record<string, number>;
  const ae = {
    ...AUTOENCODER_DEFAULTS,
    epochs: n.aeEpochs!,
    lr: n.aeLr!,
    inputDropout: n.aeDropout!,
    seed: n.seed!,
  };
  return {
    ...RATING_PREDICTOR_DEFAULTS,
    user: { ...ae, hidden: n.userHidden!, code: n.code! },
    item: { ...ae, hidden: n.itemHidden!, code: n.itemCode!, batchSize: 128 },
    itemVectors: c.itemVectors,
    product: false,
    hidden: n.hidden!,
    hidden2: n.hidden2!,
    epochs: n.epochs!,
    lr: n.lr!,
    crossFolds: n.crossFolds!,
    seed: n.seed!,
  };
}

/**
 * The neural rating predictor as a RatingModel: an MLP over [user autoencoder code ⊕ movie vector]
 * on the residual of the bias baseline (see models/rating-predictor.ts). Fitted on the training ratings
 * only, so held-out ratings never reach a user or movie vector.
 */
export class NeuralRatingModel implements RatingModel {
  readonly name = 'neural';
  readonly description: string;
  readonly predictor: RatingPredictor;

  constructor(params: RatingPredictorParams) {
    this.predictor = new RatingPredictor(params);
    const p = this.predictor.params;
    this.description =
      `MLP over user autoencoder code (${p.user.code}) ⊕ movie ${p.itemVectors === 'ae' ? `autoencoder code (${p.item.code})` : p.itemVectors === 'content' ? 'genres and year' : `autoencoder code (${p.item.code}), genres and year`}` +
      `, ${p.hidden}${p.hidden2 > 0 ? `-${p.hidden2}` : ''} hidden, residual of the bias baseline`;
  }

  fit(data: TrainingData): void {
    this.predictor.fit(data.interactions, data.catalogue, data.scale);
  }

  predict(user: number, item: number): number {
    return this.predictor.predict(user, item);
  }
}
