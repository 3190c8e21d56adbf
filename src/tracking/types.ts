/** Shapes shared by the pipeline, the run/version stores, the API and the web page. */

export type RunStatus = 'running' | 'finished' | 'failed' | 'skipped';

import type { ArtifactInfo, CurvePoint, Logger } from '../util/shapes.ts';

export type { ArtifactInfo, CurvePoint, Logger };

/** One stage execution (or a whole `train` / `tune` / `retrain`), recorded from start to end. */
export interface RunRecord {
  id: string;
  /** e.g. 'train', 'stage:als', 'tune:als', 'retrain'. */
  kind: string;
  /** The `train` run this stage run belongs to. */
  parentId: string | null;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  /** The process that owns a running run (a dead owner means the run crashed). */
  pid: number;
  /**
   * Start time of the owning process (clock ticks since boot, Linux /proc), so a pid reused after a crash is not
   * mistaken for the owner. Absent or null where unknown.
   */
  pidStart?: number | null;
  params: Record<string, number | string | boolean | null>;
  /** Final metrics. */
  metrics: Record<string, number>;
  /** Per-epoch / per-iteration curves by name, e.g. "loss", "val_rmse". */
  curves: Record<string, CurvePoint[]>;
  artifacts: ArtifactInfo[];
  peakRssBytes: number | null;
  codeVersion: string;
  dataFingerprint: string | null;
  /** Cache key of a stage run. */
  cacheKey: string | null;
  error: string | null;
  /** Free-form notes, e.g. why a run was marked failed. */
  note: string | null;
}

export interface RunSummary {
  id: string;
  kind: string;
  parentId: string | null;
  status: RunStatus;
  startedAt: string;
  durationMs: number | null;
  metrics: Record<string, number>;
}

export interface ModelVersion {
  /** e.g. "v0003". */
  version: string;
  createdAt: string;
  /** The train run that produced it. */
  runId: string | null;
  dataFingerprint: string;
  codeVersion: string;
  /** Stage name → cache key of the outputs the version holds. */
  stages: Record<string, string>;
  metrics: Record<string, number>;
  artifacts: ArtifactInfo[];
  /** Total bytes of the artifacts. */
  bytes: number;
}

export interface ModelsState {
  active: string | null;
  versions: (ModelVersion & { active: boolean })[];
}
