import type { ModelsState } from '../tracking/types.ts';
import { ConflictError } from '../util/errors.ts';
import type { ActiveState, VersionStore } from './versions.ts';

/**
 * Which model version is active, and the ones active before it. With the embedded store it is active.json beside
 * the versions; with PostgreSQL it is a row of the database (model_state), so that every replica, the trainer and
 * the CLI agree on it and hear of a change at once (NOTIFY). The versions' files live in the models directory,
 * shared by every process either way.
 */
export interface ModelPointer {
  state(): Promise<ActiveState>;
  /** Makes `v` active (refused for a missing, partial or damaged version). */
  activate(v: string): Promise<ActiveState>;
  /** Makes the previously active version active again; ConflictError when there is none. */
  rollback(): Promise<ActiveState>;
  /** Calls `onChange` when another process (or this one) changes the active version; close() stops it. */
  watch(onChange: (active: string | null) => void, opts?: { intervalMs?: number }): { close(): void };
}

/** The versions with the active one marked (the API's GET /v1/models, `cinerec models list`). */
export async function modelsState(versions: VersionStore, pointer: ModelPointer): Promise<ModelsState> {
  const { active } = await pointer.state();
  return { active, versions: versions.list().map((m) => ({ ...m, active: m.version === active })) };
}

/** active.json, under a lock file (one machine, or a shared file system). */
export class FilePointer implements ModelPointer {
  constructor(readonly versions: VersionStore) {}

  async state(): Promise<ActiveState> {
    return this.versions.activeState();
  }

  async activate(v: string): Promise<ActiveState> {
    return this.versions.activate(v);
  }

  async rollback(): Promise<ActiveState> {
    return this.versions.rollback();
  }

  watch(onChange: (active: string | null) => void, opts?: { intervalMs?: number }): { close(): void } {
    return this.versions.watch(onChange, opts);
  }
}

/** The previous version that is still complete, and the history below it, or a ConflictError. */
export function previousOf(versions: VersionStore, cur: ActiveState): { version: string; history: string[] } {
  const history = [...cur.history];
  while (history.length > 0) {
    const prev = history.pop()!;
    try {
      versions.verify(prev);
    } catch {
      continue;
    }
    return { version: prev, history };
  }
  throw new ConflictError(
    `no previous version to roll back to${cur.active ? ` (active: ${cur.active})` : ''}`,
    'version',
  );
}
