import type { Catalogue } from '../../data/catalogue.ts';
import { extendPopularity, type PopularityModel } from '../../models/popularity.ts';
import type { Query, ScoreResult, Strategy } from '../strategy.ts';

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * Cold start: the Bayesian weighted rating, optionally restricted to genres. With several genres
 * and 'any', movies matching more of them rank first (tiers), then by weighted rating.
 */
export class PopularStrategy implements Strategy {
  readonly name = 'popular';
  readonly description = 'most popular by Bayesian weighted rating, optionally within genres';
  private tiers = new Uint8Array(0);

  constructor(
    private fitted: PopularityModel,
    private readonly catalogue: Catalogue,
  ) {}

  /** The fitted model, grown to the catalogue when live movies were added since fitting. */
  model(): PopularityModel {
    if (this.fitted.score.length < this.catalogue.size)
      this.fitted = extendPopularity(this.fitted, this.catalogue.size);
    return this.fitted;
  }

  score({ ctx }: Query, scores: Float32Array): ScoreResult | undefined {
    const model = this.model();
    const catalogue = this.catalogue;
    const n = catalogue.size;
    const wanted = ctx.genres && ctx.genres.length > 0 ? catalogue.maskOf(ctx.genres) : 0;
    const all = ctx.genreMatch === 'all';
    const needed = popcount(wanted);
    if (wanted !== 0 && this.tiers.length < n) this.tiers = new Uint8Array(Math.ceil(n * 1.25));
    const tiers = this.tiers.subarray(0, n);
    for (let i = 0; i < n; i++) {
      scores[i] = model.score[i] ?? model.C;
      if (wanted === 0) continue;
      const hits = popcount(catalogue.genreMask(i) & wanted);
      tiers[i] = hits;
      if (hits === 0 || (all && hits < needed)) scores[i] = Number.NEGATIVE_INFINITY;
    }
    return wanted !== 0 && !all ? { tiers } : undefined;
  }

  explain({ ctx }: Query, index: number): string | undefined {
    const model = this.model();
    const votes = model.votes[index] ?? 0;
    const mean = model.mean[index] ?? 0;
    const movie = this.catalogue.movies[index]!;
    const matched = (ctx.genres ?? []).filter((g) => movie.genres.some((x) => x.toLowerCase() === g.toLowerCase()));
    const base =
      votes > 0 ? `rated ${mean.toFixed(2)} by ${votes} viewer${votes === 1 ? '' : 's'}` : 'new title (no ratings yet)';
    return matched.length > 0 ? `popular in ${matched.join(', ')}: ${base}` : `popular overall: ${base}`;
  }
}
