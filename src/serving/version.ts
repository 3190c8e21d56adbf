import { join } from 'node:path';
import type { ModelName } from '../components/models.ts';
import { type StoredModel, storedModelAt } from '../components/stored.ts';
import type { Config } from '../config/config.ts';
import { readSnapshot, type Snapshot } from '../store/snapshot.ts';
import { pointerFor } from '../versions/pointer-for.ts';
import { type VersionManifest, VersionStore } from '../versions/versions.ts';

/** The layout training gives a version: the snapshot's files under `snapshot/data`, each model under its name. */
export const SNAPSHOT_DIR = 'snapshot/data';

/**
 * A model version opened for serving: its manifest, the data snapshot it was trained on and the configuration it
 * was trained with. Every file is checked against the sha256 the manifest recorded before it is read, so a damaged
 * version is refused with the file named instead of serving wrong lists.
 */
export class ServedVersion {
  private constructor(
    readonly id: string,
    readonly dir: string,
    readonly manifest: VersionManifest,
    readonly snapshot: Snapshot,
    /** The settings the models were trained with (loading a model uses them, not today's). */
    readonly config: Config,
    private readonly versions: VersionStore,
  ) {}

  static open(config: Config, id: string): ServedVersion {
    const versions = new VersionStore(config.modelsDir);
    const manifest = versions.verify(id);
    versions.verify(id, { content: true, prefix: 'snapshot/' });
    const dir = versions.path(id);
    const trained = manifest.extra.config as Config | undefined;
    return new ServedVersion(id, dir, manifest, readSnapshot(join(dir, SNAPSHOT_DIR)), trained ?? config, versions);
  }

  /** The active version (recorded in active.json, or in PostgreSQL), or null when none was trained yet. */
  static async active(config: Config): Promise<ServedVersion | null> {
    const { active } = await (await pointerFor(config)).state();
    return active ? ServedVersion.open(config, active) : null;
  }

  /** Where a model is in this version, or null for a version trained before that model existed. */
  model(name: ModelName): StoredModel | null {
    return storedModelAt(join(this.dir, name));
  }

  /** Checks the sha256 of every file under `prefix` (e.g. "als/"); throws naming the first damaged one. */
  verify(prefix: string): void {
    this.versions.verify(this.id, { content: true, prefix });
  }
}
