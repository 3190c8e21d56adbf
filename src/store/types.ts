/** The store contract: whatever holds the data (an embedded DuckDB file today) answers in these records. */
import type {
  DatasetInfo,
  GenomeColumns,
  GenomeTag,
  Movie,
  MovieStats,
  MovieTagCounts,
  NewMovie,
  Rating,
  RatingBucket,
  RatingColumns,
  RatingScale,
  Rule,
  RuleAction,
  StoreCounts,
  TagCount,
} from '../data/records.ts';

export type {
  DatasetInfo,
  GenomeColumns,
  GenomeTag,
  Movie,
  MovieStats,
  MovieTagCounts,
  NewMovie,
  Rating,
  RatingBucket,
  RatingColumns,
  RatingScale,
  Rule,
  RuleAction,
  StoreCounts,
  TagCount,
};

export interface Store {
  readonly path: string;
  close(): Promise<void>;

  dataset(): Promise<DatasetInfo | null>;
  counts(): Promise<StoreCounts>;
  ratingHistogram(): Promise<RatingBucket[]>;

  listMovies(): Promise<Movie[]>;
  getMovie(movieId: number): Promise<Movie | null>;
  topTags(movieId: number, limit: number): Promise<TagCount[]>;
  movieStats(): Promise<MovieStats>;
  ratingColumns(): Promise<RatingColumns>;
  movieTagCounts(): Promise<MovieTagCounts>;
  genomeTags(): Promise<GenomeTag[]>;
  genomeColumns(): Promise<GenomeColumns>;
  /** Adds a live movie with its tags and genome relevance in one transaction. */
  addMovie(input: NewMovie): Promise<Movie>;

  /** A user's ratings, by movie id. */
  userRatings(userId: number): Promise<Rating[]>;
  /** Whether the user exists (rated, tagged, or listed). */
  hasUser(userId: number): Promise<boolean>;
  /** Creates a live user (next free id) with ratings, in one transaction; returns the id. */
  addUser(ratings: readonly { movieId: number; rating: number }[], at?: Date): Promise<number>;
  /** Adds or replaces ratings of an existing user, in one transaction. */
  putRatings(userId: number, ratings: readonly { movieId: number; rating: number }[], at?: Date): Promise<void>;

  listRules(): Promise<Rule[]>;
  putRule(rule: Omit<Rule, 'createdAt'>): Promise<Rule>;
  /** Returns false when there was no rule for the movie. */
  removeRule(movieId: number): Promise<boolean>;
}
