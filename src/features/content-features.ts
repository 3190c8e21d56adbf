import type { Catalogue } from '../data/catalogue.ts';
import type { GenomeColumns, GenomeTag, MovieTagCounts } from '../store/types.ts';

/**
 * Raw content features of movies: multi-hot genres, release year, TF-IDF over users' free tags,
 * tag-genome relevance, optional rating statistics. Kept sparse (CSR) so a 62 k-movie catalogue with
 * a 1,128-tag genome and thousands of tag terms never becomes one dense matrix.
 */

export type GroupName = 'genres' | 'year' | 'tags' | 'genome' | 'stats';

export interface FeatureGroup {
  name: GroupName;
  /** Columns [start, end). */
  start: number;
  end: number;
  /**
   * 'block': the group is centred and scaled as a whole (its total variance becomes weight²), which
   * keeps the relative size of its columns (TF-IDF terms, genome relevance).
   * 'standard': each column is standardised, then the group shares weight² among its columns.
   */
  scaling: 'block' | 'standard';
  weight: number;
}

export interface FeatureWeights {
  genres: number;
  year: number;
  tags: number;
  genome: number;
  stats: number;
}

export interface FeatureParams {
  weights: FeatureWeights;
  /** Keep at most this many tag terms (the most frequent). */
  tagVocabulary: number;
  /** A tag term must be used on at least this many movies. */
  tagMinMovies: number;
}

/** What is needed to turn any movie, including one added later, into the same columns. */
export interface FeatureSpace {
  genres: string[];
  tagTerms: string[];
  tagIdf: number[];
  genomeTagIds: number[];
  genomeTagNames: string[];
  groups: FeatureGroup[];
  cols: number;
}

/** Content inputs read from the store. */
export interface ContentInputs {
  tags: MovieTagCounts;
  genomeTags: GenomeTag[];
  genome: GenomeColumns;
}

/** Per catalogue index: number of ratings and mean rating (training data only). */
export interface RatingStats {
  count: Int32Array;
  mean: Float32Array;
  globalMean: number;
}

/** Mean rating shrunk towards the global mean by this many pseudo-ratings, so one 5-star vote is not a 5.0 movie. */
const STATS_PRIOR = 10;

/** Sparse rows; a group a movie has no data for (no tags, no genome, no year) is marked absent. */
export interface FeatureRows {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
  /** rows × groups, 1 where the movie has data for the group. */
  present: Uint8Array;
}

/** One movie's features before they are placed in a matrix. */
export interface MovieContent {
  genres: readonly string[];
  year: number | null;
  /** Tag term → number of times it was given. */
  tags: ReadonlyMap<string, number>;
  /** Genome tag id → relevance. */
  genome: ReadonlyMap<number, number>;
  ratings?: { count: number; mean: number; globalMean: number };
}

export const normalizeTag = (tag: string): string => tag.trim().toLowerCase().replace(/\s+/g, ' ');

/** Per catalogue index: tag term counts and genome relevance, from the store's columns. */
export function contentByIndex(
  catalogue: Catalogue,
  inputs: ContentInputs,
): { tags: Map<string, number>[]; genome: Map<number, number>[] } {
  const n = catalogue.size;
  const tags = Array.from({ length: n }, () => new Map<string, number>());
  const genome = Array.from({ length: n }, () => new Map<number, number>());
  const t = inputs.tags;
  for (let r = 0; r < t.movieId.length; r++) {
    const i = catalogue.indexOf(t.movieId[r]!);
    if (i < 0) continue;
    const term = normalizeTag(t.tag[r]!);
    if (term !== '') tags[i]!.set(term, (tags[i]!.get(term) ?? 0) + t.count[r]!);
  }
  const g = inputs.genome;
  let last = -1;
  let idx = -1;
  for (let r = 0; r < g.movieId.length; r++) {
    if (g.movieId[r] !== last) {
      last = g.movieId[r]!;
      idx = catalogue.indexOf(last);
    }
    if (idx >= 0) genome[idx]!.set(g.tagId[r]!, g.relevance[r]!);
  }
  return { tags, genome };
}

/** Chooses the columns: genres of the catalogue, the tag vocabulary with its IDF, the genome tags. */
export function fitFeatureSpace(
  catalogue: Catalogue,
  tagsByIndex: readonly ReadonlyMap<string, number>[],
  genomeTags: readonly GenomeTag[],
  hasGenome: boolean,
  params: FeatureParams,
): FeatureSpace {
  const n = catalogue.size;
  const df = new Map<string, number>();
  for (const m of tagsByIndex) for (const term of m.keys()) df.set(term, (df.get(term) ?? 0) + 1);
  const terms = [...df.entries()]
    .filter(([, d]) => d >= params.tagMinMovies)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, params.tagVocabulary);
  // Smoothed IDF, as scikit-learn's TfidfVectorizer: ln((1 + n) / (1 + df)) + 1.
  const tagIdf = terms.map(([, d]) => Math.log((1 + n) / (1 + d)) + 1);
  const genres = catalogue.genres();
  const groups: FeatureGroup[] = [];
  let col = 0;
  const add = (name: GroupName, width: number, scaling: FeatureGroup['scaling']) => {
    const weight = params.weights[name];
    if (width > 0 && weight > 0) {
      groups.push({ name, start: col, end: col + width, scaling, weight });
      col += width;
    }
  };
  add('genres', genres.length, 'block');
  add('year', 1, 'standard');
  add('tags', terms.length, 'block');
  add('genome', hasGenome ? genomeTags.length : 0, 'block');
  add('stats', 2, 'standard');
  return {
    genres,
    tagTerms: terms.map(([t]) => t),
    tagIdf,
    genomeTagIds: genomeTags.map((g) => g.tagId),
    genomeTagNames: genomeTags.map((g) => g.tag),
    groups,
    cols: col,
  };
}

