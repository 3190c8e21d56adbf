import type { Catalogue } from '../data/catalogue.ts';
import { topK } from '../math/topk.ts';
import type { RuleSet } from './rules.ts';
import type { Strategy, ViewerContext } from './strategy.ts';

export interface RankedItem {
  index: number;
  movieId: number;
  score: number;
  promoted: boolean;
  tier: number;
  reason?: string;
}

export interface RankRequest {
  ctx: ViewerContext;
  k: number;
  /** Movie ids never to return (e.g. already shown). */
  exclude?: readonly number[];
  now?: Date;
}

/**
 * Strategy scores → exclusions → promote/block rules → top k → reasons.
 * One scratch buffer is reused across calls: strategies score synchronously.
 */
export class RankingPipeline {
  private scratch = new Float32Array(0);

  constructor(
    private readonly catalogue: Catalogue,
    private readonly rules: () => RuleSet,
  ) {}

  rank(strategy: Strategy, req: RankRequest): RankedItem[] {
    const n = this.catalogue.size;
    if (this.scratch.length < n) this.scratch = new Float32Array(Math.ceil(n * 1.25));
    const scores = this.scratch.subarray(0, n);
    scores.fill(0);
    const { tiers } = strategy.score(req.ctx, scores) ?? {};
    for (const id of req.exclude ?? []) {
      const i = this.catalogue.indexOf(id);
      if (i >= 0) scores[i] = Number.NEGATIVE_INFINITY;
    }
    const promoted = this.rules().apply(scores, this.catalogue, req.now ?? new Date());
    const best = topK(scores, req.k, tiers);
    const out: RankedItem[] = [];
    for (const i of best) {
      const reason = strategy.explain?.(req.ctx, i);
      out.push({
        index: i,
        movieId: this.catalogue.movies[i]!.movieId,
        score: scores[i]!,
        promoted: promoted.has(i),
        tier: tiers ? tiers[i]! : 0,
        ...(reason ? { reason } : {}),
      });
    }
    return out;
  }
}
