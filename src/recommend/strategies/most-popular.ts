import type { Query, ScoreResult, Strategy, TrainingData } from '../strategy.ts';

/** The classic baseline: items ranked by how many users interacted with them. */
export class MostPopularStrategy implements Strategy {
  readonly name = 'most-popular';
  readonly description = 'items by number of ratings (the classic popularity baseline)';
  private readonly counts: ArrayLike<number>;

  constructor(data: TrainingData) {
    this.counts = data.interactions.itemCounts();
  }

  score(_query: Query, scores: Float32Array): ScoreResult | undefined {
    const c = this.counts;
    for (let i = 0; i < scores.length; i++) scores[i] = i < c.length ? c[i]! : 0;
    return undefined;
  }

  explain(_query: Query, index: number): string | undefined {
    const n = this.counts[index] ?? 0;
    return `rated by ${n} viewer${n === 1 ? '' : 's'}`;
  }
}
