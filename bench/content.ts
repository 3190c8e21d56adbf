/**
 * Content model benchmark: `npx tsx bench/content.ts [--queries 1000] [--movies 60000] [--seed 1] [--keep]`.
 *
 * 1. Trains the content model on the real ml-latest-small (the content stage of `cinerec train --only
 *    content`): wall time of the stage (snapshot read, features, fit, save), the model's own scale / encode /
 *    cluster seconds, explained variance, silhouette and Davies–Bouldin; then what loading the saved model
 *    costs a server that starts.
 * 2. Similar-movies latency over --queries seeded random movies, for ml-latest-small and for a
 *    synthetic catalogue of --movies movies with a tag genome on 22 % of them: the service path
 *    (`SimilarService.similar(id, { k: 10 })` over the loaded model, reasons included) and the raw kernel
 *    (ContentStrategy scoring + topK), each call timed with performance.now() after one warm-up call.
 *
 * Goals we track: p99 ≤ 2 ms at 10 k movies, ≤ 10 ms at 60 k. Prints figures; asserts nothing.
 * Everything (stores, models, synthetic CSVs) goes to a temp dir that is removed unless --keep.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeSyntheticMovieLens } from '../src/cli/synthetic.ts';
import { trainingDataOf } from '../src/components/data.ts';
import { StoredModels, storedModelAt } from '../src/components/stored.ts';
import { StrategyBook } from '../src/components/strategy-book.ts';
import { type Config, loadConfig } from '../src/config/config.ts';
import { detectFormat } from '../src/data/formats.ts';
import { Rng } from '../src/math/random.ts';
import { topK } from '../src/math/topk.ts';
import { train } from '../src/pipeline/train.ts';
import { RankingPipeline } from '../src/recommend/pipeline.ts';
import { RuleSet } from '../src/recommend/rules.ts';
import { ContentStrategy } from '../src/recommend/strategies/content.ts';
import type { TrainingData } from '../src/recommend/strategy.ts';
import type { Served } from '../src/serving/served.ts';
import { SimilarService } from '../src/serving/similar.ts';
import { DuckDbStore } from '../src/store/duckdb/duckdb-store.ts';
import { takeSnapshot } from '../src/store/snapshot.ts';
import { realData } from '../test/helpers/real-data.ts';

const { values } = parseArgs({
  options: {
    queries: { type: 'string', default: '1000' },
    movies: { type: 'string', default: '60000' },
    seed: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
  },
});
const positive = (name: string, text: string): number => {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
};
const queries = positive('queries', values.queries);
const syntheticMovies = positive('movies', values.movies);
const seed = positive('seed', values.seed);
const K = 10;

interface Fit {
  label: string;
  movies: number;
  genomeMovies: number;
  inputDim: number;
  outputDim: number;
  clusters: number;
  /** The content training stage: snapshot read + features + model fit + save. */
  wall: number;
  scale: number;
  encode: number;
  cluster: number;
  explained: number;
  silhouette: number;
  daviesBouldin: number;
  /** Loading the saved model (what a server starting on the version pays for it). */
  reload: number;
  maxRss: number;
}

interface Latency {
  label: string;
  movies: number;
  path: string;
  p50: number;
  p99: number;
  max: number;
  mean: number;
  goal: number;
}

/** One-minute load average: other processes on the machine make the latencies noisy. */
const loadAverage = () => os.loadavg()[0]!.toFixed(2);
const maxRss = () => process.resourceUsage().maxRSS * 1024;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

function summarise(label: string, movies: number, pathName: string, times: Float64Array, goal: number): Latency {
  const sorted = Float64Array.from(times).sort();
  return {
    label,
    movies,
    path: pathName,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((s, t) => s + t, 0) / sorted.length,
    goal,
  };
}

/** Loads the content model a training stage saved, as a served version loads it (nothing fitted). */
function contentModels(dir: string, data: TrainingData, config: Config): StoredModels {
  return new StoredModels((name) => (name === 'content' ? storedModelAt(dir) : null), data, config);
}

/**
 * The served state SimilarService reads, over the content model alone (a full model version holds every model;
 * similar movies only need this one): the catalogue, the configuration, the models, the strategies and the
 * ranking pipeline with no rules.
 */
