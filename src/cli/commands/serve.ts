import type { Command } from 'commander';
import { train } from '../../pipeline/train.ts';
import { ModelManager } from '../../server/model-manager.ts';
import { ServiceHolder } from '../../server/service-holder.ts';
import { loadServices } from '../../serving/services.ts';
import { takeSnapshot } from '../../store/snapshot.ts';
import { ValidationError } from '../../util/errors.ts';
import { forbidFitting } from '../../util/fit-guard.ts';
import { terminalProgress } from '../../util/progress.ts';
import { parseSchedule } from '../../util/schedule.ts';
import { versionsFor } from '../../versions/versions.ts';
import { ensureDataset } from '../bootstrap.ts';
import { configFor, openStore } from '../context.ts';
import { port } from '../parse.ts';
import { trainReporter } from './pipeline.ts';

interface ServeOptions {
  port?: number;
  host?: string;
  retrain?: string;
  train?: boolean;
}

async function serve(cmd: Command, opts: ServeOptions, bootstrap: boolean): Promise<void> {
  const extra: Record<string, string> = {};
  if (opts.port !== undefined) extra['server.port'] = String(opts.port);
  if (opts.host !== undefined) extra['server.host'] = opts.host;
  const { config, secrets } = configFor(cmd, extra);
  const store = await openStore(config);
  const log = (line: string) => process.stderr.write(`cinerec: ${line}\n`);
  try {
    if (bootstrap) {
      await ensureDataset(store, config, log, terminalProgress());
    } else if (!(await store.dataset())) {
      throw new ValidationError(
        `the store ${config.store.path} holds no data: run \`npm start\` or \`cinerec data import <dir>\` first`,
      );
    }
    const schedule = opts.retrain ? parseSchedule(opts.retrain) : null;
    // `npm start` trains a first model version when there is none (later starts load it).
    if (bootstrap && opts.train !== false && versionsFor(config).active() === null) {
      log('no model version yet: training one (`cinerec train`)');
      const outcome = await train(config, await takeSnapshot(store), {
        activate: 'always',
        onEvent: trainReporter(false),
        log,
      });
      if (outcome.result?.status === 'failed') throw new Error(`training failed: ${outcome.result.error}`);
    }
    const active = versionsFor(config).active();
    if (active === null)
      throw new ValidationError(
        'no trained model version to serve: run `npx cinerec train` first (`npm start` trains one when there is none)',
      );
    // From here on this process only loads and serves: a model fitted now would be a bug, and throws.
    forbidFitting('the server');
    const services = await loadServices(store, config, { version: active, log });
    await services.served.warm();
    const holder = new ServiceHolder(services);
    const models = new ModelManager(holder, store, config, log);
    // Loaded on demand so the other commands start without Fastify.
    const { startServer } = await import('../../server/app.ts');
    const { server, url } = await startServer(holder.view(), config, secrets, models);
    log(
      `serving ${services.served.catalogue.size} movies at ${url} (API docs at ${url}/docs), model version ${active}`,
    );
    models.watch();
    if (schedule) models.schedule(schedule);
    const stop = async () => {
      models.close();
      await server.close();
      await store.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (err) {
    await store.close();
    throw err;
  }
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the REST API (and OpenAPI docs at /docs) from the store')
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
