/**
 * Load on a real server: `cinerec serve` on a trained ml-latest-small version, driven by wrk (Debian package; or
 * autocannon from npm when wrk is missing) for 10 s per case at 16 and 64 connections. Prints req/s, p50, p99 and
 * the event loop's p99 delay (from /metrics) for the popular, similar, trained-user, live-user and anonymous
 * (POST, 6 ratings) endpoints and a mixed read/write load. Requests vary the user, movie and ratings, so that the
 * result cache does not answer everything; `--no-cache` turns it off altogether.
 *
 * `--profile <dir>` says where the time goes instead: for each case a fresh server runs under `node --cpu-prof`
 * (every worker), and the bench prints its self time per part of the request path and per function, per request.
 *
 *   npm run bench:serve [-- --seconds 10 --workers 2 --no-cache --connections 16 --cases trained,post]
 *   npm run bench:serve -- --profile /tmp/profiles --connections 16
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { SERVING, stderrMatch } from '../test/helpers/process.ts';
import { realData } from '../test/helpers/real-data.ts';
import { trained } from '../test/helpers/trained.ts';
import { formatSummary, readProfiles, summarise } from './cpu-profile.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    workers: { type: 'string', default: '0' },
    'no-cache': { type: 'boolean', default: false },
    connections: { type: 'string', default: '16,64' },
    cases: { type: 'string', default: 'popular,similar,trained,live,post,mixed' },
    profile: { type: 'string' },
  },
});
const TOKEN = 'bench-serve-admin-token';
const root = join(import.meta.dirname, '..');
const fixture = await trained('ml-latest-small', await realData('ml-latest-small'));
const env = {
  ...process.env,
  ...fixture.env,
  CINEREC_ADMIN_TOKEN: TOKEN,
  CINEREC_WORKERS: values.workers,
};
// One load generator is one client: the per-client rate limits would answer most of its POSTs with 429.
const args = [
  join(root, 'bin', 'cinerec.js'),
  '--set',
  'server.rateLimit.publicPosts=0',
  '--set',
  'server.rateLimit.writes=0',
  'serve',
  '--port',
  '0',
];
if (values['no-cache']) args.splice(1, 0, '--set', 'server.cacheSize=0');

async function startServer(profileDir?: string): Promise<{ server: ChildProcess; url: string }> {
  // node:cluster gives its workers the primary's execArgv, so every worker writes its own profile.
  const flags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const server = spawn(process.execPath, [...flags, ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = (await stderrMatch(server, SERVING, 'cinerec serve'))[2]!;
  // The server's own log after start-up (warnings, errors) goes to stderr beside the figures.
  server.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  // A bench that fails (wrk missing, a bad case) must not leave its server running.
  process.once('exit', () => server.kill('SIGKILL'));
  return { server, url };
}

async function stopServer(server: ChildProcess): Promise<void> {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
}

let { server, url } = await startServer();

async function post(path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
  return res.json();
}

// Live users: created through the API, so they are served by fold-in, not from training.
const popular = [1, 260, 296, 318, 356, 480, 527, 589, 593, 1196, 1198, 2571, 2858, 2959, 4993, 5952, 7153, 58559];
const live: number[] = [];
for (let u = 0; u < 50; u++) {
  const ratings = popular
    .filter((_, i) => (i + u) % 3 !== 0)
    .map((movieId, i) => ({ movieId, rating: 3 + ((i + u) % 5) * 0.5 }));
  live.push(((await post('/v1/users', { ratings })) as { userId: number }).userId);
}

const lua = (body: string) => {
  const file = join(fixture.dir, `wrk-${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(file, body);
  return file;
};
const trainedUsers = lua(
  `request = function() return wrk.format("GET", "/v1/users/" .. math.random(1, 610) .. "/recommendations") end`,
);
const liveUsers = lua(
  `local ids = {${live.join(',')}}\nrequest = function() return wrk.format("GET", "/v1/users/" .. ids[math.random(#ids)] .. "/recommendations") end`,
);
const similar = lua(
  `local ids = {${popular.join(',')}}\nrequest = function() return wrk.format("GET", "/v1/movies/" .. ids[math.random(#ids)] .. "/similar") end`,
);
const anonymous = lua(`local ids = {${popular.join(',')}}
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
request = function()
  local parts = {}
  -- Six different movies (a movie twice in one list is a 400): a start from a random place, then every other one.
  local first = math.random(#ids)
  for i = 1, 6 do parts[i] = '{"movieId":' .. ids[(first + 2 * i) % #ids + 1] .. ',"rating":' .. (math.random(6, 10) / 2) .. '}' end
  return wrk.format(nil, nil, nil, '{"ratings":[' .. table.concat(parts, ",") .. ']}')
end`);
const mixed = lua(`local ids = {${popular.join(',')}}
local live = {${live.join(',')}}
request = function()
  local r = math.random(100)
  if r <= 5 then
    local body = '{"ratings":[{"movieId":' .. ids[math.random(#ids)] .. ',"rating":' .. (math.random(1, 10) / 2) .. '}]}'
    return wrk.format("POST", "/v1/users/" .. live[math.random(#live)] .. "/ratings", { ["content-type"] = "application/json", ["authorization"] = "Bearer ${TOKEN}" }, body)
  elseif r <= 50 then
    return wrk.format("GET", "/v1/users/" .. math.random(1, 610) .. "/recommendations")
  elseif r <= 75 then
    return wrk.format("GET", "/v1/movies/" .. ids[math.random(#ids)] .. "/similar")
  else
    return wrk.format("GET", "/v1/recommendations/popular?genres=Comedy")
  end
end`);

const cases: [string, string, string, string | null][] = [
  ['popular', 'GET /v1/recommendations/popular?genres=Comedy', '/v1/recommendations/popular?genres=Comedy', null],
  ['similar', 'GET /v1/movies/:id/similar', '/', similar],
  ['trained', 'GET /v1/users/:id/recommendations (trained users)', '/', trainedUsers],
  ['live', 'GET /v1/users/:id/recommendations (live users)', '/', liveUsers],
  ['post', 'POST /v1/recommendations (6 ratings)', '/v1/recommendations', anonymous],
  ['mixed', 'mixed: 45% users, 25% similar, 25% popular, 5% writes', '/', mixed],
];
const wanted = values.cases.split(',').map((c) => c.trim());
for (const w of wanted)
  if (!cases.some(([key]) => key === w))
    throw new Error(`--cases: unknown case "${w}"; known: ${cases.map(([k]) => k).join(', ')}`);

// The event loop's p99 delay: prom-client's gauge, averaged over the workers when several serve.
async function loopP99(): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^cinerec_nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? (\S+)/m.exec(text);
  return Number(m?.[1] ?? Number.NaN) * 1000;
}

// wrk runs beside this process's event loop (not blocking it), so the HTTP client's idle connections expire on time.
async function wrk(path: string, script: string | null, connections: number) {
  const { stdout: out } = await promisify(execFile)(
    'wrk',
    [
      '-t2',
      `-c${connections}`,
      `-d${values.seconds}s`,
      '--latency',
      ...(script ? ['-s', script] : []),
      `${url}${path}`,
    ],
    { encoding: 'utf8' },
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? Number.NaN);
  const p50 = /\s50%\s+(\S+)/.exec(out)?.[1] ?? '?';
  const p99 = /\s99%\s+(\S+)/.exec(out)?.[1] ?? '?';
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
  if (non2xx) console.error(`  ${non2xx} non-2xx responses`);
  return { rps, requests, p50, p99 };
}

console.log(
  `workers ${values.workers === '0' ? 'one per core' : values.workers}, cache ${values['no-cache'] ? 'off' : 'on'}, ${values.seconds} s per case`,
);
if (values.profile === undefined) {
  console.log('| endpoint | connections | req/s | p50 | p99 | event loop p99 |\n|---|---:|---:|---:|---:|---:|');
  for (const [key, label, path, script] of cases) {
    if (!wanted.includes(key)) continue;
    for (const c of values.connections.split(',').map(Number)) {
      await loopP99();
      const r = await wrk(path, script, c);
      console.log(
        `| ${label} | ${c} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${(await loopP99()).toFixed(1)} ms |`,
      );
    }
  }
  await stopServer(server);
} else {
  // One server per case, so that each profile holds that case alone (and its start-up, which is left out: idle).
  await stopServer(server);
  const c = Number(values.connections.split(',')[0]);
  for (const [key, label, path, script] of cases) {
    if (!wanted.includes(key)) continue;
    const dir = join(values.profile, key);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    ({ server, url } = await startServer(dir));
    const from = Number(process.hrtime.bigint() / 1000n);
    const r = await wrk(path, script, c);
    const to = Number(process.hrtime.bigint() / 1000n);
    await stopServer(server);
    const profiles = readProfiles([dir]);
    console.log(`\n## ${label}, ${c} connections: ${r.rps.toFixed(0)} req/s, p50 ${r.p50}, p99 ${r.p99}\n`);
    console.log(formatSummary(summarise(profiles, 15, { from, to }), r.requests));
  }
}
await fixture.cleanup();
