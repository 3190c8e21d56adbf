import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { evaluateRanking } from '../evaluation/evaluator.ts';
import { AlsModel } from '../models/als.ts';
import { loadContentModel, saveContentModel } from '../models/content.ts';
import { MfModel } from '../models/mf.ts';
import { segmentMovies } from '../models/movie-segments.ts';
import { fitPopularityFromInteractions } from '../models/popularity.ts';
import { RatingPredictor } from '../models/rating-predictor.ts';
import { UserSegmentModel } from '../models/user-segments.ts';
import { ContentIndex } from '../recommend/content-index.ts';
import { predictorParams } from '../recommend/neural-rating-model.ts';
import { parseParams, resolveNames, STRATEGIES } from '../recommend/registry.ts';
import { AlsStrategy } from '../recommend/strategies/als.ts';
import { ContentStrategy, statsOf } from '../recommend/strategies/content.ts';
import { HybridStrategy } from '../recommend/strategies/hybrid.ts';
import { segmentSettings } from '../recommend/strategies/segment.ts';
import type { Progress } from '../util/progress.ts';
import type { Stage, StageContext } from './dag.ts';
import { readSnapshot, type Snapshot, writeSnapshot } from './snapshot.ts';
import {
  contentKey,
  contentSettingsOf,
  evalDataOf,
  loadAls,
  saveAls,
  trainingDataOf,
  userCount,
} from './training-data.ts';

/**
 * The training stages of `cinerec train`, in data-flow order. Each declares the configuration it
 * depends on (its cache key), the stages it reads, and writes its outputs under its own directory;
 * a model version is assembled from those directories.
 */

type Ctx = StageContext<unknown>;

export interface StageDef extends Stage<unknown, Config> {
  description: string;
}

/** The data the snapshot stage freezes; supplied by the caller (from the store, or a retrain's snapshot). */
export interface SnapshotSource {
  /** The data's content fingerprint: the snapshot stage's external input. */
  fingerprint: string;
  get(): Promise<Snapshot>;
}

export function snapshotSource(s: Snapshot): SnapshotSource {
  return { fingerprint: s.fingerprint, get: async () => s };
}

const src = (p: string) => `src/${p}`;

function snapshotOf(io: Ctx): Snapshot {
  return readSnapshot(join(io.input('snapshot'), 'data'));
}

/** Adapts a stage's per-iteration reporting to the Progress interface the models take. */
function progressOf(io: Ctx): Progress {
  let total = 0;
  return {
    start(t) {
      total = t;
    },
    update(done) {
      io.progress(done, total);
    },
    stop() {},
  };
}

function writeJson(dir: string, name: string, value: unknown): void {
  writeFileSync(join(dir, name), `${JSON.stringify(value, null, 1)}\n`);
}

