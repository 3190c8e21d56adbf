import type { Catalogue } from '../../data/catalogue.ts';
import type { EaseModel } from '../../models/ease.ts';
import type { ItemKnnModel } from '../../models/itemknn.ts';
import type { Query, ScoreResult, Strategy } from '../strategy.ts';

/** At most this many of the latest history items are weighed for a reason (bounds a long history's cost). */
const SOURCE_LIMIT = 300;

/** Weights of item j from the history items items[from, to) into out[0, to − from). */
type WeightsTo = (j: number, items: Int32Array, from: number, to: number, out: Float64Array) => void;

/**
 * "because you watched X": the history item that contributes most to the recommended one (the first of equals,
 * and none unless some weight is above 0), weighed in one pass over the item's column.
 */
class StrongestSource {
  private weights = new Float64Array(0);

  constructor(
    private readonly catalogue: Catalogue,
    private readonly weightsTo: WeightsTo,
  ) {}

  reason(history: Int32Array, index: number): string | undefined {
    // With nothing watched every movie scores 0: the list says nothing about the viewer.
    if (history.length === 0) return 'nothing watched yet: every movie scores the same (in catalogue order)';
    const limit = Math.min(history.length, SOURCE_LIMIT);
    const from = history.length - limit;
    if (this.weights.length < limit) this.weights = new Float64Array(SOURCE_LIMIT);
    const w = this.weights;
    this.weightsTo(index, history, from, history.length, w);
    let best = -1;
    let bestW = 0;
    for (let k = 0; k < limit; k++) {
      if (w[k]! > bestW) {
        bestW = w[k]!;
        best = history[from + k]!;
      }
    }
    if (best < 0) return undefined;
    const m = this.catalogue.movies[best]!;
    return `because you watched ${m.displayTitle}${m.year ? ` (${m.year})` : ''}`;
  }
}

export class ItemKnnStrategy implements Strategy {
  readonly name = 'itemknn';
  readonly description = 'item-based kNN, cosine similarity over all neighbours';
  private readonly source: StrongestSource;

  constructor(
    private readonly model: ItemKnnModel,
    catalogue: Catalogue,
  ) {
    this.source = new StrongestSource(catalogue, (j, items, from, to, out) =>
      model.similaritiesTo(j, items, from, to, out),
    );
  }

  score({ history }: Query, scores: Float32Array): ScoreResult | undefined {
    this.model.scoreInto(history.items, scores);
    return undefined;
  }

  explain({ history }: Query, index: number): string | undefined {
    return this.source.reason(history.items, index);
  }
}

export class EaseStrategy implements Strategy {
  readonly name = 'ease';
  readonly description = 'EASE (Steck 2019): closed-form item-item linear model';
  private readonly source: StrongestSource;

  constructor(
    private readonly model: EaseModel,
    catalogue: Catalogue,
  ) {
    this.source = new StrongestSource(catalogue, (j, items, from, to, out) => model.weightsTo(j, items, from, to, out));
  }

  score({ history }: Query, scores: Float32Array): ScoreResult | undefined {
    this.model.scoreInto(history.items, scores);
    return undefined;
  }

  explain({ history }: Query, index: number): string | undefined {
    return this.source.reason(history.items, index);
  }
}
