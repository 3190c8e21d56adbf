import { BIAS_DEFAULTS, BiasModel, type BiasParams } from '../models/bias.ts';
import type { RatingModel, TrainingData } from './strategy.ts';

function clip(x: number, data: TrainingData | null): number {
  if (!data) return x;
  return Math.min(data.scale.max, Math.max(data.scale.min, x));
}

/** μ for everyone: the floor of rating prediction. */
export class GlobalMeanModel implements RatingModel {
  readonly name = 'global-mean';
  readonly description = 'the mean of all training ratings';
  private mu = 0;

  fit(data: TrainingData): void {
    this.mu = data.interactions.meanRating();
  }

  predict(): number {
    return this.mu;
  }
}

/** μ + b_u + b_i (Surprise's BaselineOnly), clipped to the rating scale as Surprise does. */
export class BiasRatingModel implements RatingModel {
  readonly name = 'bias';
  readonly description = 'user and item biases around the global mean (ALS, as Surprise BaselineOnly)';
  private readonly model: BiasModel;
  private data: TrainingData | null = null;

  constructor(params: Partial<BiasParams> = {}) {
    this.model = new BiasModel({ ...BIAS_DEFAULTS, ...params });
  }

  fit(data: TrainingData): void {
    this.data = data;
    this.model.fit(data.interactions);
  }

  predict(user: number, item: number): number {
    return clip(this.model.predict(user, item), this.data);
  }
}