/** The stages; `config` is the configuration the run trains with (params() picks each stage's part). */
export function stages(source: SnapshotSource, config: Config): StageDef[] {
  return [
    {
      name: 'snapshot',
      description: 'freeze the store’s movies, ratings, tags and genome',
      deps: [],
      params: () => ({}),
      external: () => source.fingerprint,
      code: [src('pipeline/snapshot.ts')],
      async run(io) {
        const s = await source.get();
        writeSnapshot(s, join(io.outDir, 'data'));
        return {
          metrics: {
            movies: s.movies.length,
            ratings: s.ratings.userId.length,
            users: userCount(s),
            tags: s.tags.movieId.length,
            genomeScores: s.genome.movieId.length,
          },
        };
      },
    },
    {
      name: 'popularity',
      description: 'Bayesian weighted rating (the cold-start list)',
      deps: ['snapshot'],
      params: (c) => ({ popularity: c.popularity }),
      code: [src('models/popularity.ts')],
      async run(io) {
        const data = trainingDataOf(snapshotOf(io));
        const model = fitPopularityFromInteractions(data.interactions, config.popularity);
        const top = Array.from(model.score.keys())
          .sort((a, b) => model.score[b]! - model.score[a]!)
          .slice(0, 100)
          .map((i) => ({ movieId: data.catalogue.movies[i]!.movieId, score: model.score[i]! }));
        writeJson(io.outDir, 'popularity.json', { m: model.m, C: model.C, top });
        return { metrics: { minVotes: model.m, meanRating: model.C } };
      },
    },
    {
      name: 'content',
      description: 'content features → scaler → encoder → k-means',
      deps: ['snapshot'],
      params: (c) => ({ content: c.content }),
      code: [
        src('features/content-features.ts'),
        src('models/content.ts'),
        src('recommend/content-index.ts'),
        src('math/pca.ts'),
        src('models/content-autoencoder.ts'),
        src('nn/sparse.ts'),
        src('math/kmeans.ts'),
      ],
      async run(io) {
        const s = snapshotOf(io);
        const data = trainingDataOf(s);
        const settings = contentSettingsOf(config);
        const stats = settings.weights.stats > 0 ? statsOf(data) : undefined;
        const index = ContentIndex.fit(data.catalogue, data.content!, settings, stats);
        saveContentModel(join(io.outDir, 'content'), index.model, contentKey(s.fingerprint, config));
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
    },
    {
      name: 'als',
      description: 'implicit ALS user and item factors',
      deps: ['snapshot'],
      params: (c) => ({ als: { ...c.als, threads: undefined } }),
      code: [src('models/als.ts'), src('models/als-kernels.ts'), src('models/als-worker.ts')],
      async run(io) {
        const data = trainingDataOf(snapshotOf(io));
        const model = await AlsModel.fit(data.interactions, config.als, progressOf(io));
        saveAls(join(io.outDir, 'als'), model);
        const iters = model.report.iterations;
        return {
          metrics: { loss: iters.at(-1)?.loss ?? 0, seconds: model.report.seconds, threads: model.report.threads },
          curves: {
            loss: iters.map((it) => ({ step: it.iteration, value: it.loss })),
            seconds: iters.map((it) => ({ step: it.iteration, value: it.seconds })),
          },
        };
      },
    },
    {
      name: 'hybrid',
      description: 'content → ALS bridge and hybrid clusters (quality figures)',
      deps: ['snapshot', 'content', 'als'],
      params: (c) => ({ hybrid: c.hybrid }),
      code: [src('models/bridge.ts'), src('recommend/strategies/hybrid.ts')],
      async run(io) {
        const s = snapshotOf(io);
        const data = trainingDataOf(s);
        const als = new AlsStrategy(config.als, loadAls(join(io.input('als'), 'als')));
        const settings = contentSettingsOf(config);
        const saved = loadContentModel(join(io.input('content'), 'content'), contentKey(s.fingerprint, config));
        const index = saved
          ? ContentIndex.attach(
              saved,
              data.catalogue,
              data.content!,
              settings.weights.stats > 0 ? statsOf(data) : undefined,
            )
          : null;
        if (!index) throw new Error('the content stage output does not match this snapshot and configuration');
        const content = new ContentStrategy(settings, index);
        const hybrid = new HybridStrategy(
          als,
          content,
          { ...config.hybrid, positiveRating: config.content.positiveRating, rankContentWeight: 0.1 },
          false,
        );
        await hybrid.fit(data);
        const r = hybrid.report;
        writeJson(io.outDir, 'hybrid.json', r);
        return {
          metrics: {
            bridgeR2: r.bridge.r2OutOfSample,
            bridged: r.bridged,
            clusters: r.clusters.k,
            silhouette: r.clusters.silhouette,
          },
        };
      },
    },
    {
      name: 'rating',
      description: 'rating predictor: biased matrix factorisation with early stopping',
      deps: ['snapshot'],
      params: () => ({ mf: 'defaults' }),
      code: [src('models/mf.ts')],
      async run(io) {
        const data = trainingDataOf(snapshotOf(io));
        const model = new MfModel();
        const report = model.fit(data.interactions, data.scale);
        writeJson(io.outDir, 'mf.json', report);
        const best = report.curve[report.bestEpoch - 1];
        const validated = report.curve.filter((e) => Number.isFinite(e.validationRmse));
        return {
          metrics: {
            trainRmse: best?.trainRmse ?? 0,
            ...(best && Number.isFinite(best.validationRmse) ? { validationRmse: best.validationRmse } : {}),
            bestEpoch: report.bestEpoch,
            seconds: report.seconds,
          },
          curves: {
            trainRmse: report.curve.map((e) => ({ step: e.epoch, value: e.trainRmse })),
            ...(validated.length
              ? { validationRmse: validated.map((e) => ({ step: e.epoch, value: e.validationRmse })) }
              : {}),
          },
        };
      },
    },
    {
      name: 'neural',
      description: 'neural rating predictor: user and movie autoencoders, MLP on the bias residual',
      deps: ['snapshot'],
      params: (c) => ({ neural: c.neural }),
      code: [src('models/rating-predictor.ts'), src('models/user-autoencoder.ts'), src('nn/sparse-rows.ts'), src('nn')],
      async run(io) {
        const data = trainingDataOf(snapshotOf(io));
        const predictor = new RatingPredictor(predictorParams(config.neural));
        const report = predictor.fit(data.interactions, data.catalogue, data.scale);
        writeJson(io.outDir, 'neural.json', report);
        const best = report.curve[report.bestEpoch - 1];
        return {
          metrics: {
            ...(best ? { trainRmse: best.trainRmse, validationRmse: best.validationRmse } : {}),
            bestEpoch: report.bestEpoch,
            seconds: report.seconds,
          },
          curves: {
            trainRmse: report.curve.map((e) => ({ step: e.epoch, value: e.trainRmse })),
            validationRmse: report.curve
              .filter((e) => Number.isFinite(e.validationRmse))
              .map((e) => ({ step: e.epoch, value: e.validationRmse })),
          },
        };
      },
    },
    {
      name: 'segments',
      description: 'movie and user segments with k chosen from the data',
      deps: ['snapshot'],
      params: (c) => ({ segments: c.segments }),
      code: [
        src('models/movie-segments.ts'),
        src('models/user-segments.ts'),
        src('math/cluster-count.ts'),
        src('math/kmeans.ts'),
      ],
      async run(io) {
        const s = snapshotOf(io);
        const data = trainingDataOf(s);
        const seg = segmentMovies(data.catalogue, data.interactions, config.segments);
        writeJson(io.outDir, 'movie-segments.json', {
          k: seg.k,
          rule: seg.rule,
          scores: seg.scores,
          segments: seg.segments,
        });
        const at = seg.scores.find((x) => x.k === seg.k);
        // User segments: taste profiles → segment autoencoder → k-means, k chosen by the same rule.
        const users = UserSegmentModel.fit(data.catalogue, data.interactions, seg, segmentSettings(config));
        writeJson(io.outDir, 'user-segments.json', {
          k: users.k,
          scores: users.scores,
          segments: users.segments,
          autoencoder: users.report,
        });
        const uAt = users.scores.find((x) => x.k === users.k);
        return {
          metrics: {
            k: seg.k,
            elbow: seg.elbow,
            ...(at ? { silhouette: at.silhouette, daviesBouldin: at.daviesBouldin } : {}),
            userK: users.k,
            ...(uAt ? { userSilhouette: uAt.silhouette } : {}),
            userAutoencoderLoss: users.report.validationLoss ?? users.report.trainLoss,
          },
          curves: {
            inertia: seg.scores.map((x) => ({ step: x.k, value: x.inertia })),
            silhouette: seg.scores.map((x) => ({ step: x.k, value: x.silhouette })),
            userInertia: users.scores.map((x) => ({ step: x.k, value: x.inertia })),
            userSilhouette: users.scores.map((x) => ({ step: x.k, value: x.silhouette })),
          },
        };
      },
    },
    {
      name: 'evaluation',
      description: 'offline evaluation on a held-out split (the quality gate)',
      deps: ['snapshot'],
      params: (c) => ({
        pipeline: c.pipeline.evaluation,
        als: c.als,
        content: c.content,
        router: c.router,
        hybrid: c.hybrid,
        popularity: c.popularity,
      }),
      code: [src('evaluation/evaluator.ts'), src('evaluation/metrics.ts'), src('evaluation/splits.ts')],
      async run(io) {
        const s = snapshotOf(io);
        const e = config.pipeline.evaluation;
        resolveNames(e.strategies, STRATEGIES, 'pipeline.evaluation.strategies');
        const report = await evaluateRanking(evalDataOf(s), config, {
          id: 'train-evaluation',
          strategies: e.strategies,
          params: parseParams([], STRATEGIES, config),
          split: { kind: 'stratified', ratio: e.trainFraction },
          seeds: [e.seed],
          k: e.k,
          relevance: { kind: 'all' },
          progress: progressOf(io),
        });
        writeJson(io.outDir, 'evaluation.json', report);
        const metrics: Record<string, number> = {};
        for (const r of report.strategies)
          for (const [m, v] of Object.entries(r.metrics)) metrics[`${r.name}.${m}`] = v.mean;
        return { metrics };
      },
    },
  ];
}
