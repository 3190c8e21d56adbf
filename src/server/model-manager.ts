import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/config.ts';
import type { WriteLock } from '../serving/changes.ts';
import { loadServices } from '../serving/services.ts';
import { takeSnapshot, writeSnapshot } from '../store/snapshot.ts';
import type { Store } from '../store/types.ts';
import { Mutex } from '../util/mutex.ts';
import { type Schedule, Scheduler } from '../util/schedule.ts';
import { FilePointer, type ModelPointer, previousOf } from '../versions/pointer.ts';
import type { Retrainer, RetrainOutcome } from '../versions/retrain.ts';
import { versionsFor } from '../versions/versions.ts';
import { countCacheLookup } from './metrics.ts';
import type { ServiceHolder } from './service-holder.ts';

export type { RetrainOutcome } from '../versions/retrain.ts';

/** What the training process prints on stdout with --json (the part read here). */
interface TrainOutcome {
  result?: { status: 'finished' | 'failed'; error: string | null };
  version: string | null;
  activated: boolean;
  gate: { reason: string } | null;
}

const BIN = resolve(import.meta.dirname, '../../bin/cinerec.js');

/** Puts a version into service: in this process (load beside, swap) or across a cluster's workers. */
export interface Swapper {
  /** The version being served. */
  served(): string | null;
  /** Loads, verifies and warms `id`, then serves it; requests keep being answered meanwhile. */
  swapTo(id: string): Promise<void>;
}

/** What the API's model routes ask of whoever manages versions (this process, or the cluster's owner). */
export interface ModelControl {
  /** Serves `id` everywhere, then makes it the active version (refused for a damaged one). */
  activate(id: string): Promise<void>;
  /** Serves the previously active version everywhere and makes it active again; returns it. */
  rollback(): Promise<string>;
  /** Throws (ConflictError) when retraining cannot start here, before anything is queued. */
  canRetrain(): Promise<void>;
  retrain(): Promise<RetrainOutcome>;
  status(): Promise<{ retraining: boolean; lastRetrain: RetrainOutcome | null }>;
  /** Writes a snapshot of the store (between writes) for a training or an evaluation run elsewhere. */
  snapshot(): Promise<{ path: string; fingerprint: string }>;
}

/** One process serving: the new version is loaded and warmed beside the served one, then swapped in. */
export class LocalSwapper implements Swapper {
  constructor(
    private readonly holder: ServiceHolder,
    private readonly store: Store,
    private readonly config: Config,
    private readonly log: (line: string) => void,
  ) {}

  served(): string | null {
    return this.holder.current.served.version?.id ?? null;
  }

  async swapTo(id: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const { writes, changes } = this.holder.current.served;
      // The same write lock and change sink: a write is serialised with the swap and reaches the new state.
      const next = await loadServices(this.store, this.config, {
        version: id,
        log: this.log,
        writes,
        changes,
        onCacheLookup: countCacheLookup,
      });
      await next.served.warm();
      const swapped = await this.holder.current.served.writes.run(async () => {
        // A movie added while the new version loaded: load again so it is placed (rare).
        if ((await this.store.counts()).movies !== next.served.catalogue.size && attempt < 3) return false;
        await next.served.catchUp();
        this.holder.swap(next);
        return true;
      });
      if (swapped) return;
    }
  }
}

/**
 * Manages model versions for the serving processes: activations and rollbacks (the new version is served
 * before it becomes active, so a version that cannot be served never becomes active), follows activations made
 * elsewhere (`cinerec models activate`), and retrains in a child process on a schedule or on request.
 */
export class ModelManager implements ModelControl {
  private readonly swaps = new Mutex();
  private watcher: { close(): void } | null = null;
  private scheduler: Scheduler | null = null;
  private retraining: Promise<RetrainOutcome> | null = null;
  lastRetrain: RetrainOutcome | null = null;

