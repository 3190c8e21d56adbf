import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/config.ts';
import { loadServices } from '../serving/services.ts';
import { takeSnapshot, writeSnapshot } from '../store/snapshot.ts';
import type { Store } from '../store/types.ts';
import { Mutex } from '../util/mutex.ts';
import { type Schedule, Scheduler } from '../util/schedule.ts';
import { versionsFor } from '../versions/versions.ts';
import type { ServiceHolder } from './service-holder.ts';

export interface RetrainOutcome {
  status: 'activated' | 'kept' | 'failed';
  version: string | null;
  message: string;
  startedAt: string;
  finishedAt: string;
}

/** What the training process prints on stdout with --json (the part read here). */
interface TrainOutcome {
  result?: { status: 'finished' | 'failed'; error: string | null };
  version: string | null;
  activated: boolean;
  gate: { reason: string } | null;
}

const BIN = resolve(import.meta.dirname, '../../bin/cinerec.js');

/**
 * Serves model versions: loads one beside the served instance, then swaps atomically; follows activations
 * made elsewhere (`cinerec models activate`); retrains in a child process on a schedule or on request.
 */
export class ModelManager {
  private readonly swaps = new Mutex();
  private watcher: { close(): void } | null = null;
  private scheduler: Scheduler | null = null;
  private retraining: Promise<RetrainOutcome> | null = null;
  lastRetrain: RetrainOutcome | null = null;

  constructor(
    private readonly holder: ServiceHolder,
    private readonly store: Store,
    private readonly config: Config,
    private readonly log: (line: string) => void,
  ) {}

  get served(): string | null {
    return this.holder.current.served.version?.id ?? null;
  }

  /**
   * Loads `id` and swaps it in. Requests keep being answered by the old instance while the new one loads
   * and warms; users, ratings and rules written meanwhile are taken over under the write lock.
   */
  activate(id: string | null): Promise<void> {
    return this.swaps.run(async () => {
      if (id === this.served) return;
      const t = performance.now();
      for (let attempt = 0; ; attempt++) {
        const next = await loadServices(this.store, this.config, { version: id, log: this.log });
        await next.served.warm();
        const swapped = await this.holder.current.served.writes.run(async () => {
          // A movie added while the new version loaded: load again so it is placed (rare).
          if ((await this.store.counts()).movies !== next.served.catalogue.size && attempt < 3) return false;
          await next.served.catchUp();
          this.holder.swap(next);
          return true;
        });
        if (swapped) break;
      }
      this.log(
        `now serving model version ${id ?? '(fitted from the store)'}, loaded in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
    });
  }

  /** Follows active.json, so an activation by the CLI or another process is served. */
  watch(intervalMs = 1000): void {
    this.watcher = versionsFor(this.config).watch(
      (active) => {
        if (active === this.served) return;
        this.activate(active).catch((err: unknown) =>
          this.log(`could not serve model version ${active}: ${(err as Error).message}; still serving ${this.served}`),
        );
      },
      { intervalMs },
    );
  }

  /**
   * Trains a new version in a child process (requests are never blocked): the snapshot is taken here,
   * where the store is open, and the child trains on it, then activates the version only if it passes
   * the quality gate. The new version is swapped in here.
   */
  retrain(): Promise<RetrainOutcome> {
    this.retraining ??= this.retrainNow().finally(() => {
      this.retraining = null;
    });
    return this.retraining;
  }

  get retrainRunning(): boolean {
    return this.retraining !== null;
  }

  private async retrainNow(): Promise<RetrainOutcome> {
    const startedAt = new Date().toISOString();
    const work = join(this.config.modelsDir, 'retrain', `${Date.now()}-${process.pid}`);
    const done = (status: RetrainOutcome['status'], version: string | null, message: string): RetrainOutcome => {
      const o = { status, version, message, startedAt, finishedAt: new Date().toISOString() };
      this.lastRetrain = o;
      this.log(`retraining: ${message}`);
      return o;
    };
    try {
      mkdirSync(work, { recursive: true });
      const snapshot = await this.holder.current.served.writes.run(() => takeSnapshot(this.store));
      writeSnapshot(snapshot, join(work, 'snapshot'));
      writeFileSync(join(work, 'config.json'), JSON.stringify(this.config));
      this.log(
        `retraining on ${snapshot.ratings.userId.length} ratings (snapshot ${snapshot.fingerprint.slice(0, 12)})`,
      );
      const outcome = await this.runChild(work);
      if (outcome.result?.status === 'failed')
        return done('failed', null, `training failed: ${outcome.result.error}; still serving ${this.served}`);
      if (outcome.activated && outcome.version) {
        await this.activate(outcome.version);
        return done(
          'activated',
          outcome.version,
          `version ${outcome.version} activated${outcome.gate ? ` (${outcome.gate.reason})` : ''}`,
        );
      }
      return done(
        'kept',
        outcome.version,
        `version ${outcome.version} not activated${outcome.gate ? `: ${outcome.gate.reason}` : ''}; still serving ${this.served}`,
      );
    } catch (err) {
      return done('failed', null, `${(err as Error).message}; still serving ${this.served}`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  private runChild(work: string): Promise<TrainOutcome> {
    return new Promise((resolvePromise, reject) => {
      const child = spawn(
        process.execPath,
        [
          BIN,
          '--json',
          '--config',
          join(work, 'config.json'),
          'train',
          '--from-snapshot',
          join(work, 'snapshot'),
          '--gate',
          '--kind',
          'retrain',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CINEREC_CONFIG: undefined } },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        for (const line of d.toString().split('\n'))
          if (line.trim() && !/[░█]/.test(line)) this.log(`retrain: ${line.replace(/^cinerec: /, '')}`);
      });
      child.on('error', reject);
      child.on('close', (code, signal) => {
        try {
          resolvePromise(JSON.parse(out) as TrainOutcome);
        } catch {
          const how = signal ? `was stopped by ${signal}` : `exited with code ${code}`;
          reject(new Error(`the training process ${how}: ${err.trim().split('\n').at(-1) ?? ''}`));
        }
      });
    });
  }

  /** Retrains at the schedule's times; a retrain still going when the next time comes is skipped. */
  schedule(schedule: Schedule): void {
    const say = (line: string) => this.log(`retrain schedule: ${line}`);
    this.scheduler = new Scheduler(
      schedule,
      async () => {
        await this.retrain();
      },
      { logger: { info: say, warn: say, error: say } },
    );
    this.scheduler.start();
    this.log(`retraining ${schedule.describe()}; next at ${this.scheduler.nextAt()?.toISOString() ?? 'never'}`);
  }

  close(): void {
    this.watcher?.close();
    this.scheduler?.stop();
  }
}
