import { MF_DEFAULTS, MfModel, type MfParams, type MfReport } from '../models/mf.ts';
import type { RatingModel, TrainingData } from './strategy.ts';

/** Biased matrix factorisation μ + b_u + b_i + p_uᵀq_i (SGD), clipped to the rating scale. */
export class MfRatingModel implements RatingModel {
  readonly name = 'mf';
  readonly description: string;
  readonly model: MfModel;

  constructor(params: Partial<MfParams> = {}) {
    this.model = new MfModel({ ...MF_DEFAULTS, ...params });
    const p = this.model.params;
    this.description =
      `biased matrix factorisation (SGD), ${p.factors} factors, ${p.epochs} epochs` +
      (p.validation > 0 ? `, early stopping on ${Math.round(p.validation * 100)}% held out` : '');
  }

  fit(data: TrainingData): void {
    this.model.fit(data.interactions, data.scale);
  }

  predict(user: number, item: number): number {
    return this.model.predict(user, item);
  }

  /** The per-epoch train/validation RMSE curve of the last fit. */
  get report(): MfReport | null {
    return this.model.report;
  }
}
