import pg from 'pg';

/** One small pool per database URL for the whole process (it lets the process exit when idle). */
const pools = new Map<string, pg.Pool>();

export function poolFor(url: string): pg.Pool {
  let p = pools.get(url);
  if (!p) {
    p = new pg.Pool({ connectionString: url, max: 2, allowExitOnIdle: true });
    p.on('error', () => {});
    pools.set(url, p);
  }
  return p;
}
