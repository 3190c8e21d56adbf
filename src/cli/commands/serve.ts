import type { Command } from 'commander';
import { ensureDataset } from '../../data/bootstrap.ts';
import { parseSchedule } from '../../pipeline/schedule.ts';
import { activeVersion } from '../../pipeline/serving.ts';
import { takeSnapshot } from '../../pipeline/snapshot.ts';
import { train, versionsFor } from '../../pipeline/train.ts';
import { Cinerec } from '../../recommend/service.ts';
import { ModelManager } from '../../server/model-manager.ts';
import { ServiceHolder } from '../../server/service-holder.ts';
import { ValidationError } from '../../util/errors.ts';
import { terminalProgress } from '../../util/progress.ts';
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
    const version = activeVersion(config);
    const cinerec = await Cinerec.load(store, config, version ?? undefined);
    cinerec.log = log;
    await cinerec.warm();
    const holder = new ServiceHolder(cinerec);
    const models = new ModelManager(holder, store, config, log);
    // Loaded on demand so the other commands start without Fastify.
    const { startServer } = await import('../../server/app.ts');
    const { server, url } = await startServer(holder.view(), config, secrets, models);
    log(
      `serving ${cinerec.catalogue.size} movies at ${url} (API docs at ${url}/docs), model version ${version?.id ?? 'none: fitted from the store (run `cinerec train`)'}`,
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
    .option('--no-train', 'do not train a first model version (fit from the store at start)')
    .action((opts: ServeOptions, cmd: Command) => serve(cmd, opts, true));
}
