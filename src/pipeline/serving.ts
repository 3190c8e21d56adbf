import type { Config } from '../config/config.ts';
import type { ServedVersion } from '../recommend/service.ts';
import { readSnapshot } from './snapshot.ts';
import { versionsFor } from './train.ts';
import { versionPath } from './training-data.ts';

/** A version ready to hand to Cinerec.load: its directory and the data snapshot it was trained on. */
export function servedVersion(config: Config, id: string): ServedVersion {
  const versions = versionsFor(config);
  versions.verify(id);
  const dir = versions.path(id);
  return { id, dir, snapshot: readSnapshot(versionPath(dir, 'snapshot')) };
}

/** The active version, or null when none was trained yet (the models are then fitted from the store). */
export function activeVersion(config: Config): ServedVersion | null {
  const id = versionsFor(config).active();
  return id ? servedVersion(config, id) : null;
}
