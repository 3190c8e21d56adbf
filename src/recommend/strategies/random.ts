import { Rng } from '../../math/random.ts';
import type { Query, ScoreResult, Strategy } from '../strategy.ts';

/** Uniformly random ranking: the floor every model must clear. Seeded per viewer, so repeatable. */
export class RandomStrategy implements Strategy {
  readonly name = 'random';
  readonly description = 'uniformly random order (seeded per viewer)';

  constructor(private readonly seed = 1) {}

  score(query: Query, scores: Float32Array): ScoreResult | undefined {
    const h = query.history.items;
    let key = query.ctx.userId ?? 0;
    for (let k = 0; k < Math.min(h.length, 8); k++) key = (Math.imul(key, 31) + h[k]!) | 0;
    const rng = new Rng(this.seed, key >>> 0);
    for (let i = 0; i < scores.length; i++) scores[i] = rng.next();
    return undefined;
  }

  explain(): string {
    return 'in random order (the baseline every model must beat)';
  }
}
