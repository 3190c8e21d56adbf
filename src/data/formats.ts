import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { RatingScale } from './records.ts';

/** What each source file holds, independent of its on-disk format. */
export type SourceKind = 'movies' | 'ratings' | 'tags' | 'links' | 'users' | 'genomeScores' | 'genomeTags';

export type ColumnType = 'INTEGER' | 'BIGINT' | 'DOUBLE' | 'VARCHAR';

export interface SourceFile {
  kind: SourceKind;
  path: string;
  /** Name shown in error messages. */
  name: string;
  delimiter: string;
  /** '' disables quoting (the `::` and `|` formats never quote). */
  quote: string;
  header: boolean;
  encoding: 'utf-8' | 'latin-1';
  columns: ReadonlyArray<readonly [name: string, type: ColumnType]>;
  /** Columns that must not be empty. */
  required: readonly string[];
}

export type FormatName = 'csv' | 'dat' | 'ml-100k';

export interface ImportPlan {
  format: FormatName;
  /** Data set name, from the folder (e.g. ml-latest-small). */
  name: string;
  dir: string;
  scale: RatingScale;
  files: SourceFile[];
  /** ml-100k: the genre names behind u.item's 19 flag columns, in order. */
  genreFlags?: readonly string[];
}

export class FormatError extends Error {}

const HALF_STARS: RatingScale = { min: 0.5, max: 5, step: 0.5 };
const WHOLE_STARS: RatingScale = { min: 1, max: 5, step: 1 };

// From the ml-100k README: u.genre, in u.item's column order.
export const ML100K_GENRES = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
] as const;

function csvFile(
  dir: string,
  file: string,
  kind: SourceKind,
  columns: SourceFile['columns'],
  required: readonly string[],
): SourceFile {
  return {
    kind,
    path: join(dir, file),
    name: file,
    delimiter: ',',
    quote: '"',
    header: true,
    encoding: 'utf-8',
    columns,
    required,
  };
}

function datFile(
  dir: string,
  file: string,
  kind: SourceKind,
  columns: SourceFile['columns'],
  encoding: SourceFile['encoding'],
  required: readonly string[] = columns.map(([name]) => name).filter((n) => n !== 'zip' && n !== 'genres'),
): SourceFile {
  return {
    kind,
    path: join(dir, file),
    name: file,
    delimiter: '::',
    quote: '',
    header: false,
    encoding,
    columns,
    required,
  };
}

const has = (dir: string, file: string) => existsSync(join(dir, file));

/**
 * Decides the format from the files present: CSV with headers (ml-latest*, ml-20m+),
 * `::` .dat (ml-1m with users.dat and 1–5 stars, ml-10m with tags.dat and half stars),
 * or ml-100k's u.data/u.item/u.user.
 */
