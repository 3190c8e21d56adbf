import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { parseParams, RATING_MODELS, resolveNames, STRATEGIES } from '../../components/index.ts';
import type { EvalData } from '../../evaluation/evaluator.ts';
import { type EvaluationReport, METRICS } from '../../evaluation/report-types.ts';
import { SCENARIO_DEFAULTS, SCENARIOS, type ScenarioName } from '../../evaluation/scenarios.ts';
import { parseSplit, type StrongGeneralization } from '../../evaluation/splits.ts';
import { ValidationError } from '../../util/errors.ts';
import { terminalProgress } from '../../util/progress.ts';
import { configFor, output } from '../context.ts';
import { table } from '../format.ts';
import { collect, list, positiveInt } from '../parse.ts';
import { snapshotFor } from '../snapshot.ts';

interface EvalOptions {
  strategies?: string[];
  split?: string;
  k: number;
  seeds: number[];
  rating?: boolean;
  folds?: number;
  minRating?: number;
  strong?: StrongGeneralization;
  param: string[];
  scenario?: ScenarioName;
  given?: number[];
  userFolds?: number;
  foldsUsed?: number;
  coldMovies?: number;
}

function scenario(value: string): ScenarioName {
  const name = value.trim() as ScenarioName;
  if (!SCENARIOS.includes(name))
    throw new InvalidArgumentError(`--scenario must be one of ${SCENARIOS.join(', ')}, not "${value}"`);
  return name;
}

function counts(value: string): number[] {
  const out = value.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((n) => !Number.isSafeInteger(n) || n < 1 || n > 1000))
    throw new InvalidArgumentError(`--given must be whole numbers from 1 to 1000 separated by commas, not "${value}"`);
  return [...new Set(out)].sort((a, b) => a - b);
}

function share(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0 && n < 1))
    throw new InvalidArgumentError(`--cold-movies must be a share strictly between 0 and 1, not "${value}"`);
  return n;
}

function seeds(value: string): number[] {
  const out = value.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((s) => !Number.isSafeInteger(s) || s < 0)) {
    throw new InvalidArgumentError(`--seeds must be whole numbers separated by commas (e.g. 1,2,3), not "${value}"`);
  }
  return [...new Set(out)];
}

function strong(value: string): StrongGeneralization {
  const m = /^(0?\.\d+):(0?\.\d+)$/.exec(value.trim());
  if (!m)
    throw new InvalidArgumentError(`--strong expects <share of users>:<fold-in share>, e.g. 0.2:0.8, not "${value}"`);
  return { users: Number(m[1]), foldIn: Number(m[2]) };
}

function minRating(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new InvalidArgumentError(`--min-rating must be a number, not "${value}"`);
  return n;
}

function fmt(metric: string, x: number): string {
  if (metric === 'rmse' || metric === 'mae') return x.toFixed(4);
  if (metric === 'novelty' || metric === 'popularity') return x.toFixed(2);
  return x.toFixed(3);
}

