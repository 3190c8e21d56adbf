/**
 * Evaluation reports on disk: `<reportsDir>/evaluations/<id>.json` (the report itself, and the index entry),
 * `<id>.md` (a readable summary) and `<id>-<metric>.svg` (one bar chart per metric, mean with its 95% CI).
 * Written by `cinerec eval`, listed and served by the API.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Loader, View as VegaView } from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { ValidationError } from '../util/errors.ts';
import { type EvaluationReport, type EvaluationSummary, METRICS, type MetricInterval } from './report-types.ts';

/** Report ids and metric names become file names: no separators, so no path traversal. */
export const REPORT_ID_PATTERN = /^[A-Za-z0-9._-]+$/;
const MAX_ID_LENGTH = 200;
const EVALUATIONS = 'evaluations';

function isSafeName(name: string): boolean {
  return name.length <= MAX_ID_LENGTH && REPORT_ID_PATTERN.test(name);
}

function checkId(id: string, field = 'id'): void {
  if (!isSafeName(id)) {
    throw new ValidationError(
      `${field} must be 1 to ${MAX_ID_LENGTH} letters, digits, ".", "_" or "-", got ${JSON.stringify(id.slice(0, 80))}`,
      field,
    );
  }
}

/** e.g. "2026-11-25T11-40-05Z-ranking-3f9a": sortable by time, safe as a file name, unique enough. */
export function newReportId(kind: string, date: Date = new Date()): string {
  const stamp = date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replaceAll(':', '-');
  checkId(kind, 'kind');
  return `${stamp}-${kind}-${randomBytes(2).toString('hex')}`;
}

// ---------------------------------------------------------------------------------------------------------
// Formatting

interface MetricInfo {
  label: string;
  higherIsBetter: boolean;
}

function metricInfo(report: EvaluationReport, metric: string): MetricInfo {
  const known = METRICS[metric];
  if (!known) return { label: metric, higherIsBetter: true };
  const k = report.protocol.k;
  return {
    label: k === undefined ? known.label : known.label.replace('@k', `@${k}`),
    higherIsBetter: known.higherIsBetter,
  };
}

/** Rating errors sit close together (0.86 vs 0.87), so they get a fourth decimal. */
function decimals(metric: string): number {
  return metric === 'rmse' || metric === 'mae' ? 4 : 3;
}

function isFiniteInterval(m: MetricInterval | undefined): m is MetricInterval {
  return m !== undefined && Number.isFinite(m.mean);
}

function formatInterval(m: MetricInterval, digits: number): string {
  const half = (m.high - m.low) / 2;
  return Number.isFinite(half) ? `${m.mean.toFixed(digits)} ± ${half.toFixed(digits)}` : m.mean.toFixed(digits);
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '—';
  return s < 10 ? s.toFixed(2) : s.toFixed(1);
}

/** Table cells must not break the row. */
function cell(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('|', '\\|').replaceAll(/\r?\n/g, ' ');
}

function describeRelevance(relevance: EvaluationReport['protocol']['relevance']): string | null {
  if (!relevance) return null;
  return relevance.kind === 'all' ? 'every held-out movie' : `held-out movies rated at least ${relevance.minRating}`;
}

/** The mean as displayed: the best value is picked at display precision, so visible ties are all best. */
function displayed(metric: string, m: MetricInterval): number {
  return Number(m.mean.toFixed(decimals(metric)));
}

/** The best displayed mean of a metric, or undefined when fewer than two strategies have one. */
function bestValue(report: EvaluationReport, metric: string): number | undefined {
  const values = report.strategies
    .map((s) => s.metrics[metric])
    .filter(isFiniteInterval)
    .map((m) => displayed(metric, m));
  // Highlighting the only value says nothing.
  if (values.length < 2) return undefined;
  return metricInfo(report, metric).higherIsBetter ? Math.max(...values) : Math.min(...values);
}

