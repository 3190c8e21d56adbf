/** Small shapes shared by the tracking files, the API and the web page (no Node imports: the page type-checks them). */

/** One point of a training curve (per epoch or iteration). */
export interface CurvePoint {
  step: number;
  value: number;
}

export interface ArtifactInfo {
  /** Path relative to the run's or version's directory. */
  path: string;
  bytes: number;
  /** Content hash (hex), recorded for a version's files so a damaged file is caught however it changed. */
  sha256?: string;
}

/** Logging for the pipeline, scheduler and exporter: a pino logger fits. */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}
