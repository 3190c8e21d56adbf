/**
 * The real binary while a real server holds the store: `cinerec serve` on two workers (the owner holds DuckDB's
 * lock), then every kind of command, reads and writes, through the server's API; writes visible on every worker
 * at once; /metrics gathered over the workers; a clean stop.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, json } from '../helpers/cli.ts';
import { SERVING, stderrMatch } from '../helpers/process.ts';
import { PROJECT_ROOT, realData } from '../helpers/real-data.ts';
import { type Trained, trained } from '../helpers/trained.ts';

const TOKEN = 'with-server-admin-token-42';
let fixture: Trained;
let server: ChildProcess;
let url: string;
let env: Record<string, string>;

before(async () => {
  fixture = await trained('ml-latest-small', await realData('ml-latest-small'));
  env = { ...fixture.env, CINEREC_ADMIN_TOKEN: TOKEN, CINEREC_WORKERS: '2' };
  server = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'cinerec.js'), 'serve', '--port', '0'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  url = (await stderrMatch(server, SERVING, 'cinerec serve'))[2]!;
});

after(async () => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
  await fixture?.cleanup();
});

describe('the CLI while a server holds the store', () => {
  it('reads go through the server: genres, data info, search, recommend, similar, segments, predictions', async () => {
    assert.ok(existsSync(`${fixture.config.store.path}.server.json`), 'the server records its address');
    const genres = json<{ genre: string }[]>(await cli(['--json', 'genres'], env));
    assert.ok(genres.some((g) => g.genre === 'Comedy'));
    const info = json<{ counts: { movies: number } }>(await cli(['--json', 'data', 'info'], env));
    assert.equal(info.counts.movies, 9742);
    const search = json<{ items: { movieId: number }[] }>(await cli(['--json', 'movies', 'search', 'matrix'], env));
    assert.equal(search.items[0]!.movieId, 2571);
    const rec = json<{ scenario: string; items: unknown[] }>(
      await cli(['--json', 'recommend', '--user', '1', '--k', '5'], env),
    );
    assert.equal(rec.scenario, 'personalised');
    assert.equal(rec.items.length, 5);
    const similar = json<{ items: unknown[] }>(await cli(['--json', 'similar', '1', '--method', 'hybrid'], env));
    assert.equal(similar.items.length, 10);
    const segments = json<{ k: number }>(await cli(['--json', 'segments', 'movies'], env));
    assert.ok(segments.k >= 2);
    const predicted = json<{ items: { predicted: number }[] }>(
      await cli(['--json', 'predict', '--user', '1', '--movie', '2,318', '--model', 'neural'], env),
    );
    assert.equal(predicted.items.length, 2);
  });

  it('writes go through the server with the admin token and every worker serves them at once', async () => {
    const blocked = await cli(['--json', 'rules', 'block', '356', '--reason', 'test'], env);
    assert.equal(blocked.code, 0, blocked.stderr);
    const user = json<{ userId: number }>(
      await cli(['--json', 'users', 'add', '--ratings', '1:5,260:4.5,1196:5,2571:4,4993:4.5'], env),
    );
    // Round robin over two workers: every request must see both writes.
    for (let i = 0; i < 8; i++) {
      const r = await fetch(`${url}/v1/users/${user.userId}/recommendations?k=20`);
      assert.equal(r.status, 200, `request ${i}: the new user is known on every worker`);
      const body = (await r.json()) as { items: { movieId: number }[] };
      assert.ok(!body.items.some((m) => m.movieId === 356), `request ${i}: the block applies on every worker`);
    }
    const rules = json<{ movieId: number }[]>(await cli(['--json', 'rules', 'list'], env));
    assert.ok(rules.some((r) => r.movieId === 356));
    const removed = await cli(['rules', 'remove', '356'], env);
    assert.equal(removed.code, 0, removed.stderr);
    const noToken = await cli(['rules', 'block', '1'], { ...env, CINEREC_ADMIN_TOKEN: '' });
    assert.notEqual(noToken.code, 0);
    assert.match(noToken.stderr, /CINEREC_ADMIN_TOKEN/);
  });

  it('training and evaluation read a snapshot the server writes; an import is refused with the reason', async () => {
    const plan = json<{ plan: { name: string }[] }>(await cli(['--json', 'train', '--dry-run'], env));
    assert.ok(plan.plan.some((s) => s.name === 'als'));
    const report = json<{ strategies: { name: string }[] }>(
      await cli(['--json', 'eval', '--strategies', 'most-popular', '--seeds', '1'], env),
    );
    assert.equal(report.strategies[0]!.name, 'most-popular');
    const imported = await cli(['data', 'import', await realData('ml-latest-small')], env);
    assert.equal(imported.code, 1);
    assert.match(imported.stderr, /holds the store/);
    assert.equal(imported.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
  });

  it('GET /metrics adds up every worker; SIGTERM drains and exits, removing the recorded address', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m =
      /cinerec_http_requests_total\{route="\/v1\/users\/:id\/recommendations",method="GET",status="200"\} (\d+)/.exec(
        text,
      );
    assert.ok(m && Number(m[1]) >= 8, 'the recommendation requests of both workers are counted');
    assert.match(text, /cinerec_model_version_info\{version="v\d{4}"\} 1/);
    assert.match(text, /cinerec_nodejs_eventloop_lag_p99_seconds/);
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    const t = Date.now();
    server.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(Date.now() - t < 10_000, 'stopped within 10 s');
    assert.ok(!existsSync(`${fixture.config.store.path}.server.json`), 'the address is removed');
  });
});
