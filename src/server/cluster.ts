import cluster, { type Worker } from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import { AggregatorRegistry, register } from 'prom-client';
import type { Config, Secrets } from '../config/config.ts';
import type { Change, ChangeSink, WriteLock } from '../serving/changes.ts';
import { ChangeFollower } from '../serving/follower.ts';
import { loadServices } from '../serving/services.ts';
import { isPostgresUrl, openStore } from '../store/open.ts';
import { isSharedStore, type Store } from '../store/types.ts';
import { Mutex } from '../util/mutex.ts';
import type { ModelPointer } from '../versions/pointer.ts';
import type { Retrainer } from '../versions/retrain.ts';
import { stopServer } from './app.ts';
import { type Channel, Rpc } from './ipc.ts';
import { countCacheLookup } from './metrics.ts';
import { type ModelControl, ModelManager, type RetrainOutcome, type Swapper } from './model-manager.ts';
import { RemoteStore, STORE_METHODS } from './remote-store.ts';
import { ServiceHolder } from './service-holder.ts';

/**
 * Serving on every core. One process, the owner, holds the store (DuckDB's lock admits one process) and serialises
 * writes; it forks workers that each load the model version and answer HTTP on the shared port. A worker reads the
 * store through the owner. A write takes the owner's write lock, is stored, applied by its worker, and published:
 * the owner has every other worker apply it before the write is acknowledged, so every worker serves it at once.
 * A new version is put into service by forking workers with it and retiring the old ones once the new ones listen:
 * no worker ever blocks on loading a version while it serves.
 */

const VERSION_ENV = 'CINEREC_SERVE_VERSION';
/** A worker's exit code asking to be started again (the catalogue grew while it loaded). */
const RELOAD = 75;

export interface ClusterOptions {
  store: Store;
  config: Config;
  workers: number;
  version: string;
  log: (line: string) => void;
  pointer: ModelPointer;
  /** Who trains (PostgreSQL: the deployment's trainer); by default a child process of the owner. */
  trainer?: Retrainer | null;
}

interface Member {
  worker: Worker;
  rpc: Rpc;
  version: string;
  listening: boolean;
  retiring: boolean;
}

/** A lock a remote holder takes and releases by name (a worker's write spans several calls). */
class NamedLock {
  private readonly mutex = new Mutex();
  private readonly held = new Map<number, () => void>();

  async acquire(holder: number): Promise<void> {
    await new Promise<void>((acquired) => {
      void this.mutex.run(
        () =>
          new Promise<void>((release) => {
            this.held.set(holder, release);
            acquired();
          }),
      );
    });
  }

  release(holder: number): void {
    this.held.get(holder)?.();
    this.held.delete(holder);
  }
}

/** The owner process: holds the store, forks and replaces workers, runs the model manager. */
export class ClusterOwner implements Swapper {
  private readonly members = new Map<number, Member>();
  /** Workers starting: called with the URL when they listen. */
  private readonly waiting = new Map<number, (url: string) => void>();
  private readonly storeCalls = new Mutex();
  private readonly lock = new NamedLock();
  /** The lock's holder id for the owner's own critical sections (worker ids are ≥ 1). */
  private static readonly SELF = 0;
  private current: string;
  private url: string | null = null;
  private stopping = false;
  readonly manager: ModelManager;
  private readonly started: Promise<string>;
  private resolveStarted!: (url: string) => void;

  constructor(private readonly o: ClusterOptions) {
    this.current = o.version;
    const writes: WriteLock = {
      run: async (fn) => {
        await this.lock.acquire(ClusterOwner.SELF);
        try {
          return await fn();
        } finally {
          this.lock.release(ClusterOwner.SELF);
        }
      },
    };
    this.manager = new ModelManager(this, o.store, o.config, writes, o.log, o.pointer, o.trainer ?? null);
    this.started = new Promise((resolve) => {
      this.resolveStarted = resolve;
    });
    cluster.setupPrimary({ serialization: 'advanced' });
    cluster.on('exit', (worker, code, signal) => this.exited(worker, code, signal));
  }

  /** Forks the workers; resolves with the URL once they all listen. */
  async start(): Promise<string> {
    await Promise.all(Array.from({ length: this.o.workers }, () => this.fork(this.current)));
    return this.started;
  }

