/**
 * The PostgreSQL schema, versioned: each migration runs once, in order, in a transaction, recorded in
 * schema_migrations, so a database made by an older cinerec is upgraded when a newer one connects. The tables are
 * the embedded store's, plus what several processes sharing one database need: a change log read through
 * LISTEN/NOTIFY, the active model version, and training jobs.
 */
export interface PgMigration {
  version: number;
  description: string;
  sql: string[];
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    description: 'catalogue, ratings, users, tags, genome, rules, meta; change log, model state, jobs',
    sql: [
      `CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)`,
      `CREATE TABLE movies (
        movie_id integer PRIMARY KEY,
        title text NOT NULL,
        display_title text NOT NULL,
        year integer,
        genres text[] NOT NULL,
        imdb_id text,
        tmdb_id integer,
        source text NOT NULL DEFAULT 'import',
        added_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE users (
        user_id integer PRIMARY KEY,
        gender text,
        age integer,
        occupation text,
        zip text,
        source text NOT NULL DEFAULT 'import',
        added_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE ratings (user_id integer NOT NULL, movie_id integer NOT NULL, rating real NOT NULL, ts bigint NOT NULL,
        PRIMARY KEY (user_id, movie_id))`,
      `CREATE TABLE tags (user_id integer NOT NULL, movie_id integer NOT NULL, tag text NOT NULL, ts bigint)`,
      `CREATE INDEX tags_movie ON tags (movie_id)`,
      `CREATE TABLE curated_tags (movie_id integer NOT NULL, tag text NOT NULL, added_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TABLE genome_tags (tag_id integer PRIMARY KEY, tag text NOT NULL)`,
      `CREATE TABLE genome_scores (movie_id integer NOT NULL, tag_id integer NOT NULL, relevance real NOT NULL,
        PRIMARY KEY (movie_id, tag_id))`,
      `CREATE TABLE rules (
        movie_id integer PRIMARY KEY,
        action text NOT NULL CHECK (action IN ('block', 'promote')),
        boost double precision NOT NULL DEFAULT 1,
        until timestamptz,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      // Every write appends here in its own transaction and notifies cinerec_changes: replicas apply what they
      // have not seen, in order, and after a reconnect read from the last id they applied.
      `CREATE TABLE changes (id bigserial PRIMARY KEY, kind text NOT NULL, key bigint NOT NULL,
        at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TABLE model_state (id integer PRIMARY KEY CHECK (id = 1), active text, history text[] NOT NULL DEFAULT '{}',
        activated_at timestamptz)`,
      `INSERT INTO model_state (id) VALUES (1)`,
      `CREATE TABLE jobs (id bigserial PRIMARY KEY, kind text NOT NULL, state text NOT NULL DEFAULT 'queued',
        requested_at timestamptz NOT NULL DEFAULT now(), started_at timestamptz, finished_at timestamptz,
        outcome jsonb)`,
    ],
  },
];

/** Advisory lock keys (one 64-bit space per database). */
export const LOCKS = {
  /** Writes: validation, the store write and its change record, one at a time across replicas. */
  writes: 4_216_001,
  /** Training: exactly one at a time across the deployment. */
  training: 4_216_002,
  /** Migrations: one process upgrades the schema, the others wait. */
  migrations: 4_216_003,
} as const;
