import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'cinerec-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('defaults apply without a file; the store lives in the data directory', () => {
  const { config, secrets, file } = loadConfig({ cwd: dir, env: {} });
  assert.equal(file, null);
  assert.equal(config.server.port, 8080);
  assert.equal(config.dataDir, join(dir, 'data'));
  assert.equal(config.store.path, join(dir, 'data', 'cinerec.duckdb'));
  assert.equal(secrets.adminToken, null);
});

test('file < environment < overrides, paths relative to the file', () => {
  const file = join(dir, 'cinerec.config.json');
  writeFileSync(file, JSON.stringify({ dataDir: 'movies', server: { port: 9000 }, popularity: { minVotes: 50 } }));
  // Surrounding whitespace is dropped; a token must be 16+ characters a bearer header can carry (issue 15).
  const env = { CINEREC_PORT: '9100', CINEREC_ADMIN_TOKEN: ' secret-0123456789abcdef ' };
  const { config, secrets } = loadConfig({ cwd: dir, env, overrides: { 'server.host': '0.0.0.0' } });
  assert.equal(config.dataDir, join(dir, 'movies'));
  assert.equal(config.server.port, 9100);
  assert.equal(config.server.host, '0.0.0.0');
  assert.equal(config.popularity.minVotes, 50);
  assert.equal(config.popularity.minVotesQuantile, 0.9);
  assert.equal(secrets.adminToken, 'secret-0123456789abcdef');
  assert.equal(loadConfig({ cwd: dir, env: {}, overrides: { 'server.port': '9200' } }).config.server.port, 9200);
  rmSync(file);
});

test('invalid settings name the field', () => {
  assert.throws(
    () => loadConfig({ cwd: dir, env: { CINEREC_PORT: '70000' } }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /server\.port: must be <= 65535/);
      return true;
    },
  );
  assert.throws(
    () => loadConfig({ cwd: dir, env: {}, overrides: { 'server.prot': '1' } }),
    /server: unknown setting "prot"/,
  );
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{ "dataDir": ');
  assert.throws(() => loadConfig({ cwd: dir, env: {}, file: bad }), /bad\.json: not valid JSON/);
  assert.throws(() => loadConfig({ cwd: dir, env: {}, file: 'missing.json' }), /missing\.json: config file not found/);
});
