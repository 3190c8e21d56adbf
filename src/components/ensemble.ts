import { defineStrategy } from './define.ts';
import { num, section } from './params.ts';

/** A weighted ensemble of the collaborative models (per-query z-scores). */
export const ENSEMBLE = section('ensemble', 'the weighted ensemble of collaborative models', {
  ease: num(1, { min: 0, max: 10, doc: 'weight of EASE', search: { kind: 'uniform', min: 0.5, max: 1 } }),
  rp3beta: num(0, { min: 0, max: 10, doc: 'weight of RP3beta', search: { kind: 'uniform', min: 0, max: 0.6 } }),
  als: num(0.2, { min: 0, max: 10, doc: 'weight of implicit ALS', search: { kind: 'uniform', min: 0, max: 0.6 } }),
  itemknn: num(0.2, { min: 0, max: 10, doc: 'weight of item kNN', search: { kind: 'uniform', min: 0, max: 0.6 } }),
});

const PARTS = ['ease', 'rp3beta', 'als', 'itemknn'] as const;

export const ensembleStrategy = defineStrategy({
  name: 'ensemble',
  description: 'weighted sum of per-query z-scores of EASE, RP3beta, ALS and item kNN',
  reads: [ENSEMBLE],
  params: { ease: 'ensemble.ease', rp3beta: 'ensemble.rp3beta', als: 'ensemble.als', itemknn: 'ensemble.itemknn' },
  models: [],
  uses: (s) => PARTS.filter((p) => s.ensemble[p] > 0),
  async create({ settings, strategy }) {
    const { EnsembleStrategy } = await import('../recommend/strategies/ensemble.ts');
    const parts = [];
    for (const name of PARTS) {
      const weight = settings.ensemble[name];
      if (weight > 0) parts.push({ strategy: await strategy(name), weight });
    }
    return new EnsembleStrategy(parts);
  },
});
