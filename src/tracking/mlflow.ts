import type { RunSink } from './runs.ts';
import type { Logger, RunRecord } from './types.ts';

/**
 * Optional export of runs to an MLflow tracking server through its REST API 2.0 (global fetch, no client library).
 * Enabled when MLFLOW_TRACKING_URI is an http(s) URL; plug it into the RunTracker as a sink.
 *
 * Mapping (one MLflow run per cinerec run; stage runs skipped because cached are not exported):
 *   experiment         MLFLOW_EXPERIMENT_NAME, default "cinerec" (get-by-name, created when missing)
 *   run name           "<kind> <id>", e.g. "stage:als 20250314T101502123-001"
 *   start_time/end_time  startedAt / finishedAt (ms since epoch)
 *   status             finished → FINISHED, failed → FAILED (runs/update at the end)
 *   params             the run's params, flattened ("als.factors"), values as text (at most 500 characters)
 *   metrics            final metrics; each curve point → the metric of the curve's name at step = epoch/iteration,
 *                      so MLflow shows the whole history; a final metric with the name of a curve is logged at the
 *                      curve's last step; plus duration_ms and peak_rss_bytes
 *   tags               cinerec.run_id, cinerec.kind, cinerec.parent_id, mlflow.parentRunId (the MLflow id of the
 *                      parent, so stage runs nest under their train run), cinerec.code_version,
 *                      cinerec.data_fingerprint, cinerec.cache_key, cinerec.status, cinerec.error, cinerec.note,
 *                      cinerec.artifacts (JSON list of paths and sizes; files are not uploaded), mlflow.runName,
 *                      mlflow.source.name = "cinerec"
 *   names              MLflow allows letters, digits and _ - . / space : in keys: "@" becomes "_at_"
 *                      (ndcg@10 → ndcg_at_10), any other character "_".
 * Authentication: MLFLOW_TRACKING_TOKEN (bearer) or MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD (basic).
 *
 * The run is created when ours starts and completed (params, metrics, tags, status) when ours ends. Errors (server
 * down, bad answer, timeout) are logged and never fail training; flush() waits for pending requests.
 */

export interface MlflowOptions {
  /** Base URL of the tracking server, e.g. http://localhost:5000. */
  trackingUri: string;
  experimentName?: string;
  headers?: Record<string, string>;
  logger?: Logger;
  fetch?: typeof fetch;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
}

interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}
interface KV {
  key: string;
  value: string;
}

const MAX_PARAM_VALUE = 500;
const MAX_TAG_VALUE = 5000;
const MAX_KEY = 250;
/** A failed experiment lookup is not retried for this long, so a dead server costs one timeout, not one per run. */
const RETRY_EXPERIMENT_MS = 5 * 60_000;

