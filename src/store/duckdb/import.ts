import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { LIST, listValue, VARCHAR } from '@duckdb/node-api';
import type { ImportPlan, SourceFile, SourceKind } from '../../data/formats.ts';
import { normaliseGenres, parseTitle } from '../../data/titles.ts';
import { silentProgress } from '../../util/progress.ts';
import { ImportError, type ImportIssue, type ImportOptions, type ImportReport } from '../import-types.ts';
import type { StoreCounts } from '../types.ts';

export { ImportError, type ImportIssue, type ImportOptions, type ImportReport };

import { type Db, num, sqlString } from './connection.ts';

const MAX_REPORTED = 100;

interface Staged {
  file: SourceFile;
  table: string;
  /** Line numbers (as DuckDB counts them) of the lines its reader rejected, ascending. */
  rejectedLines: number[];
  /** Built on first need, i.e. only when there is a problem to report. */
  lines?: Promise<LineMap>;
}

/**
 * Imports a MovieLens directory all-or-nothing: every file is parsed by DuckDB's CSV reader into
 * staging tables, validated with SQL, then swapped into the store inside one transaction.
 *
 * The staging tables are created (and committed) before the transaction: rows inserted inside an
 * open transaction get provisional row ids (from DuckDB's MAX_ROW_ID, 36028797018960000, up); only
 * committed row ids are the 0-based record order that {@link LineMap} turns back into line numbers.
 * They are temporary tables of this connection, dropped in any case at the end.
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
  const staged = new Map<SourceKind, Staged>();

  try {
    for (const file of plan.files) {
      const s = await stage(db, file, suffix);
      staged.set(file.kind, s);
      const { issues, count } = await rejects(db, s);
      report(issues, count);
      tick();
    }
    await db.transaction(async () => {
      for (const s of staged.values()) {
        for (const check of checksFor(s.file.kind, plan)) {
          const { issues, count } = await violations(db, s, check, staged, lenient);
          report(issues, count);
        }
        tick();
      }
      await replaceData(db, plan, staged);
      tick();
    });
  } finally {
    for (const file of plan.files) {
      const table = `stg_${file.kind}_${suffix}`;
      for (const name of [table, `rej_${table}`, `rejscan_${table}`]) {
        await db.run(`DROP TABLE IF EXISTS ${name}`).catch(() => {});
      }
    }
    tick();
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
  // Row ids must follow file order (see LineMap): DuckDB keeps insertion order for CREATE TABLE AS
  // unless preserve_insertion_order is switched off, which cinerec never does.
  try {
    await db.run(
      `CREATE TEMP TABLE ${table} AS SELECT * FROM read_csv(${sqlString(file.path)},
      header = ${file.header}, auto_detect = false, delim = ${sqlString(file.delimiter)},
      quote = ${sqlString(file.quote)}, escape = ${sqlString(file.quote)}, encoding = ${sqlString(file.encoding)},
      columns = {${columns}}, strict_mode = true, null_padding = false,
      store_rejects = true, rejects_table = 'rej_${table}', rejects_scan = 'rejscan_${table}')`,
    );
  } catch (err) {
    const refused = err instanceof Error ? await refusedFile(file, err.message) : null;
    if (refused) throw new ImportError([refused], 1);
    throw err;
  }
  const lines = await db.all<{ line: bigint }>(`SELECT DISTINCT line FROM rej_${table} ORDER BY line`);
  return { file, table, rejectedLines: lines.map((r) => Number(r.line)) };
}

/**
 * DuckDB's reader refuses some files as a whole, outside its rejects table: a Latin-1 file with a byte 0x80–0x9F
 * (Windows-1252 punctuation), or a carriage return that does not end the line the way the first line ends ("the CSV
 * Parser state machine reached an invalid state"). The file is at fault, not the store: an issue naming the file and,
 * when found, the line. Null for any other error.
 */