  served(): string | null {
    return this.current;
  }

  /** New workers with `id`; the old ones retire once every new one listens (they finish what they serve). */
  async swapTo(id: string): Promise<void> {
    const old = [...this.members.values()].filter((m) => !m.retiring);
    await Promise.all(Array.from({ length: this.o.workers }, () => this.fork(id)));
    this.current = id;
    for (const m of old) m.retiring = true;
    // After this call's reply is on its way: a worker waiting for it must get it before it is told to stop.
    setImmediate(() => {
      for (const m of old) this.retire(m);
    });
  }

  private retire(m: Member): void {
    m.worker.disconnect();
    // The worker drains for server.shutdownGrace, then closes every connection; one that is still there 2 s later
    // is stopped, so a slow client can never hold a worker (or the owner's shutdown) past 10 s.
    const timer = setTimeout(() => m.worker.process.kill('SIGKILL'), this.o.config.server.shutdownGrace + 2000);
    timer.unref();
  }

  /** A worker that serves `version`; resolves when it listens (it catches up under the write lock first). */
  private fork(version: string, attempt = 0): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = cluster.fork({ [VERSION_ENV]: version });
      const member: Member = {
        worker,
        rpc: new Rpc(worker, (method, args) => this.handle(member, method, args)),
        version,
        listening: false,
        retiring: false,
      };
      this.members.set(worker.id, member);
      // A message to a worker that is already leaving (its channel closed at shutdown or on a swap) is not an error
      // of the service: log it rather than let the unhandled 'error' event end the owner.
      worker.on('error', (err) => this.o.log(`worker ${worker.id}: ${err.message}`));
      const failed = (code: number | null) => {
        this.waiting.delete(worker.id);
        // 75: a movie was added while it loaded; it starts again with it.
        if (code === RELOAD && attempt < 3) this.fork(version, attempt + 1).then(resolve, reject);
        else reject(new Error(`a worker serving ${version} exited (code ${code}) before it listened`));
      };
      worker.once('exit', failed);
      this.waiting.set(worker.id, (url) => {
        worker.off('exit', failed);
        if (!this.url) {
          this.url = url;
          this.resolveStarted(url);
        }
        resolve();
      });
    });
  }

  private async handle(m: Member, method: string, args: unknown[]): Promise<unknown> {
    const id = m.worker.id;
    switch (method) {
      case 'store': {
        const [name, params] = args as [(typeof STORE_METHODS)[number], unknown[]];
        if (!STORE_METHODS.includes(name)) throw new Error(`no store method ${String(name)}`);
        const store = this.o.store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
        return this.storeCalls.run(() => store[name]!.apply(this.o.store, params));
      }
      case 'lock':
        return this.lock.acquire(id);
      case 'unlock':
        return this.lock.release(id);
      case 'publish':
        return this.publish(m, args[0] as Change);
      case 'ready':
        // Held until the worker listens: no write slips between its catch-up and its first request.
        return this.lock.acquire(id);
      case 'listening': {
        m.listening = true;
        this.lock.release(id);
        this.waiting.get(id)?.(args[0] as string);
        this.waiting.delete(id);
        return undefined;
      }
      case 'activate':
        return this.manager.activate(args[0] as string);
      case 'rollback':
        return this.manager.rollback();
      case 'canRetrain':
        return this.manager.canRetrain();
      case 'retrain':
        return this.manager.retrain();
      case 'status':
        return this.manager.status();
      case 'snapshot':
        return this.manager.snapshot();
      case 'metrics':
        return this.metrics();
      default:
        throw new Error(`unknown request ${method}`);
    }
  }

  /** Every serving worker's metrics, added up (histograms and counters summed, the version gauge's max). */
  private async metrics(): Promise<string> {
    const live = [...this.members.values()].filter((m) => m.listening);
    const each = await Promise.all(
      live.map((m) => m.rpc.call<Awaited<ReturnType<typeof register.getMetricsAsJSON>>>('metrics')),
    );
    return AggregatorRegistry.aggregate(each).metrics();
  }

  /** Every other listening worker applies the change before the writer's request is answered. */
  private async publish(from: Member, change: Change): Promise<void> {
    const others = [...this.members.values()].filter((m) => m !== from && m.listening && !m.retiring);
    await Promise.all(others.map((m) => m.rpc.call('change', change)));
  }

  private exited(worker: Worker, code: number | null, signal: string | null): void {
    const m = this.members.get(worker.id);
    this.members.delete(worker.id);
    this.lock.release(worker.id);
    if (!m || m.retiring || this.stopping) return;
    m.rpc.abort('the worker is gone');
    if (!m.listening) return;
    this.o.log(
      `worker ${worker.process.pid} ${signal ? `was stopped by ${signal}` : `exited with code ${code}`}: starting another`,
    );
    this.fork(this.current).catch((err: unknown) => this.o.log(`could not start a worker: ${(err as Error).message}`));
  }

  /** Stops the workers (each finishes what it serves) and resolves when they are gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.manager.close();
    const gone = [...this.members.values()].map(
      (m) =>
        new Promise<void>((resolve) => {
          if (m.worker.isDead()) return resolve();
          m.worker.once('exit', () => resolve());
          this.retire(m);
        }),
    );
    await Promise.all(gone);
  }
}

/** A worker: loads the version the owner named, serves HTTP on the shared port, reads and writes through the owner. */
export async function runWorker(
  config: Config,
  _secrets: Secrets,
  log: (line: string) => void,
  start: (
    services: ReturnType<ServiceHolder['view']>,
    models: ModelControl,
    clusterMetrics: () => Promise<string>,
  ) => Promise<{ server: FastifyInstance; url: string }>,
): Promise<void> {
  const version = process.env[VERSION_ENV];
  if (!version) throw new Error(`a cluster worker needs ${VERSION_ENV}`);
  let holder: ServiceHolder | null = null;
  const rpc = new Rpc(process as unknown as Channel, async (method, args) => {
    if (method === 'change') return holder?.current.served.apply(args[0] as Change);
    if (method === 'metrics') return register.getMetricsAsJSON();
    throw new Error(`unknown request ${method}`);
  });
  // With PostgreSQL a worker is a replica: it reads the database itself and follows its change log.
  const shared = isPostgresUrl(config.store.url) ? await openStore(config.store) : null;
  if (shared && !isSharedStore(shared)) throw new Error('a PostgreSQL store must share its changes');
  const follower = shared ? await ChangeFollower.before(shared, () => holder?.current.served ?? null, log) : null;
  const store = shared ?? new RemoteStore(config.store.path, rpc);
  const ownerWrites: WriteLock = {
    run: async (fn) => {
      await rpc.call('lock');
      try {
        return await fn();
      } finally {
        await rpc.call('unlock');
      }
    },
  };
  const changes: ChangeSink = { publish: (change) => rpc.call('publish', change) };
  const services = await loadServices(store, config, {
    version,
    log,
    writes: follower?.writeLock() ?? ownerWrites,
    changes: follower?.changes ?? changes,
    onCacheLookup: countCacheLookup,
  });
  await services.served.warm();
  holder = new ServiceHolder(services);
  const models: ModelControl = {
    activate: (id) => rpc.call('activate', id),
    rollback: () => rpc.call('rollback'),
    canRetrain: () => rpc.call('canRetrain'),
    retrain: () => rpc.call<RetrainOutcome>('retrain'),
    status: () => rpc.call('status'),
    snapshot: () => rpc.call('snapshot'),
  };
  if (follower) await follower.start();
  else await joinOwner(rpc, store, services);
  const { server, url } = await start(holder.view(), models, () => rpc.call<string>('metrics'));
  await rpc.call('listening', url);
  process.on('disconnect', () => {
    void stopServer(server, config.server.shutdownGrace)
      .then(() => follower?.close())
      .then(() => shared?.close())
      .then(() => process.exit(0));
  });
}

/** Catches up under the owner's write lock, held until the worker listens (released by 'listening'). */
async function joinOwner(rpc: Rpc, store: Store, services: Awaited<ReturnType<typeof loadServices>>): Promise<void> {
  await rpc.call('ready');
  await services.served.catchUp();
  if ((await store.counts()).movies !== services.served.catalogue.size) {
    // A movie was added while this worker loaded: start again with it (the owner forks a replacement).
    await rpc.call('unlock');
    process.exit(RELOAD);
  }
}
