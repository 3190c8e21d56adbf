import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { fetchRelease, RELEASE_FILES } from '../data/fetch.ts';
import { detectFormat, type ImportPlan } from '../data/formats.ts';
import { isReleaseName } from '../data/releases.ts';
import type { ImportReport } from '../store/duckdb/import.ts';
import type { DatasetInfo, Store } from '../store/types.ts';
import { type Progress, silentProgress } from '../util/progress.ts';

export interface Importer extends Store {
  importDataset(plan: ImportPlan, options?: { lenient?: boolean; progress?: Progress }): Promise<ImportReport>;
}

export interface EnsureResult {
  dataset: DatasetInfo;
  fetched: boolean;
  imported: ImportReport | null;
}

/**
 * What `npm start` needs before serving: a store with data in it. Uses ./data/<dataset> when present,
 * downloads the official archive when not, and imports it once.
 */
export async function ensureDataset(
  store: Importer,
  config: Config,
  log: (line: string) => void,
  progress: Progress = silentProgress,
): Promise<EnsureResult> {
  const existing = await store.dataset();
  if (existing) return { dataset: existing, fetched: false, imported: null };
  const dir = join(config.dataDir, config.dataset);
  let fetched = false;
  const name = config.dataset;
  const present = isReleaseName(name) ? existsSync(join(dir, RELEASE_FILES[name][0]!)) : existsSync(dir);
  if (!present) {
    if (!isReleaseName(name)) {
      throw new Error(`${dir} does not exist and "${name}" is not a GroupLens release cinerec can download`);
    }
    log(`${dir} not found: downloading ${name} from GroupLens`);
    await fetchRelease(name, { dataDir: config.dataDir, progress });
    fetched = true;
  }
  log(`importing ${dir} into ${store.path}`);
  const report = await store.importDataset(detectFormat(dir), { progress });
  log(
    `imported ${report.counts.movies} movies, ${report.counts.users} users, ${report.counts.ratings} ratings, ${report.counts.tags} tags in ${report.seconds.toFixed(1)} s`,
  );
  const dataset = await store.dataset();
  if (!dataset) throw new Error('import finished but the store records no data set');
  return { dataset, fetched, imported: report };
}
