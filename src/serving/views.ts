import type { SharedContent } from '../models/content-index.ts';
import type { UserSegmentOverview as Overview, ViewerSegment } from '../models/user-segments.ts';
import type { Scenario } from '../recommend/router.ts';
import type { RatedMovie } from '../recommend/strategy.ts';
import type { DatasetInfo, Movie, RatingBucket, Rule, RuleAction, StoreCounts, TagCount } from '../store/types.ts';

/** What the services answer: the shapes the CLI prints and the API serialises. */

export type UserSegmentOverview = Overview;

export interface MovieSummary {
  movieId: number;
  title: string;
  displayTitle: string;
  year: number | null;
  genres: string[];
}

export interface Popularity {
  score: number;
  votes: number;
  meanRating: number | null;
  /** 1-based rank in the whole catalogue by weighted rating. */
  rank: number;
}

export interface MovieDetails extends MovieSummary {
  imdbId: string | null;
  tmdbId: number | null;
  imdbUrl: string | null;
  tmdbUrl: string | null;
  topTags: TagCount[];
  popularity: Popularity;
  rule: Rule | null;
  source: Movie['source'];
  /** Content cluster (k-means over content vectors). */
  cluster: number;
}

export interface RecommendedMovie extends MovieSummary {
  score: number;
  votes: number;
  meanRating: number | null;
  promoted: boolean;
  reason?: string;
}

export interface PopularQuery {
  genres?: readonly string[];
  match?: 'any' | 'all';
  k?: number;
  exclude?: readonly number[];
}

export interface PopularList {
  strategy: 'popular';
  genres: string[];
  match: 'any' | 'all';
  /** The m and C of the weighted rating, so the scores can be checked. */
  minVotes: number;
  meanRating: number;
  items: RecommendedMovie[];
}

export interface SearchResult {
  query: string;
  total: number;
  offset: number;
  limit: number;
  items: (MovieSummary & { votes: number })[];
}

export type SimilarMethod = 'content' | 'cluster' | 'hybrid';
/** What a caller may ask for: a method, or auto (hybrid for a movie with ratings, content for one without). */
export type SimilarMethodRequest = SimilarMethod | 'auto';

export interface SimilarMovie extends MovieSummary {
  /** Cosine similarity of the content vectors (times a promotion's boost). */
  score: number;
  cluster: number;
  promoted: boolean;
  shared: SharedContent;
  reason: string;
}

export interface SimilarList {
  movie: MovieSummary & { cluster: number };
  method: SimilarMethod;
  items: SimilarMovie[];
}

export interface RecommendRequest {
  userId?: number;
  watched?: readonly number[];
  ratings?: readonly RatedMovie[];
  genres?: readonly string[];
  match?: 'any' | 'all';
  k?: number;
  exclude?: readonly number[];
  /** Override the router's choice, for comparison (a registered strategy name). */
  strategy?: string;
}

export interface RoutedList {
  scenario: Scenario | 'override';
  strategy: string;
  /** Why this scenario or strategy. */
  reason: string;
  items: RecommendedMovie[];
  warnings: string[];
}

export interface UserRatingInput {
  movieId: number;
  rating: number;
}

export interface UserView {
  userId: number;
  ratings: number;
  positive: number;
  meanRating: number | null;
  /** The router's scenario for this user now. */
  scenario: Scenario;
  /** Served from ratings added since the last training (folded in). */
  live: boolean;
  /** Taste cluster (k-means over ALS user factors; a live user is folded in and assigned), -1 without ratings. */
  cluster: number;
  history: (MovieSummary & { rating: number; timestamp: number })[];
}

export interface UserSegmentView extends ViewerSegment {
  userId: number;
  /** Changed since the last training (placed from the current ratings). */
  live: boolean;
}

export interface Prediction extends MovieSummary {
  /** Predicted rating on the data set's scale. */
  predicted: number;
  /** The user's own rating, when they rated the movie. */
  rating: number | null;
}

/** Rating predictors served by predictions(). */
export type PredictionModel = 'mf' | 'neural';

export interface PredictionList {
  userId: number;
  model: string;
  items: Prediction[];
}

export interface NewMovieInput {
  /** "Title (2026)": the year may be in the title or given separately. */
  title: string;
  year?: number | null;
  genres: readonly string[];
  tags?: readonly string[];
  /** `where` names the entry in errors, e.g. "genome.csv line 6". */
  genome?: readonly { tagId: number; relevance: number; where?: string }[];
  imdbId?: string | null;
  tmdbId?: number | null;
}

export interface AddedMovie {
  movie: MovieDetails;
  cluster: number;
  similar: SimilarMovie[];
}

export interface MovieCluster {
  cluster: number;
  size: number;
  topGenres: { genre: string; share: number }[];
  topTags: string[];
  examples: MovieSummary[];
}

export interface ClusterOverview {
  k: number;
  dimensions: number;
  inertia: number;
  silhouette: number;
  daviesBouldin: number;
  explainedVariance: number;
  /** Per feature group: output dimensions and the share of its variance kept. */
  groups: { name: string; dimensions: number; explained: number }[];
  clusters: MovieCluster[];
}

export interface StoreInfo {
  dataset: DatasetInfo | null;
  counts: StoreCounts;
  ratingHistogram: RatingBucket[];
  genomeCoverage: number;
}

export interface RuleInput {
  movieId: number;
  action: RuleAction;
  boost?: number;
  until?: string | null;
  reason?: string | null;
}

/** Scores are float32 inside; four decimals are all a reader needs and keep JSON free of float noise. */
export const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

export function summary(m: Movie): MovieSummary {
  return { movieId: m.movieId, title: m.title, displayTitle: m.displayTitle, year: m.year, genres: m.genres };
}
