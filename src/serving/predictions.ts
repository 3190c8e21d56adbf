import { ValidationError } from '../util/errors.ts';
import { requireMovies } from './checks.ts';
import type { Served } from './served.ts';
import { type PredictionList, type PredictionModel, round4, summary } from './views.ts';

const MODELS: readonly PredictionModel[] = ['mf', 'neural'];

/**
 * Predicted ratings from the trained predictors: `mf` (default: the lower measured RMSE) or `neural`. With mf, a
 * user created or changed since training is predicted from the trained biases only (μ + b_i and any trained b_u);
 * with neural, such a user is encoded from their current ratings at once (one autoencoder forward pass).
 */
export class PredictionService {
  constructor(private readonly served: Served) {}

  async predictions(
    userId: number,
    movieIds: readonly number[],
    which: PredictionModel = 'mf',
  ): Promise<PredictionList> {
    if (!MODELS.includes(which))
      throw new ValidationError(`model must be ${MODELS.join(' or ')}, not "${String(which)}"`, 'model');
    const { served } = this;
    served.requireUser(userId);
    requireMovies(served.catalogue, movieIds, 'movies');
    const history = served.historyOf(userId);
    const live = served.live.has(userId);
    const u = live ? -1 : served.data.interactions.userOf(userId);
    let predict: (index: number) => number;
    if (which === 'neural') {
      const predictor = await served.models.get('neural');
      const user = (live ? null : predictor.trainedUser(u)) ?? predictor.userVector(history.items, history.ratings);
      predict = (i) => predictor.predictFor(user, i);
    } else {
      const model = await served.models.get('mf');
      predict = (i) => model.predict(u, i);
    }
    return {
      userId,
      model: which,
      items: movieIds.map((id) => {
        const i = served.catalogue.indexOf(id);
        const k = history.items.indexOf(i);
        return {
          ...summary(served.catalogue.movies[i]!),
          predicted: round4(predict(i)),
          rating: k >= 0 ? history.ratings[k]! : null,
        };
      }),
    };
  }
}
