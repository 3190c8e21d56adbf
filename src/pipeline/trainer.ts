import pg from 'pg';
import type { Config } from '../config/config.ts';
import { takeSnapshot } from '../store/snapshot.ts';
import type { SharedStore } from '../store/types.ts';
import { type Schedule, Scheduler } from '../util/schedule.ts';
import { type Job, TRAINER_LOCK, TrainingJobs } from '../versions/pg-jobs.ts';
import type { RetrainOutcome } from '../versions/retrain.ts';
import { train } from './train.ts';

export interface TrainerOptions {
  /** Queue a retraining at these times. */
  schedule: Schedule | null;
  log: (line: string) => void;
  /** How often a standby trainer tries for the lock (ms). */
  standbyMs?: number;
}

/**
 * The deployment's one trainer (`cinerec worker`, PostgreSQL). It holds a session advisory lock for as long as it
 * runs, so a second one stands by and takes over when the first stops. It trains the jobs replicas queue (POST
 * /v1/models/retrain) and the ones its schedule queues, one at a time, each on a consistent view of the database;
 * a version that passes the quality gate is activated in the database, and every replica swaps it in.
 */
export class Trainer {
  private readonly jobs: TrainingJobs;
  private lockClient: pg.Client | null = null;
  private watcher: { close(): void } | null = null;
  private scheduler: Scheduler | null = null;
  private busy: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private standby: NodeJS.Timeout | null = null;
  /** Resolves once this process holds the trainer lock. */
  readonly holding: Promise<void>;
  private resolveHolding!: () => void;

  constructor(
    private readonly url: string,
    private readonly store: SharedStore,
    private readonly config: Config,
    private readonly o: TrainerOptions,
  ) {
    this.jobs = new TrainingJobs(url);
    this.holding = new Promise((resolve) => {
      this.resolveHolding = resolve;
    });
  }

  /** Takes the trainer lock (standing by while another trainer holds it), then works until stop(). */
  async start(): Promise<void> {
    if (await this.tryLock()) return this.work();
    this.o.log('another trainer is running for this database: standing by to take over');
    const retry = async () => {
      if (this.stopped) return;
      if (await this.tryLock().catch(() => false)) await this.work();
      else this.standby = setTimeout(() => void retry(), this.o.standbyMs ?? 5000);
    };
    this.standby = setTimeout(() => void retry(), this.o.standbyMs ?? 5000);
  }

  private async tryLock(): Promise<boolean> {
    const c = new pg.Client({ connectionString: this.url });
    c.on('error', () => {});
    await c.connect();
    const r = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [TRAINER_LOCK]);
    if (r.rows[0]?.ok) {
      this.lockClient = c;
      // The lock lives as long as this connection: losing it means another trainer may take over.
      c.on('end', () => {
        if (!this.stopped) this.o.log('lost the connection holding the trainer lock: stopping');
        if (!this.stopped) void this.stop().then(() => process.exit(1));
      });
      return true;
    }
    await c.end();
    return false;
  }

  private async work(): Promise<void> {
    const orphans = await this.jobs.failOrphans('the trainer running it stopped');
    if (orphans > 0) this.o.log(`${orphans} job(s) left running by a trainer that stopped: marked failed`);
    this.o.log('trainer ready: training the jobs replicas queue');
    this.resolveHolding();
    this.watcher = this.jobs.watch(() => this.drain());
    if (this.o.schedule) {
      const say = (line: string) => this.o.log(`retrain schedule: ${line}`);
      this.scheduler = new Scheduler(
        this.o.schedule,
        async () => {
          await this.jobs.enqueue('retrain');
        },
        { logger: { info: say, warn: say, error: say } },
      );
      this.scheduler.start();
      this.o.log(
        `retraining ${this.o.schedule.describe()}; next at ${this.scheduler.nextAt()?.toISOString() ?? 'never'}`,
      );
    }
  }

  /** Trains queued jobs until none is left; a call while busy makes the loop look again. */
  private drain(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = (async () => {
      do {
        this.again = false;
        for (let job = await this.jobs.claim(); job && !this.stopped; job = await this.jobs.claim())
          await this.jobs.finish(job.id, await this.run(job));
      } while (this.again && !this.stopped);
    })()
      .catch((err: unknown) => this.o.log(`trainer: ${(err as Error).message}`))
      .finally(() => {
        this.busy = null;
      });
  }

  private async run(job: Job): Promise<RetrainOutcome> {
    const startedAt = new Date().toISOString();
    const done = (status: RetrainOutcome['status'], version: string | null, message: string): RetrainOutcome => {
      this.o.log(`job ${job.id}: ${message}`);
      return { status, version, message, startedAt, finishedAt: new Date().toISOString() };
    };
    try {
      const snapshot = await this.store.atOneMoment((view) => takeSnapshot(view));
      this.o.log(
        `job ${job.id}: retraining on ${snapshot.ratings.userId.length} ratings (snapshot ${snapshot.fingerprint.slice(0, 12)})`,
      );
      const o = await train(this.config, snapshot, { activate: 'gate', kind: 'retrain', log: this.o.log });
      if (o.result?.status === 'failed') return done('failed', null, `training failed: ${o.result.error}`);
      const why = o.gate ? ` (${o.gate.reason})` : '';
      return o.activated
        ? done('activated', o.version, `version ${o.version} activated${why}`)
        : done('kept', o.version, `version ${o.version} not activated${o.gate ? `: ${o.gate.reason}` : ''}`);
    } catch (err) {
      return done('failed', null, (err as Error).message);
    }
  }

  /** Stops taking jobs, waits for the one in progress, and releases the lock. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.standby) clearTimeout(this.standby);
    this.watcher?.close();
    this.scheduler?.stop();
    await this.busy;
    const c = this.lockClient;
    this.lockClient = null;
    await c?.end().catch(() => {});
  }
}
