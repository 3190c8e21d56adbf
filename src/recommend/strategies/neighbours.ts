import type { Catalogue } from '../../data/catalogue.ts';
import type { EaseModel } from '../../models/ease.ts';
import type { ItemKnnModel } from '../../models/itemknn.ts';
import type { Query, ScoreResult, Strategy } from '../strategy.ts';

/** "because you watched X": the history item that contributes most to the recommended one. */
function strongestSource(
  catalogue: Catalogue,
  history: Int32Array,
  index: number,
  weight: (i: number, j: number) => number,
): string | undefined {
  let best = -1;
  let bestW = 0;
  // Bounded so a long history cannot make explanations the slow part of a request.
  const limit = Math.min(history.length, 300);
  for (let k = history.length - limit; k < history.length; k++) {
    const w = weight(history[k]!, index);
    if (w > bestW) {
      bestW = w;
      best = history[k]!;
    }
  }
  if (best < 0) return undefined;
  const m = catalogue.movies[best]!;
  return `because you watched ${m.displayTitle}${m.year ? ` (${m.year})` : ''}`;
}

export class ItemKnnStrategy implements Strategy {
  readonly name = 'itemknn';
  readonly description = 'item-based kNN, cosine similarity over all neighbours';

  constructor(
    private readonly model: ItemKnnModel,
    private readonly catalogue: Catalogue,
  ) {}

  score({ history }: Query, scores: Float32Array): ScoreResult | undefined {
    this.model.scoreInto(history.items, scores);
    return undefined;
  }

  explain({ history }: Query, index: number): string | undefined {
    return strongestSource(this.catalogue, history.items, index, (i, j) => this.model.similarity(i, j));
  }
}

export class EaseStrategy implements Strategy {
  readonly name = 'ease';
  readonly description = 'EASE (Steck 2019): closed-form item-item linear model';

  constructor(
    private readonly model: EaseModel,
    private readonly catalogue: Catalogue,
  ) {}

  score({ history }: Query, scores: Float32Array): ScoreResult | undefined {
    this.model.scoreInto(history.items, scores);
    return undefined;
  }

  explain({ history }: Query, index: number): string | undefined {
    return strongestSource(this.catalogue, history.items, index, (i, j) => this.model.weight(i, j));
  }
}
