import { defineModel, defineStrategy } from './define.ts';
import { int, num, section } from './params.ts';

/** User clusters: k-means over unit ALS user factors (the user-cluster strategy). */
export const USER_CLUSTERS = section('userClusters', 'taste clusters of users over ALS user factors', {
  clusters: int(20, { min: 1, max: 10000, doc: 'clusters', search: { kind: 'log', min: 4, max: 100 } }),
  restarts: int(3, { min: 1, max: 100, doc: 'seeded k-means restarts' }),
  seed: int(1, { min: 0, doc: 'random seed' }),
  smoothing: num(5, {
    min: 0,
    doc: 'pseudo-peers pulling a score towards overall popularity',
    search: { kind: 'log', min: 0.5, max: 50 },
  }),
});

export const userClustersModel = defineModel({
  name: 'user-clusters',
  description: 'k-means over unit ALS user factors',
  reads: [USER_CLUSTERS],
  ignore: ['userClusters.smoothing'],
  deps: ['als'],
  served: true,
  module: import.meta.url,
  async fit({ data, settings, models }) {
    const { UserClusterModel } = await import('../models/user-clusters.ts');
    return UserClusterModel.fit(await models.get('als'), data.interactions.itemCounts(), settings.userClusters);
  },
  async save(model, dir) {
    model.save(dir);
  },
  async load(dir) {
    const { UserClusterModel } = await import('../models/user-clusters.ts');
    return UserClusterModel.load(dir);
  },
  report: (m) => ({ metrics: { clusters: m.k } }),
});

export const userClusterStrategy = defineStrategy({
  name: 'user-cluster',
  description: 'what similar viewers (same ALS user cluster) watched, popularity-smoothed',
  reads: [USER_CLUSTERS],
  params: { clusters: 'userClusters.clusters', smoothing: 'userClusters.smoothing' },
  models: ['als', 'user-clusters'],
  async create({ data, settings, models }) {
    const { AlsStrategy } = await import('../recommend/strategies/als.ts');
    const { UserClusterStrategy } = await import('../recommend/strategies/user-cluster.ts');
    await models.optional('hybrid');
    return new UserClusterStrategy(
      new AlsStrategy(await models.get('als'), data),
      await models.get('user-clusters'),
      settings.userClusters.smoothing,
      data,
    );
  },
});
