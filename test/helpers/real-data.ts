import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fetchRelease, RELEASE_FILES } from '../../src/data/fetch.ts';
import type { ReleaseName } from '../../src/data/releases.ts';
import { terminalProgress } from '../../src/util/progress.ts';

export const PROJECT_ROOT = resolve(import.meta.dirname, '../..');
export const DATA_DIR = join(PROJECT_ROOT, 'data');

/**
 * The real release under ./data (CI links ../shared/data there). When it is missing the release
 * is downloaded the way `npm start` does, so these tests never skip themselves.
 */
export async function realData(name: ReleaseName = 'ml-latest-small'): Promise<string> {
  const dir = join(DATA_DIR, name);
  if (!existsSync(join(dir, RELEASE_FILES[name][0]!))) {
    await fetchRelease(name, { dataDir: DATA_DIR, progress: terminalProgress() });
  }
  return dir;
}
