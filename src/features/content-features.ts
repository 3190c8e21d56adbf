import type { Catalogue } from '../data/catalogue.ts';
import type { GenomeColumns, GenomeTag, MovieTagCounts } from '../store/types.ts';
import { fitTitleVocabulary, SERIES_VALUE, type TitleTerms, titleTerms } from './title-features.ts';

/**
 * Raw content features of movies: multi-hot genres, release year, TF-IDF over users' free tags, title words and
 * series (src/features/title-features.ts), tag-genome relevance, optional rating statistics. Kept sparse (CSR) so a
 * 62 k-movie catalogue with a 1,128-tag genome and thousands of tag terms never becomes one dense matrix.
 */

export type GroupName = 'genres' | 'year' | 'tags' | 'title' | 'genome' | 'stats';

export interface FeatureGroup {
  name: GroupName;
  /** Columns [start, end). */
  start: number;
  end: number;
  /**
   * 'block': the group is centred and scaled as a whole (its total variance becomes weight²), which
   * keeps the relative size of its columns (TF-IDF terms, genome relevance).
   * 'standard': each column is standardised, then the group shares weight² among its columns.
   * 'links': not encoded; its rows link movies to each other (the title group, see src/models/content.ts).
   */
  scaling: 'block' | 'standard' | 'links';
  weight: number;
}

export interface FeatureWeights {
  genres: number;
  year: number;
  tags: number;
  title: number;
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
  /** Title words and their IDF, then series keys: the title group's columns in that order (absent in old models). */
  titleWords?: string[];
  titleIdf?: number[];
  /** The weight a title word that is no column has in its row's norm (the IDF of a word of one movie). */
  titleOtherIdf?: number;
  series?: string[];
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
  /** The display title (without the year): its words and series cue make the title group. */
  title?: string;
  /** Tag term → number of times it was given. */
  tags: ReadonlyMap<string, number>;
  /** Tag-genome relevance: parallel arrays, ascending tag ids (empty when the movie has no genome). */
  genome: GenomeRow;
  ratings?: { count: number; mean: number; globalMean: number };
}

export interface GenomeRow {
  tagIds: ArrayLike<number>;
  relevance: ArrayLike<number>;
}

const NO_GENOME: GenomeRow = { tagIds: new Int32Array(0), relevance: new Float32Array(0) };

export const normalizeTag = (tag: string): string => tag.trim().toLowerCase().replace(/\s+/g, ' ');

/**
 * Per catalogue index: tag term counts, and the genome as views into the store's columns (sorted by
 * movie, then tag), so 15 M genome scores are never copied into per-movie objects.
 */
