import { createHash } from 'node:crypto';
import { type Artifact, readArtifact, writeArtifact } from '../util/artifacts.ts';
import type { DatasetInfo, GenomeColumns, GenomeTag, Movie, MovieTagCounts, RatingColumns, Store } from './types.ts';

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

/** The small part of a snapshot, stored as the artifact's meta; the columns are its arrays. */
interface SnapshotMeta {
  fingerprint: string;
  dataset: DatasetInfo | null;
  movies: Movie[];
  tagNames: string[];
  genomeTags: GenomeTag[];
}

const FORMAT = 'snapshot-v1';

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

/** Writes the snapshot into `dir` as a model artifact (written beside and renamed, so never half there). */
export function writeSnapshot(s: Snapshot, dir: string): void {
  const meta: SnapshotMeta = {
    fingerprint: s.fingerprint,
    dataset: s.dataset,
    movies: s.movies,
    tagNames: s.tags.tag,
    genomeTags: s.genomeTags,
  };
  writeArtifact(dir, FORMAT, meta, Object.fromEntries(columnsOf(s)));
}

export function readSnapshot(dir: string): Snapshot {
  let a: Artifact<SnapshotMeta>;
  try {
    a = readArtifact<SnapshotMeta>(dir, FORMAT);
  } catch (err) {
    throw new Error(`cannot read the data snapshot in ${dir}: ${(err as Error).message}`);
  }
  const m = a.meta;
  return {
    dataset: m.dataset,
    movies: m.movies,
    ratings: {
      userId: a.array('ratings.userId', 'Int32Array'),
      movieId: a.array('ratings.movieId', 'Int32Array'),
      rating: a.array('ratings.rating', 'Float32Array'),
      timestamp: a.array('ratings.timestamp', 'Float64Array'),
    },
    tags: {
      movieId: a.array('tags.movieId', 'Int32Array'),
      tag: m.tagNames,
      count: a.array('tags.count', 'Int32Array'),
    },
    genomeTags: m.genomeTags,
    genome: {
      movieId: a.array('genome.movieId', 'Int32Array'),
      tagId: a.array('genome.tagId', 'Int32Array'),
      relevance: a.array('genome.relevance', 'Float32Array'),
    },
    fingerprint: m.fingerprint,
  };
}
