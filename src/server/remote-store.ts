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
  Rule,
  Store,
  StoreCounts,
  TagCount,
  UserRatingSums,
} from '../store/types.ts';
import type { Rpc } from './ipc.ts';

/** Store methods a worker may ask the owner to run (every Store method but close). */
export const STORE_METHODS = [
  'dataset',
  'counts',
  'ratingHistogram',
  'listMovies',
  'moviesAfter',
  'getMovie',
  'topTags',
  'movieStats',
  'ratingColumns',
  'userRatingSums',
  'ratingsOfUsers',
  'movieTagCounts',
  'genomeTags',
  'genomeColumns',
  'addMovie',
  'userRatings',
  'hasUser',
  'addUser',
  'putRatings',
  'listRules',
  'putRule',
  'removeRule',
] as const;

/**
 * The store as a worker sees it: one process (the owner) holds the DuckDB file, whose lock admits only one, and
 * runs every call for the workers. Reads on request paths are point lookups; the bulk reads happen once, at load.
 */
export class RemoteStore implements Store {
  constructor(
    readonly path: string,
    private readonly rpc: Rpc,
  ) {}

  private call<T>(method: (typeof STORE_METHODS)[number], ...args: unknown[]): Promise<T> {
    return this.rpc.call<T>('store', method, args);
  }

  async close(): Promise<void> {}
  dataset = () => this.call<DatasetInfo | null>('dataset');
  counts = () => this.call<StoreCounts>('counts');
  ratingHistogram = () => this.call<RatingBucket[]>('ratingHistogram');
  listMovies = () => this.call<Movie[]>('listMovies');
  moviesAfter = (movieId: number) => this.call<{ total: number; movies: Movie[] }>('moviesAfter', movieId);
  getMovie = (movieId: number) => this.call<Movie | null>('getMovie', movieId);
  topTags = (movieId: number, limit: number) => this.call<TagCount[]>('topTags', movieId, limit);
  movieStats = () => this.call<MovieStats>('movieStats');
  ratingColumns = () => this.call<RatingColumns>('ratingColumns');
  userRatingSums = () => this.call<UserRatingSums>('userRatingSums');
  ratingsOfUsers = (userIds: Int32Array) => this.call<RatingColumns>('ratingsOfUsers', userIds);
  movieTagCounts = () => this.call<MovieTagCounts>('movieTagCounts');
  genomeTags = () => this.call<GenomeTag[]>('genomeTags');
  genomeColumns = () => this.call<GenomeColumns>('genomeColumns');
  addMovie = (input: NewMovie) => this.call<Movie>('addMovie', input);
  userRatings = (userId: number) => this.call<Rating[]>('userRatings', userId);
  hasUser = (userId: number) => this.call<boolean>('hasUser', userId);
  addUser = (ratings: readonly { movieId: number; rating: number }[], at?: Date) =>
    this.call<number>('addUser', ratings, at);
  putRatings = (userId: number, ratings: readonly { movieId: number; rating: number }[], at?: Date) =>
    this.call<void>('putRatings', userId, ratings, at);
  listRules = () => this.call<Rule[]>('listRules');
  putRule = (rule: Omit<Rule, 'createdAt'>) => this.call<Rule>('putRule', rule);
  removeRule = (movieId: number) => this.call<boolean>('removeRule', movieId);
}
