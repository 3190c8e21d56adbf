/** The records of the data set: what the store holds and models read. Models never see SQL: they get these shapes and typed arrays. */

export interface Movie {
  movieId: number;
  /** Title as published, e.g. "Matrix, The (1999)". */
  title: string;
  /** Readable title without year and with the article in front, e.g. "The Matrix". */
  displayTitle: string;
  year: number | null;
  genres: string[];
  imdbId: string | null;
  tmdbId: number | null;
  /** 'import' for catalogue rows, 'live' for movies added while serving. */
  source: 'import' | 'live';
}

export interface Rating {
  userId: number;
  movieId: number;
  rating: number;
  /** Unix seconds. */
  timestamp: number;
}

/** Column-oriented ratings for model fitting: one entry per rating, aligned arrays. */
export interface RatingColumns {
  userId: Int32Array;
  movieId: Int32Array;
  rating: Float32Array;
  timestamp: Float64Array;
}

/**
 * Per user (ascending ids): how many ratings and a checksum of them (RATING_CHECKSUM_SQL): what a server compares
 * with its version's snapshot to find the users whose ratings changed, without reading every rating.
 */
export interface UserRatingSums {
  userId: Int32Array;
  count: Int32Array;
  checksum: Float64Array;
}

export interface MovieStats {
  movieId: Int32Array;
  count: Int32Array;
  mean: Float32Array;
  /** Mean over all ratings (not over movies). */
  globalMean: number;
  totalRatings: number;
}

export type RuleAction = 'block' | 'promote';

export interface Rule {
  movieId: number;
  action: RuleAction;
  /** Multiplier for promoted titles; 1 for blocks. */
  boost: number;
  /** ISO timestamp after which the rule no longer applies, or null for no expiry. */
  until: string | null;
  reason: string | null;
  createdAt: string;
}

export interface RatingScale {
  min: number;
  max: number;
  step: number;
}

export interface DatasetInfo {
  name: string;
  sourceDir: string;
  format: string;
  scale: RatingScale;
  importedAt: string;
  hasGenome: boolean;
}

export interface StoreCounts {
  movies: number;
  users: number;
  ratings: number;
  tags: number;
  genomeTags: number;
  /** Movies that have genome relevance scores. */
  genomeMovies: number;
}

export interface TagCount {
  tag: string;
  count: number;
}

/** Tag counts per movie (users' free tags and operators' curated tags), tags lower-cased and trimmed. */
export interface MovieTagCounts {
  movieId: Int32Array;
  tag: string[];
  count: Int32Array;
}

export interface GenomeTag {
  tagId: number;
  tag: string;
}

/** Tag-genome relevance, one entry per (movie, tag), sorted by movie then tag. */
export interface GenomeColumns {
  movieId: Int32Array;
  tagId: Int32Array;
  relevance: Float32Array;
}

/** A movie added while serving, with what its content vector is built from. */
export interface NewMovie {
  movie: Omit<Movie, 'source'>;
  tags: string[];
  genome: { tagId: number; relevance: number }[];
}

export interface RatingBucket {
  rating: number;
  count: number;
}

/** Store contract: catalogue, ratings, users, rules, runs. A PostgreSQL backend implements the same. */
