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
  UserRatingSums,
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
  UserRatingSums,
};

export interface Store {
  readonly path: string;
  close(): Promise<void>;

  dataset(): Promise<DatasetInfo | null>;
  counts(): Promise<StoreCounts>;
  ratingHistogram(): Promise<RatingBucket[]>;

  listMovies(): Promise<Movie[]>;
  /**
   * The movies with a greater id than `movieId` (by id), and how many movies the store holds in all: what a served
   * version lacks of the catalogue, when the store's movies otherwise are the version's (added ids only grow).
   */
  moviesAfter(movieId: number): Promise<{ total: number; movies: Movie[] }>;
  getMovie(movieId: number): Promise<Movie | null>;
  topTags(movieId: number, limit: number): Promise<TagCount[]>;
  movieStats(): Promise<MovieStats>;
  ratingColumns(): Promise<RatingColumns>;
  /** Per user: rating count and checksum (see data/rating-diff.ts), ascending user ids. */
  userRatingSums(): Promise<UserRatingSums>;
  /** The ratings of these users, ordered by (user, movie) as ratingColumns orders them. */
  ratingsOfUsers(userIds: Int32Array): Promise<RatingColumns>;
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

/** What a change-log row says changed; the row carries no data (a replica reads the store for that). */
export type ChangeKind = 'ratings' | 'movie' | 'rules';

export interface LoggedChange {
  id: number;
  kind: ChangeKind;
  /** The user id (ratings), the movie id (movie), or 0 (rules). */
  key: number;
}

/**
 * A store several serving processes share (PostgreSQL): a write lock across them, a change log every write
 * appends to, and a notification when it grows, so every replica applies every write.
 */
export interface SharedStore extends Store {
  /** Runs fn holding the deployment-wide write lock. */
  withWriteLock<T>(fn: () => Promise<T>): Promise<T>;
  /** Calls onNotify when the change log grows, and after every (re)connection; close() stops it. */
  listenForChanges(onNotify: () => void): Promise<{ close(): Promise<void> }>;
  /** Changes after `id`, oldest first. */
  changesSince(id: number): Promise<LoggedChange[]>;
  /** The newest change's id (0 for none). */
  lastChange(): Promise<number>;
  /** Runs fn over a read-only view of one moment of the store (a consistent training snapshot, no write lock). */
  atOneMoment<T>(fn: (view: Store) => Promise<T>): Promise<T>;
  /** A movie's curated tags and genome relevance (what places it in the content model). */
  movieContent(movieId: number): Promise<{ tags: string[]; genome: { tagId: number; relevance: number }[] }>;
}

export function isSharedStore(store: Store): store is SharedStore {
  return typeof (store as Partial<SharedStore>).changesSince === 'function';
}
