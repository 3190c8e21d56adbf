import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { ImportPlan } from '../../data/formats.ts';
import { RATING_CHECKSUM_SQL } from '../../data/rating-diff.ts';
import { Mutex } from '../../util/mutex.ts';
import type { ImportingStore, ImportOptions, ImportReport } from '../import-types.ts';
import { MOVIE_COLUMNS, type MovieRow, type RuleRow, toMovie, toRule } from '../rows.ts';
import type {
  ChangeKind,
  DatasetInfo,
  GenomeColumns,
  GenomeTag,
  LoggedChange,
  Movie,
  MovieStats,
  MovieTagCounts,
  NewMovie,
  Rating,
  RatingBucket,
  RatingColumns,
  Rule,
  SharedStore,
  StoreCounts,
  TagCount,
  UserRatingSums,
} from '../types.ts';
import { readBinaryCopy } from './binary-copy.ts';
import { LOCKS, PG_MIGRATIONS } from './schema.ts';

/**
 * The store on PostgreSQL: the production store, shared by several API replicas and one trainer. Same contract as
 * the embedded DuckDB store; every write also appends to the change log in its own transaction and notifies
 * `cinerec_changes`, so every replica applies every write (see follower.ts in serving/).
 */

/** The URL without its password: what logs and messages show. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

export class PostgresStore implements ImportingStore, SharedStore {
  private readonly localWrites = new Mutex();

  private constructor(
    readonly url: string,
    readonly pool: pg.Pool,
    /** A view's connection, inside one REPEATABLE READ transaction: every read sees the same moment. */
    private readonly pinned: pg.PoolClient | null = null,
  ) {}

  /** Where reads go: the pool, or a view's pinned transaction. */
  private get db(): Pick<pg.ClientBase, 'query'> {
    return this.pinned ?? this.pool;
  }

  /**
   * Runs fn over a read-only view of one moment of the database (a REPEATABLE READ transaction): a training
   * snapshot is consistent without holding the write lock while it is read.
   */
  atOneMoment<T>(fn: (view: PostgresStore) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', (c) =>
      fn(new PostgresStore(this.url, this.pool, c)),
    );
  }

  /** What messages name: the database, without credentials. */
  get path(): string {
    return redactUrl(this.url);
  }

  static async open(url: string): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: 6 });
    // An idle client that loses its server must not take the process down: the next query reconnects.
    pool.on('error', () => {});
    const store = new PostgresStore(url, pool);
    try {
      await store.migrate();
    } catch (err) {
      await pool.end();
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`cannot open the store ${redactUrl(url)}: ${message}`);
    }
    return store;
  }

  /** Runs fn in a transaction on one connection; any error rolls it back. */
  transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN', fn);
  }

  private async inTransaction<T>(begin: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query(begin);
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  private async migrate(): Promise<void> {
    await this.transaction(async (c) => {
      // One process upgrades; the others wait here and then find nothing to do.
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.migrations]);
      await c.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, description text, applied_at timestamptz DEFAULT now())',
      );
      const applied = new Set(
        (await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
      );
      for (const m of PG_MIGRATIONS) {
        if (applied.has(m.version)) continue;
        for (const sql of m.sql) await c.query(sql);
        await c.query('INSERT INTO schema_migrations (version, description) VALUES ($1, $2)', [
          m.version,
          m.description,
        ]);
      }
    });
  }

  async schemaVersion(): Promise<number> {
    const r = await this.db.query<{ v: number }>('SELECT max(version) AS v FROM schema_migrations');
    return Number(r.rows[0]?.v ?? 0);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async importDataset(plan: ImportPlan, options?: ImportOptions): Promise<ImportReport> {
    const { importIntoPostgres } = await import('./import.ts');
    return importIntoPostgres(this, plan, options);
  }

  async dataset(): Promise<DatasetInfo | null> {
    const rows = (
      await this.db.query<{ key: string; value: string }>("SELECT key, value FROM meta WHERE key LIKE 'dataset.%'")
    ).rows;
    const m = new Map(rows.map((r) => [r.key, r.value]));
    const name = m.get('dataset.name');
    if (!name) return null;
    return {
      name,
      sourceDir: m.get('dataset.dir') ?? '',
      format: m.get('dataset.format') ?? '',
      scale: JSON.parse(m.get('dataset.scale') ?? '{"min":0.5,"max":5,"step":0.5}'),
      importedAt: m.get('dataset.imported_at') ?? '',
      hasGenome: m.get('dataset.genome') === 'true',
    };
  }

  async counts(): Promise<StoreCounts> {
    const r = (
      await this.db.query(
        `SELECT (SELECT count(*) FROM movies) AS movies, (SELECT count(*) FROM users) AS users,
                (SELECT count(*) FROM ratings) AS ratings, (SELECT count(*) FROM tags) AS tags,
                (SELECT count(*) FROM genome_tags) AS genome_tags,
                (SELECT count(DISTINCT movie_id) FROM genome_scores) AS genome_movies`,
      )
    ).rows[0] as Record<string, string>;
    return {
      movies: Number(r.movies),
      users: Number(r.users),
      ratings: Number(r.ratings),
      tags: Number(r.tags),
      genomeTags: Number(r.genome_tags),
      genomeMovies: Number(r.genome_movies),
    };
  }

  async ratingHistogram(): Promise<RatingBucket[]> {
    const rows = (
      await this.db.query<{ rating: number; n: string }>(
        'SELECT rating, count(*) AS n FROM ratings GROUP BY rating ORDER BY rating',
      )
    ).rows;
    return rows.map((r) => ({ rating: Number(r.rating), count: Number(r.n) }));
  }

  async listMovies(): Promise<Movie[]> {
    return (await this.db.query<MovieRow>(`SELECT ${MOVIE_COLUMNS} FROM movies ORDER BY movie_id`)).rows.map(toMovie);
  }

  async moviesAfter(movieId: number): Promise<{ total: number; movies: Movie[] }> {
    const total = Number((await this.db.query<{ n: string }>('SELECT count(*) AS n FROM movies')).rows[0]!.n);
    const rows = (
      await this.db.query<MovieRow>(`SELECT ${MOVIE_COLUMNS} FROM movies WHERE movie_id > $1 ORDER BY movie_id`, [
        movieId,
      ])
    ).rows;
    return { total, movies: rows.map(toMovie) };
  }

  async getMovie(movieId: number): Promise<Movie | null> {
    const r = (await this.db.query<MovieRow>(`SELECT ${MOVIE_COLUMNS} FROM movies WHERE movie_id = $1`, [movieId]))
      .rows[0];
    return r ? toMovie(r) : null;
  }

  async topTags(movieId: number, limit: number): Promise<TagCount[]> {
    const rows = (
      await this.db.query<{ tag: string; n: string }>(
        `SELECT min(tag) AS tag, count(*) AS n
         FROM (SELECT tag FROM tags WHERE movie_id = $1 UNION ALL SELECT tag FROM curated_tags WHERE movie_id = $1) t
         GROUP BY lower(trim(tag)) ORDER BY n DESC, tag LIMIT $2`,
        [movieId, limit],
      )
    ).rows;
    return rows.map((r) => ({ tag: r.tag, count: Number(r.n) }));
  }

  async movieStats(): Promise<MovieStats> {
    const rows = (
      await this.db.query<{ movie_id: number; n: string; mean: number }>(
        'SELECT movie_id, count(*) AS n, avg(rating) AS mean FROM ratings GROUP BY movie_id ORDER BY movie_id',
      )
    ).rows;
    const g = (
      await this.db.query<{ mean: number | null; n: string }>('SELECT avg(rating) AS mean, count(*) AS n FROM ratings')
    ).rows[0];
    const stats: MovieStats = {
      movieId: new Int32Array(rows.length),
      count: new Int32Array(rows.length),
      mean: new Float32Array(rows.length),
      globalMean: Number(g?.mean ?? 0),
      totalRatings: Number(g?.n ?? 0),
    };
    rows.forEach((r, i) => {
      stats.movieId[i] = r.movie_id;
      stats.count[i] = Number(r.n);
      stats.mean[i] = Number(r.mean);
    });
    return stats;
  }

  /** A bulk read as typed columns, through binary COPY (no object per row). */
  private async columns(sql: string, countSql: string, types: Parameters<typeof readBinaryCopy>[1]) {
    if (this.pinned) return this.copyColumns(this.pinned, sql, countSql, types);
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const out = await this.copyColumns(c, sql, countSql, types);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  private async copyColumns(
    c: pg.PoolClient,
    sql: string,
    countSql: string,
    types: Parameters<typeof readBinaryCopy>[1],
  ) {
    const n = Number((await c.query<{ n: string }>(countSql)).rows[0]!.n);
    const stream = c.query(copyStreams.to(`COPY (${sql}) TO STDOUT (FORMAT binary)`));
    return (await readBinaryCopy(stream, types, n)).arrays;
  }

  async ratingColumns(): Promise<RatingColumns> {
    return this.ratingsWhere('');
  }

  async ratingsOfUsers(userIds: Int32Array): Promise<RatingColumns> {
    // Integers from an Int32Array: safe to write into the statement (COPY takes no parameters).
    return this.ratingsWhere(userIds.length ? `WHERE user_id IN (${userIds.join(',')})` : 'WHERE false');
  }

  async userRatingSums(): Promise<UserRatingSums> {
    const [userId, count, checksum] = await this.columns(
      `SELECT user_id, count(*)::int4, sum(${RATING_CHECKSUM_SQL})::int8 FROM ratings GROUP BY user_id ORDER BY user_id`,
      'SELECT count(DISTINCT user_id) AS n FROM ratings',
      ['int4', 'int4', 'int8'],
    );
    return { userId: userId as Int32Array, count: count as Int32Array, checksum: checksum as Float64Array };
  }

  private async ratingsWhere(where: string): Promise<RatingColumns> {
    const [userId, movieId, rating, timestamp] = await this.columns(
      `SELECT user_id, movie_id, rating, ts FROM ratings ${where} ORDER BY user_id, movie_id`,
      `SELECT count(*) AS n FROM ratings ${where}`,
      ['int4', 'int4', 'float4', 'int8'],
    );
    return {
      userId: userId as Int32Array,
      movieId: movieId as Int32Array,
      rating: rating as Float32Array,
      timestamp: timestamp as Float64Array,
    };
  }

  async movieTagCounts(): Promise<MovieTagCounts> {
    const rows = (
      await this.db.query<{ movie_id: number; tag: string; n: string }>(
        `SELECT movie_id, lower(trim(tag)) AS tag, count(*) AS n
         FROM (SELECT movie_id, tag FROM tags UNION ALL SELECT movie_id, tag FROM curated_tags) t
         WHERE trim(tag) <> '' GROUP BY 1, 2 ORDER BY 1, 2`,
      )
    ).rows;
    return {
      movieId: Int32Array.from(rows, (r) => r.movie_id),
      tag: rows.map((r) => r.tag),
      count: Int32Array.from(rows, (r) => Number(r.n)),
    };
  }

  async genomeTags(): Promise<GenomeTag[]> {
    return (
      await this.db.query<{ tag_id: number; tag: string }>('SELECT tag_id, tag FROM genome_tags ORDER BY tag_id')
    ).rows.map((r) => ({ tagId: r.tag_id, tag: r.tag }));
  }

  async genomeColumns(): Promise<GenomeColumns> {
    const [movieId, tagId, relevance] = await this.columns(
      'SELECT movie_id, tag_id, relevance FROM genome_scores ORDER BY movie_id, tag_id',
      'SELECT count(*) AS n FROM genome_scores',
      ['int4', 'int4', 'float4'],
    );
    return { movieId: movieId as Int32Array, tagId: tagId as Int32Array, relevance: relevance as Float32Array };
  }

  /** Appends to the change log and tells every listening replica, inside the write's transaction. */
  private async logChange(c: pg.PoolClient, kind: ChangeKind, key: number): Promise<void> {
    const r = await c.query<{ id: string }>('INSERT INTO changes (kind, key) VALUES ($1, $2) RETURNING id', [
      kind,
      key,
    ]);
    await c.query('SELECT pg_notify($1, $2)', ['cinerec_changes', r.rows[0]!.id]);
  }

  async addMovie(input: NewMovie): Promise<Movie> {
    const m = input.movie;
    await this.transaction(async (c) => {
      await c.query(
        `INSERT INTO movies (movie_id, title, display_title, year, genres, imdb_id, tmdb_id, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'live')`,
        [m.movieId, m.title, m.displayTitle, m.year, m.genres, m.imdbId, m.tmdbId],
      );
      for (const tag of input.tags)
        await c.query('INSERT INTO curated_tags (movie_id, tag) VALUES ($1, $2)', [m.movieId, tag]);
      for (const g of input.genome)
        await c.query('INSERT INTO genome_scores (movie_id, tag_id, relevance) VALUES ($1, $2, $3)', [
          m.movieId,
          g.tagId,
          g.relevance,
        ]);
      await this.logChange(c, 'movie', m.movieId);
    });
    return (await this.getMovie(m.movieId))!;
  }

  /** A live movie's tags and genome, for a replica placing it. */
  async movieContent(movieId: number): Promise<{ tags: string[]; genome: { tagId: number; relevance: number }[] }> {
    const tags = (
      await this.db.query<{ tag: string }>('SELECT tag FROM curated_tags WHERE movie_id = $1 ORDER BY added_at', [
        movieId,
      ])
    ).rows.map((r) => r.tag);
    const genome = (
      await this.db.query<{ tag_id: number; relevance: number }>(
        'SELECT tag_id, relevance FROM genome_scores WHERE movie_id = $1 ORDER BY tag_id',
        [movieId],
      )
    ).rows.map((r) => ({ tagId: r.tag_id, relevance: Number(r.relevance) }));
    return { tags, genome };
  }

  async userRatings(userId: number): Promise<Rating[]> {
    const rows = (
      await this.db.query<{ movie_id: number; rating: number; ts: string }>(
        'SELECT movie_id, rating, ts FROM ratings WHERE user_id = $1 ORDER BY ts, movie_id',
        [userId],
      )
    ).rows;
    return rows.map((r) => ({ userId, movieId: r.movie_id, rating: Number(r.rating), timestamp: Number(r.ts) }));
  }

  async hasUser(userId: number): Promise<boolean> {
    const r = await this.db.query(
      'SELECT 1 WHERE EXISTS (SELECT 1 FROM users WHERE user_id = $1) OR EXISTS (SELECT 1 FROM ratings WHERE user_id = $1)',
      [userId],
    );
    return (r.rowCount ?? 0) > 0;
  }

  private async writeRatings(
    c: pg.PoolClient,
    userId: number,
    ratings: readonly { movieId: number; rating: number }[],
    at: Date,
  ): Promise<void> {
    const ts = Math.floor(at.getTime() / 1000);
    for (const r of ratings)
      await c.query(
        `INSERT INTO ratings (user_id, movie_id, rating, ts) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, movie_id) DO UPDATE SET rating = excluded.rating, ts = excluded.ts`,
        [userId, r.movieId, r.rating, ts],
      );
  }

  async addUser(ratings: readonly { movieId: number; rating: number }[], at = new Date()): Promise<number> {
    return this.transaction(async (c) => {
      // Ids come from one sequence of max+1: serialised so two replicas never take the same one.
      await c.query('LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE');
      const r = await c.query<{ id: number | null }>(
        'SELECT greatest((SELECT max(user_id) FROM users), (SELECT max(user_id) FROM ratings), (SELECT max(user_id) FROM tags)) AS id',
      );
      const userId = (r.rows[0]?.id ?? 0) + 1;
      await c.query("INSERT INTO users (user_id, source) VALUES ($1, 'live')", [userId]);
      await this.writeRatings(c, userId, ratings, at);
      await this.logChange(c, 'ratings', userId);
      return userId;
    });
  }

  async putRatings(
    userId: number,
    ratings: readonly { movieId: number; rating: number }[],
    at = new Date(),
  ): Promise<void> {
    await this.transaction(async (c) => {
      await c.query("INSERT INTO users (user_id, source) VALUES ($1, 'import') ON CONFLICT (user_id) DO NOTHING", [
        userId,
      ]);
      await this.writeRatings(c, userId, ratings, at);
      await this.logChange(c, 'ratings', userId);
    });
  }

  async listRules(): Promise<Rule[]> {
    return (await this.db.query<RuleRow>('SELECT * FROM rules ORDER BY movie_id')).rows.map(toRule);
  }

  async putRule(rule: Omit<Rule, 'createdAt'>): Promise<Rule> {
    return this.transaction(async (c) => {
      const r = await c.query<RuleRow>(
        `INSERT INTO rules (movie_id, action, boost, until, reason, created_at) VALUES ($1, $2, $3, $4, $5, now())
         ON CONFLICT (movie_id) DO UPDATE SET action = excluded.action, boost = excluded.boost, until = excluded.until,
           reason = excluded.reason, created_at = now()
         RETURNING *`,
        [rule.movieId, rule.action, rule.boost, rule.until, rule.reason],
      );
      await this.logChange(c, 'rules', 0);
      return toRule(r.rows[0]!);
    });
  }

  async removeRule(movieId: number): Promise<boolean> {
    return this.transaction(async (c) => {
      const r = await c.query('DELETE FROM rules WHERE movie_id = $1', [movieId]);
      if ((r.rowCount ?? 0) === 0) return false;
      await this.logChange(c, 'rules', 0);
      return true;
    });
  }

  /**
   * Runs fn holding the deployment-wide write lock (a session advisory lock): validation, the write and its change
   * record happen one at a time across every replica.
   */
  withWriteLock<T>(fn: () => Promise<T>): Promise<T> {
    // One waiter per process holds a connection: writes waiting here must not take every pooled connection from
    // the write that holds the lock.
    return this.localWrites.run(() => this.withAdvisoryLock(fn));
  }

  private async withAdvisoryLock<T>(fn: () => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('SELECT pg_advisory_lock($1)', [LOCKS.writes]);
      try {
        return await fn();
      } finally {
        await c.query('SELECT pg_advisory_unlock($1)', [LOCKS.writes]);
      }
    } finally {
      c.release();
    }
  }

  /** Notifies cinerec_changes on a connection of its own (see listen.ts); close() stops it. */
  async listenForChanges(onNotify: () => void): Promise<{ close(): Promise<void> }> {
    const { listen } = await import('./listen.ts');
    return listen(this.url, 'cinerec_changes', onNotify);
  }

  /** Changes after `id`, oldest first: what a replica applies after a notification or a reconnect. */
  async changesSince(id: number): Promise<LoggedChange[]> {
    return (
      await this.db.query<{ id: string; kind: ChangeKind; key: string }>(
        'SELECT id, kind, key FROM changes WHERE id > $1 ORDER BY id',
        [id],
      )
    ).rows.map((r) => ({ id: Number(r.id), kind: r.kind, key: Number(r.key) }));
  }

  /** The newest change's id (a replica that just loaded everything has seen up to here). */
  async lastChange(): Promise<number> {
    return Number((await this.db.query<{ id: string | null }>('SELECT max(id) AS id FROM changes')).rows[0]?.id ?? 0);
  }
}
