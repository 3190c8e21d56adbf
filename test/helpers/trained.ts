import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { detectFormat } from '../../src/data/formats.ts';
import { train } from '../../src/pipeline/train.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import { takeSnapshot } from '../../src/store/snapshot.ts';
import { ConflictError } from '../../src/util/errors.ts';
import { allowFitting } from '../../src/util/fit-guard.ts';
import { FileLock } from '../../src/util/fsutil.ts';
import { PROJECT_ROOT } from './real-data.ts';

/**
 * A data set imported and trained once per checkout, shared by every test that serves it: the first test that
 * asks trains it under ./tmp/test-fixtures (other test processes wait on a lock), later ones reuse it, and a
 * change of code or settings retrains only the stages it touches (the training cache's own keys). Each test
 * then gets its own copy of the store (it may write) and of the models directory (hard links: versions are
 * read-only; it may activate or retrain).
 */

export interface Trained {
  /** The test's own directory (store, models, reports, config file). */
  dir: string;
  config: Config;
  configFile: string;
  /** Environment for the real `cinerec` binary over this copy. */
  env: Record<string, string>;
  /** The active version's id. */
  version: string;
  cleanup(): Promise<void>;
}

async function lock(file: string, purpose: string): Promise<FileLock> {
  const l = new FileLock(file, purpose);
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      l.acquire();
      return l;
    } catch (err) {
      if (!(err instanceof ConflictError) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function writeConfig(file: string, settings: object, dir: string): void {
  writeFileSync(
    file,
    JSON.stringify({
      ...settings,
      store: { path: path.join(dir, 'store.duckdb') },
      modelsDir: path.join(dir, 'models'),
      reportsDir: path.join(dir, 'reports'),
    }),
  );
}

/** Imports and trains `data` with `settings` once (shared), then returns this test's copy of it. */
export async function trained(name: string, data: string, settings: object = {}): Promise<Trained> {
  const key = createHash('sha256')
    .update(JSON.stringify({ data: path.resolve(data), settings }))
    .digest('hex')
    .slice(0, 12);
  const base = path.join(PROJECT_ROOT, 'tmp', 'test-fixtures', `${name}-${key}`);
  mkdirSync(base, { recursive: true });
  const held = await lock(path.join(base, '.lock'), `training the ${name} test fixture`);
  let version: string;
  try {
    const baseConfig = path.join(base, 'cinerec.config.json');
    writeConfig(baseConfig, settings, base);
    const { config } = loadConfig({ file: baseConfig, env: {} });
    if (!existsSync(config.store.path)) {
      const tmp = `${config.store.path}.importing`;
      rmSync(tmp, { force: true });
      const s = await DuckDbStore.open(tmp);
      await s.importDataset(detectFormat(data));
      await s.close();
      renameSync(tmp, config.store.path);
    }
    const store = await DuckDbStore.open(config.store.path);
    try {
      // A test process may have served before (fitting forbidden): training here is what training is.
      allowFitting();
      const outcome = await train(config, await takeSnapshot(store), { activate: 'always' });
      if (outcome.result?.status === 'failed' || !outcome.version)
        throw new Error(`training the ${name} fixture failed: ${outcome.result?.error}`);
      version = outcome.version;
    } finally {
      await store.close();
    }
  } finally {
    held.release();
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), `cinerec-${name}-`));
  copyFileSync(path.join(base, 'store.duckdb'), path.join(dir, 'store.duckdb'));
  execFileSync('cp', ['-al', path.join(base, 'models'), path.join(dir, 'models')]);
  const configFile = path.join(dir, 'cinerec.config.json');
  writeConfig(configFile, settings, dir);
  const { config } = loadConfig({ file: configFile, env: {} });
  return {
    dir,
    config,
    configFile,
    env: { CINEREC_CONFIG: configFile, CINEREC_STORE: '', CINEREC_MODELS_DIR: '', CINEREC_ADMIN_TOKEN: '' },
    version,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
