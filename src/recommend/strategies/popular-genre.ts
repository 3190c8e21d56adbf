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

  constructor(data: TrainingData) {
    this.catalogue = data.catalogue;
    this.pop = Float32Array.from(data.interactions.itemCounts());
  }

  score({ history, ctx }: Query, scores: Float32Array): ScoreResult | undefined {
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

  explain({ history }: Query, index: number): string | undefined {
    const catalogue = this.catalogue;
    const genres = catalogue.movies[index]!.genres;
    if (history.items.length === 0 || genres.length === 0) return 'popular overall';
    return `popular in ${genres.slice(0, 3).join(', ')}, genres you watch`;
  }
}
