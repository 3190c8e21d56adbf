/**
 * Wire shapes of the API, taken from the server's own TypeBox schemas and pipeline types (type-only
 * imports: nothing of the server ends up in the bundle), so the page and the API cannot drift apart.
 */
import type { Static } from 'typebox';
import type * as S from '../../src/server/schemas.ts';
import type { ModelsState, RunRecord, RunSummary } from '../../src/tracking/types.ts';

export type { ModelsState, ModelVersion, RunRecord, RunSummary } from '../../src/tracking/types.ts';

/** GET /v1/runs/:id: the run and its stage runs (src/server/routes/pipeline.ts). */
export type RunDetail = RunRecord & { stages: RunSummary[] };

/** A retraining's outcome (RetrainOutcome in src/server/model-manager.ts, which the page cannot import). */
export interface RetrainOutcome {
  status: 'activated' | 'kept' | 'failed';
  version: string | null;
  message: string;
  startedAt: string;
  finishedAt: string;
}

/** GET /v1/models and the answers of activate/rollback: the versions, the active and the served one. */
export type ModelsView = ModelsState & {
  served: string | null;
  retraining: boolean;
  lastRetrain: RetrainOutcome | null;
};

export type Problem = Static<typeof S.Problem>;
export type MovieSummary = Static<typeof S.MovieSummary>;
export type MovieDetails = Static<typeof S.MovieDetails>;
export type RecommendedMovie = Static<typeof S.RecommendedMovie>;
export type PopularList = Static<typeof S.PopularList>;
export type SearchResult = Static<typeof S.SearchResult>;
export type GenreList = Static<typeof S.GenreList>;
export type StoreInfo = Static<typeof S.StoreInfo>;
export type SimilarList = Static<typeof S.SimilarList>;
export type SimilarMovie = Static<typeof S.SimilarMovie>;
export type RecommendationList = Static<typeof S.RecommendationList>;
export type RecommendationRequest = Static<typeof S.RecommendationRequest>;
export type NewMovieBody = Static<typeof S.NewMovieBody>;
export type AddedMovie = Static<typeof S.AddedMovie>;
export type MovieClusters = Static<typeof S.MovieClusters>;
export type MovieSegments = Static<typeof S.MovieSegments>;
export type MovieProjection = Static<typeof S.MovieProjection>;
export type UserView = Static<typeof S.UserView>;
export type PredictionList = Static<typeof S.PredictionList>;
export type RuleView = Static<typeof S.RuleView>;
export type EvaluationList = Static<typeof S.EvaluationList>;
export type EvaluationSummary = Static<typeof S.EvaluationSummary>;
export type EvaluationReport = Static<typeof S.EvaluationReport>;

export type UserSegmentView = Static<typeof S.UserSegmentView>;
export type UserSegments = Static<typeof S.UserSegments>;
export type MovieSegmentOf = Static<typeof S.MovieSegmentOf>;