async function refusedFile(file: SourceFile, message: string): Promise<ImportIssue | null> {
  if (/File is not latin-1 encoded/i.test(message)) {
    const bad = await findByte(file.path, (b) => b >= 0x80 && b <= 0x9f);
    return {
      file: file.name,
      line: bad?.line ?? null,
      message: `bad encoding: ${bad ? `byte 0x${bad.byte.toString(16).toUpperCase()} is` : 'the file has bytes that are'} not Latin-1 text (${file.name} is Latin-1)`,
    };
  }
  if (/CSV Parser state machine reached an invalid state/i.test(message)) {
    const cr = await strayCarriageReturn(file.path);
    return {
      file: file.name,
      line: cr,
      message:
        cr === null
          ? 'malformed file: the CSV reader cannot parse it (mixed line endings or a stray carriage return?)'
          : 'malformed line: a carriage return (\\r) that does not end the line as the first line ends (mixed CRLF and LF line endings?)',
    };
  }
  return null;
}

/** The first byte for which `bad` holds, and its line; null if there is none. */
async function findByte(path: string, bad: (byte: number) => boolean): Promise<{ line: number; byte: number } | null> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    let line = 1;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return null;
      for (let i = 0; i < bytesRead; i++) {
        const b = buf[i]!;
        if (b === 0x0a) line++;
        else if (bad(b)) return { line, byte: b };
      }
    }
  } finally {
    await handle.close();
  }
}

/** The first line whose carriage returns differ from the first line's ending (CRLF or LF), or null. */
async function strayCarriageReturn(path: string): Promise<number | null> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    let line = 1;
    let crlf: boolean | null = null; // how the first line ends
    let crs = 0; // carriage returns on this line
    let lastCr = false; // the byte before was a carriage return
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return crs > 0 ? line : null;
      for (let i = 0; i < bytesRead; i++) {
        const b = buf[i]!;
        if (b === 0x0d) {
          crs++;
          lastCr = true;
          continue;
        }
        if (b === 0x0a) {
          crlf ??= lastCr && crs === 1;
          if (crs !== (crlf ? 1 : 0) || lastCr !== crlf) return line;
          line++;
          crs = 0;
        }
        lastCr = false;
      }
    }
  } finally {
    await handle.close();
  }
}

const NUMBER_WORDS: Record<string, string> = {
  DOUBLE: 'a number',
  INTEGER: 'a whole number',
  BIGINT: 'a whole number',
};

