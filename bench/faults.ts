/**
 * The fault script of issue 15: `npm run faults [-- options]`, loopback only, about 3 minutes with the defaults.
 *
 * (a) Kill rounds: a real `cinerec serve` (node bin/cinerec.js serve) on a temp copy of the trained ml-latest-small
 *     store takes a mixed load (GET recommendations, POST /v1/users, POST /v1/users/:id/ratings, PUT /v1/rules/:id)
 *     and is killed with SIGKILL (its whole process group) at a random moment; it is restarted, and every write
 *     that was acknowledged (2xx) before any kill must be there: users and their ratings (GET /v1/users/:id), rules
 *     (GET /v1/rules). Each (user, movie) pair and each rule's movie is written by one request only, so "there" has
 *     one meaning even for writes in flight at the kill.
 * (b) Slow clients: ≥ 200 connections that send their headers (one header line a second) or their body (one byte a
 *     second) very slowly while normal requests are served: p50/p99 of the normal requests without and with them,
 *     and when (and with what) the server closes the slow ones (server.headersTimeout / server.requestTimeout).
 * (c) SIGTERM with slow clients connected and requests in flight: seconds until the process exits (limit 10 s).
 * (d) Full disk: the store on a small tmpfs (`mount -t tmpfs`, when this machine lets us), filled up: writes must
 *     get 507/503 problem+json (never 500), reads keep working, writes work again once space is freed, and what was
 *     acknowledged survives a SIGKILL. Reports when mounting is not permitted.
 *
 * Prints a summary table (rounds, acknowledged writes, lost writes, 5xx, slow-client p99, shutdown seconds, …) and
 * the details as JSON; exits 1 when a limit is missed (a lost write, a 500, a shutdown over 10 s, slow clients left
 * open, a full disk answered otherwise than 503/507).
 *
 *   npm run faults [-- --rounds 10 --slow 250 --slow-seconds 34 --kill-min 0.3 --kill-max 3 --concurrency 8
 *                     --workers 1 --seed 1 --no-tmpfs --tmpfs-size 48m --cache --max-seconds 420]
 *
 * --workers 2 serves on two forked workers (the deployment default is one per core; slower to start). --cache keeps
 * the result cache (off by default, so that every normal request computes its list). --slow-seconds should exceed
 * server.requestTimeout (30 s) to see the slow bodies closed. --max-seconds skips the phases still to come.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDbStore } from '../src/store/duckdb/duckdb-store.ts';
import { PROJECT_ROOT, realData } from '../test/helpers/real-data.ts';
import { trained } from '../test/helpers/trained.ts';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    slow: { type: 'string', default: '250' },
    'slow-seconds': { type: 'string', default: '34' },
    'kill-min': { type: 'string', default: '0.3' },
    'kill-max': { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    workers: { type: 'string', default: '1' },
    seed: { type: 'string' },
    'no-tmpfs': { type: 'boolean', default: false },
    'tmpfs-size': { type: 'string', default: '48m' },
    'max-seconds': { type: 'string', default: '420' },
    cache: { type: 'boolean', default: false },
  },
});

function count(name: string, min: number): number {
  const v = Number(opts[name as keyof typeof opts]);
  if (!Number.isFinite(v) || v < min) throw new Error(`--${name} must be a number ≥ ${min}`);
  return v;
}
const ROUNDS = count('rounds', 1);
const SLOW = count('slow', 0);
const SLOW_SECONDS = count('slow-seconds', 1);
const KILL_MIN = count('kill-min', 0);
const KILL_MAX = Math.max(KILL_MIN, count('kill-max', 0));
const CONCURRENCY = count('concurrency', 1);
const WORKERS = count('workers', 1);
const SEED = opts.seed !== undefined ? count('seed', 0) : Date.now() % 1_000_000;
const DEADLINE = performance.now() + count('max-seconds', 30) * 1000;
const TOKEN = 'faults-admin-token-0123456789abcdef';
const SHUTDOWN_LIMIT = 10;

const log = (line: string) => process.stderr.write(`faults: ${line}\n`);

// ---------------------------------------------------------------------------------------------------------------
// Seeded randomness (mulberry32)

let rngState = SEED >>> 0;
function random(): number {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let r = Math.imul(rngState ^ (rngState >>> 15), 1 | rngState);
  r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
  return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const between = (lo: number, hi: number) => lo + random() * (hi - lo);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const sorted = xs.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const round1 = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);

// ---------------------------------------------------------------------------------------------------------------
// The server process

const statuses: Record<string, number> = {};
let serverErrors = 0;
const serverErrorSamples: string[] = [];

function record(status: number, what: string, body = ''): void {
  statuses[status] = (statuses[status] ?? 0) + 1;
  if (status >= 500 && status !== 503 && status !== 507) {
    serverErrors++;
    if (serverErrorSamples.length < 20) serverErrorSamples.push(`${status} ${what} ${body.slice(0, 200)}`);
  }
}

interface Server {
  child: ChildProcess;
  url: string;
  port: number;
  started: number;
  exited: Promise<{ code: number | null; signal: string | null; at: number }>;
  /** Error and warning lines of its log (pino JSON). */
  problems: string[];
}

