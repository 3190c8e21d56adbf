import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { Catalogue } from '../data/catalogue.ts';
import { Interactions } from '../data/interactions.ts';
import type { EvalData } from '../evaluation/evaluator.ts';
import type { ContentInputs } from '../features/content-features.ts';
import { type AlsArrays, type AlsMeta, AlsModel } from '../models/als.ts';
import { readArtifact, writeArtifact } from '../models/artifacts.ts';
import type { ContentSettings } from '../recommend/content-index.ts';
import type { TrainingData } from '../recommend/strategy.ts';
import type { RatingScale } from '../store/types.ts';
import type { Snapshot } from './snapshot.ts';

/** What training and serving both derive from a snapshot, so a loaded model sees the data it was fitted on. */

const DEFAULT_SCALE: RatingScale = { min: 0.5, max: 5, step: 0.5 };

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

export function contentSettingsOf(config: Config): ContentSettings {
  const c = config.content;
  return {
    weights: c.weights,
    tagVocabulary: c.tagVocabulary,
    tagMinMovies: c.tagMinMovies,
    dimensions: c.dimensions,
    clusters: c.clusters,
    restarts: c.restarts,
    seed: c.seed,
    positiveRating: c.positiveRating,
    // Part of the saved model's fingerprint: switching encoder (or its settings) refits.
    encoder: c.encoder,
    ...(c.encoder === 'autoencoder' ? { autoencoder: c.autoencoder } : {}),
  };
}

/** Key a saved content model carries: the data it was fitted on and every setting that shapes it. */
export function contentKey(dataFingerprint: string, config: Config): string {
  return createHash('sha256')
    .update(JSON.stringify({ data: dataFingerprint, content: config.content, format: 1 }))
    .digest('hex')
    .slice(0, 16);
}

/** Where each model sits inside a model version. */
export const VERSION_LAYOUT = {
  snapshot: 'snapshot/data',
  content: 'content/content',
  als: 'als/als',
} as const;

export function saveAls(dir: string, model: AlsModel): void {
  const { meta, arrays } = model.toArrays();
  writeArtifact(dir, 'als', meta, { userFactors: arrays.userFactors, itemFactors: arrays.itemFactors });
}

export function loadAls(dir: string): AlsModel {
  const a = readArtifact<AlsMeta>(dir, 'als');
  const arrays: AlsArrays = {
    userFactors: a.array('userFactors', 'Float32Array'),
    itemFactors: a.array('itemFactors', 'Float32Array'),
  };
  return AlsModel.fromArrays(a.meta, arrays);
}

/** True when a saved ALS model was fitted with the parameters the configuration asks for now. */
export function alsMatches(model: AlsModel, config: Config): boolean {
  const p = model.toArrays().meta.params;
  const c = config.als;
  return (
    p.factors === c.factors &&
    p.regularization === c.regularization &&
    p.alpha === c.alpha &&
    p.iterations === c.iterations &&
    p.confidence === c.confidence &&
    p.seed === c.seed
  );
}

export function versionPath(versionDir: string, part: keyof typeof VERSION_LAYOUT): string {
  return join(versionDir, VERSION_LAYOUT[part]);
}