function describeReject(type: string, column: string | null, message: string): string {
  switch (type) {
    case 'CAST': {
      const cast = /Could not convert string "(.*)" to '(\w+)'/.exec(message);
      if (cast) return `cannot read "${cast[1]}" as ${NUMBER_WORDS[cast[2]!] ?? cast[2]!.toLowerCase()}`;
      return message.replace(/^Error when converting column "[^"]*"\. /, '');
    }
    case 'MISSING COLUMNS':
    case 'TOO MANY COLUMNS': {
      const counts = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message);
      if (counts) return `malformed line: expected ${counts[1]} fields, found ${counts[2]}`;
      return `malformed line: ${message}`;
    }
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

/** Rejected lines, one issue per line (a line can fail in several columns). */
async function rejects(db: Db, s: Staged): Promise<{ issues: ImportIssue[]; count: number }> {
  const count = s.rejectedLines.length;
  if (count === 0) return { issues: [], count: 0 };
  const rows = await db.all<{ line: bigint; column_name: string | null; error_type: string; error_message: string }>(
    `SELECT line, column_name, CAST(error_type AS VARCHAR) AS error_type, error_message
     FROM rej_${s.table} WHERE line IN (SELECT DISTINCT line FROM rej_${s.table} ORDER BY line LIMIT ${MAX_REPORTED})
     ORDER BY line, byte_position`,
  );
  const map = await lineMap(s);
  const issues: ImportIssue[] = [];
  let last: { line: number; issue: ImportIssue } | null = null;
  for (const r of rows) {
    const line = Number(r.line);
    const message = describeReject(r.error_type, r.column_name, r.error_message);
    const field = r.column_name && r.error_type === 'CAST' ? r.column_name : undefined;
    if (last && last.line === line) {
      last.issue.message += `; ${field ? `field ${field}: ` : ''}${message}`;
      continue;
    }
    const issue: ImportIssue = { file: s.file.name, line: map.reported(line), ...(field ? { field } : {}), message };
    issues.push(issue);
    last = { line, issue };
  }
  await db.run(`DROP TABLE IF EXISTS rej_${s.table}`);
  await db.run(`DROP TABLE IF EXISTS rejscan_${s.table}`);
  return { issues, count };
}

/**
 * Maps staging rows and DuckDB's rejected lines back to physical line numbers (1-based, header
 * included). A staging row id is the 0-based index of the record among the rows DuckDB kept; the
 * record's line is shifted from `index + header + 1` by every line DuckDB did not turn into a row:
 * rejected lines, blank lines (skipped silently) and the extra lines of quoted fields spanning
 * several lines. DuckDB's own reject line numbers count such a multi-line record as one line.
 */
interface LineMap {
  /** Physical line of the staging row with this row id. */
  record(rowid: number): number;
  /** Physical line of a line number from DuckDB's rejects table. */
  reported(line: number): number;
}

function lineMap(s: Staged): Promise<LineMap> {
  s.lines ??= scanLines(s.file, s.rejectedLines);
  return s.lines;
}

/** One pass over the file's bytes; only done when there is something to report. */
async function scanLines(file: SourceFile, rejectedLines: readonly number[]): Promise<LineMap> {
  const rejected = new Set(rejectedLines);
  const rejectedAt = new Map<number, number>();
  // Where the record → line offset changes: from record index from[i] on, the offset is shift[i].
  const from: number[] = [];
  const shift: number[] = [];
  const base = file.header ? 2 : 1;
  const quote = file.quote.length === 1 ? file.quote.charCodeAt(0) : -1;
  let line = 1; // physical line being read
  let unit = 0; // line number as DuckDB counts it
  let records = 0;
  let headerSeen = !file.header;
  let inQuote = false;
  let startedInQuote = false;
  let blank = true;
  let empty = true;
  const endLine = () => {
    if (startedInQuote) return; // continuation of a multi-line quoted field
    unit++;
    if (rejected.has(unit)) {
      rejectedAt.set(unit, line);
    } else if (blank) {
      // DuckDB skips blank lines
    } else if (!headerSeen) {
      headerSeen = true;
    } else {
      const offset = line - records - base;
      if (offset !== (shift.length > 0 ? shift[shift.length - 1] : 0)) {
        from.push(records);
        shift.push(offset);
      }
      records++;
    }
  };
  const handle = await open(file.path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      // Native indexOf rather than a byte loop: several times faster on files of a GB.
      let nextQuote = quote >= 0 ? chunk.indexOf(quote) : -1;
      let pos = 0;
      while (pos < bytesRead) {
        const newline = chunk.indexOf(0x0a, pos);
        const end = newline === -1 ? bytesRead : newline;
        while (nextQuote !== -1 && nextQuote < end) {
          inQuote = !inQuote;
          nextQuote = chunk.indexOf(quote, nextQuote + 1);
        }
        if (end > pos) {
          empty = false;
          if (end - pos > 1 || chunk[pos] !== 0x0d) blank = false;
        }
        if (newline === -1) break;
        endLine();
        line++;
        startedInQuote = inQuote;
        blank = true;
        empty = true;
        pos = newline + 1;
      }
    }
    if (!empty) endLine();
  } finally {
    await handle.close();
  }
  return {
    record(rowid) {
      // Last breakpoint at or before rowid.
      let lo = 0;
      let hi = from.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (from[mid]! <= rowid) {
          found = mid;
          lo = mid + 1;
        } else {
          hi = mid - 1;
        }
      }
      return rowid + base + (found >= 0 ? shift[found]! : 0);
    },
    reported(n) {
      return rejectedAt.get(n) ?? n;
    },
  };
}

