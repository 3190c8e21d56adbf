import { closeSync, openSync, readSync } from 'node:fs';
import { LIST, listValue, VARCHAR } from '@duckdb/node-api';
import type { ImportPlan, SourceFile, SourceKind } from '../../data/formats.ts';
import { normaliseGenres, parseTitle } from '../../data/titles.ts';
import { type Progress, silentProgress } from '../../util/progress.ts';
import type { StoreCounts } from '../types.ts';
import { type Db, num, sqlString } from './connection.ts';

export interface ImportIssue {
  file: string;
  line: number | null;
  field?: string;
  message: string;
}

export interface ImportOptions {
  /** Skip and report bad lines instead of failing the whole import. */
  lenient?: boolean;
  progress?: Progress;
}

export interface ImportReport {
  dataset: string;
  format: string;
  counts: StoreCounts;
  /** Lenient mode: bad lines that were skipped (first 100 of skippedCount). */
  skipped: ImportIssue[];
  skippedCount: number;
  seconds: number;
}

export class ImportError extends Error {
  constructor(
    readonly issues: ImportIssue[],
    readonly total: number,
  ) {
    const first = issues[0];
    const where = first ? `${first.file}${first.line !== null ? ` line ${first.line}` : ''}` : 'import';
    const more = total > 1 ? ` (and ${total - 1} more problem${total > 2 ? 's' : ''}; --lenient skips bad lines)` : '';
    super(`${where}: ${first?.field ? `field ${first.field}: ` : ''}${first?.message ?? 'failed'}${more}`);
  }
}

const MAX_REPORTED = 100;

interface Staged {
  file: SourceFile;
  table: string;
  /** Physical line numbers DuckDB rejected, ascending: needed to map row ids back to lines. */
  rejectedLines: number[];
}

/**
 * Imports a MovieLens directory all-or-nothing: every file is parsed by DuckDB's CSV reader into
 * staging tables, validated with SQL, then swapped into the store inside one transaction.
 */