async function startServer(env: Record<string, string>, label: string): Promise<Server> {
  const t = performance.now();
  const child = spawn(
    process.execPath,
    [
      path.join(PROJECT_ROOT, 'bin', 'cinerec.js'),
      // One client sends everything: the per-client rate limits would answer most writes with 429.
      '--set',
      'server.rateLimit.writes=0',
      '--set',
      'server.rateLimit.publicPosts=0',
      // Without the result cache every request computes its list: latencies are the work's, not the cache's.
      ...(opts.cache ? [] : ['--set', 'server.cacheSize=0']),
      'serve',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
    ],
    // Its own folder as working directory: no stray ./cinerec.config.json is read.
    { cwd: env.CINEREC_RUN_DIR, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  const problems: string[] = [];
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  let text = '';
  let version = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${label}: the server did not start within 120 s:\n${text}`)),
      120_000,
    );
    child.stderr!.on('data', (d: Buffer) => {
      const chunk = d.toString();
      if (text.length < 200_000) text += chunk;
      for (const line of chunk.split('\n')) {
        if (/"level":(40|50|60)/.test(line) && problems.length < 200) problems.push(line.slice(0, 1500));
      }
      const m = /serving \d+ movies at (http:\/\/127\.0\.0\.1:\d+)[^"]*?model version (\w+)(, \d+ workers)?/.exec(text);
      if (m) {
        clearTimeout(timer);
        version = `${m[2]}${m[3] ?? ', 1 process'}`;
        resolve(m[1]!);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${label}: serve exited (${code ?? signal}) before serving:\n${text.slice(-3000)}`));
    });
  });
  const port = Number(new URL(url).port);
  log(`${label}: serving at ${url} (version ${version}) after ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return { child, url, port, started: performance.now(), exited, problems };
}

/** SIGKILL to the server's whole process group (the owner and any workers), as a crash would. */
async function killServer(server: Server): Promise<void> {
  try {
    process.kill(-server.child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
  await server.exited;
}

// ---------------------------------------------------------------------------------------------------------------
// Requests and the writes to check

interface Answer {
  status: number;
  body: string;
  headers: Headers;
}

async function call(
  url: string,
  method: string,
  route: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<Answer | null> {
  try {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    let text = '';
    try {
      text = await res.text();
    } catch {
      // the connection died while the body came: the status still counts
    }
    record(res.status, `${method} ${route}`, text);
    return { status: res.status, body: text, headers: res.headers };
  } catch {
    return null; // no answer: refused, reset or killed
  }
}

type Write =
  | { kind: 'user'; userId: number; ratings: Map<number, number> }
  | { kind: 'ratings'; userId: number; ratings: Map<number, number> }
  | { kind: 'rule'; movieId: number; action: 'block' | 'promote'; reason: string };

interface State {
  movieIds: number[];
  /** Dataset users that the load also rates. */
  datasetUsers: number[];
  /** Users created and acknowledged. */
  createdUsers: number[];
  /** (user, movie) pairs written by some request, acknowledged or not: never written again. */
  usedPairs: Set<string>;
  /** Movies that got a rule request, acknowledged or not. */
  usedRuleMovies: Set<number>;
  /** Users with a request in flight (one at a time per user). */
  busy: Set<number>;
  acked: Write[];
  attempted: number;
  reads: number;
  readLatencies: number[];
}

function freshRatings(state: State, userId: number | null, n: number): Map<number, number> {
  const ratings = new Map<number, number>();
  for (let tries = 0; ratings.size < n && tries < 100; tries++) {
    const movieId = pick(state.movieIds);
    if (ratings.has(movieId)) continue;
    if (userId !== null && state.usedPairs.has(`${userId}:${movieId}`)) continue;
    ratings.set(movieId, 0.5 * (1 + Math.floor(random() * 10)));
  }
  if (userId !== null) for (const movieId of ratings.keys()) state.usedPairs.add(`${userId}:${movieId}`);
  return ratings;
}

const body = (ratings: Map<number, number>) => ({
  ratings: [...ratings].map(([movieId, rating]) => ({ movieId, rating })),
});

/** One request of the mixed load: 55 % reads, 15 % new users, 20 % ratings, 10 % rules. */
async function oneRequest(url: string, state: State, round: number): Promise<void> {
  const r = random();
  if (r < 0.55) {
    const users = state.createdUsers.length > 0 && random() < 0.3 ? state.createdUsers : state.datasetUsers;
    const t = performance.now();
    const res = await call(url, 'GET', `/v1/users/${pick(users)}/recommendations?k=${5 + Math.floor(random() * 26)}`);
    if (res) {
      state.reads++;
      if (res.status === 200) state.readLatencies.push(performance.now() - t);
    }
    return;
  }
  state.attempted++;
  if (r < 0.7) {
    const ratings = freshRatings(state, null, 2 + Math.floor(random() * 4));
    const res = await call(url, 'POST', '/v1/users', body(ratings));
    if (res && res.status >= 200 && res.status < 300) {
      // The Location header names the user even if the body was cut off by the kill.
      const userId = Number(/\/v1\/users\/(\d+)/.exec(res.headers.get('location') ?? '')?.[1]);
      if (!Number.isSafeInteger(userId)) throw new Error(`201 without a user id: ${res.body.slice(0, 200)}`);
      for (const movieId of ratings.keys()) state.usedPairs.add(`${userId}:${movieId}`);
      state.createdUsers.push(userId);
      state.acked.push({ kind: 'user', userId, ratings });
    }
    return;
  }
  if (r < 0.9) {
    const pool = state.createdUsers.length > 0 && random() < 0.6 ? state.createdUsers : state.datasetUsers;
    const userId = pick(pool);
    if (state.busy.has(userId)) return;
    state.busy.add(userId);
    try {
      const ratings = freshRatings(state, userId, 1 + Math.floor(random() * 3));
      const res = await call(url, 'POST', `/v1/users/${userId}/ratings`, body(ratings));
      if (res && res.status >= 200 && res.status < 300) state.acked.push({ kind: 'ratings', userId, ratings });
    } finally {
      state.busy.delete(userId);
    }
    return;
  }
  let movieId = pick(state.movieIds);
  for (let tries = 0; state.usedRuleMovies.has(movieId) && tries < 100; tries++) movieId = pick(state.movieIds);
  state.usedRuleMovies.add(movieId);
  const action = random() < 0.5 ? 'block' : 'promote';
  const reason = `faults seed ${SEED} round ${round} movie ${movieId}`;
  const res = await call(url, 'PUT', `/v1/rules/${movieId}`, {
    action,
    reason,
    ...(action === 'promote' ? { boost: 2 } : {}),
  });
  if (res && res.status >= 200 && res.status < 300) state.acked.push({ kind: 'rule', movieId, action, reason });
}

/** Checks every acknowledged write on a running server; returns the writes that are missing or wrong. */
async function verify(url: string, state: State): Promise<{ lost: number; details: string[] }> {
  const details: string[] = [];
  const rules = await call(url, 'GET', '/v1/rules', undefined, 60_000);
  if (rules?.status !== 200) throw new Error(`GET /v1/rules answered ${rules?.status ?? 'nothing'}`);
  const ruleMap = new Map(
    (JSON.parse(rules.body) as { items: { movieId: number; action: string; reason: string | null }[] }).items.map(
      (r) => [r.movieId, r],
    ),
  );
  const histories = new Map<number, Map<number, number> | null>();
  const users = [...new Set(state.acked.filter((w) => w.kind !== 'rule').map((w) => (w as { userId: number }).userId))];
  for (let i = 0; i < users.length; i += 8) {
    await Promise.all(
      users.slice(i, i + 8).map(async (userId) => {
        const res = await call(url, 'GET', `/v1/users/${userId}?limit=10000`, undefined, 60_000);
        if (!res) throw new Error(`GET /v1/users/${userId}: no answer`);
        if (res.status === 404) histories.set(userId, null);
        else if (res.status !== 200) throw new Error(`GET /v1/users/${userId} answered ${res.status}`);
        else {
          const view = JSON.parse(res.body) as { history: { movieId: number; rating: number }[] };
          histories.set(userId, new Map(view.history.map((h) => [h.movieId, h.rating])));
        }
      }),
    );
  }
  let lost = 0;
  for (const w of state.acked) {
    if (w.kind === 'rule') {
      const rule = ruleMap.get(w.movieId);
      if (!rule || rule.action !== w.action || rule.reason !== w.reason) {
        lost++;
        if (details.length < 20)
          details.push(`rule for movie ${w.movieId}: ${rule ? JSON.stringify(rule) : 'missing'}`);
      }
      continue;
    }
    const history = histories.get(w.userId);
    const wrong = [...w.ratings].filter(([movieId, rating]) => history?.get(movieId) !== rating);
    if (!history || wrong.length > 0) {
      lost++;
      if (details.length < 20)
        details.push(
          `${w.kind} of user ${w.userId}: ${history ? `${wrong.length} of ${w.ratings.size} ratings missing or different` : 'user missing'}`,
        );
    }
  }
  return { lost, details };
}

// ---------------------------------------------------------------------------------------------------------------
// Slow clients

interface SlowClient {
  kind: 'headers' | 'body';
  socket: Socket;
  opened: number;
  closedAt: number | null;
  answer: string;
  sent: number;
}

function openSlow(port: number, kind: 'headers' | 'body'): SlowClient {
  const socket = connect(port, '127.0.0.1');
  const client: SlowClient = { kind, socket, opened: performance.now(), closedAt: null, answer: '', sent: 0 };
  socket.on('data', (d) => {
    if (client.answer.length < 300) client.answer += d.toString();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    client.closedAt ??= performance.now();
  });
  socket.write(
    kind === 'headers'
      ? 'GET /v1/recommendations/popular?k=5 HTTP/1.1\r\nHost: 127.0.0.1\r\n'
      : 'POST /v1/recommendations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{',
  );
  return client;
}

/** One more header line or body byte a second to every open slow client. */
function drip(clients: SlowClient[]): NodeJS.Timeout {
  return setInterval(() => {
    for (const c of clients) {
      if (c.closedAt !== null || c.socket.destroyed) continue;
      c.sent++;
      c.socket.write(c.kind === 'headers' ? `X-Drip-${c.sent}: ${c.sent}\r\n` : ' ');
    }
  }, 1000);
}

function slowSummary(clients: SlowClient[], kind: 'headers' | 'body') {
  const mine = clients.filter((c) => c.kind === kind);
  const closed = mine.filter((c) => c.closedAt !== null);
  const statuses: Record<string, number> = {};
  for (const c of closed) {
    const s = /^HTTP\/1\.1 (\d{3})/.exec(c.answer)?.[1] ?? 'none';
    statuses[s] = (statuses[s] ?? 0) + 1;
  }
  const after = closed.map((c) => (c.closedAt! - c.opened) / 1000);
  return {
    open: mine.length,
    closed: closed.length,
    closedAfterSeconds: { p50: round1(percentile(after, 50)), max: round1(after.length ? Math.max(...after) : null) },
    answers: statuses,
  };
}

/** Closed-loop normal requests (GET recommendations for varied users and k) until `until`; latencies in ms. */
async function normalLoad(url: string, until: number, loops: number, datasetUsers: number[]) {
  const latencies: number[] = [];
  let failed = 0;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        const res = await call(
          url,
          'GET',
          `/v1/users/${pick(datasetUsers)}/recommendations?k=${5 + Math.floor(random() * 26)}`,
          undefined,
          15_000,
        );
        if (res?.status === 200) latencies.push(performance.now() - t);
        else failed++;
      }
    }),
  );
  return {
    requests: latencies.length + failed,
    failed,
    p50: round1(percentile(latencies, 50)),
    p99: round1(percentile(latencies, 99)),
  };
}

// ---------------------------------------------------------------------------------------------------------------

function overDeadline(what: string): boolean {
  if (performance.now() < DEADLINE) return false;
  log(`--max-seconds reached: skipping ${what}`);
  return true;
}

const started = performance.now();
log(`seed ${SEED}; ${ROUNDS} kill rounds, ${SLOW} slow clients, workers ${WORKERS}`);
const fixture = await trained('ml-latest-small', await realData('ml-latest-small'));
const storePath = path.join(fixture.dir, 'store.duckdb');
const env: Record<string, string> = {
  CINEREC_CONFIG: '',
  CINEREC_STORE: storePath,
  CINEREC_MODELS_DIR: path.join(fixture.dir, 'models'),
  CINEREC_DATA_DIR: path.join(fixture.dir, 'data'),
  CINEREC_REPORTS_DIR: path.join(fixture.dir, 'reports'),
  CINEREC_ADMIN_TOKEN: TOKEN,
  CINEREC_READER_TOKEN: '',
  CINEREC_WORKERS: String(WORKERS),
  CINEREC_HOST: '127.0.0.1',
  CINEREC_LOG_LEVEL: 'info',
  CINEREC_RUN_DIR: fixture.dir,
};

const state: State = {
  movieIds: [],
  datasetUsers: [],
  createdUsers: [],
  usedPairs: new Set(),
  usedRuleMovies: new Set(),
  busy: new Set(),
  acked: [],
  attempted: 0,
  reads: 0,
  readLatencies: [],
};
{
  const store = await DuckDbStore.open(storePath);
  try {
    state.movieIds = (await store.listMovies()).map((m) => m.movieId);
    const users = (await store.counts()).users;
    state.datasetUsers = Array.from({ length: Math.min(users, 600) }, (_, i) => i + 1);
  } finally {
    await store.close();
  }
}

interface RoundReport {
  round: number;
  startSeconds: number;
  killAfterSeconds: number;
  ackedSoFar: number;
  lostAtRestart: number;
}
const rounds: RoundReport[] = [];
let lost = 0;
const lostDetails: string[] = [];
let server: Server | null = null;
const problems: string[] = [];
const keepProblems = (s: Server | null) => {
  for (const p of s?.problems ?? []) if (problems.length < 30) problems.push(p);
};
let slowReport: Record<string, unknown> = { skipped: true };
let shutdown: Record<string, unknown> = { skipped: true };
let disk: Record<string, unknown> = { skipped: true };
let slowP99: number | null = null;
let shutdownSeconds: number | null = null;
let slowLeftOpen = 0;
let diskBad = false;

try {
  // (a) kill rounds --------------------------------------------------------------------------------------------
  for (let round = 1; round <= ROUNDS && !overDeadline(`kill round ${round}`); round++) {
    const t = performance.now();
    server = await startServer(env, `round ${round}`);
    const startSeconds = (performance.now() - t) / 1000;
    const check = await verify(server.url, state);
    lost = Math.max(lost, check.lost);
    for (const d of check.details) if (lostDetails.length < 20) lostDetails.push(`round ${round}: ${d}`);
    const killAfter = between(KILL_MIN, KILL_MAX);
    let stop = false;
    const url = server.url;
    const loops = Array.from({ length: CONCURRENCY }, async () => {
      while (!stop) await oneRequest(url, state, round);
    });
    await sleep(killAfter * 1000);
    await killServer(server);
    stop = true;
    await Promise.all(loops);
    keepProblems(server);
    server = null;
    rounds.push({
      round,
      startSeconds: round1(startSeconds)!,
      killAfterSeconds: round1(killAfter)!,
      ackedSoFar: state.acked.length,
      lostAtRestart: check.lost,
    });
    log(`round ${round}: killed after ${killAfter.toFixed(2)} s; ${state.acked.length} writes acknowledged so far`);
  }

  // The restart after the last kill: everything acknowledged must be there.
  server = await startServer(env, 'after the last kill');
  const final = await verify(server.url, state);
  lost = Math.max(lost, final.lost);
  for (const d of final.details) if (lostDetails.length < 20) lostDetails.push(`final: ${d}`);
  log(`after ${rounds.length} kills: ${state.acked.length} acknowledged writes, ${final.lost} lost`);

  // (b) slow clients --------------------------------------------------------------------------------------------
  if (!overDeadline('the slow clients')) {
    await normalLoad(server.url, performance.now() + 1500, 4, state.datasetUsers); // warm-up
    const baseline = await normalLoad(server.url, performance.now() + 5000, 4, state.datasetUsers);
    const clients: SlowClient[] = [];
    for (let i = 0; i < SLOW; i++) clients.push(openSlow(server.port, i % 2 === 0 ? 'headers' : 'body'));
    const dripping = drip(clients);
    await sleep(500);
    const during = await normalLoad(server.url, performance.now() + SLOW_SECONDS * 1000, 4, state.datasetUsers);
    clearInterval(dripping);
    const headers = slowSummary(clients, 'headers');
    const bodies = slowSummary(clients, 'body');
    slowLeftOpen = headers.open - headers.closed + (bodies.open - bodies.closed);
    for (const c of clients) c.socket.destroy();
    slowP99 = during.p99;
    slowReport = {
      connections: SLOW,
      seconds: SLOW_SECONDS,
      normalWithout: baseline,
      normalWith: during,
      slowHeaders: headers,
      slowBodies: bodies,
    };
    log(`slow clients: normal p50/p99 ${during.p50}/${during.p99} ms (without: ${baseline.p50}/${baseline.p99})`);
  }

  // (c) SIGTERM with slow clients connected -------------------------------------------------------------------------
  if (!overDeadline('the SIGTERM test')) {
    const n = Math.max(SLOW, 200);
    const clients: SlowClient[] = [];
    for (let i = 0; i < n; i++) clients.push(openSlow(server.port, i % 2 === 0 ? 'headers' : 'body'));
    const dripping = drip(clients);
    await sleep(1500);
    const inFlight = Array.from({ length: 4 }, () =>
      call(server!.url, 'GET', `/v1/users/${pick(state.datasetUsers)}/recommendations?k=20`, undefined, 15_000),
    );
    const t = performance.now();
    server.child.kill('SIGTERM');
    const exit = await Promise.race([server.exited, sleep(30_000).then(() => null)]);
    clearInterval(dripping);
    const answered = (await Promise.all(inFlight)).filter((r) => r?.status === 200).length;
    if (exit === null) await killServer(server);
    shutdownSeconds = exit ? (exit.at - t) / 1000 : null;
    const stillOpen = clients.filter((c) => c.closedAt === null).length;
    for (const c of clients) c.socket.destroy();
    keepProblems(server);
    shutdown = {
      slowClients: n,
      seconds: round1(shutdownSeconds),
      exitCode: exit?.code ?? null,
      signal: exit?.signal ?? null,
      inFlightAnswered: `${answered} of ${inFlight.length}`,
      slowClientsOpenAtExit: stillOpen,
    };
    server = null;
    log(`SIGTERM: exited after ${shutdownSeconds?.toFixed(1) ?? '> 30'} s (code ${exit?.code})`);
  }

  // (d) full disk -----------------------------------------------------------------------------------------------
  if (opts['no-tmpfs']) disk = { skipped: '--no-tmpfs' };
  else if (!overDeadline('the full-disk test')) disk = await fullDisk();
} finally {
  if (server) await killServer(server);
  keepProblems(server);
}

async function fullDisk(): Promise<Record<string, unknown>> {
  const mount = path.join(fixture.dir, 'tmpfs');
  mkdirSync(mount, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${opts['tmpfs-size']}`, 'tmpfs', mount], { stdio: 'pipe' });
  } catch (err) {
    const why = ((err as { stderr?: Buffer }).stderr?.toString() || (err as Error).message).trim();
    log(`full disk: cannot mount a tmpfs (${why}): not tested`);
    return { tested: false, reason: `mount -t tmpfs not permitted here: ${why}` };
  }
  let s: Server | null = null;
  try {
    const store = path.join(mount, 'store.duckdb');
    copyFileSync(storePath, store);
    if (existsSync(`${storePath}.wal`)) copyFileSync(`${storePath}.wal`, `${store}.wal`);
    const diskEnv = { ...env, CINEREC_STORE: store };
    s = await startServer(diskEnv, 'full disk');
    const acked: Write[] = [];
    const write = async () => {
      const ratings = freshRatings(state, null, 3);
      const res = await call(s!.url, 'POST', '/v1/users', body(ratings));
      if (res && res.status >= 200 && res.status < 300) {
        const userId = Number(/\/v1\/users\/(\d+)/.exec(res.headers.get('location') ?? '')?.[1]);
        acked.push({ kind: 'user', userId, ratings });
        state.createdUsers.push(userId);
      }
      return res;
    };
    for (let i = 0; i < 3; i++) await write();

    // Fill the file system: big chunks, then small ones, until ENOSPC.
    const filler = path.join(mount, 'filler');
    const fd = openSync(filler, 'w');
    let filled = 0;
    for (const size of [1 << 20, 1 << 12, 1]) {
      const chunk = Buffer.alloc(size, 0x2a);
      for (;;) {
        try {
          writeSync(fd, chunk);
          filled += size;
        } catch {
          break;
        }
      }
    }
    closeSync(fd);
    const full: Record<string, number> = {};
    const sequence: (number | null)[] = [];
    let notProblem = 0;
    let fullAcked = 0;
    for (let i = 0; i < 15; i++) {
      const res = await write();
      sequence.push(res?.status ?? null);
      const key = res ? String(res.status) : 'no answer';
      full[key] = (full[key] ?? 0) + 1;
      if (res && res.status >= 200 && res.status < 300) fullAcked++;
      if (res && res.status >= 400 && !(res.headers.get('content-type') ?? '').startsWith('application/problem+json'))
        notProblem++;
    }
    const read = await call(s.url, 'GET', `/v1/users/${pick(state.datasetUsers)}/recommendations?k=10`);
    const logsCause = s.problems.some((p) => /No space left|ENOSPC|disk is full/i.test(p));

    rmSync(filler, { force: true });
    const freed = performance.now();
    let recoveredAfter: number | null = null;
    while (performance.now() - freed < 20_000) {
      const res = await write();
      if (res && res.status >= 200 && res.status < 300) {
        recoveredAfter = (performance.now() - freed) / 1000;
        break;
      }
      await sleep(500);
    }
    for (let i = 0; i < 3; i++) await write();

    await killServer(s);
    keepProblems(s);
    s = await startServer(diskEnv, 'full disk, after a SIGKILL');
    const check = await verify(s.url, { ...state, acked });
    s.child.kill('SIGTERM');
    await Promise.race([s.exited, sleep(15_000)]);
    keepProblems(s);
    s = null;
    const bad = (full['500'] ?? 0) + notProblem + check.lost + (recoveredAfter === null ? 1 : 0);
    diskBad = bad > 0;
    lost += check.lost;
    log(`full disk: writes answered ${JSON.stringify(full)}; recovered after ${recoveredAfter?.toFixed(1)} s`);
    return {
      tested: true,
      tmpfs: opts['tmpfs-size'],
      fillerBytes: filled,
      writesWhenFull: full,
      // Writes can still fit for a moment once the file system is full: the last page of DuckDB's WAL has room left.
      sequenceWhenFull: sequence.join(' '),
      ackedWhenFull: fullAcked,
      errorsNotProblemJson: notProblem,
      readWhenFull: read?.status ?? null,
      logNamesTheCause: logsCause,
      recoveredAfterSeconds: round1(recoveredAfter),
      acknowledged: acked.length,
      lostAfterSigkill: check.lost,
      lostDetails: check.details,
    };
  } finally {
    if (s) await killServer(s);
    keepProblems(s);
    try {
      execFileSync('umount', [mount], { stdio: 'pipe' });
    } catch {
      try {
        execFileSync('umount', ['-l', mount], { stdio: 'pipe' });
      } catch (err) {
        log(`could not unmount ${mount}: ${(err as Error).message}`);
      }
    }
  }
}