function servedContent(data: TrainingData, config: Config, models: StoredModels): Served {
  const strategies = new StrategyBook(data, config, models);
  const served = {
    catalogue: data.catalogue,
    config,
    models,
    pipeline: new RankingPipeline(
      () => data,
      () => new RuleSet([]),
    ),
    strategy: (name: string) => strategies.get(name),
  };
  return served as unknown as Served;
}

async function benchDataset(
  label: string,
  dataDir: string,
  work: string,
  goal: number,
): Promise<{ fit: Fit; latency: Latency[] }> {
  const name = label.replace(/[^a-z0-9]+/gi, '-');
  const storePath = path.join(work, `${name}.duckdb`);
  let t = performance.now();
  const importStore = await DuckDbStore.open(storePath);
  const imported = await importStore.importDataset(detectFormat(dataDir));
  await importStore.close();
  console.log(
    `${label}: imported ${JSON.stringify(imported.counts)} in ${((performance.now() - t) / 1000).toFixed(2)} s`,
  );

  const { config } = loadConfig({ env: {}, overrides: { modelsDir: path.join(work, `models-${name}`) } });
  const store = await DuckDbStore.open(storePath);
  let fit: Fit;
  const latency: Latency[] = [];
  try {
    const snapshot = await takeSnapshot(store);
    const outcome = await train(config, snapshot, {
      only: 'content',
      activate: 'never',
      log: (line) => console.log(`  ${line}`),
    });
    if (outcome.result?.status !== 'finished') throw new Error(`training failed: ${outcome.result?.error}`);
    const stage = outcome.result.stages.find((st) => st.name === 'content')!;
    const wall = (stage.durationMs ?? 0) / 1000;
    const dir = outcome.result.outputs.content!.dir;
    const data = trainingDataOf(snapshot);

    // The saved model, loaded as a server starting on the version loads it.
    t = performance.now();
    await contentModels(dir, trainingDataOf(snapshot), config).get('content');
    const reload = (performance.now() - t) / 1000;

    const models = contentModels(dir, data, config);
    const index = await models.get('content');
    const r = index.model.report;
    fit = {
      label,
      movies: r.movies,
      genomeMovies: imported.counts.genomeMovies,
      inputDim: r.inputDim,
      outputDim: r.outputDim,
      clusters: r.clusters.k,
      wall,
      scale: r.seconds.scale,
      encode: r.seconds.encode,
      cluster: r.seconds.cluster,
      explained: r.explainedVariance,
      silhouette: r.clusters.silhouette,
      daviesBouldin: r.clusters.daviesBouldin,
      reload,
      maxRss: maxRss(),
    };

    const catalogue = data.catalogue;
    const rng = new Rng(seed, 11);
    const picks = Int32Array.from({ length: queries }, () => rng.int(catalogue.size));

    // Service path: what GET /movies/:id/similar runs (history, scores, rules, top k, shared content).
    const similar = new SimilarService(servedContent(data, config, models));
    const times = new Float64Array(queries);
    await similar.similar(catalogue.movies[picks[0]!]!.movieId, { k: K });
    for (let q = 0; q < queries; q++) {
      const movieId = catalogue.movies[picks[q]!]!.movieId;
      const start = performance.now();
      await similar.similar(movieId, { k: K });
      times[q] = performance.now() - start;
    }
    latency.push(summarise(label, catalogue.size, 'service similar()', times, goal));

    // Raw kernel: the seed's vector against every movie, then the top k (the seed itself removed).
    const strategy = new ContentStrategy(index, catalogue, config.content.positiveRating);
    const scores = new Float32Array(catalogue.size);
    const kernel = (i: number) => {
      strategy.score(
        {
          ctx: { watched: [catalogue.movies[i]!.movieId] },
          history: { items: Int32Array.of(i), ratings: Float32Array.of(Number.NaN) },
        },
        scores,
      );
      scores[i] = Number.NEGATIVE_INFINITY;
      return topK(scores, K);
    };
    kernel(picks[0]!);
    for (let q = 0; q < queries; q++) {
      const start = performance.now();
      kernel(picks[q]!);
      times[q] = performance.now() - start;
    }
    latency.push(summarise(label, catalogue.size, 'kernel score + topK', times, goal));
  } finally {
    await store.close();
  }
  return { fit, latency };
}