  constructor(
    private readonly swapper: Swapper,
    private readonly store: Store,
    private readonly config: Config,
    /** The store's write lock: the snapshot of a retrain is taken between writes. */
    private readonly writes: WriteLock,
    private readonly log: (line: string) => void,
    /** Where the active version is recorded (active.json, or PostgreSQL). */
    private readonly pointer: ModelPointer = new FilePointer(versionsFor(config)),
    /** Who trains: by default a child process of this one; with PostgreSQL, the deployment's trainer. */
    private readonly trainer: Retrainer | null = null,
  ) {}

  /** A manager for one process serving `holder`'s services over `store`. */
  static local(
    holder: ServiceHolder,
    store: Store,
    config: Config,
    log: (line: string) => void,
    pointer?: ModelPointer,
    trainer?: Retrainer | null,
  ): ModelManager {
    return new ModelManager(
      new LocalSwapper(holder, store, config, log),
      store,
      config,
      holder.current.served.writes,
      log,
      pointer,
      trainer ?? null,
    );
  }

  get served(): string | null {
    return this.swapper.served();
  }

  /** Serves `id` (nothing to do when it already is). */
  private serve(id: string): Promise<void> {
    return this.swaps.run(async () => {
      if (id === this.served) return;
      const t = performance.now();
      await this.swapper.swapTo(id);
      this.log(`now serving model version ${id}, loaded in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    });
  }

  async activate(id: string): Promise<void> {
    versionsFor(this.config).verify(id, { content: true });
    await this.serve(id);
    await this.pointer.activate(id);
  }

  async rollback(): Promise<string> {
    const previous = previousOf(versionsFor(this.config), await this.pointer.state()).version;
    await this.serve(previous);
    return (await this.pointer.rollback()).active ?? previous;
  }

  async snapshot(): Promise<{ path: string; fingerprint: string }> {
    const path = join(this.config.modelsDir, 'snapshots', `${Date.now()}-${process.pid}`);
    const snapshot = await this.writes.run(() => takeSnapshot(this.store));
    writeSnapshot(snapshot, path);
    return { path, fingerprint: snapshot.fingerprint };
  }

  async status(): Promise<{ retraining: boolean; lastRetrain: RetrainOutcome | null }> {
    if (this.trainer) return this.trainer.status();
    return { retraining: this.retraining !== null, lastRetrain: this.lastRetrain };
  }

  /** Follows active.json, so an activation by the CLI or another process is served. */
  watch(intervalMs = 1000): void {
    this.watcher = this.pointer.watch(
      (active) => {
        if (active === null || active === this.served) return;
        this.serve(active).catch((err: unknown) =>
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
  async canRetrain(): Promise<void> {
    await this.trainer?.ready();
  }

  retrain(): Promise<RetrainOutcome> {
    this.retraining ??= (this.trainer ? this.retrainElsewhere(this.trainer) : this.retrainNow()).finally(() => {
      this.retraining = null;
    });
    return this.retraining;
  }

  /** The deployment's trainer trains; the version it activates is served here before the outcome is told. */
  private async retrainElsewhere(trainer: Retrainer): Promise<RetrainOutcome> {
    const outcome = await trainer.retrain();
    if (outcome.status === 'activated' && outcome.version) await this.serve(outcome.version);
    this.lastRetrain = outcome;
    return outcome;
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
      const snapshot = await this.writes.run(() => takeSnapshot(this.store));
      writeSnapshot(snapshot, join(work, 'snapshot'));
      writeFileSync(join(work, 'config.json'), JSON.stringify(this.config));
      this.log(
        `retraining on ${snapshot.ratings.userId.length} ratings (snapshot ${snapshot.fingerprint.slice(0, 12)})`,
      );
      const outcome = await this.runChild(work);
      if (outcome.result?.status === 'failed')
        return done('failed', null, `training failed: ${outcome.result.error}; still serving ${this.served}`);
      if (outcome.activated && outcome.version) {
        await this.serve(outcome.version);
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
