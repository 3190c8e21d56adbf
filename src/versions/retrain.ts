/** How a retraining ended: what the API's POST /v1/models/retrain answers and GET /v1/models reports. */
export interface RetrainOutcome {
  status: 'activated' | 'kept' | 'failed';
  version: string | null;
  message: string;
  startedAt: string;
  finishedAt: string;
}

/** Retraining as the serving processes ask for it (a child process here, or the deployment's trainer). */
export interface Retrainer {
  /** Throws (a ConflictError naming why) when a retraining cannot start now. */
  ready(): Promise<void>;
  /** Trains a version and activates it if it passes the quality gate; resolves with the outcome. */
  retrain(): Promise<RetrainOutcome>;
  /** Whether a retraining is going on, and how the last one ended. */
  status(): Promise<{ retraining: boolean; lastRetrain: RetrainOutcome | null }>;
}
