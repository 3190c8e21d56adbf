/** The shape of a stored evaluation report: written by `cinerec eval`, served by the API. */

export interface MetricInterval {
  mean: number;
  /** 95% confidence interval. */
  low: number;
  high: number;
  /** Number of values behind the interval (users, or runs when there are several seeds/folds). */
  n: number;
}

export interface EvaluationRun {
  /** e.g. "stratified:0.75 seed 1" or "kfold:5 fold 2/5 seed 1". */
  split: string;
  seed: number;
  /** Users scored (ranking) or test ratings predicted (rating). */
  evaluated: number;
  metrics: Record<string, number>;
  fitSeconds: number;
  /** Ranking: time to recommend for every test user; rating: time to predict every test rating. */
  predictSeconds: number;
}

export interface StrategyResult {
  name: string;
  description: string;
  params: Record<string, number | string | boolean>;
  /** Over users for one run; over runs (mean of per-run means) for several. */
  metrics: Record<string, MetricInterval>;
  runs: EvaluationRun[];
  fitSeconds: number;
  predictSeconds: number;
}

export interface EvaluationReport {
  id: string;
  kind: 'ranking' | 'rating';
  createdAt: string;
  dataset: { name: string; users: number; movies: number; ratings: number };
  protocol: {
    split: string;
    seeds: number[];
    /** Ranking only. */
    k?: number;
    /** Ranking only: every held-out item, or held-out items rated at least minRating. */
    relevance?: { kind: 'all' } | { kind: 'min-rating'; minRating: number };
    strongGeneralization?: { users: number; foldIn: number };
    /** Scenario evaluations: the situation, how much each test user told, the user folds. */
    scenario?: { name: string; given: number; userFolds: number; foldsUsed: number };
  };
  /** Metric names in display order, e.g. ["ndcg", "precision", ...] or ["rmse", "mae"]. */
  metricOrder: string[];
  strategies: StrategyResult[];
  elapsedSeconds: number;
}

export interface EvaluationSummary {
  id: string;
  kind: EvaluationReport['kind'];
  createdAt: string;
  dataset: string;
  split: string;
  k?: number;
  strategies: string[];
  /** The headline metric (ndcg or rmse) per strategy. */
  headline: { metric: string; values: Record<string, number> };
}

/** Human names and whether higher is better, for tables and charts. */
export const METRICS: Readonly<Record<string, { label: string; higherIsBetter: boolean; description: string }>> = {
  ndcg: { label: 'NDCG@k', higherIsBetter: true, description: 'normalised discounted cumulative gain, binary gains' },
  precision: { label: 'P@k', higherIsBetter: true, description: 'share of the k recommendations that are relevant' },
  recall: { label: 'R@k', higherIsBetter: true, description: 'share of the relevant items found in the top k' },
  map: { label: 'MAP@k', higherIsBetter: true, description: 'mean average precision' },
  mrr: { label: 'MRR', higherIsBetter: true, description: 'reciprocal rank of the first relevant item' },
  hitRate: { label: 'HR@k', higherIsBetter: true, description: 'share of users with at least one hit' },
  coverage: { label: 'coverage', higherIsBetter: true, description: 'share of the catalogue recommended to anyone' },
  novelty: { label: 'novelty', higherIsBetter: true, description: 'mean self-information −log2(popularity), bits' },
  diversity: { label: 'ILD', higherIsBetter: true, description: 'intra-list genre diversity (1 − Jaccard)' },
  popularity: {
    label: 'pop. pct',
    higherIsBetter: false,
    description: 'mean popularity percentile of recommended items',
  },
  rmse: { label: 'RMSE', higherIsBetter: false, description: 'root mean squared error' },
  mae: { label: 'MAE', higherIsBetter: false, description: 'mean absolute error' },
};
