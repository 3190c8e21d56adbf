import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { StorageFullError, StorageUnavailableError } from '../../util/errors.ts';
import { Mutex } from '../../util/mutex.ts';

export type Row = Record<string, unknown>;

/** DuckDB's words for a full disk (the OS error text it passes on). */
const FULL = /No space left on device|Disk quota exceeded|ENOSPC|EDQUOT/i;
/** A fatal error leaves the database unusable until it is opened again ("must be restarted"). */
const INVALIDATED = /database has been invalidated|FATAL Error/i;
/** File-system faults: nothing the request did wrong. */
const IO_FAULT =
  /Read-only file system|EROFS|Permission denied|EACCES|Input\/output error|EIO\b|IO Error|Could not (?:write|read|open|truncate|sync|fsync|create)|Cannot open file|Failed to create checkpoint/i;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A storage fault as the error the API and the CLI report (507 for a full disk, 503 otherwise), or null for any
 * other error (a bug or a constraint: reported as it is). The message says what happened without the store's path;
 * `cause` keeps DuckDB's own error, which the server logs.
 */
export function storageFault(err: unknown): StorageUnavailableError | null {
  if (err instanceof StorageUnavailableError) return err;
  const message = messageOf(err);
  if (FULL.test(message))
    return new StorageFullError(
      "the store's disk is full: nothing was written; the change can be sent again once space is freed",
      err,
    );
  if (INVALIDATED.test(message) || IO_FAULT.test(message)) {
    const what = /Read-only file system|EROFS/i.test(message)
      ? "the store's file system is read-only"
      : /Permission denied|EACCES/i.test(message)
        ? "the store's files cannot be written (permission denied)"
        : 'the store cannot read or write its files';
    return new StorageUnavailableError(`${what}: nothing was written; try again later`, err);
  }
  return null;
}

/** How long a failed reopening is remembered before the next request tries again. */
const REOPEN_BACKOFF_MS = 1000;

/**
 * Thin helpers over a DuckDB connection so the store code reads as SQL, not plumbing. Storage faults come out as
 * StorageFullError / StorageUnavailableError with DuckDB's error as their cause; a fault that invalidates the
 * database (a checkpoint that could not be written) makes the next call open it again, which replays its
 * write-ahead log: what was committed stays, and the store recovers by itself once the disk is writable.
 */
export class Db {
  private broken: StorageUnavailableError | null = null;
  private lastReopen = 0;
  private reopening: Promise<void> | null = null;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly config: Record<string, string>,
    private current: { instance: DuckDBInstance; conn: DuckDBConnection },
  ) {}

  get instance(): DuckDBInstance {
    return this.current.instance;
  }

  get conn(): DuckDBConnection {
    return this.current.conn;
  }

  static async open(path: string, options: { memoryLimit?: string; threads?: number } = {}): Promise<Db> {
    const config: Record<string, string> = {};
    if (options.memoryLimit) config.memory_limit = options.memoryLimit;
    if (options.threads) config.threads = String(options.threads);
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, config);
    } catch (err) {
      const message = messageOf(err);
      if (/lock/i.test(message)) {
        throw new Error(
          `the store ${path} is in use by another cinerec process (a running server?). ` +
            'Stop it, or make the change through the API.',
        );
      }
      throw new StorageUnavailableError(`cannot open the store ${path}: ${message}`, err);
    }
    return new Db(path, config, { instance, conn: await instance.connect() });
  }

  /** Runs a statement on the live connection, reopening an invalidated database first; faults are classified. */
  private async guard<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.broken) await this.reopen();
    try {
      return await fn(this.current.conn);
    } catch (err) {
      const fault = storageFault(err);
      if (!fault) throw err;
      if (INVALIDATED.test(messageOf(err))) this.broken ??= fault;
      throw fault;
    }
  }

  private reopen(): Promise<void> {
    const broken = this.broken;
    if (!broken || this.closed) return Promise.resolve();
    if (Date.now() - this.lastReopen < REOPEN_BACKOFF_MS) return Promise.reject(broken);
    this.reopening ??= (async () => {
      this.lastReopen = Date.now();
      try {
        this.current.conn.closeSync();
        this.current.instance.closeSync();
      } catch {
        // Already closed by an earlier attempt, or refused by the invalidated database: it is replaced either way.
      }
      try {
        const instance = await DuckDBInstance.create(this.path, this.config);
        this.current = { instance, conn: await instance.connect() };
        this.broken = null;
      } catch (err) {
        this.broken = storageFault(err) ?? new StorageUnavailableError('the store cannot be opened again', err);
        throw this.broken;
      }
    })().finally(() => {
      this.reopening = null;
    });
    return this.reopening;
  }

  async run(sql: string, params?: DuckDBValue[]): Promise<void> {
    await this.guard((conn) => conn.run(sql, params));
  }

  async all<T extends Row = Row>(sql: string, params?: DuckDBValue[]): Promise<T[]> {
    const reader = await this.guard((conn) => conn.runAndReadAll(sql, params));
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
    await this.run('BEGIN TRANSACTION');
    let result: T;
    try {
      result = await fn();
      await this.run('COMMIT');
    } catch (err) {
      await this.rollbackQuietly();
      // The error that ended the transaction, never the rollback's own.
      throw err;
    }
    return result;
  }

  /**
   * A failed COMMIT has already rolled back (DuckDB then says "cannot rollback - no transaction is active"), and an
   * invalidated database refuses everything: neither must hide the error that ended the transaction.
   */
  private async rollbackQuietly(): Promise<void> {
    try {
      await this.current.conn.run('ROLLBACK');
    } catch {
      // See above.
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.current.conn.closeSync();
      this.current.instance.closeSync();
    } catch (err) {
      // An invalidated database may refuse to close cleanly; its write-ahead log is replayed at the next open.
      if (!this.broken) throw err;
    }
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
