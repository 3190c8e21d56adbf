import type { Catalogue } from '../data/catalogue.ts';
import type { Interactions } from '../data/interactions.ts';
import {
  type ContentInputs,
  contentByIndex,
  FeatureEncoder,
  type FeatureParams,
  type FeatureRows,
  fitFeatureSpace,
  type MovieContent,
  type RatingStats,
} from '../features/content-features.ts';
import { seriesLabel, titleTokens } from '../features/title-features.ts';
import { assertMayFit } from '../util/fit-guard.ts';
import type { Progress } from '../util/progress.ts';
import { ContentModel, type ContentModelParams, type RawRow } from './content.ts';

/** Per catalogue index: number of ratings and mean rating of the interactions (the content model's stats group). */
export function statsOf(catalogue: Catalogue, x: Interactions): RatingStats {
  const n = catalogue.size;
  const count = new Int32Array(n);
  const sum = new Float64Array(n);
  for (let p = 0; p < x.items.length; p++) {
    count[x.items[p]!]!++;
    sum[x.items[p]!]! += x.ratings[p]!;
  }
  return {
    count,
    mean: Float32Array.from(sum, (s, i) => (count[i]! > 0 ? s / count[i]! : 0)),
    globalMean: x.meanRating(),
  };
}

export interface ContentSettings extends FeatureParams, ContentModelParams {
  /** A known user's training ratings at or above this are the "watched" seeds. */
  positiveRating: number;
}

export interface SharedContent {
  genres: string[];
  /** Strongest shared tags: genome tags both movies are highly relevant to, or tag terms both carry. */
  tags: string[];
  /** The series both titles belong to, in the first title's spelling (e.g. "Star Wars"), when their titles say so. */
  series?: string;
  /** Title words both titles have (normalised, e.g. "matrix"), beyond those naming the shared series. */
  titleWords?: string[];
}

/** Views of each movie's row in the CSR matrix: no copy of the (possibly 15 M-value) genome. */
function rowViews(rows: FeatureRows, groups: number): RawRow[] {
  const out = new Array<RawRow>(rows.rows);
  for (let i = 0; i < rows.rows; i++) {
    const from = rows.indptr[i]!;
    const to = rows.indptr[i + 1]!;
    out[i] = {
      indices: rows.indices.subarray(from, to),
      values: rows.values.subarray(from, to),
      present: rows.present.subarray(i * groups, (i + 1) * groups),
    };
  }
  return out;
}

/**
 * The content model aligned with the catalogue: row i is catalogue index i. Keeps the raw rows for
 * explanations and places movies the model has not seen (added live) with the fitted objects.
 */
export class ContentIndex {
  private readonly raw: RawRow[];

  private constructor(
    readonly model: ContentModel,
    readonly features: FeatureEncoder,
    raw: RawRow[],
    private readonly catalogue: Catalogue,
  ) {
    this.raw = raw;
  }

  static fit(
    catalogue: Catalogue,
    inputs: ContentInputs,
    settings: ContentSettings,
    stats?: RatingStats,
    progress?: Progress,
  ): ContentIndex {
    assertMayFit('the content model');
    const byIndex = contentByIndex(catalogue, inputs);
    const hasGenome = inputs.genome.movieId.length > 0;
    const space = fitFeatureSpace(catalogue, byIndex.tags, inputs.genomeTags, hasGenome, settings);
    const features = new FeatureEncoder(space);
    const rows = features.rows(catalogue, byIndex.tags, byIndex.genome, stats);
    const movieIds = Int32Array.from(catalogue.movies, (m) => m.movieId);
    const model = ContentModel.fit(rows, movieIds, space, settings, progress);
    return new ContentIndex(model, features, rowViews(rows, space.groups.length), catalogue);
  }

