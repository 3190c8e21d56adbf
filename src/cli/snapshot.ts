import { rmSync } from 'node:fs';
import type { Config, Secrets } from '../config/config.ts';
import { readSnapshot, type Snapshot, takeSnapshot } from '../store/snapshot.ts';
import { ValidationError } from '../util/errors.ts';
import { httpClientCall } from './client.ts';
import { openStore, runningServer } from './context.ts';

/**
 * The data a training, tuning or evaluation run reads: taken from the store, or, while a server holds the store,
 * written by that server (between writes) and read here.
 */
export async function snapshotFor(config: Config, secrets: Secrets): Promise<Snapshot> {
  const server = await runningServer(config);
  if (server) {
    const { path } = await httpClientCall<{ path: string }>(server.url, secrets.adminToken, 'POST', '/v1/snapshots');
    try {
      return readSnapshot(path);
    } finally {
      rmSync(path, { recursive: true, force: true });
    }
  }
  const store = await openStore(config);
  try {
    if (!(await store.dataset()))
      throw new ValidationError(
        `the store ${config.store.path} holds no data: run \`npx cinerec data import <dir>\` (or \`npm start\`) first`,
      );
    return await takeSnapshot(store);
  } finally {
    await store.close();
  }
}
