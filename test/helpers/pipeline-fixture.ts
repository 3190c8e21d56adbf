import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeSyntheticMovieLens } from '../../src/cli/synthetic.ts';
import { detectFormat } from '../../src/data/formats.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';

/** Settings that keep a whole `cinerec train` to seconds on a small synthetic set. */
export const SMALL_TRAINING = {
  content: { clusters: 5, dimensions: 16, restarts: 1 },
  als: { factors: 16, iterations: 4, threads: 1 },
  hybrid: { clusters: 5, restarts: 1 },
  userClusters: { clusters: 4, restarts: 1 },
  segments: { minK: 2, maxK: 5, restarts: 1, users: { epochs: 20 } },
  neural: {
    userHidden: 16,
    code: 8,
    itemHidden: 16,
    itemCode: 8,
    aeEpochs: 3,
    hidden: 16,
    hidden2: 8,
    epochs: 3,
    crossFolds: 2,
  },
  pipeline: {
    evaluation: { strategies: ['most-popular', 'als', 'router'], k: 10, trainFraction: 0.75, seed: 1 },
    gate: { metric: 'router.ndcg', maxDrop: 0.05 },
  },
};

export interface PipelineFixture {
  dir: string;
  configFile: string;
  storePath: string;
  modelsDir: string;
  /** Environment for the CLI: config file, store and models under `dir`. */
  env: Record<string, string>;
}

/** A store holding a seeded synthetic MovieLens set, and a config file with small training settings. */
export async function pipelineFixture(name: string, extra: Record<string, unknown> = {}): Promise<PipelineFixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `cinerec-${name}-`));
  const data = path.join(dir, 'synthetic');
  await writeSyntheticMovieLens(data, { users: 120, movies: 300, ratings: 6000, seed: 11 });
  const storePath = path.join(dir, 'store.duckdb');
  const store = await DuckDbStore.open(storePath);
  await store.importDataset(detectFormat(data));
  await store.close();
  const modelsDir = path.join(dir, 'models');
  const configFile = path.join(dir, 'cinerec.config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      ...SMALL_TRAINING,
      ...extra,
      store: { path: storePath },
      modelsDir,
      reportsDir: path.join(dir, 'reports'),
    }),
  );
  return {
    dir,
    configFile,
    storePath,
    modelsDir,
    env: { CINEREC_CONFIG: configFile, CINEREC_STORE: '', CINEREC_MODELS_DIR: '', CINEREC_ADMIN_TOKEN: '' },
  };
}
