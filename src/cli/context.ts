import type { Command } from 'commander';
import { type Config, type LoadedConfig, loadConfig } from '../config/config.ts';
import { loadServices, type Services } from '../serving/services.ts';
import { DuckDbStore } from '../store/duckdb/duckdb-store.ts';
import { ValidationError } from '../util/errors.ts';
import { forbidFitting } from '../util/fit-guard.ts';

export interface GlobalOptions {
  json?: boolean;
  config?: string;
  set?: string[];
}

/** Options of the command plus the program-wide ones (--json, --config, --set). */
export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

export function configFor(cmd: Command, extra: Record<string, string> = {}): LoadedConfig {
  const g = globals(cmd);
  const overrides: Record<string, string> = {};
  for (const pair of g.set ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ValidationError(`--set expects key=value (e.g. server.port=9090), got "${pair}"`, '--set');
    overrides[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return loadConfig({ ...(g.config ? { file: g.config } : {}), overrides: { ...overrides, ...extra } });
}

export async function openStore(config: Config): Promise<DuckDbStore> {
  return DuckDbStore.open(config.store.path, { memoryLimit: config.store.memoryLimit });
}

/**
 * Opens the store and the services over the active model version; refuses an empty store with the command that
 * fills it. These commands only load what training saved: any fit would be a bug, and throws.
 */
export async function withServices<T>(cmd: Command, fn: (s: Services) => Promise<T>): Promise<T> {
  forbidFitting('a read or serve command of the CLI');
  const { config } = configFor(cmd);
  const store = await openStore(config);
  try {
    if (!(await store.dataset())) {
      throw new ValidationError(
        `the store ${config.store.path} holds no data yet: run \`cinerec data fetch ${config.dataset}\` and \`cinerec data import ${config.dataDir}/${config.dataset}\` (or \`npm start\`, which does both)`,
      );
    }
    const services = await loadServices(store, config, { log: (line) => process.stderr.write(`cinerec: ${line}\n`) });
    return await fn(services);
  } finally {
    await store.close();
  }
}

/** Prints JSON alone on stdout with --json, otherwise the human rendering. */
export function output<T>(cmd: Command, value: T, human: (v: T) => string): void {
  if (globals(cmd).json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else process.stdout.write(`${human(value)}\n`);
}