function render(report: EvaluationReport, files: { json: string; markdown: string }): string {
  const k = report.protocol.k;
  const headers = [
    'strategy',
    ...report.metricOrder.map((m) => (METRICS[m]?.label ?? m).replace('@k', k ? `@${k}` : '')),
    'fit s',
    report.kind === 'ranking' ? 'recommend s' : 'predict s',
  ];
  const several = report.strategies[0] ? report.strategies[0].runs.length > 1 : false;
  const rows = report.strategies.map((s) => [
    s.name,
    ...report.metricOrder.map((m) => {
      const iv = s.metrics[m]!;
      const half = (iv.high - iv.low) / 2;
      return half > 0 ? `${fmt(m, iv.mean)} ±${fmt(m, half)}` : fmt(m, iv.mean);
    }),
    s.fitSeconds.toFixed(2),
    s.predictSeconds.toFixed(2),
  ]);
  return [
    `${report.kind === 'ranking' ? 'top-k' : 'rating'} evaluation on ${report.dataset.name}: ${report.protocol.split}, seeds ${report.protocol.seeds.join(',')}${k ? `, k = ${k}` : ''}` +
      `${report.protocol.relevance?.kind === 'min-rating' ? `, relevant = rating ≥ ${report.protocol.relevance.minRating}` : ''}` +
      `${report.protocol.strongGeneralization ? `, strong generalisation ${report.protocol.strongGeneralization.users}:${report.protocol.strongGeneralization.foldIn}` : ''}`,
    `± is the half-width of the 95% confidence interval ${several ? 'over runs (seeds/folds)' : 'over users'}; times are totals over runs`,
    table(headers, rows),
    '',
    `report: ${files.markdown}`,
    `json:   ${files.json}`,
    `elapsed ${report.elapsedSeconds.toFixed(1)} s`,
  ].join('\n');
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description(
      'offline evaluation: top-k ranking metrics, or RMSE/MAE with --rating; writes a report under ./reports',
    )
    .option(
      '--strategies <names>',
      `comma-separated; ranking: ${[...STRATEGIES.keys()].join(', ')}; rating: ${[...RATING_MODELS.keys()].join(', ')}`,
      list,
    )
    .option(
      '--split <protocol>',
      'stratified:0.75 (default), temporal:0.8, temporal:n=5, loo, kfold:5, time:2015-01-01',
    )
    .option('--k <n>', 'list length for ranking metrics', positiveInt('--k', 1000), 10)
    .option('--seeds <list>', 'seeds, one run each (e.g. 1,2,3)', seeds, [1])
    .option('--min-rating <r>', 'relevant = held-out items rated at least r (default: every held-out item)', minRating)
    .option(
      '--strong <users:foldIn>',
      'strong generalisation: hold out this share of users, fold in this share of their ratings',
      strong,
    )
    .option('--rating', 'rating prediction (RMSE, MAE) instead of ranking')
    .option(
      '--folds <n>',
      'with --rating: k-fold over ratings (same as --split kfold:<n>)',
      positiveInt('--folds', 100),
    )
    .option('--param <name.key=value>', 'strategy parameter, e.g. ease.lambda=500 (repeatable)', collect, [])
    .option(
      '--scenario <name>',
      `evaluate one router scenario on its own held-out viewers: ${SCENARIOS.join(', ')} (see docs/evaluation.md)`,
      scenario,
    )
    .option('--given <list>', 'with --scenario: movies each test user tells (watched 1,3,5; few-ratings 2,3,4)', counts)
    .option(
      '--user-folds <n>',
      'with --scenario: user folds per seed (each held out once)',
      positiveInt('--user-folds', 100),
    )
    .option(
      '--folds-used <n>',
      'with --scenario: evaluate only the first n user folds',
      positiveInt('--folds-used', 100),
    )
    .option('--cold-movies <share>', 'with --scenario new-movie: share of rated movies made cold (default 0.1)', share)
    .action(async (opts: EvalOptions, cmd: Command) => {
      if (opts.scenario) return evalScenario({ ...opts, scenario: opts.scenario }, cmd);
      const registry = opts.rating ? RATING_MODELS : STRATEGIES;
      const names = resolveNames(
        opts.strategies ?? (opts.rating ? ['global-mean', 'bias'] : ['most-popular', 'itemknn', 'ease']),
        registry,
        '--strategies',
      );
      const { config, secrets } = configFor(cmd);
      const params = parseParams(opts.param, registry);
      if (opts.folds !== undefined && opts.split !== undefined)
        throw new ValidationError('give --folds or --split, not both', '--folds');
      const split = parseSplit(
        opts.split ?? (opts.folds !== undefined ? `kfold:${opts.folds}` : opts.rating ? 'kfold:5' : 'stratified:0.75'),
      );
      // From the store, or from the server that holds it (a snapshot it writes between writes).
      // The evaluator and the report writer (charts) load only when an evaluation runs.
      const { evaluateRanking, evaluateRating } = await import('../../evaluation/evaluator.ts');
      const { newReportId, writeReport } = await import('../../evaluation/report.ts');
      const { evalDataOf } = await import('../../pipeline/training-data.ts');
      const data: EvalData = evalDataOf(await snapshotFor(config, secrets));
      const progress = terminalProgress();
      const report = opts.rating
        ? await evaluateRating(data, config, {
            id: newReportId('rating'),
            models: names,
            params,
            split,
            seeds: opts.seeds,
            progress,
          })
        : await evaluateRanking(data, config, {
            id: newReportId('ranking'),
            strategies: names,
            params,
            split,
            seeds: opts.seeds,
            k: opts.k,
            relevance:
              opts.minRating !== undefined ? { kind: 'min-rating', minRating: opts.minRating } : { kind: 'all' },
            ...(opts.strong ? { strong: opts.strong } : {}),
            progress,
          });
      const files = await writeReport(config.reportsDir, report);
      output(cmd, report, (r) => render(r, files));
    });
}

/** `cinerec eval --scenario <name>`: one report per given count, each printed and written like any evaluation. */
async function evalScenario(opts: EvalOptions & { scenario: ScenarioName }, cmd: Command): Promise<void> {
  if (opts.rating || opts.split !== undefined || opts.folds !== undefined || opts.strong)
    throw new ValidationError(
      '--scenario builds its own test users: drop --rating, --split, --folds and --strong',
      '--scenario',
    );
  const names = resolveNames(
    opts.strategies ?? SCENARIO_DEFAULTS[opts.scenario].strategies,
    STRATEGIES,
    '--strategies',
  );
  const { config, secrets } = configFor(cmd);
  const params = parseParams(opts.param, STRATEGIES);
  const { evaluateScenario } = await import('../../evaluation/scenarios.ts');
  const { newReportId, writeReport } = await import('../../evaluation/report.ts');
  const { evalDataOf } = await import('../../pipeline/training-data.ts');
  const data: EvalData = evalDataOf(await snapshotFor(config, secrets));
  const reports = await evaluateScenario(data, config, {
    scenario: opts.scenario,
    id: newReportId('scenario'),
    strategies: names,
    params,
    seeds: opts.seeds,
    k: opts.k,
    ...(opts.given ? { given: opts.given } : {}),
    ...(opts.userFolds !== undefined ? { userFolds: opts.userFolds } : {}),
    ...(opts.foldsUsed !== undefined ? { foldsUsed: opts.foldsUsed } : {}),
    ...(opts.coldMovies !== undefined ? { coldMovies: opts.coldMovies } : {}),
    ...(opts.minRating !== undefined ? { likedRating: opts.minRating } : {}),
    progress: terminalProgress(),
  });
  const written: { json: string; markdown: string }[] = [];
  for (const r of reports) written.push(await writeReport(config.reportsDir, r));
  output(cmd, reports, (rs) => rs.map((r, i) => render(r, written[i]!)).join('\n\n'));
}
