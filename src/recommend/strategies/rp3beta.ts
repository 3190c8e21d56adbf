import type { Catalogue } from '../../data/catalogue.ts';
import type { Rp3BetaModel } from '../../models/rp3beta.ts';
import type { Query, ScoreResult, Strategy } from '../strategy.ts';

/** At most this many of the latest history items are weighed for a reason. */
const SOURCE_LIMIT = 300;

/** RP3beta: the random walk item → user → item from the viewer's history, popular arrivals penalised. */
export class Rp3BetaStrategy implements Strategy {
  readonly name = 'rp3beta';
  readonly description = 'RP3beta: three-step random walk on the rating graph, popularity-penalised';
  private weights = new Float64Array(SOURCE_LIMIT);

  constructor(
    private readonly model: Rp3BetaModel,
    private readonly catalogue: Catalogue,
  ) {}

  score({ history }: Query, scores: Float32Array): ScoreResult | undefined {
    this.model.scoreInto(history.items, scores);
    return undefined;
  }

  /** The history movie whose walk reaches this one most strongly. */
  explain({ history }: Query, index: number): string | undefined {
    const items = history.items;
    if (items.length === 0) return 'nothing watched yet: every movie scores the same (in catalogue order)';
    const from = Math.max(0, items.length - SOURCE_LIMIT);
    this.model.weightsTo(index, items, from, items.length, this.weights);
    let best = -1;
    let bestW = 0;
    for (let k = from; k < items.length; k++) {
      const w = this.weights[k - from]!;
      if (w > bestW) {
        bestW = w;
        best = items[k]!;
      }
    }
    if (best < 0) return 'not reached from your movies: every such movie scores 0';
    const m = this.catalogue.movies[best]!;
    return `viewers of ${m.displayTitle}${m.year ? ` (${m.year})` : ''} went on to it`;
  }
}
