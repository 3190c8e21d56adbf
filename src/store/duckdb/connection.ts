import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { Mutex } from '../../util/mutex.ts';

export type Row = Record<string, unknown>;

/** Thin helpers over a DuckDB connection so the store code reads as SQL, not plumbing. */
export class Db {
  private constructor(
    readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
  ) {}

  static async open(path: string, options: { memoryLimit?: string; threads?: number } = {}): Promise<Db> {
    const config: Record<string, string> = {};
    if (options.memoryLimit) config.memory_limit = options.memoryLimit;
    if (options.threads) config.threads = String(options.threads);
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, config);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/lock/i.test(message)) {
        throw new Error(
          `the store ${path} is in use by another cinerec process (a running server?). ` +
            'Stop it, or make the change through the API.',
        );
      }
      throw new Error(`cannot open the store ${path}: ${message}`);
    }
    return new Db(instance, await instance.connect());
  }

  async run(sql: string, params?: DuckDBValue[]): Promise<void> {
    await this.conn.run(sql, params);
  }

  async all<T extends Row = Row>(sql: string, params?: DuckDBValue[]): Promise<T[]> {
    const reader = await this.conn.runAndReadAll(sql, params);
    return reader.getRowObjectsJS() as T[];
  }

  async one<T extends Row = Row>(sql: string, params?: DuckDBValue[]): Promise<T | null> {
    const rows = await this.all<T>(sql, params);
    return rows[0] ?? null;
  }

  private readonly writer = new Mutex();

  /**
   * Runs fn inside a transaction; any error rolls everything back. Transactions on this one connection are
   * queued, so two concurrent writers never nest or share a transaction.
   */
  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.writer.run(() => this.transactionNow(fn));
  }

  private async transactionNow<T>(fn: () => Promise<T>): Promise<T> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      const result = await fn();
      await this.conn.run('COMMIT');
      return result;
    } catch (err) {
      await this.conn.run('ROLLBACK');
      throw err;
    }
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

/** DuckDB returns BIGINT as bigint; our counts fit comfortably in a double. */
export function num(value: unknown): number {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  if (value === null || value === undefined) return Number.NaN;
  return Number(value);
}

/** Quotes a string as an SQL literal (for file paths in read_csv, which cannot be parameters). */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
