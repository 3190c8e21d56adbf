/**
 * Shared set-up of the web tests: one API server on ml-latest-small, as a user would have it after
 * `cinerec eval` (one evaluation report) and two `cinerec train` runs (model versions v0001 and
 * v0002, differing in als.factors), serving the active version through a ModelManager so activation
 * and rollback swap what is served; and Debian's Chromium driven by playwright-core.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { detectFormat } from '../../src/data/formats.ts';
import { type TrainOutcome, train } from '../../src/pipeline/train.ts';
import { buildServer } from '../../src/server/app.ts';
import { ModelManager } from '../../src/server/model-manager.ts';
import { ServiceHolder } from '../../src/server/service-holder.ts';
import { DEFAULT_WEB_ROOT } from '../../src/server/web.ts';
import { loadServices } from '../../src/serving/services.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import { takeSnapshot } from '../../src/store/snapshot.ts';
import { forbidFitting } from '../../src/util/fit-guard.ts';
import { cli, json } from '../helpers/cli.ts';
import { PROJECT_ROOT, realData } from '../helpers/real-data.ts';

export const TOKEN = 'web-admin-token-0123456789';
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const SCREENSHOTS = path.join(PROJECT_ROOT, 'reports', 'screenshots');

/** The two trainings of the set-up: the second differs from the first only in als.factors. */
export const TRAININGS = [
  { version: 'v0001', alsFactors: 16 },
  { version: 'v0002', alsFactors: 24 },
] as const;

export interface WebServer {
  base: string;
  server: FastifyInstance;
  /** The served services, swapped by `models` on activation. */
  holder: ServiceHolder;
  models: ModelManager;
  /** Set-up figures, for the report. */
  timings: Record<string, number>;
  close(): Promise<void>;
}

/** Fails with what to do when the page or the browser is missing, instead of skipping. */
export function requirePrerequisites(): void {
  if (!existsSync(path.join(DEFAULT_WEB_ROOT, 'index.html')))
    throw new Error(`the web page is not built (${DEFAULT_WEB_ROOT} has no index.html): run \`npm run build\``);
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH)`,
    );
}

/** Smaller, quicker models than the defaults: these tests are about what the page shows, not quality. */
function webConfig(dir: string, alsFactors: number): Config {
  return loadConfig({
    env: {},
    cwd: dir,
    overrides: {
      modelsDir: path.join(dir, 'models'),
      reportsDir: path.join(dir, 'reports'),
      'content.clusters': '30',
      'content.restarts': '1',
      'hybrid.clusters': '30',
      'hybrid.restarts': '1',
      'segments.maxK': '6',
      'segments.restarts': '1',
      'segments.users.epochs': '20',
      'neural.aeEpochs': '3',
      'neural.epochs': '3',
      'neural.crossFolds': '2',
      'als.factors': String(alsFactors),
      'als.iterations': '4',
      'pipeline.evaluation.strategies': '["most-popular","als"]',
    },
  }).config;
}

const seconds = (t: number) => Math.round((performance.now() - t) / 100) / 10;

export async function startWebServer(): Promise<WebServer> {
  requirePrerequisites();
  const timings: Record<string, number> = {};
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cinerec-web-'));
  const storePath = path.join(dir, 'store.duckdb');
  let t = performance.now();
  const imported = await DuckDbStore.open(storePath);
  await imported.importDataset(detectFormat(await realData('ml-latest-small')));
  const snapshot = await takeSnapshot(imported);
  await imported.close();
  timings.import = seconds(t);
  t = performance.now();
  // A small ranking report (two cheap strategies, one seed) for the Experiments page, written by the
  // CLI in a child process while the two versions train here on the snapshot (training never reads
  // the store, so the CLI may have it). Its models directory is its own.
  const evaluation = cli(
    ['eval', '--strategies', 'most-popular,itemknn', '--split', 'stratified:0.75', '--seeds', '1', '--json'],
    {
      CINEREC_STORE: storePath,
      CINEREC_DATA_DIR: dir,
      CINEREC_REPORTS_DIR: path.join(dir, 'reports'),
      CINEREC_MODELS_DIR: path.join(dir, 'eval-models'),
    },
  );
  let config: Config | null = null;
  for (const { version, alsFactors } of TRAININGS) {
    config = webConfig(dir, alsFactors);
    const outcome: TrainOutcome = await train(config, snapshot, { activate: 'always' });
    assert.equal(outcome.result?.status, 'finished', `training ${version}: ${outcome.result?.error ?? ''}`);
    assert.equal(outcome.version, version, 'a new version per training');
    timings[`train ${version}`] = seconds(t);
    t = performance.now();
  }
  json(await evaluation);
  timings['eval (after training)'] = seconds(t);
  t = performance.now();
  // The server runs with the settings of the last training, as `cinerec serve` would after it.
  const served = config!;
  const store = await DuckDbStore.open(storePath);
  // The server only loads what training saved: any fit from here on in this process fails the test.
  forbidFitting('the web tests');
  const services = await loadServices(store, served);
  assert.equal(services.served.version?.id, TRAININGS.at(-1)!.version, 'the last trained version is served');
  await services.served.warm();
  const holder = new ServiceHolder(services);
  const models = ModelManager.local(holder, store, served, () => {});
  const server = await buildServer(holder.view(), { adminToken: TOKEN, logger: false, models });
  await server.listen({ port: 0, host: '127.0.0.1' });
  timings['load and warm v0002'] = seconds(t);
  const base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  return {
    base,
    server,
    holder,
    models,
    timings,
    async close() {
      models.close();
      await server.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** JSON from the API, for comparing what the page shows with what the server says. */
export async function apiJson<T>(base: string, url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${base}${url}`, init);
  const text = await res.text();
  assert.ok(res.ok, `${init.method ?? 'GET'} ${url}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/**
 * Form controls and buttons without an accessible name (no label, aria-label, aria-labelledby,
 * title or text), described for the failure message. Hidden ones are ignored.
 */
export async function unnamedControls(page: Page): Promise<string[]> {
  // A string, run in the page: the test project is typed for Node, without the DOM library.
  const found = await page.evaluate(`(() => {
    const out = [];
    for (const el of document.querySelectorAll('input, select, textarea, button, a[href]')) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 && box.height === 0 && el.tagName !== 'INPUT') continue;
      const field = el.tagName === 'INPUT' || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA';
      const named =
        (el.labels && el.labels.length > 0) ||
        (el.getAttribute('aria-label') || '').trim() ||
        el.getAttribute('aria-labelledby') ||
        (el.getAttribute('title') || '').trim() ||
        (!field && (el.textContent || '').trim());
      if (!named) out.push(el.outerHTML.slice(0, 120));
    }
    return out;
  })()`);
  return found as string[];
}

/** Console errors and failed requests to other hosts (the page must work offline). */
export function watchPage(page: Page, base: string): { errors: string[]; external: string[] } {
  const seen = { errors: [] as string[], external: [] as string[] };
  page.on('console', (m) => {
    if (m.type() === 'error') seen.errors.push(m.text());
  });
  page.on('pageerror', (e) => seen.errors.push(e.message));
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(base) && !url.startsWith('data:') && !url.startsWith('about:')) seen.external.push(url);
  });
  return seen;
}
