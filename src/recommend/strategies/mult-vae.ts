import type { MultVaeModel } from '../../models/mult-vae.ts';
import type { Query, ScoreResult, Strategy } from '../strategy.ts';

/**
 * Mult-VAE: the viewer's movies (watched or rated alike) through the variational autoencoder's encoder mean and
 * decoder; the scores are the decoder's logits, so any history is served by one forward pass. Movies added after
 * training are unknown to the network and score −∞.
 */
export class MultVaeStrategy implements Strategy {
  readonly name = 'mult-vae';
  readonly description = 'Mult-VAE: variational autoencoder over the viewer’s movies, multinomial likelihood';

  constructor(private readonly model: MultVaeModel) {}

  score({ history }: Query, scores: Float32Array): ScoreResult | undefined {
    this.model.scoreInto(history.items, scores);
    scores.fill(Number.NEGATIVE_INFINITY, Math.min(this.model.nItems, scores.length));
    return undefined;
  }

  /** The network has no per-movie attribution; the reason says what the score is. */
  explain({ history }: Query, _index: number): string | undefined {
    const n = history.items.length;
    if (n === 0) return 'nothing watched yet: what any viewer most likely watches';
    return `likely next given your ${n === 1 ? 'movie' : `${n} movies`} (Mult-VAE)`;
  }
}
