import type { ContentSettings } from '../models/content-index.ts';
import type { TrainingData } from '../recommend/strategy.ts';
import { defineModel, defineStrategy, type SettingsOf } from './define.ts';
import { choice, group, int, ints, num, section } from './params.ts';

/** The content model: features → scaler → encoder → unit vectors → k-means clusters. */
export const CONTENT = section('content', 'the content model (similar movies, the watched scenario)', {
  weights: group(
    {
      genres: num(1, { min: 0, max: 100, doc: 'weight of the multi-hot genres' }),
      year: num(0.5, { min: 0, max: 100, doc: 'weight of the release year' }),
      tags: num(0.5, { min: 0, max: 100, doc: 'weight of the tag TF-IDF' }),
      title: num(1, { min: 0, max: 100, doc: 'weight of the title words (TF-IDF) and series cues' }),
      genome: num(2, { min: 0, max: 100, doc: 'weight of the tag-genome relevance' }),
      stats: num(0, { min: 0, max: 100, doc: 'weight of the rating statistics (0: content stays content)' }),
    },
    'weight of each feature group: its share of the variance the encoder sees; 0 drops the group',
  ),
  tagVocabulary: int(5000, { min: 0, max: 200000, doc: 'at most this many tag terms' }),
  tagMinMovies: int(2, { min: 1, doc: 'a tag term must be used on at least this many movies' }),
  dimensions: int(64, { min: 2, max: 1024, doc: 'size of the content vectors' }),
  clusters: int(100, { min: 1, max: 10000, doc: 'k-means clusters of the content vectors' }),
  restarts: int(3, { min: 1, max: 100, doc: 'seeded k-means restarts' }),
  seed: int(1, { min: 0, doc: 'random seed' }),
  positiveRating: num(4, { doc: 'ratings at or above this count as seeds of the watched scenario' }),
  encoder: choice(['pca', 'autoencoder'], 'pca', 'what reduces the scaled features: block-wise PCA or the autoencoder'),
  autoencoder: group(
    {
      hidden: ints([256, 128], {
        min: 1,
        max: 8192,
        maxItems: 6,
        doc: 'hidden widths of the encoder, mirrored by the decoder; [] is a linear autoencoder',
      }),
      epochs: int(60, { min: 1, max: 10000, doc: 'maximum epochs' }),
      batchSize: int(256, { min: 1, max: 65536, doc: 'mini-batch size' }),
      learningRate: num(0.002, { exclusiveMin: 0, max: 1, doc: 'Adam learning rate' }),
      patience: int(8, { min: 1, doc: 'epochs without a better held-out loss before stopping' }),
      validation: num(0.1, { min: 0, max: 0.5, doc: 'share of the movies held out for early stopping' }),
      seed: int(1, { min: 0, doc: 'random seed' }),
    },
    'the content autoencoder (used when encoder is autoencoder)',
  ),
});

/** What the content model is fitted with: the whole section (switching encoder or its settings refits). */
export function contentSettingsOf(c: SettingsOf<[typeof CONTENT]>['content']): ContentSettings {
  return {
    weights: c.weights,
    tagVocabulary: c.tagVocabulary,
    tagMinMovies: c.tagMinMovies,
    dimensions: c.dimensions,
    clusters: c.clusters,
    restarts: c.restarts,
    seed: c.seed,
    positiveRating: c.positiveRating,
    encoder: c.encoder,
    ...(c.encoder === 'autoencoder' ? { autoencoder: c.autoencoder } : {}),
  };
}

function inputsOf(data: TrainingData) {
  if (!data.content) throw new Error('the content model needs the tags and genome of the data set');
  return data.content;
}

/** The saved model carries this key: a version's stage directory is already keyed by data and settings. */
const SAVED_KEY = 'model-version';

export const contentModel = defineModel({
  name: 'content',
  description: 'content vectors (genres, year, tags, genome → scaler → encoder) and their k-means clusters',
  reads: [CONTENT],
  deps: [],
  served: true,
  module: import.meta.url,
  async fit({ data, settings, progress }) {
    const { ContentIndex, statsOf } = await import('../models/content-index.ts');
    const c = contentSettingsOf(settings.content);
    const stats = c.weights.stats > 0 ? statsOf(data.catalogue, data.interactions) : undefined;
    return ContentIndex.fit(data.catalogue, inputsOf(data), c, stats, progress);
  },
  async save(index, dir) {
    const { saveContentModel } = await import('../models/content.ts');
    saveContentModel(dir, index.model, SAVED_KEY);
  },
  async load(dir, { data, settings }) {
    const { loadContentModel } = await import('../models/content.ts');
    const { ContentIndex, statsOf } = await import('../models/content-index.ts');
    const saved = loadContentModel(dir, SAVED_KEY);
    if (!saved) throw new Error(`${dir}: not a saved content model`);
    const stats = settings.content.weights.stats > 0 ? statsOf(data.catalogue, data.interactions) : undefined;
    // Movies added since training are placed (encoded with the fitted scaler and encoder), not refitted.
    const index = ContentIndex.attach(saved, data.catalogue, inputsOf(data), stats);
    if (!index) throw new Error(`${dir}: the content model's movies are not the catalogue's first rows`);
    return index;
  },
  report(index) {
    const r = index.model.report;
    return {
      metrics: {
        inputDim: r.inputDim,
        dimensions: r.outputDim,
        explainedVariance: r.explainedVariance,
        clusters: r.clusters.k,
        silhouette: r.clusters.silhouette,
        daviesBouldin: r.clusters.daviesBouldin,
      },
    };
  },
});

const CONTENT_PARAMS = {
  genres: 'content.weights.genres',
  year: 'content.weights.year',
  tags: 'content.weights.tags',
  title: 'content.weights.title',
  genome: 'content.weights.genome',
  stats: 'content.weights.stats',
  dimensions: 'content.dimensions',
  clusters: 'content.clusters',
  positiveRating: 'content.positiveRating',
} as const;

export const contentStrategy = defineStrategy({
  name: 'content',
  description: 'content similarity (genres, year, tags, genome) to the positively rated movies',
  reads: [CONTENT],
  params: CONTENT_PARAMS,
  models: ['content'],
  async create({ data, settings, models }) {
    const { ContentStrategy } = await import('../recommend/strategies/content.ts');
    return new ContentStrategy(await models.get('content'), data.catalogue, settings.content.positiveRating);
  },
});

export const contentClusterStrategy = defineStrategy({
  name: 'content-cluster',
  description: 'content similarity within the k-means clusters of the positively rated movies',
  reads: [CONTENT],
  params: CONTENT_PARAMS,
  models: ['content'],
  async create({ data, settings, models }) {
    const { ContentClusterStrategy } = await import('../recommend/strategies/content.ts');
    return new ContentClusterStrategy(await models.get('content'), data.catalogue, settings.content.positiveRating);
  },
});

export const projectionModel = defineModel({
  name: 'projection',
  description: 'the first two principal components of the content vectors (the clusters scatter plot)',
  reads: [],
  deps: ['content'],
  served: true,
  module: import.meta.url,
  async fit({ models }) {
    const { principalPlane } = await import('../models/projection.ts');
    const m = (await models.get('content')).model;
    return principalPlane(m.vectors, m.size, m.dimensions);
  },
  async save(plane, dir) {
    const { savePlane } = await import('../models/projection.ts');
    savePlane(dir, plane);
  },
  async load(dir) {
    const { loadPlane } = await import('../models/projection.ts');
    return loadPlane(dir);
  },
  report: (p) => ({ metrics: { explained1: p.explained[0], explained2: p.explained[1] } }),
});
