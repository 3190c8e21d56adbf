import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/config.ts';
import { FormatError } from '../data/formats.ts';
import { ImportError } from '../store/import-types.ts';
import { UserError } from '../util/errors.ts';
import { registerCatalogue } from './commands/catalogue.ts';
import { registerContent } from './commands/content.ts';
import { registerData } from './commands/data.ts';
import { registerEval } from './commands/eval.ts';
import { registerPipeline } from './commands/pipeline.ts';
import { registerRecommend } from './commands/recommend.ts';
import { registerRules } from './commands/rules.ts';
import { registerSegments } from './commands/segments.ts';
import { registerServe } from './commands/serve.ts';
import { registerUsers } from './commands/users.ts';
import { registerWorker } from './commands/worker.ts';
import { collect } from './parse.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('cinerec')
    .description('movie recommendations from MovieLens data')
    .version(pkg.version)
    .option('--json', 'print only JSON on stdout')
    .option('--config <file>', 'config file (default ./cinerec.config.json, or $CINEREC_CONFIG)')
    .option('--set <key=value>', 'override a setting, e.g. --set server.port=9090 (repeatable)', collect)
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)');
  registerData(program);
  registerCatalogue(program);
  registerContent(program);
  registerSegments(program);
  registerRecommend(program);
  registerRules(program);
  registerUsers(program);
  registerEval(program);
  registerPipeline(program);
  registerServe(program);
  registerWorker(program);
  return program;
}

/** Errors the user can fix get one line on stderr; anything else is a bug and keeps its stack. */
function describe(err: unknown): { message: string; bug: boolean } {
  if (
    err instanceof UserError ||
    err instanceof ConfigError ||
    err instanceof FormatError ||
    err instanceof ImportError
  ) {
    return { message: err.message, bug: false };
  }
  // A failed download says what to do by hand; matched by name so the CLI does not load the fetcher to start.
  if (err instanceof Error && err.name === 'FetchError') return { message: err.message, bug: false };
  if (err instanceof Error && /in use by another cinerec process|cannot open the store/.test(err.message)) {
    return { message: err.message, bug: false };
  }
  if (err instanceof Error) return { message: err.stack ?? err.message, bug: true };
  return { message: String(err), bug: true };
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed help or its own error message.
      return err.exitCode;
    }
    const { message } = describe(err);
    process.stderr.write(`cinerec: ${message}\n`);
    return 1;
  }
}

const code = await main(process.argv);
if (code !== 0) process.exitCode = code;
