import type { AlsModel } from '../models/als.ts';
import type { BiasModel } from '../models/bias.ts';
import type { ContentIndex } from '../models/content-index.ts';
import type { EaseModel } from '../models/ease.ts';
import type { HybridModel } from '../models/hybrid.ts';
import type { ItemKnnModel } from '../models/itemknn.ts';
import type { MfModel } from '../models/mf.ts';
import type { MovieSegmentation } from '../models/movie-segments.ts';
import type { MultVaeModel } from '../models/mult-vae.ts';
import type { PopularityModel } from '../models/popularity.ts';
import type { PrincipalPlane } from '../models/projection.ts';
import type { RatingPredictor } from '../models/rating-predictor.ts';
import type { Rp3BetaModel } from '../models/rp3beta.ts';
import type { SegmentScores } from '../models/segment-scores.ts';
import type { UserClusterModel } from '../models/user-clusters.ts';
import type { UserSegmentModel } from '../models/user-segments.ts';

/** Every trained model by name: what a model version holds and what strategies score with. */
export interface ModelTypes {
  popularity: PopularityModel;
  content: ContentIndex;
  projection: PrincipalPlane;
  als: AlsModel;
  ease: EaseModel;
  itemknn: ItemKnnModel;
  rp3beta: Rp3BetaModel;
  'mult-vae': MultVaeModel;
  hybrid: HybridModel;
  'user-clusters': UserClusterModel;
  'movie-segments': MovieSegmentation;
  'user-segments': UserSegmentModel;
  'segment-scores': SegmentScores;
  mf: MfModel;
  bias: BiasModel;
  neural: RatingPredictor;
}

export type ModelName = keyof ModelTypes;
