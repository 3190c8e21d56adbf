import { contentInputsOf, DEFAULT_SCALE, userCount } from '../components/data.ts';
import { Catalogue } from '../data/catalogue.ts';
import type { EvalData } from '../evaluation/evaluator.ts';
import type { Snapshot } from '../store/snapshot.ts';

/** What the evaluation harness takes, from a snapshot (the evaluation stage and `cinerec tune`). */
export function evalDataOf(s: Snapshot): EvalData {
  return {
    rows: s.ratings,
    catalogue: new Catalogue(s.movies),
    scale: s.dataset?.scale ?? DEFAULT_SCALE,
    dataset: {
      name: s.dataset?.name ?? 'snapshot',
      users: userCount(s),
      movies: s.movies.length,
      ratings: s.ratings.userId.length,
    },
    content: contentInputsOf(s),
  };
}
