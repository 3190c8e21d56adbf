import pg from 'pg';
import { ConflictError } from '../util/errors.ts';
import { poolFor } from './pg-pool.ts';
import type { Retrainer, RetrainOutcome } from './retrain.ts';

/** The advisory lock the deployment's one trainer holds while it runs (see LOCKS in store/postgres/schema.ts). */
export const TRAINER_LOCK = 4_216_002;
const CHANNEL = 'cinerec_jobs';

export interface Job {
  id: number;
  kind: string;
  state: 'queued' | 'running' | 'finished';
  requestedAt: string;
  outcome: RetrainOutcome | null;
}

interface JobRow {
  id: string;
  kind: string;
  state: Job['state'];
  requested_at: Date;
  outcome: RetrainOutcome | null;
}

const toJob = (r: JobRow): Job => ({
  id: Number(r.id),
  kind: r.kind,
  state: r.state,
  requestedAt: r.requested_at.toISOString(),
  outcome: r.outcome,
});

/**
 * Training jobs in PostgreSQL (the jobs table): replicas ask for a retraining by queuing one; the deployment's one
 * trainer (`cinerec worker`, holding TRAINER_LOCK) claims them in order and records how each ended.
 */
export class TrainingJobs {
  constructor(private readonly url: string) {}

  private get pool(): pg.Pool {
    return poolFor(this.url);
  }

  /** Whether a trainer is running (it holds the trainer lock for as long as it runs). */
  async trainerRunning(): Promise<boolean> {
    const r = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = $1 AND classid = 0`,
      [TRAINER_LOCK],
    );
    return Number(r.rows[0]?.n ?? 0) > 0;
  }

  /** Queues a job, or returns the one already queued (asking twice before it starts trains once). */
  async enqueue(kind = 'retrain'): Promise<number> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE');
      const queued = await c.query<{ id: string }>(
        `SELECT id FROM jobs WHERE state = 'queued' AND kind = $1 ORDER BY id LIMIT 1`,
        [kind],
      );
      const id = queued.rows[0]
        ? Number(queued.rows[0].id)
        : Number(
            (await c.query<{ id: string }>('INSERT INTO jobs (kind) VALUES ($1) RETURNING id', [kind])).rows[0]!.id,
          );
      await c.query('SELECT pg_notify($1, $2)', [CHANNEL, String(id)]);
      await c.query('COMMIT');
      return id;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  async get(id: number): Promise<Job | null> {
    const r = await this.pool.query<JobRow>('SELECT * FROM jobs WHERE id = $1', [id]);
    return r.rows[0] ? toJob(r.rows[0]) : null;
  }

  /** Resolves when the job has finished (polled: a job takes minutes). */
  async wait(id: number, intervalMs = 500): Promise<Job> {
    for (;;) {
      const job = await this.get(id);
      if (!job) throw new Error(`training job ${id} is gone`);
      if (job.state === 'finished') return job;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** The oldest queued job, now running; null when none is queued. */
  async claim(): Promise<Job | null> {
    const r = await this.pool.query<JobRow>(
      `UPDATE jobs SET state = 'running', started_at = now()
       WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
    );
    return r.rows[0] ? toJob(r.rows[0]) : null;
  }

  async finish(id: number, outcome: RetrainOutcome): Promise<void> {
    await this.pool.query(`UPDATE jobs SET state = 'finished', finished_at = now(), outcome = $2 WHERE id = $1`, [
      id,
      JSON.stringify(outcome),
    ]);
  }

  /** Jobs a trainer was running when it stopped: ended as failed (a new trainer calls this under the lock). */
  async failOrphans(message: string): Promise<number> {
    const now = new Date().toISOString();
    const r = await this.pool.query(
      `UPDATE jobs SET state = 'finished', finished_at = now(),
         outcome = jsonb_build_object('status', 'failed', 'version', null, 'message', $1::text,
           'startedAt', coalesce(started_at, requested_at), 'finishedAt', $2::text)
       WHERE state = 'running'`,
      [message, now],
    );
    return r.rowCount ?? 0;
  }

  async pending(): Promise<boolean> {
    const r = await this.pool.query(`SELECT 1 FROM jobs WHERE state <> 'finished' LIMIT 1`);
    return (r.rowCount ?? 0) > 0;
  }

  async lastOutcome(): Promise<RetrainOutcome | null> {
    const r = await this.pool.query<{ outcome: RetrainOutcome }>(
      `SELECT outcome FROM jobs WHERE state = 'finished' ORDER BY finished_at DESC, id DESC LIMIT 1`,
    );
    return r.rows[0]?.outcome ?? null;
  }

  /** Calls onJob when a job is queued (LISTEN, with a poll as a safety net); close() stops it. */
  watch(onJob: () => void, intervalMs = 5000): { close(): void } {
    let closed = false;
    let client: pg.Client | null = null;
    const listen = async (): Promise<void> => {
      if (closed) return;
      const c = new pg.Client({ connectionString: this.url });
      c.on('error', () => {});
      c.on('end', () => {
        if (!closed) setTimeout(() => void listen(), 1000).unref();
      });
      c.on('notification', () => onJob());
      try {
        await c.connect();
        await c.query(`LISTEN ${CHANNEL}`);
        client = c;
        onJob();
      } catch {
        await c.end().catch(() => {});
      }
    };
    void listen();
    const timer = setInterval(onJob, intervalMs);
    timer.unref();
    return {
      close: () => {
        closed = true;
        clearInterval(timer);
        void client?.end().catch(() => {});
      },
    };
  }
}

/** Retraining for a replica: a job for the deployment's trainer, refused when no trainer runs. */
export class QueuedRetrainer implements Retrainer {
  constructor(private readonly jobs: TrainingJobs) {}

  async ready(): Promise<void> {
    if (!(await this.jobs.trainerRunning()))
      throw new ConflictError(
        'no trainer is running for this database: start one with `npx cinerec worker` (one per deployment)',
        'trainer',
      );
  }

  async retrain(): Promise<RetrainOutcome> {
    await this.ready();
    const job = await this.jobs.wait(await this.jobs.enqueue());
    return job.outcome!;
  }

  async status(): Promise<{ retraining: boolean; lastRetrain: RetrainOutcome | null }> {
    return { retraining: await this.jobs.pending(), lastRetrain: await this.jobs.lastOutcome() };
  }
}
