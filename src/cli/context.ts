import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { type Config, type LoadedConfig, loadConfig } from '../config/config.ts';
import type { Services } from '../serving/services.ts';
import type { ImportingStore } from '../store/import-types.ts';
import { ValidationError } from '../util/errors.ts';
import { forbidFitting } from '../util/fit-guard.ts';
import { type Client, httpClient, localClient } from './client.ts';
import { readServerAddress, type ServerAddress } from './server-address.ts';

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

/** The store the configuration names: PostgreSQL (store.url / CINEREC_DATABASE_URL) or the DuckDB file. */
export async function openStore(config: Config): Promise<ImportingStore> {
  // Loaded on demand: a command that never opens the store (help, runs, models) starts without a driver.
  const { openStore: open } = await import('../store/open.ts');
  return open(config.store);
}

/** What to type when the store holds no data: one line, commands as written. */
export function emptyStoreMessage(config: Config): string {
  return `the store ${config.store.url ? 'at store.url' : config.store.path} holds no data yet: run \`npx cinerec data fetch ${config.dataset}\` and \`npx cinerec data import ${config.dataDir}/${config.dataset}\` (or \`npm start\`, which does both)`;
}

/**
 * Opens the store a read command needs. An embedded store that does not exist yet is refused before DuckDB would
 * create an empty file, so a command that cannot do its job leaves nothing behind.
 */
export async function openExistingStore(config: Config): Promise<ImportingStore> {
  if (!config.store.url && !existsSync(config.store.path)) throw new ValidationError(emptyStoreMessage(config));
  return openStore(config);
}

/**
 * Opens the store and the services over the active model version; refuses an empty store with the command that
 * fills it. These commands only load what training saved: any fit would be a bug, and throws.
 */
export async function withServices<T>(cmd: Command, fn: (s: Services) => Promise<T>): Promise<T> {
  forbidFitting('a read or serve command of the CLI');
  const { config } = configFor(cmd);
  const store = await openExistingStore(config);
  try {
    if (!(await store.dataset())) throw new ValidationError(emptyStoreMessage(config));
    const { loadServices } = await import('../serving/services.ts');
    const services = await loadServices(store, config, { log: (line) => process.stderr.write(`cinerec: ${line}\n`) });
    return await fn(services);
  } finally {
    await store.close();
  }
}

/** The server holding the store, when one runs and answers (its address is recorded beside the store). */
export async function runningServer(config: Config): Promise<ServerAddress | null> {
  // PostgreSQL admits every process: the CLI connects itself.
  if (config.store.url) return null;
  const address = readServerAddress(config);
  if (!address) return null;
  try {
    const res = await fetch(`${address.url}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? address : null;
  } catch {
    return null;
  }
}

/**
 * Runs a command against the store: through the API of the server that holds it when one runs (changes with
 * CINEREC_ADMIN_TOKEN), else through services over the store opened here.
 */
export async function withClient<T>(cmd: Command, fn: (c: Client) => Promise<T>): Promise<T> {
  const { config, secrets } = configFor(cmd);
  const server = await runningServer(config);
  if (server) return fn(httpClient(server.url, secrets.adminToken));
  return withServices(cmd, (s) => fn(localClient(s)));
}

/** Prints JSON alone on stdout with --json, otherwise the human rendering. */
export function output<T>(cmd: Command, value: T, human: (v: T) => string): void {
  if (globals(cmd).json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else process.stdout.write(`${human(value)}\n`);
}
