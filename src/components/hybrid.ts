import { CONTENT } from './content.ts';
import { defineModel, defineStrategy } from './define.ts';
import { int, num, section } from './params.ts';

/** Hybrid ALS ⊕ content item vectors, their clusters, and the content → ALS-factors bridge. */
export const HYBRID = section('hybrid', 'hybrid ALS ⊕ content vectors and the content → factors bridge', {
  alsWeight: num(1, { min: 0, doc: 'weight of the ALS block', search: { kind: 'uniform', min: 0, max: 1 } }),
  contentWeight: num(1, { min: 0, doc: 'weight of the content block', search: { kind: 'uniform', min: 0, max: 1 } }),
  clusters: int(100, { min: 1, max: 10000, doc: 'k-means clusters of the hybrid vectors' }),
  restarts: int(3, { min: 1, max: 100, doc: 'seeded k-means restarts' }),
  seed: int(1, { min: 0, doc: 'random seed' }),
  bridgeLambda: num(1, { exclusiveMin: 0, doc: 'ridge penalty of the content → factors bridge' }),
  bridgeMinRatings: int(5, { min: 1, doc: 'ratings a movie needs to train the bridge' }),
  rankContentWeight: num(0.1, {
    min: 0,
    doc: 'weight of content similarity added to the max-normalised ALS score when ranking',
  }),
});

export const hybridModel = defineModel({
  name: 'hybrid',
  description: 'hybrid ALS ⊕ content vectors, their clusters, and the content → factors bridge',
  reads: [HYBRID],
  ignore: ['hybrid.rankContentWeight'],
  deps: ['als', 'content'],
  served: true,
  module: import.meta.url,
  async fit({ data, settings, models, progress }) {
    const { HybridModel } = await import('../models/hybrid.ts');
    const als = await models.get('als');
    const content = await models.get('content');
    const model = HybridModel.fit(
      als,
      content.model,
      data.interactions.itemCounts(),
      data.catalogue.size,
      settings.hybrid,
      progress,
    );
    // Unrated movies get bridged ALS factors, so ALS can rank them too.
    model.applyBridgedFactors(als);
    return model;
  },
  async save(model, dir) {
    model.save(dir);
  },
  async load(dir, { data, models }) {
    const { HybridModel } = await import('../models/hybrid.ts');
    const model = HybridModel.load(dir);
    const als = await models.get('als');
    const content = await models.get('content');
    model.applyBridgedFactors(als);
    // Movies added since training: bridged factors, hybrid vector and cluster, as when they were added.
    for (let i = model.size; i < data.catalogue.size; i++) als.setItemFactor(i, model.place(i, content.model).factors);
    return model;
  },
  report: (m) => ({
    metrics: {
      bridgeR2: m.report.bridge.r2OutOfSample,
      bridged: m.report.bridged,
      clusters: m.report.clusters.k,
      silhouette: m.report.clusters.silhouette,
    },
    details: m.report,
  }),
});

function hybridStrategy(restrict: boolean) {
  return defineStrategy({
    name: restrict ? 'hybrid-cluster' : 'hybrid',
    description: restrict
      ? 'hybrid similarity within the hybrid clusters of the liked movies'
      : 'hybrid ALS ⊕ content item vectors (unrated movies bridged), similarity to the liked movies',
    reads: [HYBRID, CONTENT],
    params: {
      alsWeight: 'hybrid.alsWeight',
      contentWeight: 'hybrid.contentWeight',
      rankContentWeight: 'hybrid.rankContentWeight',
    },
    models: ['als', 'content', 'hybrid'],
    async create({ data, settings, models }) {
      const { AlsStrategy } = await import('../recommend/strategies/als.ts');
      const { ContentStrategy } = await import('../recommend/strategies/content.ts');
      const { HybridStrategy } = await import('../recommend/strategies/hybrid.ts');
      const model = await models.get('hybrid');
      const positiveRating = settings.content.positiveRating;
      return new HybridStrategy(
        new AlsStrategy(await models.get('als'), data),
        new ContentStrategy(await models.get('content'), data.catalogue, positiveRating),
        model,
        { positiveRating, rankContentWeight: settings.hybrid.rankContentWeight },
        data.catalogue,
        restrict,
      );
    },
  });
}

export const hybridStrategySpec = hybridStrategy(false);
export const hybridClusterStrategy = hybridStrategy(true);
