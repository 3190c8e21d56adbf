import type { ImportingStore } from './import-types.ts';

/** Where the data lives: PostgreSQL when a URL is given, else the embedded DuckDB file. */
export interface StoreLocation {
  /** postgres://user@host:5432/db (CINEREC_DATABASE_URL or store.url). */
  url?: string | undefined;
  /** The DuckDB file. */
  path: string;
  memoryLimit: string;
}

export function isPostgresUrl(url: string | undefined | null): url is string {
  return typeof url === 'string' && /^postgres(ql)?:\/\//.test(url);
}

/** Opens the store the configuration names (each implementation loaded only when used). */
export async function openStore(where: StoreLocation): Promise<ImportingStore> {
  if (isPostgresUrl(where.url)) {
    const { PostgresStore } = await import('./postgres/pg-store.ts');
    return PostgresStore.open(where.url);
  }
  const { DuckDbStore } = await import('./duckdb/duckdb-store.ts');
  return DuckDbStore.open(where.path, { memoryLimit: where.memoryLimit });
}