/** Index lookups built once per space. */
export class FeatureEncoder {
  private readonly genreCol = new Map<string, number>();
  private readonly termCol = new Map<string, number>();
  private readonly genomeCol = new Map<number, number>();
  private readonly group = new Map<GroupName, { index: number; g: FeatureGroup }>();

  constructor(readonly space: FeatureSpace) {
    space.groups.forEach((g, index) => {
      this.group.set(g.name, { index, g });
    });
    space.genres.forEach((name, i) => {
      this.genreCol.set(name.toLowerCase(), i);
    });
    space.tagTerms.forEach((t, i) => {
      this.termCol.set(t, i);
    });
    space.genomeTagIds.forEach((id, i) => {
      this.genomeCol.set(id, i);
    });
  }

  groupOf(name: GroupName): FeatureGroup | undefined {
    return this.group.get(name)?.g;
  }

  /** Sparse row of one movie: sorted column indices, values, and group presence. */
  row(movie: MovieContent): { indices: number[]; values: number[]; present: Uint8Array } {
    const indices: number[] = [];
    const values: number[] = [];
    const present = new Uint8Array(this.space.groups.length);
    const put = (name: GroupName, offset: number, value: number) => {
      const e = this.group.get(name);
      if (!e) return;
      present[e.index] = 1;
      if (value !== 0) {
        indices.push(e.g.start + offset);
        values.push(value);
      }
    };
    const mark = (name: GroupName) => {
      const e = this.group.get(name);
      if (e) present[e.index] = 1;
    };

    // Genres are always known: "no genres" is itself information.
    mark('genres');
    const genreOffsets = movie.genres
      .map((g) => this.genreCol.get(g.toLowerCase()))
      .filter((c): c is number => c !== undefined)
      .sort((a, b) => a - b);
    for (const c of new Set(genreOffsets)) put('genres', c, 1);

    if (movie.year !== null) put('year', 0, movie.year);

    // TF-IDF with sublinear term frequency, rows L2-normalised: a tag given 50 times is not 50 times as telling.
    const tagCells: [number, number][] = [];
    for (const [term, count] of movie.tags) {
      const c = this.termCol.get(term);
      if (c !== undefined) tagCells.push([c, (1 + Math.log(count)) * this.space.tagIdf[c]!]);
    }
    if (tagCells.length > 0) {
      tagCells.sort((a, b) => a[0] - b[0]);
      const norm = Math.hypot(...tagCells.map(([, v]) => v));
      for (const [c, v] of tagCells) put('tags', c, v / norm);
    }

    if (movie.genome.size > 0 && this.group.has('genome')) {
      const cells: [number, number][] = [];
      for (const [tagId, rel] of movie.genome) {
        const c = this.genomeCol.get(tagId);
        if (c !== undefined) cells.push([c, rel]);
      }
      cells.sort((a, b) => a[0] - b[0]);
      mark('genome');
      for (const [c, v] of cells) put('genome', c, v);
    }

    if (movie.ratings && this.group.has('stats')) {
      mark('stats');
      const { count, mean, globalMean } = movie.ratings;
      put('stats', 0, Math.log1p(count));
      put('stats', 1, (count * (count > 0 ? mean : 0) + STATS_PRIOR * globalMean) / (count + STATS_PRIOR));
    }
    return { indices, values, present };
  }

  /** Rows for every catalogue index. */
  rows(
    catalogue: Catalogue,
    tagsByIndex: readonly ReadonlyMap<string, number>[],
    genomeByIndex: readonly ReadonlyMap<number, number>[],
    stats?: RatingStats,
  ): FeatureRows {
    const n = catalogue.size;
    const groups = this.space.groups.length;
    const indptr = new Int32Array(n + 1);
    const present = new Uint8Array(n * groups);
    const idx: number[] = [];
    const val: number[] = [];
    for (let i = 0; i < n; i++) {
      const m = catalogue.movies[i]!;
      const r = this.row({
        genres: m.genres,
        year: m.year,
        tags: tagsByIndex[i] ?? new Map(),
        genome: genomeByIndex[i] ?? new Map(),
        ...(stats
          ? { ratings: { count: stats.count[i] ?? 0, mean: stats.mean[i] ?? 0, globalMean: stats.globalMean } }
          : {}),
      });
      for (let k = 0; k < r.indices.length; k++) {
        idx.push(r.indices[k]!);
        val.push(r.values[k]!);
      }
      indptr[i + 1] = idx.length;
      present.set(r.present, i * groups);
    }
    return {
      rows: n,
      cols: this.space.cols,
      indptr,
      indices: Int32Array.from(idx),
      values: Float32Array.from(val),
      present,
    };
  }
}