await fixture.cleanup();

const readLatency = {
  p50: round1(percentile(state.readLatencies, 50)),
  p99: round1(percentile(state.readLatencies, 99)),
};
const details = {
  seed: SEED,
  seconds: round1((performance.now() - started) / 1000),
  killRounds: rounds,
  writes: { attempted: state.attempted, acknowledged: state.acked.length, lost, lostDetails },
  readsDuringKillRounds: { answered: state.reads, ...readLatency },
  statuses,
  serverErrors,
  serverErrorSamples,
  slowClients: slowReport,
  shutdown,
  fullDisk: disk,
  serverLogProblems: problems.slice(0, 10),
};
console.log(JSON.stringify(details, null, 2));

const fullDiskCell = (() => {
  if (disk.skipped) return `skipped (${disk.skipped === true ? '--max-seconds' : disk.skipped})`;
  if (!disk.tested) return 'not tested: mounting a tmpfs is not permitted';
  return `${JSON.stringify(disk.writesWhenFull)}, recovered after ${disk.recoveredAfterSeconds ?? '—'} s`;
})();
const rows: [string, string][] = [
  ['kill rounds (SIGKILL)', String(rounds.length)],
  ['acknowledged writes', String(state.acked.length)],
  ['lost writes', String(lost)],
  ['5xx (other than 503/507)', String(serverErrors)],
  ['503 / 507', `${statuses['503'] ?? 0} / ${statuses['507'] ?? 0}`],
  [
    'normal p50 / p99, no slow clients',
    `${(slowReport.normalWithout as { p50?: number })?.p50 ?? '—'} / ${(slowReport.normalWithout as { p99?: number })?.p99 ?? '—'} ms`,
  ],
  [
    `normal p50 / p99, ${SLOW} slow clients`,
    `${(slowReport.normalWith as { p50?: number })?.p50 ?? '—'} / ${slowP99 ?? '—'} ms`,
  ],
  ['slow clients left open', slowReport.skipped ? '—' : `${slowLeftOpen} of ${SLOW} after ${SLOW_SECONDS} s`],
  [
    'shutdown on SIGTERM',
    shutdownSeconds === null ? '—' : `${shutdownSeconds.toFixed(1)} s (limit ${SHUTDOWN_LIMIT} s)`,
  ],
  ['full disk (tmpfs)', fullDiskCell],
  ['total time', `${details.seconds} s`],
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log(`\n${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}`);

const failed =
  lost > 0 ||
  serverErrors > 0 ||
  rounds.length < ROUNDS ||
  shutdownSeconds === null ||
  shutdownSeconds > SHUTDOWN_LIMIT ||
  slowLeftOpen > 0 ||
  diskBad;
process.exit(failed ? 1 : 0);