export function detectFormat(dirArg: string, options: { scale?: RatingScale } = {}): ImportPlan {
  const dir = resolve(dirArg);
  if (!existsSync(dir)) throw new FormatError(`${dirArg}: no such directory`);
  if (!statSync(dir).isDirectory()) throw new FormatError(`${dirArg}: not a directory`);
  const name = basename(dir);

  if (has(dir, 'ratings.csv') || has(dir, 'movies.csv')) {
    for (const f of ['movies.csv', 'ratings.csv']) {
      if (!has(dir, f)) throw new FormatError(`${dirArg}: CSV format needs ${f} (found the other one)`);
    }
    const files: SourceFile[] = [
      csvFile(
        dir,
        'movies.csv',
        'movies',
        [
          ['movieId', 'INTEGER'],
          ['title', 'VARCHAR'],
          ['genres', 'VARCHAR'],
        ],
        ['movieId', 'title'],
      ),
      csvFile(
        dir,
        'ratings.csv',
        'ratings',
        [
          ['userId', 'INTEGER'],
          ['movieId', 'INTEGER'],
          ['rating', 'DOUBLE'],
          ['timestamp', 'BIGINT'],
        ],
        ['userId', 'movieId', 'rating', 'timestamp'],
      ),
    ];
    if (has(dir, 'tags.csv')) {
      files.push(
        csvFile(
          dir,
          'tags.csv',
          'tags',
          [
            ['userId', 'INTEGER'],
            ['movieId', 'INTEGER'],
            ['tag', 'VARCHAR'],
            ['timestamp', 'BIGINT'],
          ],
          ['userId', 'movieId'],
        ),
      );
    }
    if (has(dir, 'links.csv')) {
      files.push(
        csvFile(
          dir,
          'links.csv',
          'links',
          [
            ['movieId', 'INTEGER'],
            ['imdbId', 'VARCHAR'],
            ['tmdbId', 'INTEGER'],
          ],
          ['movieId'],
        ),
      );
    }
    const scores = has(dir, 'genome-scores.csv');
    const tags = has(dir, 'genome-tags.csv');
    if (scores !== tags) {
      throw new FormatError(`${dirArg}: the tag genome needs both genome-scores.csv and genome-tags.csv`);
    }
    if (scores) {
      files.push(
        csvFile(
          dir,
          'genome-tags.csv',
          'genomeTags',
          [
            ['tagId', 'INTEGER'],
            ['tag', 'VARCHAR'],
          ],
          ['tagId', 'tag'],
        ),
      );
      files.push(
        csvFile(
          dir,
          'genome-scores.csv',
          'genomeScores',
          [
            ['movieId', 'INTEGER'],
            ['tagId', 'INTEGER'],
            ['relevance', 'DOUBLE'],
          ],
          ['movieId', 'tagId', 'relevance'],
        ),
      );
    }
    return { format: 'csv', name, dir, scale: options.scale ?? HALF_STARS, files };
  }

  if (has(dir, 'ratings.dat') || has(dir, 'movies.dat')) {
    for (const f of ['movies.dat', 'ratings.dat']) {
      if (!has(dir, f)) throw new FormatError(`${dirArg}: the :: format needs ${f}`);
    }
    // ml-1m (with users.dat) is latin-1 with whole stars; ml-10m is UTF-8 with half stars.
    const ml1m = has(dir, 'users.dat');
    const encoding = ml1m ? 'latin-1' : 'utf-8';
    const files: SourceFile[] = [
      datFile(
        dir,
        'movies.dat',
        'movies',
        [
          ['movieId', 'INTEGER'],
          ['title', 'VARCHAR'],
          ['genres', 'VARCHAR'],
        ],
        encoding,
      ),
      datFile(
        dir,
        'ratings.dat',
        'ratings',
        [
          ['userId', 'INTEGER'],
          ['movieId', 'INTEGER'],
          ['rating', 'DOUBLE'],
          ['timestamp', 'BIGINT'],
        ],
        encoding,
      ),
    ];
    if (ml1m) {
      files.push(
        datFile(
          dir,
          'users.dat',
          'users',
          [
            ['userId', 'INTEGER'],
            ['gender', 'VARCHAR'],
            ['age', 'INTEGER'],
            ['occupation', 'VARCHAR'],
            ['zip', 'VARCHAR'],
          ],
          encoding,
        ),
      );
    }
    if (has(dir, 'tags.dat')) {
      files.push(
        datFile(
          dir,
          'tags.dat',
          'tags',
          [
            ['userId', 'INTEGER'],
            ['movieId', 'INTEGER'],
            ['tag', 'VARCHAR'],
            ['timestamp', 'BIGINT'],
          ],
          encoding,
          // As for tags.csv: a line with an empty tag is not an error, it is just not imported.
          ['userId', 'movieId'],
        ),
      );
    }
    return { format: 'dat', name, dir, scale: options.scale ?? (ml1m ? WHOLE_STARS : HALF_STARS), files };
  }

  if (has(dir, 'u.data')) {
    if (!has(dir, 'u.item')) throw new FormatError(`${dirArg}: the ml-100k format needs u.item beside u.data`);
    const item: SourceFile = {
      kind: 'movies',
      path: join(dir, 'u.item'),
      name: 'u.item',
      delimiter: '|',
      quote: '',
      header: false,
      encoding: 'latin-1',
      columns: [
        ['movieId', 'INTEGER'],
        ['title', 'VARCHAR'],
        ['releaseDate', 'VARCHAR'],
        ['videoReleaseDate', 'VARCHAR'],
        ['imdbUrl', 'VARCHAR'],
        ...ML100K_GENRES.map((_, i) => [`g${i}`, 'INTEGER'] as const),
      ],
      required: ['movieId', 'title'],
    };
    const files: SourceFile[] = [
      item,
      {
        kind: 'ratings',
        path: join(dir, 'u.data'),
        name: 'u.data',
        delimiter: '\t',
        quote: '',
        header: false,
        encoding: 'utf-8',
        columns: [
          ['userId', 'INTEGER'],
          ['movieId', 'INTEGER'],
          ['rating', 'DOUBLE'],
          ['timestamp', 'BIGINT'],
        ],
        required: ['userId', 'movieId', 'rating', 'timestamp'],
      },
    ];
    if (has(dir, 'u.user')) {
      files.push({
        kind: 'users',
        path: join(dir, 'u.user'),
        name: 'u.user',
        delimiter: '|',
        quote: '',
        header: false,
        encoding: 'latin-1',
        columns: [
          ['userId', 'INTEGER'],
          ['age', 'INTEGER'],
          ['gender', 'VARCHAR'],
          ['occupation', 'VARCHAR'],
          ['zip', 'VARCHAR'],
        ],
        required: ['userId'],
      });
    }
    return { format: 'ml-100k', name, dir, scale: options.scale ?? WHOLE_STARS, files, genreFlags: ML100K_GENRES };
  }

  throw new FormatError(
    `${dirArg}: no MovieLens files found. Expected movies.csv + ratings.csv (ml-latest*, ml-20m, ml-25m, ml-32m), ` +
      'movies.dat + ratings.dat (ml-1m, ml-10m) or u.data + u.item (ml-100k)',
  );
}