/** An MLflow-safe metric/param/tag key. */
export function mlflowKey(name: string): string {
  const k = name.replace(/@/g, '_at_').replace(/[^\p{L}\p{N}_\-./ :]/gu, '_');
  return k.slice(0, MAX_KEY) || '_';
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class MlflowExporter implements RunSink {
  private readonly base: string;
  private readonly experimentName: string;
  private readonly logger: Logger | null;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private experiment: { id: Promise<string | null>; at: number } | null = null;
  private readonly ids = new Map<string, Promise<string | null>>();
  private readonly pending = new Set<Promise<unknown>>();

  constructor(opts: MlflowOptions) {
    this.base = opts.trackingUri.replace(/\/+$/, '');
    this.experimentName = opts.experimentName ?? 'cinerec';
    this.logger = opts.logger ?? null;
    this.fetchFn = opts.fetch ?? fetch;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.headers = { 'content-type': 'application/json', ...(opts.headers ?? {}) };
  }

  /** An exporter when MLFLOW_TRACKING_URI is an http(s) URL, else null (a warning for other URIs). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, logger?: Logger): MlflowExporter | null {
    const uri = env.MLFLOW_TRACKING_URI?.trim();
    if (!uri) return null;
    if (!/^https?:\/\//i.test(uri)) {
      logger?.warn(`MLFLOW_TRACKING_URI=${uri}: only http(s) tracking servers are supported; runs are not exported`);
      return null;
    }
    const headers: Record<string, string> = {};
    if (env.MLFLOW_TRACKING_TOKEN) headers.authorization = `Bearer ${env.MLFLOW_TRACKING_TOKEN}`;
    else if (env.MLFLOW_TRACKING_USERNAME) {
      const cred = `${env.MLFLOW_TRACKING_USERNAME}:${env.MLFLOW_TRACKING_PASSWORD ?? ''}`;
      headers.authorization = `Basic ${Buffer.from(cred).toString('base64')}`;
    }
    return new MlflowExporter({
      trackingUri: uri,
      experimentName: env.MLFLOW_EXPERIMENT_NAME || 'cinerec',
      headers,
      ...(logger ? { logger } : {}),
    });
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await this.fetchFn(`${this.base}/api/2.0/mlflow/${path}`, {
      method,
      headers: this.headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      // Not JSON (a proxy's error page): reported with the status below.
    }
    if (!res.ok) {
      const err = new Error(
        `${method} ${path}: HTTP ${res.status}${json.error_code ? ` ${json.error_code}` : ''}${
          json.message ? `: ${json.message}` : ''
        }`,
      ) as Error & { code?: unknown };
      err.code = json.error_code;
      throw err;
    }
    return json as T;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    p.finally(() => this.pending.delete(p)).catch(() => {});
    return p;
  }

  private experimentId(): Promise<string | null> {
    const now = Date.now();
    if (this.experiment && (this.experiment.at === 0 || now - this.experiment.at < RETRY_EXPERIMENT_MS)) {
      return this.experiment.id;
    }
    const entry = { id: Promise.resolve<string | null>(null), at: 0 };
    entry.id = (async () => {
      const name = this.experimentName;
      try {
        try {
          const r = await this.call<{ experiment: { experiment_id: string } }>(
            'GET',
            `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`,
          );
          return r.experiment.experiment_id;
        } catch (err) {
          if ((err as { code?: unknown }).code !== 'RESOURCE_DOES_NOT_EXIST') throw err;
        }
        try {
          const r = await this.call<{ experiment_id: string }>('POST', 'experiments/create', { name });
          return r.experiment_id;
        } catch (err) {
          // Created by another process meanwhile.
          if ((err as { code?: unknown }).code !== 'RESOURCE_ALREADY_EXISTS') throw err;
          const r = await this.call<{ experiment: { experiment_id: string } }>(
            'GET',
            `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`,
          );
          return r.experiment.experiment_id;
        }
      } catch (err) {
        this.logger?.warn(`MLflow: experiment "${name}" unavailable, runs are not exported: ${errText(err)}`);
        entry.at = Date.now(); // remembered as failed for a while
        return null;
      }
    })();
    this.experiment = entry;
    return entry.id;
  }

  private async createRun(run: RunRecord): Promise<string | null> {
    try {
      const exp = await this.experimentId();
      if (exp === null) return null;
      const parent = run.parentId ? await (this.ids.get(run.parentId) ?? Promise.resolve(null)) : null;
      const tags: KV[] = [
        { key: 'mlflow.runName', value: `${run.kind} ${run.id}` },
        { key: 'mlflow.source.name', value: 'cinerec' },
        { key: 'cinerec.run_id', value: run.id },
        { key: 'cinerec.kind', value: run.kind },
        { key: 'cinerec.code_version', value: run.codeVersion },
      ];
      if (run.parentId) tags.push({ key: 'cinerec.parent_id', value: run.parentId });
      if (parent) tags.push({ key: 'mlflow.parentRunId', value: parent });
      if (run.dataFingerprint) tags.push({ key: 'cinerec.data_fingerprint', value: run.dataFingerprint });
      if (run.cacheKey) tags.push({ key: 'cinerec.cache_key', value: run.cacheKey });
      const r = await this.call<{ run: { info: { run_id: string } } }>('POST', 'runs/create', {
        experiment_id: exp,
        run_name: `${run.kind} ${run.id}`,
        start_time: Date.parse(run.startedAt),
        tags,
      });
      return r.run.info.run_id;
    } catch (err) {
      this.logger?.warn(`MLflow: could not create a run for ${run.id}: ${errText(err)}`);
      return null;
    }
  }

  /** RunSink: creates the MLflow run as ours starts (so children can name it as their parent). */
  started(run: RunRecord): void {
    if (run.status === 'skipped' || this.ids.has(run.id)) return;
    this.ids.set(run.id, this.track(this.createRun(run)));
  }

  /** RunSink: logs params, metrics, curves and tags, and sets the final status. */
  ended(run: RunRecord): void {
    if (run.status === 'skipped' || run.status === 'running') return;
    this.track(this.complete(run));
  }

  /** Exports a whole finished run (e.g. an older run) at once; resolves to the MLflow run id or null. */
  async exportRun(run: RunRecord): Promise<string | null> {
    if (run.status === 'skipped' || run.status === 'running') return null;
    await this.track(this.complete(run));
    return (await this.ids.get(run.id)) ?? null;
  }

  /** Waits for every pending request (call before the process exits). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async complete(run: RunRecord): Promise<void> {
    if (!this.ids.has(run.id)) this.started(run);
    const id = await this.ids.get(run.id)!;
    if (id === null) return;
    try {
      const end = run.finishedAt ? Date.parse(run.finishedAt) : Date.now();
      const params: KV[] = [];
      const seen = new Set<string>();
      for (const [k, v] of Object.entries(run.params)) {
        const key = mlflowKey(k);
        if (seen.has(key)) continue; // two names that sanitise alike: MLflow rejects duplicate params
        seen.add(key);
        params.push({ key, value: String(v).slice(0, MAX_PARAM_VALUE) });
      }
      const metrics: Metric[] = [];
      const lastStep = new Map<string, number>();
      for (const [name, points] of Object.entries(run.curves)) {
        const key = mlflowKey(name);
        for (const p of points) {
          if (!Number.isFinite(p.value)) continue;
          metrics.push({ key, value: p.value, timestamp: end, step: Math.round(p.step) });
          lastStep.set(key, Math.max(lastStep.get(key) ?? 0, Math.round(p.step)));
        }
      }
      for (const [name, value] of Object.entries(run.metrics)) {
        if (!Number.isFinite(value)) continue;
        const key = mlflowKey(name);
        metrics.push({ key, value, timestamp: end, step: lastStep.get(key) ?? 0 });
      }
      if (run.durationMs !== null) metrics.push({ key: 'duration_ms', value: run.durationMs, timestamp: end, step: 0 });
      if (run.peakRssBytes !== null) {
        metrics.push({ key: 'peak_rss_bytes', value: run.peakRssBytes, timestamp: end, step: 0 });
      }
      const tags: KV[] = [{ key: 'cinerec.status', value: run.status }];
      if (run.error) tags.push({ key: 'cinerec.error', value: run.error.slice(0, MAX_TAG_VALUE) });
      if (run.note) tags.push({ key: 'cinerec.note', value: run.note.slice(0, MAX_TAG_VALUE) });
      if (run.artifacts.length > 0) {
        tags.push({ key: 'cinerec.artifacts', value: JSON.stringify(run.artifacts).slice(0, MAX_TAG_VALUE) });
      }
      // log-batch limits: 1000 metrics, 100 params, 100 tags, 1000 entities in all per request.
      let pi = 0;
      let ti = 0;
      let mi = 0;
      while (pi < params.length || ti < tags.length || mi < metrics.length) {
        const p = params.slice(pi, pi + 100);
        const t = tags.slice(ti, ti + 100);
        const m = metrics.slice(mi, mi + 1000 - p.length - t.length);
        pi += p.length;
        ti += t.length;
        mi += m.length;
        await this.call('POST', 'runs/log-batch', { run_id: id, params: p, tags: t, metrics: m });
      }
      await this.call('POST', 'runs/update', {
        run_id: id,
        status: run.status === 'finished' ? 'FINISHED' : 'FAILED',
        end_time: end,
      });
    } catch (err) {
      this.logger?.warn(`MLflow: could not complete run ${run.id} (MLflow ${id}): ${errText(err)}`);
    }
  }
}