export function contentByIndex(
  catalogue: Catalogue,
  inputs: ContentInputs,
): { tags: Map<string, number>[]; genome: GenomeRow[] } {
  const n = catalogue.size;
  const tags = Array.from({ length: n }, () => new Map<string, number>());
  const genome = new Array<GenomeRow>(n).fill(NO_GENOME);
  const t = inputs.tags;
  for (let r = 0; r < t.movieId.length; r++) {
    const i = catalogue.indexOf(t.movieId[r]!);
    if (i < 0) continue;
    const term = normalizeTag(t.tag[r]!);
    if (term !== '') tags[i]!.set(term, (tags[i]!.get(term) ?? 0) + t.count[r]!);
  }
  const g = inputs.genome;
  let from = 0;
  while (from < g.movieId.length) {
    const id = g.movieId[from]!;
    let to = from + 1;
    while (to < g.movieId.length && g.movieId[to] === id) to++;
    const i = catalogue.indexOf(id);
    if (i >= 0) genome[i] = { tagIds: g.tagId.subarray(from, to), relevance: g.relevance.subarray(from, to) };
    from = to;
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
  const title =
    params.weights.title > 0
      ? fitTitleVocabulary(catalogue.movies.map((m) => titleTerms(m.displayTitle)))
      : { words: [], idf: [], series: [], otherIdf: 0 };
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
  // A series is shared by a handful of movies out of thousands: PCA would keep none of its columns, so the title
  // group links movies instead of being encoded.
  add('title', title.words.length + title.series.length, 'links');
  add('genome', hasGenome ? genomeTags.length : 0, 'block');
  add('stats', 2, 'standard');
  return {
    genres,
    tagTerms: terms.map(([t]) => t),
    tagIdf,
    titleWords: title.words,
    titleIdf: title.idf,
    titleOtherIdf: title.otherIdf,
    series: title.series,
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
  private readonly wordCol = new Map<string, number>();
  private readonly seriesCol = new Map<string, number>();
  /** Genome tag id → column offset in the group, or -1. */
  private readonly genomeCol: Int32Array;
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
    const words = space.titleWords ?? [];
    words.forEach((w, i) => {
      this.wordCol.set(w, i);
    });
    (space.series ?? []).forEach((k, i) => {
      this.seriesCol.set(k, words.length + i);
    });
    this.genomeCol = new Int32Array(Math.max(0, ...space.genomeTagIds) + 1).fill(-1);
    space.genomeTagIds.forEach((id, i) => {
      this.genomeCol[id] = i;
    });
  }

  groupOf(name: GroupName): FeatureGroup | undefined {
    return this.group.get(name)?.g;
  }

  /** Most cells a movie's row can have (a title has fewer distinct words than characters). */
  private capacity(movie: MovieContent): number {
    const title = this.group.has('title') ? (movie.title?.length ?? 0) + 1 : 0;
    return movie.genres.length + 1 + movie.tags.size + title + movie.genome.tagIds.length + 2;
  }

  /**
   * The title group's cells (ascending offsets): word TF-IDF, L2-normalised, and the series column. Null when the
   * title has no word or series in the vocabulary: the group is then absent, not "unlike every title".
   */
  titleCells(title: string | undefined): [number, number][] | null {
    if (title === undefined || !this.group.has('title')) return null;
    const terms: TitleTerms = titleTerms(title);
    const idf = this.space.titleIdf ?? [];
    const other = this.space.titleOtherIdf ?? 0;
    const cells: [number, number][] = [];
    let sq = 0;
    for (const w of terms.words) {
      const c = this.wordCol.get(w);
      // A word that is no column still makes the title longer: "The Banger Sisters" is not "Sisters".
      const x = c === undefined ? other : idf[c]!;
      if (c !== undefined) cells.push([c, x]);
      sq += x * x;
    }
    const norm = Math.sqrt(sq);
    for (const cell of cells) cell[1] /= norm;
    const s = terms.series === null ? undefined : this.seriesCol.get(terms.series);
    if (s !== undefined) cells.push([s, SERIES_VALUE]);
    if (cells.length === 0) return null;
    return cells.sort((a, b) => a[0] - b[0]);
  }

  /**
   * Writes one movie's sparse row (ascending columns) at `at` and its group presence at `presentAt`;
   * returns the position after the row.
   */
  private write(
    movie: MovieContent,
    indices: Int32Array,
    values: Float32Array,
    at: number,
    present: Uint8Array,
    presentAt: number,
  ): number {
    let o = at;
    const put = (g: { index: number; g: FeatureGroup } | undefined, offset: number, value: number) => {
      if (!g) return;
      present[presentAt + g.index] = 1;
      if (value !== 0) {
        indices[o] = g.g.start + offset;
        values[o++] = value;
      }
    };

    // Genres are always known: "no genres" is itself information.
    const genres = this.group.get('genres');
    if (genres) present[presentAt + genres.index] = 1;
    const genreOffsets = [
      ...new Set(
        movie.genres.map((g) => this.genreCol.get(g.toLowerCase())).filter((c): c is number => c !== undefined),
      ),
    ].sort((a, b) => a - b);
    for (const c of genreOffsets) put(genres, c, 1);

    if (movie.year !== null) put(this.group.get('year'), 0, movie.year);

    // TF-IDF with sublinear term frequency, rows L2-normalised: a tag given 50 times is not 50 times as telling.
    const tagGroup = this.group.get('tags');
    if (tagGroup && movie.tags.size > 0) {
      const cells: [number, number][] = [];
      for (const [term, count] of movie.tags) {
        const c = this.termCol.get(term);
        if (c !== undefined) cells.push([c, (1 + Math.log(count)) * this.space.tagIdf[c]!]);
      }
      if (cells.length > 0) {
        cells.sort((a, b) => a[0] - b[0]);
        let sq = 0;
        for (const [, v] of cells) sq += v * v;
        const norm = Math.sqrt(sq);
        for (const [c, v] of cells) put(tagGroup, c, v / norm);
      }
    }

    const titleGroup = this.group.get('title');
    const titleCells = this.titleCells(movie.title);
    if (titleGroup && titleCells) for (const [c, v] of titleCells) put(titleGroup, c, v);

    const genomeGroup = this.group.get('genome');
    const gr = movie.genome;
    if (genomeGroup && gr.tagIds.length > 0) {
      present[presentAt + genomeGroup.index] = 1;
      const start = o;
      let sorted = true;
      let last = -1;
      for (let k = 0; k < gr.tagIds.length; k++) {
        const id = gr.tagIds[k]!;
        const c = id < this.genomeCol.length ? this.genomeCol[id]! : -1;
        const v = gr.relevance[k]!;
        if (c < 0 || v === 0) continue;
        if (c <= last) sorted = false;
        last = c;
        indices[o] = genomeGroup.g.start + c;
        values[o++] = v;
      }
      if (!sorted) {
        const order = Array.from({ length: o - start }, (_, k) => start + k).sort((a, b) => indices[a]! - indices[b]!);
        const idx = order.map((p) => indices[p]!);
        const val = order.map((p) => values[p]!);
        indices.set(idx, start);
        values.set(val, start);
      }
    }

    const statsGroup = this.group.get('stats');
    if (movie.ratings && statsGroup) {
      present[presentAt + statsGroup.index] = 1;
      const { count, mean, globalMean } = movie.ratings;
      put(statsGroup, 0, Math.log1p(count));
      put(statsGroup, 1, (count * (count > 0 ? mean : 0) + STATS_PRIOR * globalMean) / (count + STATS_PRIOR));
    }
    return o;
  }

  /** Sparse row of one movie: sorted column indices, values, and group presence. */
  row(movie: MovieContent): { indices: Int32Array; values: Float32Array; present: Uint8Array } {
    const cap = this.capacity(movie);
    const indices = new Int32Array(cap);
    const values = new Float32Array(cap);
    const present = new Uint8Array(this.space.groups.length);
    const end = this.write(movie, indices, values, 0, present, 0);
    return { indices: indices.slice(0, end), values: values.slice(0, end), present };
  }

  /** Rows for every catalogue index, written straight into typed arrays. */
  rows(
    catalogue: Catalogue,
    tagsByIndex: readonly ReadonlyMap<string, number>[],
    genomeByIndex: readonly GenomeRow[],
    stats?: RatingStats,
  ): FeatureRows {
    const n = catalogue.size;
    const groups = this.space.groups.length;
    const contentOf = (i: number): MovieContent => {
      const m = catalogue.movies[i]!;
      return {
        genres: m.genres,
        year: m.year,
        title: m.displayTitle,
        tags: tagsByIndex[i] ?? new Map(),
        genome: genomeByIndex[i] ?? NO_GENOME,
        ...(stats
          ? { ratings: { count: stats.count[i] ?? 0, mean: stats.mean[i] ?? 0, globalMean: stats.globalMean } }
          : {}),
      };
    };
    let cap = 0;
    for (let i = 0; i < n; i++) cap += this.capacity(contentOf(i));
    const indices = new Int32Array(cap);
    const values = new Float32Array(cap);
    const indptr = new Int32Array(n + 1);
    const present = new Uint8Array(n * groups);
    let o = 0;
    for (let i = 0; i < n; i++) {
      o = this.write(contentOf(i), indices, values, o, present, i * groups);
      indptr[i + 1] = o;
    }
    return {
      rows: n,
      cols: this.space.cols,
      indptr,
      indices: indices.slice(0, o),
      values: values.slice(0, o),
      present,
    };
  }
}