async function main(): Promise<void> {
  console.log(
    `cinerec content benchmark: Node ${process.version}, ${os.availableParallelism()} cores, ${mb(os.totalmem())} RAM; ` +
      `${queries} similar() queries per data set, k = ${K}, seed ${seed}; load average ${loadAverage()}`,
  );
  const work = await mkdtemp(path.join(os.tmpdir(), 'cinerec-bench-content-'));
  const fits: Fit[] = [];
  const latencies: Latency[] = [];
  try {
    const small = await benchDataset('ml-latest-small', await realData('ml-latest-small'), work, 2);
    fits.push(small.fit);
    latencies.push(...small.latency);

    const synthDir = path.join(work, 'synthetic');
    const users = Math.max(100, Math.round(syntheticMovies / 3));
    const ratings = Math.max(users * 20, Math.round((syntheticMovies * 100) / 3));
    const summary = await writeSyntheticMovieLens(synthDir, {
      users,
      movies: syntheticMovies,
      ratings,
      seed,
      genome: { coverage: 0.22 },
    });
    console.log(
      `synthetic: ${summary.movies.toLocaleString('en-US')} movies, ${summary.users.toLocaleString('en-US')} users, ` +
        `${summary.ratings.toLocaleString('en-US')} ratings, genome ${summary.genome!.movies.toLocaleString('en-US')} movies × ` +
        `${summary.genome!.tags} tags, generated in ${summary.seconds.toFixed(2)} s`,
    );
    const label = `synthetic ${Math.round(syntheticMovies / 1000)} k`;
    const synth = await benchDataset(label, synthDir, work, syntheticMovies <= 10_000 ? 2 : 10);
    fits.push(synth.fit);
    latencies.push(...synth.latency);
  } finally {
    if (values.keep) console.log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }

  const s = (x: number) => x.toFixed(2);
  console.log('');
  console.log('Content model fit (wall = the content training stage: snapshot read, features, fit, save)');
  console.log('');
  console.log(
    '| data set | movies | genome movies | features → dims | clusters | wall s | inputs + features s | scale s | encode s | cluster s | explained var | silhouette | Davies–Bouldin | reload s | max RSS |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const f of fits) {
    console.log(
      `| ${f.label} | ${f.movies.toLocaleString('en-US')} | ${f.genomeMovies.toLocaleString('en-US')} | ${f.inputDim} → ${f.outputDim} | ${f.clusters} | ` +
        `${s(f.wall)} | ${s(f.wall - f.scale - f.encode - f.cluster)} | ${s(f.scale)} | ${s(f.encode)} | ${s(f.cluster)} | ${(100 * f.explained).toFixed(1)} % | ` +
        `${f.silhouette.toFixed(3)} | ${f.daviesBouldin.toFixed(3)} | ${s(f.reload)} | ${mb(f.maxRss)} |`,
    );
  }
  console.log('');
  console.log(`Similar-movies latency, ${queries} random movies, k = ${K}, after one warm-up call (ms)`);
  console.log('');
  console.log('| data set | movies | path | p50 | p99 | max | mean | goal p99 | met |');
  console.log('|---|---:|---|---:|---:|---:|---:|---:|:---:|');
  const ms = (x: number) => x.toFixed(3);
  for (const l of latencies) {
    console.log(
      `| ${l.label} | ${l.movies.toLocaleString('en-US')} | ${l.path} | ${ms(l.p50)} | ${ms(l.p99)} | ${ms(l.max)} | ` +
        `${ms(l.mean)} | ≤ ${l.goal} | ${l.path.startsWith('service') ? (l.p99 <= l.goal ? 'yes' : 'no') : ''} |`,
    );
  }
  console.log('');
  console.log(
    "inputs + features s: wall minus the model's own seconds (snapshot read, feature rows, raw rows for reasons, save). " +
      'reload s: loading the saved model as a server starting on the version does. max RSS: getrusage, process so far. ' +
      `Load average at the end ${loadAverage()}.`,
  );
}

await main();