interface Check {
  field?: string;
  /** SQL condition on the staging row (alias t) that marks it invalid. */
  where: (staged: Map<SourceKind, Staged>) => string;
  /** SQL expression (alias t) giving the message. */
  message: string;
  /** SQL expression (alias t) giving the row id of the row this one repeats (for duplicates). */
  firstRow?: string;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

/**
 * Flags every repeat of a key after its first occurrence, so that lenient mode keeps the first
 * row, as it does for ratings.
 */
function duplicate(keys: readonly string[], field: string | undefined, message: string): Check {
  const partition = keys.join(', ');
  const same = keys.map((k) => `f.${k} = t.${k}`).join(' AND ');
  return {
    ...(field ? { field } : {}),
    where: () =>
      `t.rowid IN (SELECT rowid FROM (SELECT rowid, row_number() OVER (PARTITION BY ${partition} ORDER BY rowid) AS k FROM __self__) WHERE k > 1)`,
    message,
    firstRow: `(SELECT min(f.rowid) FROM __self__ f WHERE ${same})`,
  };
}

function checksFor(kind: SourceKind, plan: ImportPlan): Check[] {
  const file = plan.files.find((f) => f.kind === kind)!;
  const checks: Check[] = file.required.map((col) => ({
    field: col,
    where: () => `t."${col}" IS NULL`,
    message: `'empty value'`,
  }));
  const moviesFile = plan.files.find((f) => f.kind === 'movies')!.name;
  const knownMovie = (staged: Map<SourceKind, Staged>) =>
    `NOT EXISTS (SELECT 1 FROM ${staged.get('movies')!.table} m WHERE m.movieId = t.movieId)`;
  const unknownMovie: Check = {
    field: 'movieId',
    where: knownMovie,
    message: `'unknown movie id ' || t.movieId || ' (not in ${moviesFile})'`,
  };
  const { min, max, step } = plan.scale;
  switch (kind) {
    case 'movies':
      checks.push(duplicate(['movieId'], 'movieId', `'duplicate movieId ' || t.movieId`));
      checks.push({ field: 'title', where: () => `trim(t.title) = ''`, message: `'empty title'` });
      break;
    case 'ratings':
      checks.push({
        field: 'rating',
        where: () =>
          `t.rating < ${min} OR t.rating > ${max} OR abs((t.rating - ${min}) / ${step} - round((t.rating - ${min}) / ${step})) > 1e-6`,
        message: `'rating ' || t.rating || ' is outside the scale ${fmt(min)}–${fmt(max)} in steps of ${step}'`,
      });
      checks.push(unknownMovie);
      checks.push(
        duplicate(
          ['userId', 'movieId'],
          undefined,
          `'duplicate rating of movie ' || t.movieId || ' by user ' || t.userId`,
        ),
      );
      break;
    case 'tags':
      checks.push(unknownMovie);
      break;
    case 'links':
      checks.push(unknownMovie);
      checks.push(duplicate(['movieId'], 'movieId', `'duplicate links for movie ' || t.movieId`));
      break;
    case 'genomeScores':
      checks.push(unknownMovie);
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
      checks.push(
        duplicate(
          ['movieId', 'tagId'],
          undefined,
          `'duplicate score of genome tag ' || t.tagId || ' for movie ' || t.movieId`,
        ),
      );
      break;
    case 'genomeTags':
      checks.push(duplicate(['tagId'], 'tagId', `'duplicate tagId ' || t.tagId`));
      break;
    case 'users':
      checks.push(duplicate(['userId'], 'userId', `'duplicate userId ' || t.userId`));
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
  const first = (check.firstRow ?? 'NULL').replaceAll('__self__', s.table);
  const rows = await db.all<{ r: bigint; msg: string; first: bigint | null }>(
    `SELECT r, msg, ${first} AS first FROM (
       SELECT t.rowid AS r, ${check.message} AS msg, t.* FROM ${s.table} t WHERE ${where} ORDER BY t.rowid LIMIT ${MAX_REPORTED}
     ) t ORDER BY r`,
  );
  if (rows.length === 0) return { issues: [], count: 0 };
  const count = num((await db.one(`SELECT count(*) AS n FROM ${s.table} t WHERE ${where}`))?.n);
  if (lenient) await db.run(`DELETE FROM ${s.table} t WHERE ${where}`);
  const map = await lineMap(s);
  const issues = rows.map((row) => ({
    file: s.file.name,
    line: map.record(Number(row.r)),
    ...(check.field ? { field: check.field } : {}),
    message: row.first === null ? row.msg : `${row.msg} (first on line ${map.record(Number(row.first))})`,
  }));
  return { issues, count };
}

async function replaceData(db: Db, plan: ImportPlan, staged: Map<SourceKind, Staged>): Promise<void> {
  for (const table of ['ratings', 'tags', 'curated_tags', 'genome_scores', 'genome_tags', 'users', 'movies']) {
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
  // DISTINCT: with ratings alone there is no UNION to remove repeats.
  await db.run(
    users
      ? `INSERT INTO users (user_id, gender, age, occupation, zip)
         SELECT i.userId, u.gender, u.age, u.occupation, u.zip FROM (SELECT DISTINCT userId FROM (${ids})) i
         LEFT JOIN ${users} u USING (userId) ORDER BY i.userId`
      : `INSERT INTO users (user_id) SELECT DISTINCT userId FROM (${ids}) ORDER BY userId`,
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
