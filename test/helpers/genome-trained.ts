import path from 'node:path';
import { type Trained, trained } from './trained.ts';

/** fixtures/genome: 6 movies (family/animation 1, 2, 3 and crime 4, 5, 6), users 1–5, 15 ratings. */
export const GENOME_DATA = path.resolve(import.meta.dirname, '../../fixtures/genome');

/**
 * Training settings for fixtures/genome, shared by every test that serves it (one trained fixture). The defaults
 * train this tiny set in seconds (and the neural predictor needs its default epochs to tell a lover from a hater),
 * with two content clusters (family and crime), and the content → ALS bridge trained on every rated movie: no movie
 * of the fixture has the default 5 ratings, and a bridge with no movie to hold out has no R² (training fails).
 * The router's thin-history path (also-liked, router.thinHistory) is off: these tests are about the content and
 * walk paths of `similar`, which one or two movies would otherwise not reach; the real-data tests cover also-liked.
 */
export const GENOME_TRAINING = {
  content: { clusters: 2 },
  hybrid: { bridgeMinRatings: 1 },
  router: { thinHistory: 0 },
};

/** fixtures/genome trained once with GENOME_TRAINING (shared); this test's own copy. */
export function trainedGenome(): Promise<Trained> {
  return trained('genome', GENOME_DATA, GENOME_TRAINING);
}
