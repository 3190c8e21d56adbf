import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { ImportPlan } from '../../data/formats.ts';
import { silentProgress } from '../../util/progress.ts';
import { DuckDbStore } from '../duckdb/duckdb-store.ts';
import type { ImportOptions, ImportReport } from '../import-types.ts';
import type { StoreCounts } from '../types.ts';

/** The part of the PostgreSQL store an import writes through. */
export interface CopyTarget {
  transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T>;
  counts(): Promise<StoreCounts>;
}

/**
 * A MovieLens release into PostgreSQL, all or nothing. The release is read and validated by the same importer as
 * the embedded store (every format, every error naming its file, line and field, --lenient), into a scratch
 * DuckDB file; DuckDB writes each table as CSV and the files stream into PostgreSQL with COPY, inside one
 * transaction that replaces the data set (rules are kept). Nothing crosses JavaScript row by row.
 */

/** Each table: how DuckDB writes it, and PostgreSQL's columns in the same order. */
const TABLES: readonly { name: string; select: string; columns: string }[] = [
  {
    name: 'movies',
    // PostgreSQL's array literal: {"Action","Comedy"}, or {} without genres.
    select: `SELECT movie_id, title, display_title, year,
      '{' || coalesce(array_to_string(list_transform(genres, g -> '"' || replace(g, '"', '\\"') || '"'), ','), '') || '}',
      imdb_id, tmdb_id, source, added_at FROM movies ORDER BY movie_id`,
    columns: 'movie_id, title, display_title, year, genres, imdb_id, tmdb_id, source, added_at',
  },
  {
    name: 'users',
    select: 'SELECT user_id, gender, age, occupation, zip, source, added_at FROM users ORDER BY user_id',
    columns: 'user_id, gender, age, occupation, zip, source, added_at',
  },
  {
    name: 'ratings',
    select: 'SELECT user_id, movie_id, rating, ts FROM ratings ORDER BY user_id, movie_id',
    columns: 'user_id, movie_id, rating, ts',
  },
  { name: 'tags', select: 'SELECT user_id, movie_id, tag, ts FROM tags', columns: 'user_id, movie_id, tag, ts' },
  { name: 'genome_tags', select: 'SELECT tag_id, tag FROM genome_tags ORDER BY tag_id', columns: 'tag_id, tag' },
  {
    name: 'genome_scores',
    select: 'SELECT movie_id, tag_id, relevance FROM genome_scores ORDER BY movie_id, tag_id',
    columns: 'movie_id, tag_id, relevance',
  },
  { name: 'meta', select: "SELECT key, value FROM meta WHERE key LIKE 'dataset.%'", columns: 'key, value' },
];

/** Tables whose primary key is dropped for the copy and built after it. */
const KEYED = ['ratings', 'genome_scores'] as const;

export async function importIntoPostgres(
  store: CopyTarget,
  plan: ImportPlan,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const started = performance.now();
  const progress = options.progress ?? silentProgress;
  const dir = await mkdtemp(join(tmpdir(), 'cinerec-pg-import-'));
  try {
    const duck = await DuckDbStore.open(join(dir, 'stage.duckdb'));
    let report: ImportReport;
    try {
      report = await duck.importDataset(plan, options);
      for (const t of TABLES) await duck.exportCsv(t.select, join(dir, `${t.name}.csv`));
    } finally {
      await duck.close();
    }
    progress.start(TABLES.length, `copy ${plan.name} into PostgreSQL`);
    await store.transaction(async (c) => {
      await c.query('TRUNCATE movies, users, ratings, tags, curated_tags, genome_tags, genome_scores');
      await c.query("DELETE FROM meta WHERE key LIKE 'dataset.%'");
      // The big tables' keys are built once after the copy (sorted input): maintaining them row by row makes COPY
      // several times slower. The rows were validated unique by the importer; the rebuilt key checks again.
      for (const t of KEYED) await c.query(`ALTER TABLE ${t} DROP CONSTRAINT ${t}_pkey`);
      let done = 0;
      for (const t of TABLES) {
        const copy = c.query(copyStreams.from(`COPY ${t.name} (${t.columns}) FROM STDIN (FORMAT csv)`));
        await pipeline(createReadStream(join(dir, `${t.name}.csv`)), copy);
        progress.update(++done);
      }
      await c.query("SET LOCAL maintenance_work_mem = '256MB'");
      await c.query('ALTER TABLE ratings ADD PRIMARY KEY (user_id, movie_id)');
      await c.query('ALTER TABLE genome_scores ADD PRIMARY KEY (movie_id, tag_id)');
      // Replicas reload what a new data set changes (the catalogue and every history).
      const r = await c.query<{ id: string }>("INSERT INTO changes (kind, key) VALUES ('dataset', 0) RETURNING id");
      await c.query('SELECT pg_notify($1, $2)', ['cinerec_changes', r.rows[0]!.id]);
      await c.query('ANALYZE');
    });
    progress.stop();
    return { ...report, counts: await store.counts(), seconds: (performance.now() - started) / 1000 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
