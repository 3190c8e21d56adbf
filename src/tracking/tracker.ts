import type { Config } from '../config/config.ts';
import { MlflowExporter } from './mlflow.ts';
import { RunTracker } from './runs.ts';

/** The run tracker of a configuration (runs live under modelsDir), exporting to MLflow too when MLFLOW_TRACKING_URI is set. */
export function trackerFor(config: Config): { tracker: RunTracker; mlflow: MlflowExporter | null } {
  const mlflow = MlflowExporter.fromEnv();
  return { tracker: new RunTracker(config.modelsDir, mlflow ? { sinks: [mlflow] } : {}), mlflow };
}
