import type { BiasModel } from '../models/bias.ts';
import type { MfModel } from '../models/mf.ts';
import type { RatingPredictor } from '../models/rating-predictor.ts';
import type { RatingScale } from '../store/types.ts';
import type { RatingModel } from './strategy.ts';

/** Rating predictors over trained models (RMSE/MAE in the evaluation, predictions served). */

/** μ for everyone: the floor of rating prediction. */
export class GlobalMeanModel implements RatingModel {
  readonly name = 'global-mean';
  readonly description = 'the mean of all training ratings';

  constructor(private readonly mu: number) {}

  predict(): number {
    return this.mu;
  }
}

/** μ + b_u + b_i (Surprise's BaselineOnly), clipped to the rating scale as Surprise does. */
export class BiasRatingModel implements RatingModel {
  readonly name = 'bias';
  readonly description = 'user and item biases around the global mean (ALS, as Surprise BaselineOnly)';

  constructor(
    private readonly model: BiasModel,
    private readonly scale: RatingScale,
  ) {}

  predict(user: number, item: number): number {
    return Math.min(this.scale.max, Math.max(this.scale.min, this.model.predict(user, item)));
  }
}

/** Biased matrix factorisation μ + b_u + b_i + p_uᵀq_i (SGD), clipped to the rating scale. */
export class MfRatingModel implements RatingModel {
  readonly name = 'mf';
  readonly description: string;

  constructor(readonly model: MfModel) {
    const p = model.params;
    this.description =
      `biased matrix factorisation (SGD), ${p.factors} factors, ${p.epochs} epochs` +
      (p.validation > 0 ? `, early stopping on ${Math.round(p.validation * 100)}% held out` : '');
  }

  predict(user: number, item: number): number {
    return this.model.predict(user, item);
  }
}

/**
 * The neural rating predictor: an MLP over [user autoencoder code ⊕ movie vector] on the residual of the bias
 * baseline (models/rating-predictor.ts), fitted on the training ratings only.
 */
export class NeuralRatingModel implements RatingModel {
  readonly name = 'neural';
  readonly description: string;

  constructor(readonly predictor: RatingPredictor) {
    const p = predictor.params;
    this.description =
      `MLP over user autoencoder code (${p.user.code}) ⊕ movie ${p.itemVectors === 'ae' ? `autoencoder code (${p.item.code})` : p.itemVectors === 'content' ? 'genres and year' : `autoencoder code (${p.item.code}), genres and year`}` +
      `, ${p.hidden}${p.hidden2 > 0 ? `-${p.hidden2}` : ''} hidden, residual of the bias baseline`;
  }

  predict(user: number, item: number): number {
    return this.predictor.predict(user, item);
  }
}
