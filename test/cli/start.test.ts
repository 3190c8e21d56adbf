import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cli } from '../helpers/cli.ts';
import { SMALL_TRAINING } from '../helpers/pipeline-fixture.ts';
import { PROJECT_ROOT, realData } from '../helpers/real-data.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cinerec-start-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Starts `cinerec start` and resolves with the URL it serves at, read from its log. */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'cinerec.js'), 'start', '--port', '0'], {
    env: { ...process.env, ...env },
    cwd: PROJECT_ROOT,
  });
  let stderr = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /serving \d+ movies at (http:\/\/\S+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`cinerec start exited ${code}: ${stderr}`)));
  });
  return { child, url, log: () => stderr };
}

test('`cinerec start` (npm start) imports an empty store from ./data, trains a first version, then serves the API', {
  timeout: 300_000,
}, async () => {
  const dataDir = join(tmp, 'data');
  rmSync(dataDir, { recursive: true, force: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dataDir);
  symlinkSync(await realData('ml-latest-small'), join(dataDir, 'ml-latest-small'));
  // Lifecycle lines (importing, created version, serving at) are info lines of the server log.
  // The models' sizes (content clusters, ALS factors, epochs) are the tests' small ones: what `start` does is the
  // same at any size, and the suite's budget is minutes.
  const configFile = join(tmp, 'cinerec.config.json');
  writeFileSync(configFile, JSON.stringify(SMALL_TRAINING));
  const env = { CINEREC_DATA_DIR: dataDir, CINEREC_LOG_LEVEL: 'info', CINEREC_CONFIG: configFile };

  const first = start(env);
  try {
    const url = await first.url;
    assert.match(first.log(), /importing .*ml-latest-small/, 'the first start imports');
    assert.match(first.log(), /created model version v0001/, 'the first start trains a model version');
    assert.match(first.log(), /model version v0001/);
    const health = (await (await fetch(`${url}/health`)).json()) as { status: string; movies: number; ratings: number };
    assert.deepEqual(
      { ...health, uptimeSeconds: 0 },
      { status: 'ok', dataset: 'ml-latest-small', movies: 9742, ratings: 100836, uptimeSeconds: 0 },
    );
    const popular = (await (await fetch(`${url}/v1/recommendations/popular?genres=Comedy&k=1`)).json()) as {
      items: { movieId: number }[];
    };
    assert.equal(popular.items[0]?.movieId, 296, 'Pulp Fiction leads Comedy');
  } finally {
    first.child.kill('SIGTERM');
  }
  await new Promise((r) => first.child.once('exit', r));

  const second = start(env);
  try {
    await second.url;
    assert.doesNotMatch(second.log(), /importing/, 'the second start finds the data already imported');
    assert.doesNotMatch(second.log(), /training one/, 'the second start serves the trained version');
    assert.match(second.log(), /serving .* model version v0001/);
  } finally {
    second.child.kill('SIGTERM');
  }
  await new Promise((r) => second.child.once('exit', r));

  // Serving only loads a trained version: without one, `serve` and `start --no-train` refuse to start.
  const untrained = { ...env, CINEREC_MODELS_DIR: join(tmp, 'no-models') };
  for (const args of [['serve'], ['start', '--no-train']]) {
    const r = await cli([...args, '--port', '0'], untrained);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /no trained model version to serve: run `npx cinerec train` first/, args.join(' '));
    assert.doesNotMatch(r.stderr, /importing|training one/, `${args.join(' ')} neither imports nor trains`);
  }
});
