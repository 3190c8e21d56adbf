import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type {
  DatasetInfo,
  GenomeColumns,
  GenomeTag,
  Movie,
  MovieTagCounts,
  RatingColumns,
  Store,
} from '../store/types.ts';

/**
 * A frozen copy of the store's data that a training run reads: training never touches the store,
 * so a separate retrain process can train while the server holds DuckDB's single-process lock, and a
 * model version carries the exact data it was trained on (live additions after it are diffed against it).
 */
export interface Snapshot {
  dataset: DatasetInfo | null;
  movies: Movie[];
  ratings: RatingColumns;
  tags: MovieTagCounts;
  genomeTags: GenomeTag[];
  genome: GenomeColumns;
  /** sha256 of the contents (not of when or where it was taken). */
  fingerprint: string;
}

type Typed = Int32Array | Float32Array | Float64Array;

interface Header {
  format: 1;
  fingerprint: string;
  dataset: DatasetInfo | null;
  movies: Movie[];
  tagNames: string[];
  genomeTags: GenomeTag[];
  columns: { name: string; type: 'i32' | 'f32' | 'f64'; length: number }[];
}

const CTOR = { i32: Int32Array, f32: Float32Array, f64: Float64Array } as const;

function typeOf(a: Typed): 'i32' | 'f32' | 'f64' {
  return a instanceof Int32Array ? 'i32' : a instanceof Float32Array ? 'f32' : 'f64';
}

function bytesOf(a: Typed): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Reads everything training needs from the store. */
export async function takeSnapshot(store: Store): Promise<Snapshot> {
  // One query at a time: the store's connection streams results, and interleaved streams corrupt each other.
  const dataset = await store.dataset();
  const movies = await store.listMovies();
  const ratings = await store.ratingColumns();
  const tags = await store.movieTagCounts();
  const genomeTags = await store.genomeTags();
  const genome = await store.genomeColumns();
  const partial = { dataset, movies, ratings, tags, genomeTags, genome };
  return { ...partial, fingerprint: fingerprintOf(partial) };
}

function columnsOf(s: Omit<Snapshot, 'fingerprint'>): [string, Typed][] {
  return [
    ['ratings.userId', s.ratings.userId],
    ['ratings.movieId', s.ratings.movieId],
    ['ratings.rating', s.ratings.rating],
    ['ratings.timestamp', s.ratings.timestamp],
    ['tags.movieId', s.tags.movieId],
    ['tags.count', s.tags.count],
    ['genome.movieId', s.genome.movieId],
    ['genome.tagId', s.genome.tagId],
    ['genome.relevance', s.genome.relevance],
  ];
}

/** Content hash: the dataset's identity (not its import time), the movies and every column. */
function fingerprintOf(s: Omit<Snapshot, 'fingerprint'>): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ name: s.dataset?.name ?? null, scale: s.dataset?.scale ?? null }));
  h.update(JSON.stringify(s.movies));
  h.update(JSON.stringify(s.tags.tag));
  h.update(JSON.stringify(s.genomeTags));
  for (const [name, col] of columnsOf(s)) {
    h.update(name);
    h.update(bytesOf(col));
  }
  return h.digest('hex').slice(0, 20);
}

/** Writes the snapshot into `dir` (a fresh directory; written beside and renamed, so never half there). */
export function writeSnapshot(s: Snapshot, dir: string): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const cols = columnsOf(s);
  const header: Header = {
    format: 1,
    fingerprint: s.fingerprint,
    dataset: s.dataset,
    movies: s.movies,
    tagNames: s.tags.tag,
    genomeTags: s.genomeTags,
    columns: cols.map(([name, a]) => ({ name, type: typeOf(a), length: a.length })),
  };
  const fd = openSync(join(tmp, 'columns.bin'), 'w');
  try {
    for (const [, a] of cols) {
      const b = bytesOf(a);
      let off = 0;
      while (off < b.length) off += writeSync(fd, b, off, Math.min(b.length - off, 1 << 26));
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const hfd = openSync(join(tmp, 'snapshot.json'), 'w');
  writeSync(hfd, JSON.stringify(header));
  fsyncSync(hfd);
  closeSync(hfd);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

export function readSnapshot(dir: string): Snapshot {
  let header: Header;
  try {
    header = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8')) as Header;
  } catch (err) {
    throw new Error(`cannot read the data snapshot in ${dir}: ${(err as Error).message}`);
  }
  if (header.format !== 1) throw new Error(`${join(dir, 'snapshot.json')}: unknown snapshot format ${header.format}`);
  const bin = readFileSync(join(dir, 'columns.bin'));
  const cols = new Map<string, Typed>();
  let off = 0;
  for (const c of header.columns) {
    const C = CTOR[c.type];
    const bytes = c.length * C.BYTES_PER_ELEMENT;
    if (off + bytes > bin.length) throw new Error(`${join(dir, 'columns.bin')}: truncated at column ${c.name}`);
    // Copy into an aligned buffer of its own (the file buffer's offsets need not be aligned).
    const a = new C(c.length);
    new Uint8Array(a.buffer).set(bin.subarray(off, off + bytes));
    cols.set(c.name, a);
    off += bytes;
  }
  const col = <T extends Typed>(name: string) => cols.get(name) as T;
  return {
    dataset: header.dataset,
    movies: header.movies,
    ratings: {
      userId: col<Int32Array>('ratings.userId'),
      movieId: col<Int32Array>('ratings.movieId'),
      rating: col<Float32Array>('ratings.rating'),
      timestamp: col<Float64Array>('ratings.timestamp'),
    },
    tags: { movieId: col<Int32Array>('tags.movieId'), tag: header.tagNames, count: col<Int32Array>('tags.count') },
    genomeTags: header.genomeTags,
    genome: {
      movieId: col<Int32Array>('genome.movieId'),
      tagId: col<Int32Array>('genome.tagId'),
      relevance: col<Float32Array>('genome.relevance'),
    },
    fingerprint: header.fingerprint,
  };
}
