import pg from 'pg';
import { poolFor } from './pg-pool.ts';
import { type ModelPointer, previousOf } from './pointer.ts';
import type { ActiveState, VersionStore } from './versions.ts';

const HISTORY_MAX = 100;
const CHANNEL = 'cinerec_models';

interface Row {
  active: string | null;
  history: string[];
  activated_at: Date | null;
}

const toState = (r: Row | undefined): ActiveState => ({
  active: r?.active ?? null,
  history: r?.history ?? [],
  activatedAt: r?.activated_at ? r.activated_at.toISOString() : null,
});

/**
 * The active version recorded in PostgreSQL (model_state, created by the store's migrations): every replica, the
 * trainer and the CLI read and change one row, under a row lock, and a change is notified on cinerec_models.
 */
export class PgPointer implements ModelPointer {
  constructor(
    private readonly url: string,
    private readonly versions: VersionStore,
  ) {}

  async state(): Promise<ActiveState> {
    const r = await poolFor(this.url).query<Row>('SELECT active, history, activated_at FROM model_state WHERE id = 1');
    return toState(r.rows[0]);
  }

  private async change(next: (cur: ActiveState) => { active: string | null; history: string[] } | null) {
    const c = await poolFor(this.url).connect();
    try {
      await c.query('BEGIN');
      const cur = toState(
        (await c.query<Row>('SELECT active, history, activated_at FROM model_state WHERE id = 1 FOR UPDATE')).rows[0],
      );
      const n = next(cur);
      if (!n) {
        await c.query('COMMIT');
        return cur;
      }
      const r = await c.query<Row>(
        'UPDATE model_state SET active = $1, history = $2, activated_at = now() WHERE id = 1 RETURNING active, history, activated_at',
        [n.active, n.history.slice(-HISTORY_MAX)],
      );
      await c.query('SELECT pg_notify($1, $2)', [CHANNEL, n.active ?? '']);
      await c.query('COMMIT');
      return toState(r.rows[0]);
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  async activate(v: string): Promise<ActiveState> {
    this.versions.verify(v, { content: true });
    return this.change((cur) =>
      cur.active === v
        ? null
        : { active: v, history: cur.active === null ? cur.history : [...cur.history, cur.active] },
    );
  }

  async rollback(): Promise<ActiveState> {
    return this.change((cur) => {
      const prev = previousOf(this.versions, cur);
      return { active: prev.version, history: prev.history };
    });
  }

  /** LISTEN on a connection of its own (reconnecting), with a slow poll as a safety net. */
  watch(onChange: (active: string | null) => void, opts: { intervalMs?: number } = {}): { close(): void } {
    let last: string | null | undefined;
    let closed = false;
    let client: pg.Client | null = null;
    const check = async () => {
      if (closed) return;
      try {
        const { active } = await this.state();
        if (last === undefined) last = active;
        else if (active !== last) {
          last = active;
          onChange(active);
        }
      } catch {
        // The database is away: the next notification or poll tries again.
      }
    };
    const listen = async (): Promise<void> => {
      if (closed) return;
      const c = new pg.Client({ connectionString: this.url });
      c.on('error', () => {});
      c.on('end', () => {
        if (!closed) setTimeout(() => void listen(), 1000).unref();
      });
      c.on('notification', () => void check());
      try {
        await c.connect();
        await c.query(`LISTEN ${CHANNEL}`);
        client = c;
        await check();
      } catch {
        await c.end().catch(() => {});
      }
    };
    void check().then(listen);
    const timer = setInterval(() => void check(), Math.max(opts.intervalMs ?? 1000, 5000));
    timer.unref();
    return {
      close: () => {
        closed = true;
        clearInterval(timer);
        void client?.end().catch(() => {});
      },
    };
  }
}