  /**
   * Wraps a saved model. Returns null when the model's movies are not the catalogue's first rows in
   * order (the data changed under it): the caller refits.
   */
  static attach(
    model: ContentModel,
    catalogue: Catalogue,
    inputs: ContentInputs,
    stats?: RatingStats,
  ): ContentIndex | null {
    const ids = model.movieIds;
    if (ids.length > catalogue.size) return null;
    for (let i = 0; i < ids.length; i++) if (catalogue.movies[i]!.movieId !== ids[i]) return null;
    const features = new FeatureEncoder(model.space);
    const byIndex = contentByIndex(catalogue, inputs);
    const rows = features.rows(catalogue, byIndex.tags, byIndex.genome, stats);
    const raw = rowViews(rows, model.space.groups.length);
    const index = new ContentIndex(model, features, raw, catalogue);
    for (let i = ids.length; i < catalogue.size; i++) model.append(catalogue.movies[i]!.movieId, raw[i]!);
    return index;
  }

  /** Places a movie just added to the catalogue (it must be the catalogue's last index). */
  add(index: number, content: MovieContent): { cluster: number } {
    if (index !== this.model.size || index !== this.raw.length)
      throw new Error(`content index: movie index ${index} is not the next row ${this.model.size}`);
    // The title is on the movie record: callers that build the content from a change need not repeat it.
    const row: RawRow = this.features.row({
      ...content,
      title: content.title ?? this.catalogue.movies[index]!.displayTitle,
    });
    this.raw.push(row);
    const placed = this.model.append(this.catalogue.movies[index]!.movieId, row);
    return { cluster: placed.cluster };
  }

  get size(): number {
    return this.model.size;
  }

  clusterOf(index: number): number {
    return index < this.model.size ? this.model.assignment[index]! : -1;
  }

  /** What two movies share, for reasons: series and title words, genres, and the strongest shared tags. */
  shared(a: number, b: number, maxTags = 3): SharedContent {
    const ma = this.catalogue.movies[a]!;
    const mb = this.catalogue.movies[b]!;
    const genres = ma.genres.filter((g) => mb.genres.includes(g));
    const ra = this.raw[a];
    const rb = this.raw[b];
    const tags: { name: string; w: number }[] = [];
    const words: string[] = [];
    let series = false;
    if (ra && rb) {
      const space = this.model.space;
      const tagGroup = this.features.groupOf('tags');
      const titleGroup = this.features.groupOf('title');
      const nWords = space.titleWords?.length ?? 0;
      const genomeGroup = this.features.groupOf('genome');
      // Merge the two sorted index lists.
      let p = 0;
      let q = 0;
      while (p < ra.indices.length && q < rb.indices.length) {
        const i = ra.indices[p]!;
        const j = rb.indices[q]!;
        if (i < j) p++;
        else if (j < i) q++;
        else {
          const va = ra.values[p]!;
          const vb = rb.values[q]!;
          if (tagGroup && i >= tagGroup.start && i < tagGroup.end) {
            tags.push({ name: space.tagTerms[i - tagGroup.start]!, w: 1 + va * vb });
          } else if (titleGroup && i >= titleGroup.start && i < titleGroup.end) {
            const c = i - titleGroup.start;
            if (c < nWords) words.push(space.titleWords![c]!);
            else series = true;
          } else if (genomeGroup && i >= genomeGroup.start && i < genomeGroup.end && va >= 0.5 && vb >= 0.5) {
            tags.push({ name: space.genomeTagNames[i - genomeGroup.start]!, w: Math.min(va, vb) });
          }
          p++;
          q++;
        }
      }
    }
    tags.sort((x, y) => y.w - x.w || (x.name < y.name ? -1 : 1));
    const names: string[] = [];
    for (const t of tags) {
      if (!names.includes(t.name)) names.push(t.name);
      if (names.length >= maxTags) break;
    }
    const out: SharedContent = { genres, tags: names };
    const label = series ? seriesLabel(ma.displayTitle) : null;
    if (label !== null) out.series = label;
    // Words of the series name say nothing more than "same series".
    const named = new Set(label === null ? [] : titleTokens(label));
    const titleWords = words.filter((w) => !named.has(w));
    if (titleWords.length > 0) out.titleWords = titleWords;
    return out;
  }
}
