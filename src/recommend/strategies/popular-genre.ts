import type { Catalogue } from '../../data/catalogue.ts';
import type { Query, ScoreResult, Strategy, TrainingData } from '../strategy.ts';

/**
 * Most popular within the viewer's genres: rating count weighted by the share of the viewer's
 * history in the movie's genres (the mean of those shares over the movie's genres).
 */
export class PopularGenreStrategy implements Strategy {
  readonly name = 'popular-genre';
  readonly description = "most popular in the viewer's genres";
  private readonly catalogue: Catalogue;
  private readonly pop: Float32Array;
  private share = new Float64Array(32);
  /** The query `share` was computed for, and its totals. */
  private sharedFor: Query | null = null;
  private shares = { total: 0, named: 0 };

  constructor(data: TrainingData) {
    this.catalogue = data.catalogue;
    this.pop = Float32Array.from(data.interactions.itemCounts());
  }

  /** The viewer's genre counts (history, plus named genres weighted as the whole history) of the last query. */
  private sharesOf(query: Query): { total: number; named: number } {
    if (this.sharedFor === query) return this.shares;
    const { history, ctx } = query;
    const catalogue = this.catalogue;
    const share = this.share;
    share.fill(0);
    let total = 0;
    for (let k = 0; k < history.items.length; k++) {
      for (let m = catalogue.genreMask(history.items[k]!) | 0; m !== 0; m &= m - 1) share[31 - Math.clz32(m & -m)]!++;
      total++;
    }
    // Genres named in the context count as strongly as the whole history.
    const named = ctx.genres ? catalogue.maskOf(ctx.genres) : 0;
    for (let g = 0; g < 32; g++) if (named & (1 << g)) share[g]! += Math.max(1, total);
    this.sharedFor = query;
    this.shares = { total, named };
    return this.shares;
  }

  score(query: Query, scores: Float32Array): ScoreResult | undefined {
    const catalogue = this.catalogue;
    const share = this.share;
    this.sharedFor = null;
    const { total, named } = this.sharesOf(query);
    const norm = total + (named ? Math.max(1, total) : 0);
    for (let i = 0; i < scores.length; i++) {
      // The movie's genres in ascending bit order (as a loop over all 32 bits meets them).
      let s = 0;
      let n = 0;
      for (let m = catalogue.genreMask(i) | 0; m !== 0; m &= m - 1) {
        s += share[31 - Math.clz32(m & -m)]!;
        n++;
      }
      const affinity = norm > 0 && n > 0 ? s / n / norm : 0;
      scores[i] = (i < this.pop.length ? this.pop[i]! : 0) * (0.05 + affinity);
    }
    return undefined;
  }

  /** The movie's genres that are the viewer's (watched or named), the viewer's most frequent first, up to three. */
  explain(query: Query, index: number): string | undefined {
    const catalogue = this.catalogue;
    const { total } = this.sharesOf(query);
    const share = this.share;
    const mine = catalogue.movies[index]!.genres.map((name) => ({
      name,
      share: share[31 - Math.clz32(catalogue.maskOf([name]))] ?? 0,
    }))
      .filter((g) => g.share > 0)
      .sort((a, b) => b.share - a.share || a.name.localeCompare(b.name))
      .slice(0, 3)
      .map((g) => g.name);
    if (mine.length === 0) return 'popular overall';
    return `popular in ${mine.join(', ')}, ${total > 0 ? 'genres you watch' : 'genres you chose'}`;
  }
}