export async function importDataset(db: Db, plan: ImportPlan, options: ImportOptions = {}): Promise<ImportReport> {
  const started = performance.now();
  const progress = options.progress ?? silentProgress;
  const lenient = options.lenient ?? false;
  const skipped: ImportIssue[] = [];
  let skippedCount = 0;
  const report = (issues: ImportIssue[], count: number) => {
    if (count === 0) return;
    if (!lenient) throw new ImportError(issues, count);
    skippedCount += count;
    for (const issue of issues) if (skipped.length < MAX_REPORTED) skipped.push(issue);
  };

  for (const file of plan.files) checkHeader(file);

  const steps = plan.files.length * 2 + 2;
  let step = 0;
  progress.start(steps, `import ${plan.name}`);
  const tick = () => progress.update(++step);
  const suffix = `${process.pid}_${Date.now()}`;

  try {
    await db.transaction(async () => {
      const staged = new Map<SourceKind, Staged>();
      for (const file of plan.files) {
        const s = await stage(db, file, suffix);
        staged.set(file.kind, s);
        const { issues, count } = await rejects(db, s);
        report(issues, count);
        tick();
      }
      for (const s of staged.values()) {
        for (const check of checksFor(s.file.kind, plan)) {
          const { issues, count } = await violations(db, s, check, staged, lenient);
          report(issues, count);
        }
        tick();
      }
      await replaceData(db, plan, staged);
      tick();
      for (const s of staged.values()) await db.run(`DROP TABLE IF EXISTS ${s.table}`);
      tick();
    });
  } finally {
    progress.stop();
  }
  await db.run('CHECKPOINT');
  const counts = await countAll(db);
  return {
    dataset: plan.name,
    format: plan.format,
    counts,
    skipped,
    skippedCount,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Header names are checked by us: DuckDB would silently accept columns in another order. */
function checkHeader(file: SourceFile): void {
  if (!file.header) return;
  const fd = openSync(file.path, 'r');
  const buf = Buffer.alloc(4096);
  let n: number;
  try {
    n = readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  const first = buf
    .subarray(0, n)
    .toString('utf8')
    .split(/\r?\n/)[0]!
    .replace(/^\uFEFF/, '');
  const found = first.split(file.delimiter).map((h) => h.trim().replace(/^"|"$/g, ''));
  const expected = file.columns.map(([name]) => name);
  if (found.length !== expected.length || found.some((h, i) => h.toLowerCase() !== expected[i]!.toLowerCase())) {
    throw new ImportError(
      [{ file: file.name, line: 1, message: `expected header "${expected.join(file.delimiter)}", found "${first}"` }],
      1,
    );
  }
}

async function stage(db: Db, file: SourceFile, suffix: string): Promise<Staged> {
  const table = `stg_${file.kind}_${suffix}`;
  const columns = file.columns.map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`).join(', ');
  await db.run(
    `CREATE TEMP TABLE ${table} AS SELECT * FROM read_csv(${sqlString(file.path)},
      header = ${file.header}, auto_detect = false, delim = ${sqlString(file.delimiter)},
      quote = ${sqlString(file.quote)}, escape = ${sqlString(file.quote)}, encoding = ${sqlString(file.encoding)},
      columns = {${columns}}, strict_mode = true, null_padding = false,
      store_rejects = true, rejects_table = 'rej_${table}', rejects_scan = 'rejscan_${table}')`,
  );
  const lines = await db.all<{ line: bigint }>(`SELECT DISTINCT line FROM rej_${table} ORDER BY line`);
  return { file, table, rejectedLines: lines.map((r) => Number(r.line)) };
}

function describeReject(type: string, column: string | null, message: string): string {
  switch (type) {
    case 'CAST':
      return message
        .replace(/^Error when converting column "[^"]*"\. /, '')
        .replace(/Could not convert string/, 'cannot read');
    case 'MISSING COLUMNS':
    case 'TOO MANY COLUMNS':
      return `malformed line: ${message.replace('Expected Number of Columns', 'expected fields').replace('Found', 'found')}`;
    case 'INVALID ENCODING':
    case 'INVALID UNICODE':
      return 'bad encoding: the line is not valid UTF-8 (MovieLens CSV files are UTF-8)';
    case 'UNQUOTED VALUE':
      return 'malformed line: a quoted field has text after its closing quote';
    case 'LINE SIZE OVER MAXIMUM':
      return 'malformed line: longer than the maximum line size';
    default:
      return `malformed line (${type.toLowerCase()})${column ? ` in ${column}` : ''}: ${message}`;
  }
}

async function rejects(db: Db, s: Staged): Promise<{ issues: ImportIssue[]; count: number }> {
  const rows = await db.all<{ line: bigint; column_name: string | null; error_type: string; error_message: string }>(
    `SELECT line, column_name, CAST(error_type AS VARCHAR) AS error_type, error_message
     FROM rej_${s.table} ORDER BY line LIMIT ${MAX_REPORTED}`,
  );
  const count = num((await db.one(`SELECT count(*) AS n FROM rej_${s.table}`))?.n);
  const issues = rows.map((r) => ({
    file: s.file.name,
    line: Number(r.line),
    ...(r.column_name && r.error_type === 'CAST' ? { field: r.column_name } : {}),
    message: describeReject(r.error_type, r.column_name, r.error_message),
  }));
  await db.run(`DROP TABLE IF EXISTS rej_${s.table}`);
  await db.run(`DROP TABLE IF EXISTS rejscan_${s.table}`);
  return { issues, count };
}

/** A row id in a staging table → the physical line in the source file. */
function lineOf(rowid: number, s: Staged): number {
  let line = rowid + (s.file.header ? 2 : 1);
  for (const rejected of s.rejectedLines) {
    if (rejected <= line) line++;
    else break;
  }
  return line;
}

interface Check {
  field?: string;
  /** SQL condition on the staging row (alias t) that marks it invalid. */
  where: (staged: Map<SourceKind, Staged>) => string;
  /** SQL expression (alias t) giving the message. */
  message: string;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

function checksFor(kind: SourceKind, plan: ImportPlan): Check[] {
  const file = plan.files.find((f) => f.kind === kind)!;
  const checks: Check[] = file.required.map((col) => ({
    field: col,
    where: () => `t."${col}" IS NULL`,
    message: `'empty value'`,
  }));
  const knownMovie = (staged: Map<SourceKind, Staged>) =>
    `NOT EXISTS (SELECT 1 FROM ${staged.get('movies')!.table} m WHERE m.movieId = t.movieId)`;
  const { min, max, step } = plan.scale;
  switch (kind) {
    case 'movies':
      checks.push({
        field: 'movieId',
        where: () => `t.movieId IN (SELECT movieId FROM __self__ GROUP BY movieId HAVING count(*) > 1)`,
        message: `'duplicate movieId ' || t.movieId`,
      });
      checks.push({ field: 'title', where: () => `trim(t.title) = ''`, message: `'empty title'` });
      break;
    case 'ratings':
      checks.push({
        field: 'rating',
        where: () =>
          `t.rating < ${min} OR t.rating > ${max} OR abs((t.rating - ${min}) / ${step} - round((t.rating - ${min}) / ${step})) > 1e-6`,
        message: `'rating ' || t.rating || ' is outside the scale ${fmt(min)}–${fmt(max)} in steps of ${step}'`,
      });
      checks.push({
        field: 'movieId',
        where: knownMovie,
        message: `'unknown movie id ' || t.movieId || ' (not in ${plan.files.find((f) => f.kind === 'movies')!.name})'`,
      });
      checks.push({
        where: () =>
          `t.rowid IN (SELECT rowid FROM (SELECT rowid, row_number() OVER (PARTITION BY userId, movieId ORDER BY rowid) AS k FROM __self__) WHERE k > 1)`,
        message: `'duplicate rating of movie ' || t.movieId || ' by user ' || t.userId`,
      });
      break;
    case 'tags':
    case 'links':
      checks.push({ field: 'movieId', where: knownMovie, message: `'unknown movie id ' || t.movieId` });
      break;
    case 'genomeScores':
      checks.push({ field: 'movieId', where: knownMovie, message: `'unknown movie id ' || t.movieId` });
      checks.push({
        field: 'tagId',
        where: (staged) => `NOT EXISTS (SELECT 1 FROM ${staged.get('genomeTags')!.table} g WHERE g.tagId = t.tagId)`,
        message: `'unknown genome tag id ' || t.tagId`,
      });
      checks.push({
        field: 'relevance',
        where: () => `t.relevance < 0 OR t.relevance > 1`,
        message: `'relevance ' || t.relevance || ' outside 0–1'`,
      });
      break;
    case 'genomeTags':
      checks.push({
        field: 'tagId',
        where: () => `t.tagId IN (SELECT tagId FROM __self__ GROUP BY tagId HAVING count(*) > 1)`,
        message: `'duplicate tagId ' || t.tagId`,
      });
      break;
    case 'users':
      checks.push({
        field: 'userId',
        where: () => `t.userId IN (SELECT userId FROM __self__ GROUP BY userId HAVING count(*) > 1)`,
        message: `'duplicate userId ' || t.userId`,
      });
      break;
  }
  return checks;
}

async function violations(
  db: Db,
  s: Staged,
  check: Check,
  staged: Map<SourceKind, Staged>,
  lenient: boolean,
): Promise<{ issues: ImportIssue[]; count: number }> {
  const where = check.where(staged).replaceAll('__self__', s.table);
  const rows = await db.all<{ r: bigint; msg: string }>(
    `SELECT t.rowid AS r, ${check.message} AS msg FROM ${s.table} t WHERE ${where} ORDER BY t.rowid LIMIT ${MAX_REPORTED}`,
  );
  if (rows.length === 0) return { issues: [], count: 0 };
  const count = num((await db.one(`SELECT count(*) AS n FROM ${s.table} t WHERE ${where}`))?.n);
  if (lenient) await db.run(`DELETE FROM ${s.table} t WHERE ${where}`);
  const issues = rows.map((row) => ({
    file: s.file.name,
    line: lineOf(Number(row.r), s),
    ...(check.field ? { field: check.field } : {}),
    message: row.msg,
  }));
  return { issues, count };
}

async function replaceData(db: Db, plan: ImportPlan, staged: Map<SourceKind, Staged>): Promise<void> {
  for (const table of ['ratings', 'tags', 'genome_scores', 'genome_tags', 'users', 'movies']) {
    await db.run(`DELETE FROM ${table}`);
  }
  await insertMovies(db, plan, staged);
  const ratings = staged.get('ratings')!.table;
  await db.run(
    `INSERT INTO ratings SELECT userId, movieId, rating, timestamp FROM ${ratings} ORDER BY userId, movieId`,
  );
  const tags = staged.get('tags')?.table;
  if (tags) {
    await db.run(
      `INSERT INTO tags SELECT userId, movieId, coalesce(tag, ''), timestamp FROM ${tags} WHERE trim(coalesce(tag, '')) <> ''`,
    );
  }
  const users = staged.get('users')?.table;
  const ids = `SELECT userId FROM ${ratings}${tags ? ` UNION SELECT userId FROM ${tags}` : ''}${users ? ` UNION SELECT userId FROM ${users}` : ''}`;
  await db.run(
    users
      ? `INSERT INTO users (user_id, gender, age, occupation, zip)
         SELECT i.userId, u.gender, u.age, u.occupation, u.zip FROM (${ids}) i LEFT JOIN ${users} u USING (userId) ORDER BY i.userId`
      : `INSERT INTO users (user_id) SELECT userId FROM (${ids}) ORDER BY userId`,
  );
  const gTags = staged.get('genomeTags')?.table;
  const gScores = staged.get('genomeScores')?.table;
  if (gTags && gScores) {
    await db.run(`INSERT INTO genome_tags SELECT tagId, tag FROM ${gTags}`);
    await db.run(`INSERT INTO genome_scores SELECT movieId, tagId, relevance FROM ${gScores} ORDER BY movieId, tagId`);
  }
  const meta: Record<string, string> = {
    'dataset.name': plan.name,
    'dataset.dir': plan.dir,
    'dataset.format': plan.format,
    'dataset.scale': JSON.stringify(plan.scale),
    'dataset.imported_at': new Date().toISOString(),
    'dataset.genome': String(Boolean(gScores)),
  };
  for (const [key, value] of Object.entries(meta)) {
    await db.run('INSERT OR REPLACE INTO meta VALUES (?, ?)', [key, value]);
  }
}

async function insertMovies(db: Db, plan: ImportPlan, staged: Map<SourceKind, Staged>): Promise<void> {
  const movies = staged.get('movies')!.table;
  const links = staged.get('links')?.table;
  const flagCols = plan.genreFlags ? plan.genreFlags.map((_, i) => `m.g${i}`).join(', ') : null;
  // ml-100k keeps the IMDb URL, not an id; the CSV releases have links.csv.
  const rows = await db.all<{
    movieId: number;
    title: string;
    genres: string | null;
    imdbId: string | null;
    tmdbId: number | null;
    flags: number[] | null;
  }>(
    `SELECT m.movieId, m.title,
       ${flagCols ? 'NULL' : 'm.genres'} AS genres,
       ${links ? 'l.imdbId' : 'NULL'} AS imdbId,
       ${links ? 'l.tmdbId' : 'NULL'} AS tmdbId,
       ${flagCols ? `[${flagCols}]` : 'NULL'} AS flags
     FROM ${movies} m ${links ? `LEFT JOIN ${links} l USING (movieId)` : ''} ORDER BY m.movieId`,
  );
  const appender = await db.conn.createAppender('movies');
  const listType = LIST(VARCHAR);
  for (const row of rows) {
    const { displayTitle, year } = parseTitle(row.title);
    const rawGenres = row.flags
      ? plan.genreFlags!.filter((_, i) => row.flags![i] === 1)
      : (row.genres ?? '').split('|');
    appender.appendInteger(row.movieId);
    appender.appendVarchar(row.title.trim());
    appender.appendVarchar(displayTitle);
    if (year === null) appender.appendNull();
    else appender.appendInteger(year);
    appender.appendList(listValue(normaliseGenres(rawGenres)), listType);
    if (row.imdbId === null) appender.appendNull();
    else appender.appendVarchar(`tt${row.imdbId.padStart(7, '0')}`);
    if (row.tmdbId === null) appender.appendNull();
    else appender.appendInteger(row.tmdbId);
    appender.appendVarchar('import');
    appender.appendDefault();
    appender.endRow();
  }
  appender.closeSync();
}

export async function countAll(db: Db): Promise<StoreCounts> {
  const row = await db.one(
    `SELECT (SELECT count(*) FROM movies) AS movies, (SELECT count(*) FROM users) AS users,
            (SELECT count(*) FROM ratings) AS ratings, (SELECT count(*) FROM tags) AS tags,
            (SELECT count(*) FROM genome_tags) AS genome_tags,
            (SELECT count(DISTINCT movie_id) FROM genome_scores) AS genome_movies`,
  );
  return {
    movies: num(row?.movies),
    users: num(row?.users),
    ratings: num(row?.ratings),
    tags: num(row?.tags),
    genomeTags: num(row?.genome_tags),
    genomeMovies: num(row?.genome_movies),
  };
}