export function renderMarkdown(report: EvaluationReport, chartFiles: Record<string, string> = {}): string {
  const lines: string[] = [];
  const { protocol, dataset } = report;
  lines.push(`# Evaluation ${report.id}`, '');
  lines.push(
    `${report.kind === 'ranking' ? 'Top-k ranking' : 'Rating prediction'} evaluation, ${report.createdAt}, ` +
      `${formatSeconds(report.elapsedSeconds)} s in all.`,
    '',
  );

  lines.push('## Protocol', '');
  lines.push(`- split: ${protocol.split}`);
  lines.push(`- seeds: ${protocol.seeds.length ? protocol.seeds.join(', ') : '—'}`);
  if (protocol.k !== undefined) lines.push(`- k: ${protocol.k}`);
  const relevance = describeRelevance(protocol.relevance);
  if (relevance) lines.push(`- relevant: ${relevance}`);
  if (protocol.strongGeneralization) {
    const sg = protocol.strongGeneralization;
    lines.push(
      `- strong generalisation: ${sg.users} held-out users, ${sg.foldIn} ratings each folded in, the rest to predict`,
    );
  }
  lines.push('');

  lines.push('## Dataset', '');
  lines.push(
    `${dataset.name}: ${dataset.users.toLocaleString('en')} users, ${dataset.movies.toLocaleString('en')} movies, ` +
      `${dataset.ratings.toLocaleString('en')} ratings.`,
    '',
  );

  lines.push('## Results', '');
  lines.push('Mean ± half-width of the 95% confidence interval; the best value per column in bold.', '');
  const labels = report.metricOrder.map((m) => {
    const info = metricInfo(report, m);
    return `${info.label} ${info.higherIsBetter ? '↑' : '↓'}`;
  });
  lines.push(`| strategy | ${labels.map(cell).join(' | ')} |`);
  lines.push(`| --- | ${report.metricOrder.map(() => '---:').join(' | ')} |`);
  const best = new Map(report.metricOrder.map((metric) => [metric, bestValue(report, metric)]));
  for (const s of report.strategies) {
    const cells = report.metricOrder.map((metric) => {
      const m = s.metrics[metric];
      if (!isFiniteInterval(m)) return '—';
      const text = formatInterval(m, decimals(metric));
      return best.get(metric) === displayed(metric, m) ? `**${text}**` : text;
    });
    lines.push(`| ${cell(s.name)} | ${cells.join(' | ')} |`);
  }
  lines.push('');

  lines.push('## Timing', '');
  lines.push(
    report.kind === 'ranking'
      ? 'Seconds, summed over all runs (seeds or folds): fit the model, then recommend for every test user.'
      : 'Seconds, summed over all runs (seeds or folds): fit the model, then predict every test rating.',
    '',
  );
  lines.push(
    `| strategy | fit s | ${report.kind === 'ranking' ? 'recommend' : 'predict'} s |`,
    '| --- | ---: | ---: |',
  );
  for (const s of report.strategies) {
    lines.push(`| ${cell(s.name)} | ${formatSeconds(s.fitSeconds)} | ${formatSeconds(s.predictSeconds)} |`);
  }
  lines.push('');

  const charts = report.metricOrder.filter((m) => chartFiles[m] !== undefined);
  if (charts.length) {
    lines.push('## Charts', '');
    for (const metric of charts) {
      lines.push(`![${metricInfo(report, metric).label}](${encodeURI(chartFiles[metric]!)})`, '');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// Charts

interface Bar {
  strategy: string;
  mean: number;
  low: number;
  high: number;
  label: string;
  best: boolean;
}

function chartSpec(report: EvaluationReport, metric: string): TopLevelSpec | null {
  const info = metricInfo(report, metric);
  const digits = decimals(metric);
  const best = bestValue(report, metric);
  const values: Bar[] = [];
  for (const s of report.strategies) {
    const m = s.metrics[metric];
    if (!isFiniteInterval(m)) continue;
    // A missing or non-finite bound collapses the error bar onto the mean rather than dropping the bar.
    const low = Number.isFinite(m.low) ? m.low : m.mean;
    const high = Number.isFinite(m.high) ? m.high : m.mean;
    values.push({
      strategy: s.name,
      mean: m.mean,
      low,
      high,
      label: m.mean.toFixed(digits),
      best: best === displayed(metric, m),
    });
  }
  if (values.length === 0) return null;
  const axisTitle = `${info.label} (${info.higherIsBetter ? 'higher' : 'lower'} is better)`;
  return {
    title: { text: `${info.label} by strategy`, subtitle: 'mean with 95% confidence interval' },
    width: 420,
    height: { step: 24 },
    background: 'white',
    data: { values },
    // Report order, not alphabetical: the evaluator lists strategies in the order asked for.
    encoding: { y: { field: 'strategy', type: 'nominal', sort: null, title: null } },
    layer: [
      {
        mark: { type: 'bar', cornerRadiusEnd: 2 },
        encoding: {
          x: { field: 'mean', type: 'quantitative', title: axisTitle, scale: { zero: true } },
          color: { condition: { test: 'datum.best', value: '#e45756' }, value: '#4c78a8' },
        },
      },
      {
        mark: { type: 'errorbar', ticks: true, color: '#333' },
        // The same title on every layer, or the shared axis would read "NDCG@10, low, high".
        encoding: { x: { field: 'low', type: 'quantitative', title: axisTitle }, x2: { field: 'high' } },
      },
      {
        mark: { type: 'text', align: 'left', dx: 6, fontSize: 10, color: '#333' },
        encoding: { x: { field: 'high', type: 'quantitative', title: axisTitle }, text: { field: 'label' } },
      },
    ],
    config: { font: 'sans-serif', view: { stroke: null } },
  };
}

/** Nothing may be fetched while rendering: the charts are data-only, so any request is a bug. */
const offlineLoader: Loader = {
  load: async (uri) => Promise.reject(new Error(`chart rendering may not load ${uri}`)),
  sanitize: async (uri) => Promise.reject(new Error(`chart rendering may not link ${uri}`)),
  http: async (uri) => Promise.reject(new Error(`chart rendering may not fetch ${uri}`)),
  file: async (file) => Promise.reject(new Error(`chart rendering may not read ${file}`)),
};

/** One SVG per metric that has a value for any strategy: horizontal bars of the mean, error bars for the CI. */
export async function renderCharts(report: EvaluationReport): Promise<Record<string, string>> {
  // Loaded on demand: listing and serving reports should not pay for the chart libraries.
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const quiet = { level: () => quiet, error: () => quiet, warn: () => quiet, info: () => quiet, debug: () => quiet };
  const out: Record<string, string> = {};
  for (const metric of report.metricOrder) {
    const spec = chartSpec(report, metric);
    if (!spec) continue;
    const { spec: vgSpec } = vegaLite.compile(spec, { logger: quiet });
    // A fresh view per chart: views hold state (data, scenegraph), so sharing one would couple renders.
    const view: VegaView = new vega.View(vega.parse(vgSpec), {
      renderer: 'none',
      loader: offlineLoader,
      logLevel: vega.Error,
    });
    try {
      out[metric] = await view.toSVG();
    } finally {
      view.finalize();
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Files

function evaluationsDir(dir: string): string {
  return join(dir, EVALUATIONS);
}

function chartFileName(id: string, metric: string): string {
  return `${id}-${metric}.svg`;
}

/** Temp file + rename: a reader sees the old file or the whole new one, never a partial write. */
async function writeAtomic(file: string, content: string): Promise<void> {
  // The .tmp suffix keeps half-written files out of listReports, which only reads *.json.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, content, 'utf8');
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Writes the charts, the Markdown and, last, the JSON: the JSON is what listReports finds, so once it is there
 * the other files are too.
 */
export async function writeReport(
  dir: string,
  report: EvaluationReport,
): Promise<{ json: string; markdown: string; charts: string[] }> {
  checkId(report.id);
  for (const metric of report.metricOrder) checkId(metric, 'metric');
  const target = evaluationsDir(dir);
  await mkdir(target, { recursive: true });

  const svgs = await renderCharts(report);
  const chartFiles: Record<string, string> = {};
  const charts: string[] = [];
  for (const [metric, svg] of Object.entries(svgs)) {
    const name = chartFileName(report.id, metric);
    const file = join(target, name);
    await writeAtomic(file, svg);
    chartFiles[metric] = name;
    charts.push(file);
  }
  const markdown = join(target, `${report.id}.md`);
  await writeAtomic(markdown, renderMarkdown(report, chartFiles));
  const json = join(target, `${report.id}.json`);
  await writeAtomic(json, `${JSON.stringify(report, null, 2)}\n`);
  return { json, markdown, charts };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isNumber = (v: unknown): v is number => typeof v === 'number';
const isString = (v: unknown): v is string => typeof v === 'string';

function isInterval(v: unknown): v is MetricInterval {
  return isRecord(v) && isNumber(v.mean) && isNumber(v.low) && isNumber(v.high) && isNumber(v.n);
}

/**
 * Structural check of a parsed file, deep enough that the API's response serialiser and the renderers can
 * rely on every required field (files may be hand-edited or from an older version).
 */
export function isEvaluationReport(v: unknown): v is EvaluationReport {
  if (!isRecord(v)) return false;
  if (!isString(v.id) || (v.kind !== 'ranking' && v.kind !== 'rating') || !isString(v.createdAt)) return false;
  if (!isNumber(v.elapsedSeconds)) return false;
  const d = v.dataset;
  if (!isRecord(d) || !isString(d.name) || !isNumber(d.users) || !isNumber(d.movies) || !isNumber(d.ratings)) {
    return false;
  }
  const p = v.protocol;
  if (!isRecord(p) || !isString(p.split) || !Array.isArray(p.seeds) || !p.seeds.every(isNumber)) return false;
  if (p.k !== undefined && !isNumber(p.k)) return false;
  if (p.relevance !== undefined) {
    const r = p.relevance;
    if (!isRecord(r) || !(r.kind === 'all' || (r.kind === 'min-rating' && isNumber(r.minRating)))) return false;
  }
  if (p.strongGeneralization !== undefined) {
    const sg = p.strongGeneralization;
    if (!isRecord(sg) || !isNumber(sg.users) || !isNumber(sg.foldIn)) return false;
  }
  if (!Array.isArray(v.metricOrder) || !v.metricOrder.every(isString)) return false;
  if (!Array.isArray(v.strategies)) return false;
  return v.strategies.every(
    (s: unknown) =>
      isRecord(s) &&
      isString(s.name) &&
      isString(s.description) &&
      isRecord(s.params) &&
      Object.values(s.params).every((p) => isNumber(p) || isString(p) || typeof p === 'boolean') &&
      isRecord(s.metrics) &&
      Object.values(s.metrics).every(isInterval) &&
      Array.isArray(s.runs) &&
      s.runs.every(
        (r: unknown) =>
          isRecord(r) &&
          isString(r.split) &&
          isNumber(r.seed) &&
          isNumber(r.evaluated) &&
          isRecord(r.metrics) &&
          Object.values(r.metrics).every(isNumber) &&
          isNumber(r.fitSeconds) &&
          isNumber(r.predictSeconds),
      ) &&
      isNumber(s.fitSeconds) &&
      isNumber(s.predictSeconds),
  );
}

/** Parsed and checked, or null when the file is missing, unreadable, not JSON or not a report. */
async function loadReportFile(file: string, id: string): Promise<EvaluationReport | null> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return null;
  }
  if (!isEvaluationReport(parsed)) return null;
  // The file name is the id the API serves it under (a renamed copy is a different report).
  return parsed.id === id ? parsed : { ...parsed, id };
}

function headlineMetric(report: EvaluationReport): string | undefined {
  const preferred = report.kind === 'ranking' ? 'ndcg' : 'rmse';
  return report.metricOrder.includes(preferred) ? preferred : report.metricOrder[0];
}

export function summarize(report: EvaluationReport): EvaluationSummary {
  const metric = headlineMetric(report);
  const values: Record<string, number> = {};
  if (metric !== undefined) {
    for (const s of report.strategies) {
      const m = s.metrics[metric];
      if (isFiniteInterval(m)) values[s.name] = m.mean;
    }
  }
  return {
    id: report.id,
    kind: report.kind,
    createdAt: report.createdAt,
    dataset: report.dataset.name,
    split: report.protocol.split,
    ...(report.protocol.k !== undefined ? { k: report.protocol.k } : {}),
    strategies: report.strategies.map((s) => s.name),
    headline: { metric: metric ?? '', values },
  };
}

function errorCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/**
 * Every valid report under `<dir>/evaluations`, newest first. Files that cannot be read or are not reports are
 * skipped; a missing directory means no reports yet.
 */
export async function listReports(dir: string): Promise<EvaluationSummary[]> {
  let names: string[];
  try {
    names = await readdir(evaluationsDir(dir));
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
  const stems = names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length));
  const reports = await Promise.all(
    stems.filter(isSafeName).map((id) => loadReportFile(join(evaluationsDir(dir), `${id}.json`), id)),
  );
  const summaries = reports.filter((r): r is EvaluationReport => r !== null).map(summarize);
  // ISO timestamps sort as strings; the id breaks ties so the order is stable.
  return summaries.sort((a, b) =>
    a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt.localeCompare(a.createdAt),
  );
}

/** The report, or null if there is none (or the file is not a valid report). Throws ValidationError for a bad id. */
export async function readReport(dir: string, id: string): Promise<EvaluationReport | null> {
  checkId(id);
  return loadReportFile(join(evaluationsDir(dir), `${id}.json`), id);
}

/** The chart's SVG, or null if there is no such report or it has no chart for that metric. Throws ValidationError for a bad name. */
export async function readChart(dir: string, id: string, metric: string): Promise<string | null> {
  checkId(id);
  checkId(metric, 'metric');
  // File names alone are ambiguous ("a-b" + "c" and "a" + "b-c" both give a-b-c.svg): the report decides.
  const report = await readReport(dir, id);
  if (!report?.metricOrder.includes(metric)) return null;
  try {
    return await readFile(join(evaluationsDir(dir), chartFileName(id, metric)), 'utf8');
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return null;
    throw err;
  }
}
