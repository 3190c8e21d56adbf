/**
 * Versioned schema. Each migration runs once, in order, inside a transaction; the applied
 * versions are recorded in schema_migrations so an older store is upgraded on open.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'catalogue, ratings, users, tags, genome, rules, runs, meta',
    sql: [
      `CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
      `CREATE TABLE movies (
        movie_id INTEGER PRIMARY KEY,
        title VARCHAR NOT NULL,
        display_title VARCHAR NOT NULL,
        year INTEGER,
        genres VARCHAR[] NOT NULL,
        imdb_id VARCHAR,
        tmdb_id INTEGER,
        source VARCHAR NOT NULL DEFAULT 'import',
        added_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE users (
        user_id INTEGER PRIMARY KEY,
        gender VARCHAR,
        age INTEGER,
        occupation VARCHAR,
        zip VARCHAR,
        source VARCHAR NOT NULL DEFAULT 'import',
        added_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`,
      // No primary key on purpose: an index over 25-32 M rows costs more at bulk load than it
      // saves; rows are stored sorted by (user_id, movie_id) so zone maps make user lookups cheap.
      `CREATE TABLE ratings (user_id INTEGER NOT NULL, movie_id INTEGER NOT NULL, rating FLOAT NOT NULL, ts BIGINT NOT NULL)`,
      `CREATE TABLE tags (user_id INTEGER NOT NULL, movie_id INTEGER NOT NULL, tag VARCHAR NOT NULL, ts BIGINT)`,
      `CREATE TABLE genome_tags (tag_id INTEGER PRIMARY KEY, tag VARCHAR NOT NULL)`,
      `CREATE TABLE genome_scores (movie_id INTEGER NOT NULL, tag_id INTEGER NOT NULL, relevance FLOAT NOT NULL)`,
      `CREATE TABLE rules (
        movie_id INTEGER PRIMARY KEY,
        action VARCHAR NOT NULL CHECK (action IN ('block', 'promote')),
        boost DOUBLE NOT NULL DEFAULT 1,
        until TIMESTAMPTZ,
        reason VARCHAR,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE runs (
        run_id VARCHAR PRIMARY KEY,
        kind VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        params JSON,
        metrics JSON,
        error VARCHAR,
        started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        finished_at TIMESTAMPTZ
      )`,
    ],
  },
  {
    version: 2,
    description: 'tags given by operators to movies added while serving',
    sql: [
      `CREATE TABLE curated_tags (movie_id INTEGER NOT NULL, tag VARCHAR NOT NULL, added_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
    ],
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
