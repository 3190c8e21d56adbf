import type { Command } from 'commander';
import { ValidationError } from '../../util/errors.ts';
import { parseSchedule } from '../../util/schedule.ts';
import { configFor, openStore } from '../context.ts';

const log = (line: string) => process.stderr.write(`cinerec worker: ${line}\n`);

/** `cinerec worker`: the PostgreSQL deployment's one trainer (a second one stands by). */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'train for a PostgreSQL deployment: the retrainings replicas queue (POST /v1/models/retrain) and, with --retrain, on a schedule; one per deployment (another stands by)',
    )
    .option('--retrain <schedule>', 'also retrain on a schedule: cron ("0 3 * * 0") or an interval ("6h", "1d")')
    .action(async (opts: { retrain?: string }, cmd: Command) => {
      const { config } = configFor(cmd);
      const { isPostgresUrl } = await import('../../store/open.ts');
      if (!isPostgresUrl(config.store.url))
        throw new ValidationError(
          'the worker trains for a PostgreSQL deployment: set CINEREC_DATABASE_URL (or store.url); with the embedded store `npx cinerec serve --retrain <schedule>` retrains',
          'store.url',
        );
      const schedule = opts.retrain ? parseSchedule(opts.retrain) : null;
      const store = await openStore(config);
      const { isSharedStore } = await import('../../store/types.ts');
      if (!isSharedStore(store)) throw new Error('a PostgreSQL store must share its changes');
      const { Trainer } = await import('../../pipeline/trainer.ts');
      const trainer = new Trainer(config.store.url, store, config, { schedule, log });
      await trainer.start();
      const stop = async () => {
        log('stopping (a training in progress finishes first)');
        await trainer.stop();
        await store.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });
}
