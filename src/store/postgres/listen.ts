import pg from 'pg';

/**
 * LISTEN on a connection of its own that reconnects (with a pause) when the database goes away. `onNotify` is also
 * called after every (re)connection, so that what was missed while disconnected is read then: a notification is
 * a hint to read, never the data itself.
 */
export function listen(url: string, channel: string, onNotify: () => void): { close(): Promise<void> } {
  let closed = false;
  let client: pg.Client | null = null;
  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client({ connectionString: url });
    c.on('error', () => {});
    c.on('notification', () => onNotify());
    c.on('end', () => {
      if (client === c) client = null;
      if (!closed) setTimeout(() => void connect(), 500).unref();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
      client = c;
      onNotify();
    } catch {
      await c.end().catch(() => {});
    }
  };
  void connect();
  return {
    close: async () => {
      closed = true;
      await client?.end().catch(() => {});
    },
  };
}
