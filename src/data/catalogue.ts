import type { Movie } from './records.ts';
import { searchKey } from './titles.ts';

export interface GenreCount {
  genre: string;
  movies: number;
}

export interface SearchHit {
  index: number;
  /** Higher is a better textual match; ties are broken by the caller's popularity. */
  match: number;
}

const MAX_GENRES = 32;
const LEADING_ARTICLE = /^(the|a|an|les|la|le|l|il|lo|das|der|die|el|los|las|un|une) /;

/**
 * The catalogue held in memory: dense indices 0..n-1 for models, a genre bitmask per movie and
 * precomputed search keys. Loaded once, extended in place when a live movie is added.
 */
export class Catalogue {
  readonly movies: Movie[] = [];
  private readonly byId = new Map<number, number>();
  private readonly genreNames: string[] = [];
  private readonly genreByKey = new Map<string, number>();
  private masks = new Uint32Array(0);
  private keys: string[] = [];
  private displayKeys: string[] = [];
  /** Display title without a leading article, so "matrix" is an exact hit for "The Matrix". */
  private bareKeys: string[] = [];
  /** denseIndex's table and the catalogue size it was made for (a live movie makes it stale). */
  private dense: { size: number; index: Int32Array } | null = null;

  constructor(movies: readonly Movie[]) {
    this.masks = new Uint32Array(Math.max(16, movies.length));
    for (const m of movies) this.add(m);
  }

  get size(): number {
    return this.movies.length;
  }

  add(movie: Movie): number {
    if (this.byId.has(movie.movieId)) throw new Error(`movie ${movie.movieId} is already in the catalogue`);
    const index = this.movies.length;
    if (index >= this.masks.length) {
      const grown = new Uint32Array(this.masks.length * 2);
      grown.set(this.masks);
      this.masks = grown;
    }
    let mask = 0;
    for (const g of movie.genres) mask |= 1 << this.internGenre(g);
    this.masks[index] = mask >>> 0;
    this.movies.push(movie);
    this.byId.set(movie.movieId, index);
    return index;
  }

  private internGenre(name: string): number {
    const key = name.toLowerCase();
    const known = this.genreByKey.get(key);
    if (known !== undefined) return known;
    if (this.genreNames.length >= MAX_GENRES) throw new Error(`more than ${MAX_GENRES} genres are not supported`);
    this.genreNames.push(name);
    this.genreByKey.set(key, this.genreNames.length - 1);
    return this.genreNames.length - 1;
  }

  indexOf(movieId: number): number {
    return this.byId.get(movieId) ?? -1;
  }

  /**
   * index[movieId] = catalogue index or −1, for bulk lookups (25 M ratings at load): an array read instead of a map
   * lookup. Null when the ids are too sparse for a table (above 16 M); callers then use indexOf.
   */
  denseIndex(): Int32Array | null {
    if (this.dense?.size === this.movies.length) return this.dense.index;
    let max = 0;
    for (const m of this.movies) if (m.movieId > max) max = m.movieId;
    if (max > 16_000_000) return null;
    const index = new Int32Array(max + 1).fill(-1);
    this.movies.forEach((m, i) => {
      index[m.movieId] = i;
    });
    this.dense = { size: this.movies.length, index };
    return index;
  }

  get(movieId: number): Movie | undefined {
    const i = this.byId.get(movieId);
    return i === undefined ? undefined : this.movies[i];
  }

  genreMask(index: number): number {
    return this.masks[index]!;
  }

  /** Genre names as published, sorted. */
  genres(): string[] {
    return [...this.genreNames].sort((a, b) => a.localeCompare(b));
  }

  genreCounts(): GenreCount[] {
    const counts = new Int32Array(this.genreNames.length);
    for (let i = 0; i < this.size; i++) {
      const m = this.masks[i]!;
      for (let g = 0; g < this.genreNames.length; g++) if (m & (1 << g)) counts[g]!++;
    }
    return this.genreNames
      .map((genre, g) => ({ genre, movies: counts[g]! }))
      .sort((a, b) => b.movies - a.movies || a.genre.localeCompare(b.genre));
  }

  /** Case-insensitive genre lookup; returns the canonical name or undefined. */
  canonicalGenre(name: string): string | undefined {
    const g = this.genreByKey.get(name.trim().toLowerCase());
    return g === undefined ? undefined : this.genreNames[g];
  }

  /** Bitmask of the given canonical genre names. */
  maskOf(genres: readonly string[]): number {
    let mask = 0;
    for (const name of genres) {
      const g = this.genreByKey.get(name.toLowerCase());
      if (g !== undefined) mask |= 1 << g;
    }
    return mask >>> 0;
  }

  /**
   * Case- and accent-insensitive title search. Ranks an exact title above a title that starts with
   * the query, above a word that starts with it, above every query word found as a word prefix.
   */
  /** The search keys of movies added since the last search: made on first search, not at load (a CLI command that
   * never searches does not pay ~0.1 s for 10 k titles). */
  private keysUpToDate(): void {
    for (let i = this.keys.length; i < this.movies.length; i++) {
      const movie = this.movies[i]!;
      this.keys.push(` ${searchKey(`${movie.displayTitle} ${movie.title}`)} `);
      const display = searchKey(movie.displayTitle);
      this.displayKeys.push(` ${display} `);
      this.bareKeys.push(` ${display.replace(LEADING_ARTICLE, '')} `);
    }
  }

  search(query: string): SearchHit[] {
    this.keysUpToDate();
    const q = searchKey(query);
    if (q === '') return [];
    const words = q.split(' ');
    const hits: SearchHit[] = [];
    const exact = ` ${q} `;
    const start = ` ${q}`;
    for (let i = 0; i < this.keys.length; i++) {
      const key = this.keys[i]!;
      let match = 0;
      const display = this.displayKeys[i]!;
      const bare = this.bareKeys[i]!;
      if (display === exact || bare === exact) match = 4;
      else if (display.startsWith(start) || bare.startsWith(start)) match = 3;
      else if (key.includes(start)) match = 2;
      else if (words.length > 1 && words.every((w) => key.includes(` ${w}`))) match = 1;
      if (match > 0) hits.push({ index: i, match });
    }
    return hits;
  }
}
