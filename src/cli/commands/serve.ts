import cluster from 'node:cluster';
import { existsSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import type { Config, Secrets } from '../../config/config.ts';
import { isPostgresUrl } from '../../store/open.ts';
import { isSharedStore, type Store } from '../../store/types.ts';
import { ValidationError } from '../../util/errors.ts';
import { forbidFitting } from '../../util/fit-guard.ts';
import type { Logger } from '../../util/log.ts';
import { terminalProgress } from '../../util/progress.ts';
import { parseSchedule, type Schedule } from '../../util/schedule.ts';
import type { ModelPointer } from '../../versions/pointer.ts';
import { pointerFor } from '../../versions/pointer-for.ts';
import type { Retrainer } from '../../versions/retrain.ts';
import { configFor, openExistingStore, openStore } from '../context.ts';
import { port } from '../parse.ts';
import { removeServerAddress, writeServerAddress } from '../server-address.ts';

interface ServeOptions {
  port?: number;
  host?: string;
  retrain?: string;
  train?: boolean;
}

/** Serving logs through pino like the HTTP server (readable on a terminal, JSON lines otherwise). */
let log: (line: string) => void = (line) => process.stderr.write(`cinerec: ${line}\n`);

function configOf(cmd: Command, opts: ServeOptions): { config: Config; secrets: Secrets } {
  const extra: Record<string, string> = {};
  if (opts.port !== undefined) extra['server.port'] = String(opts.port);
  if (opts.host !== undefined) extra['server.host'] = opts.host;
  return configFor(cmd, extra);
}

/** Makes sure there is data and a trained version (training a first one for `start`); returns the active version. */
async function prepare(
  store: Store & { importDataset?: unknown },
  config: Config,
  opts: ServeOptions,
  bootstrap: boolean,
  pointer: ModelPointer,
) {
  if (bootstrap) {
    const { ensureDataset } = await import('../bootstrap.ts');
    await ensureDataset(store as Parameters<typeof ensureDataset>[0], config, log, terminalProgress());
  } else if (!(await store.dataset())) {
    throw new ValidationError(
      `the store ${config.store.path} holds no data: run \`npm start\` or \`npx cinerec data import <dir>\` first`,
    );
  }
  // `npm start` trains a first model version when there is none (later starts load it).
  if (bootstrap && opts.train !== false && (await pointer.state()).active === null) {
    log('no model version yet: training one (`cinerec train`)');
    const { train } = await import('../../pipeline/train.ts');
    const { takeSnapshot } = await import('../../store/snapshot.ts');
    const { trainReporter } = await import('./pipeline.ts');
    const outcome = await train(config, await takeSnapshot(store), {
      activate: 'always',
      onEvent: trainReporter(false),
      log,
    });
    if (outcome.result?.status === 'failed') throw new Error(`training failed: ${outcome.result.error}`);
  }
  const active = (await pointer.state()).active;
  if (active === null)
    throw new ValidationError(
      'no trained model version to serve: run `npx cinerec train` first (`npm start` trains one when there is none)',
    );
  return active;
}

async function queuedRetrainer(url: string): Promise<Retrainer> {
  const { QueuedRetrainer, TrainingJobs } = await import('../../versions/pg-jobs.ts');
  return new QueuedRetrainer(new TrainingJobs(url));
}

/** One process serves: it holds the store, the models and the HTTP server. */
async function serveAlone(
  store: Store,
  config: Config,
  secrets: Secrets,
  active: string,
  schedule: Schedule | null,
  logger: Logger,
  pointer: ModelPointer,
  trainer: Retrainer | null,
) {
  const { loadServices } = await import('../../serving/services.ts');
  const { ServiceHolder } = await import('../../server/service-holder.ts');
  const { ModelManager } = await import('../../server/model-manager.ts');
  const { startServer, stopServer } = await import('../../server/app.ts');
  const { countCacheLookup } = await import('../../server/metrics.ts');
  const { ChangeFollower } = await import('../../serving/follower.ts');
  let holder: InstanceType<typeof ServiceHolder> | null = null;
  // A replica of a PostgreSQL deployment follows the writes the others take (before loading, so none is missed).
  const follower = isSharedStore(store)
    ? await ChangeFollower.before(store, () => holder?.current.served ?? null, log)
    : null;
  const services = await loadServices(store, config, {
    version: active,
    log,
    onCacheLookup: countCacheLookup,
    ...(follower ? { writes: follower.writeLock(), changes: follower.changes } : {}),
  });
  await services.served.warm();
  holder = new ServiceHolder(services);
  await follower?.start();
  const models = ModelManager.local(holder, store, config, log, pointer, trainer);
  const { server, url } = await startServer(holder.view(), config, secrets, { models, logger, pointer });
  models.watch();
  if (schedule) models.schedule(schedule);
  return {
    url,
    movies: services.served.catalogue.size,
    stop: async () => {
      models.close();
      // Requests in flight get server.shutdownGrace; then every connection still open is closed.
      await stopServer(server, config.server.shutdownGrace);
      await follower?.close();
    },
  };
}

/** The store's owner forks one serving worker per core (server.workers), and manages versions for them. */
async function serveOnCores(
  store: Store,
  config: Config,
  active: string,
  workers: number,
  schedule: Schedule | null,
  pointer: ModelPointer,
  trainer: Retrainer | null,
) {
  const { ClusterOwner } = await import('../../server/cluster.ts');
  const owner = new ClusterOwner({ store, config, workers, version: active, log, pointer, trainer });
  const url = await owner.start();
  owner.manager.watch();
  if (schedule) owner.manager.schedule(schedule);
  return { url, movies: (await store.counts()).movies, stop: () => owner.stop() };
}

async function serve(cmd: Command, opts: ServeOptions, bootstrap: boolean): Promise<void> {
  const { config, secrets } = configOf(cmd, opts);
  const { createLogger } = await import('../../util/log.ts');
  const logger = createLogger(config.server.logLevel);
  log = (line) => logger.info(line);
  if (cluster.isWorker) {
    // A worker forked by the owner below: it loads the version and serves on the shared port.
    forbidFitting('a serving worker');
    const { runWorker } = await import('../../server/cluster.ts');
    const { startServer } = await import('../../server/app.ts');
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => {});
    const pointer = await pointerFor(config);
    await runWorker(config, secrets, log, (services, models, clusterMetrics) =>
      startServer(services, config, secrets, { models, logger, clusterMetrics, pointer }),
    );
    return;
  }
  const created = !config.store.url && !existsSync(config.store.path);
  const store = bootstrap ? await openStore(config) : await openExistingStore(config);
  try {
    const pointer = await pointerFor(config);
    const active = await prepare(store, config, opts, bootstrap, pointer);
    const shared = isPostgresUrl(config.store.url);
    if (shared && opts.retrain)
      throw new ValidationError(
        'with PostgreSQL the trainer retrains on a schedule: `npx cinerec worker --retrain <schedule>` (one per deployment)',
        'retrain',
      );
    const schedule = opts.retrain ? parseSchedule(opts.retrain) : null;
    const trainer = shared ? await queuedRetrainer(config.store.url!) : null;
    // From here on this process only loads and serves: a model fitted now would be a bug, and throws.
    forbidFitting('the server');
    const workers = config.server.workers === 0 ? availableParallelism() : config.server.workers;
    const running =
      workers > 1
        ? await serveOnCores(store, config, active, workers, schedule, pointer, trainer)
        : await serveAlone(store, config, secrets, active, schedule, logger, pointer, trainer);
    // The CLI finds a server holding the embedded store here; with PostgreSQL it opens the database itself.
    if (!shared) writeServerAddress(config, running.url);
    log(
      `serving ${running.movies} movies at ${running.url} (API docs at ${running.url}/docs), model version ${active}` +
        (workers > 1 ? `, ${workers} workers` : ''),
    );
    if (secrets.adminToken === null) log('CINEREC_ADMIN_TOKEN is not set: changes over the API are disabled');
    const stop = async () => {
      // Whatever hangs, the process is gone within 10 s of the signal (the drain itself takes shutdownGrace).
      setTimeout(() => {
        log('shutdown: still draining after 9.5 s; exiting now');
        process.exit(1);
      }, 9500).unref();
      if (!shared) removeServerAddress(config);
      await running.stop();
      await store.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (err) {
    const empty = created && !(await store.dataset().catch(() => null));
    await store.close();
    // A first start that could not get the data leaves no empty store file behind.
    if (empty) for (const file of [config.store.path, `${config.store.path}.wal`]) rmSync(file, { force: true });
    throw err;
  }
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the REST API (and OpenAPI docs at /docs) from the store, on every core')
    .option('--port <n>', 'port (default 8080, or server.port / CINEREC_PORT; 0 picks a free one)', port)
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option('--retrain <schedule>', 'retrain on a schedule: cron ("0 3 * * 0") or an interval ("6h", "1d")')
    .action((opts: ServeOptions, cmd: Command) => serve(cmd, opts, false));

  program
    .command('start')
    .description('make sure data is there (download and import if needed), then serve: what `npm start` runs')
    .option('--port <n>', 'port (default 8080)', port)
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option('--retrain <schedule>', 'retrain on a schedule: cron ("0 3 * * 0") or an interval ("6h", "1d")')
    .option('--no-train', 'do not train a first model version (then one must exist already)')
    .action((opts: ServeOptions, cmd: Command) => serve(cmd, opts, true));
}
