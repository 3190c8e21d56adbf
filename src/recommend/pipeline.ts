import { topKInto } from '../math/topk.ts';
import { historyOf } from './history.ts';
import type { RuleSet } from './rules.ts';
import type { Strategy, TrainingData, ViewerContext } from './strategy.ts';

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
  /** Skip reasons (the evaluator does not read them). */
  explain?: boolean;
}

/**
 * Strategy scores → the viewer's history and exclusions removed → promote/block rules → top k →
 * reasons. One scratch buffer is reused across calls: strategies score synchronously.
 */
export class RankingPipeline {
  private scratch = new Float32Array(0);
  private best = new Int32Array(0);
  private readonly promoted = new Set<number>();

  constructor(
    private readonly data: () => TrainingData,
    private readonly rules: () => RuleSet,
  ) {}

  rank(strategy: Strategy, req: RankRequest): RankedItem[] {
    const data = this.data();
    const catalogue = data.catalogue;
    const n = catalogue.size;
    if (this.scratch.length < n) this.scratch = new Float32Array(Math.ceil(n * 1.25));
    const scores = this.scratch.subarray(0, n);
    scores.fill(0);
    const query = { ctx: req.ctx, history: historyOf(req.ctx, data) };
    const { tiers } = strategy.score(query, scores) ?? {};
    const seen = query.history.items;
    for (let k = 0; k < seen.length; k++) scores[seen[k]!] = Number.NEGATIVE_INFINITY;
    for (const id of req.exclude ?? []) {
      const i = catalogue.indexOf(id);
      if (i >= 0) scores[i] = Number.NEGATIVE_INFINITY;
    }
    const promoted = this.rules().apply(scores, catalogue, req.now ?? new Date(), this.promoted);
    const k = Math.max(0, Math.min(req.k, n));
    if (this.best.length < k) this.best = new Int32Array(k);
    const count = topKInto(scores, k, this.best, tiers);
    const out: RankedItem[] = [];
    for (let r = 0; r < count; r++) {
      const i = this.best[r]!;
      const reason = req.explain === false ? undefined : strategy.explain?.(query, i);
      out.push({
        index: i,
        movieId: catalogue.movies[i]!.movieId,
        score: scores[i]!,
        promoted: promoted.has(i),
        tier: tiers ? tiers[i]! : 0,
        ...(reason ? { reason } : {}),
      });
    }
    return out;
  }
}
