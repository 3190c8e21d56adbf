import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Config } from '../config/config.ts';

/**
 * A running server records its address beside the store it holds, so that the CLI finds it: while a server holds
 * the store (DuckDB admits one process), every command goes through its API instead of opening the file.
 */

export interface ServerAddress {
  url: string;
  pid: number;
  startedAt: string;
}

export function addressFile(config: Config): string {
  return `${config.store.path}.server.json`;
}

export function writeServerAddress(config: Config, url: string): void {
  const address: ServerAddress = { url, pid: process.pid, startedAt: new Date().toISOString() };
  writeFileSync(addressFile(config), `${JSON.stringify(address)}\n`);
}

export function removeServerAddress(config: Config): void {
  try {
    const a = JSON.parse(readFileSync(addressFile(config), 'utf8')) as ServerAddress;
    if (a.pid === process.pid) rmSync(addressFile(config), { force: true });
  } catch {
    // Nothing recorded, or another server's: leave it.
  }
}

/** The recorded server when its process is alive, else null (a stale file from a killed server is ignored). */
export function readServerAddress(config: Config): ServerAddress | null {
  let a: ServerAddress;
  try {
    a = JSON.parse(readFileSync(addressFile(config), 'utf8')) as ServerAddress;
  } catch {
    return null;
  }
  try {
    process.kill(a.pid, 0);
    return a;
  } catch {
    return null;
  }
}
