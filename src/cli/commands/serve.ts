import type { Command } from 'commander';
import { ensureDataset } from '../../data/bootstrap.ts';
import { Cinerec } from '../../recommend/service.ts';
import { ValidationError } from '../../util/errors.ts';
import { terminalProgress } from '../../util/progress.ts';
import { configFor, openStore } from '../context.ts';
import { port } from '../parse.ts';

interface ServeOptions {
  port?: number;
  host?: string;
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
    const cinerec = await Cinerec.load(store, config);
    cinerec.log = log;
    await cinerec.warm();
    // Loaded on demand so the other commands start without Fastify.
    const { startServer } = await import('../../server/app.ts');
    const { server, url } = await startServer(cinerec, config, secrets);
    log(`serving ${cinerec.catalogue.size} movies at ${url} (API docs at ${url}/docs)`);
    const stop = async () => {
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
    .action((opts: ServeOptions, cmd: Command) => serve(cmd, opts, false));

  program
    .command('start')
    .description('make sure data is there (download and import if needed), then serve: what `npm start` runs')
    .option('--port <n>', 'port (default 8080)', port)
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .action((opts: ServeOptions, cmd: Command) => serve(cmd, opts, true));
}
