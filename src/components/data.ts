import { Catalogue } from '../data/catalogue.ts';
import { Interactions } from '../data/interactions.ts';
import type { ContentInputs } from '../features/content-features.ts';
import type { TrainingData } from '../recommend/strategy.ts';
import type { Snapshot } from '../store/snapshot.ts';
import type { RatingScale } from '../store/types.ts';

/** What training and serving both derive from a snapshot, so a loaded model sees the data it was fitted on. */

export const DEFAULT_SCALE: RatingScale = { min: 0.5, max: 5, step: 0.5 };

export function contentInputsOf(s: Snapshot): ContentInputs {
  return { tags: s.tags, genomeTags: s.genomeTags, genome: s.genome };
}

export function trainingDataOf(s: Snapshot): TrainingData {
  const catalogue = new Catalogue(s.movies);
  return {
    catalogue,
    interactions: Interactions.build(s.ratings, catalogue),
    scale: s.dataset?.scale ?? DEFAULT_SCALE,
    content: contentInputsOf(s),
  };
}

/** Distinct users of a snapshot: its ratings are ordered by user, so count the changes. */
export function userCount(s: Snapshot): number {
  const u = s.ratings.userId;
  let n = 0;
  for (let k = 0; k < u.length; k++) if (k === 0 || u[k] !== u[k - 1]) n++;
  return n;
}
