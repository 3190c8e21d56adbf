import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { RATING_MODELS, SERVED_MODELS, STRATEGIES, searchSpaceOf, tunable } from '../../components/index.ts';
import { formatPlan, type PipelineEvent } from '../../pipeline/dag.ts';
import type { TrainOutcome } from '../../pipeline/train.ts';
import { readSnapshot } from '../../store/snapshot.ts';
import { trackerFor } from '../../tracking/tracker.ts';
import type { RunRecord } from '../../tracking/types.ts';
import { ValidationError } from '../../util/errors.ts';
import { megabytes } from '../../util/format.ts';
import { type Progress, silentProgress, terminalProgress } from '../../util/progress.ts';
import { modelsState } from '../../versions/pointer.ts';
import { pointerFor } from '../../versions/pointer-for.ts';
import { versionsFor } from '../../versions/versions.ts';
import { configFor, globals, output } from '../context.ts';
import { table } from '../format.ts';
import { list, positiveInt } from '../parse.ts';
import { snapshotFor } from '../snapshot.ts';

/** The stages of `cinerec train`, in order: the snapshot, one per trained model, the evaluation. */
const STAGE_NAMES = ['snapshot', ...SERVED_MODELS.map((m) => m.name), 'evaluation'];

const secs = (ms: number | null) => (ms === null ? '' : `${(ms / 1000).toFixed(1)} s`);
const num = (v: number | null | undefined) =>
  v === null || v === undefined ? '' : Number.isInteger(v) ? String(v) : v.toPrecision(4);

/** Stage lines on stderr, and a bar per stage for its epochs/iterations. */
export function trainReporter(json: boolean): (e: PipelineEvent) => void {
  const say = (line: string) => process.stderr.write(`cinerec: ${line}\n`);
  let bar: Progress = silentProgress;
  let barTotal = -1;
  return (e) => {
    if (e.type === 'stage-cached') say(`[${e.index + 1}/${e.count}] ${e.stage}: cached (${e.key.slice(0, 12)})`);
    else if (e.type === 'stage-start') barTotal = -1;
    else if (e.type === 'progress' && e.total !== null && !json) {
      if (barTotal !== e.total) {
        bar.stop();
        bar = terminalProgress();
        bar.start(e.total, e.stage);
        barTotal = e.total;
      }
      bar.update(e.step);
    } else if (e.type === 'log') say(`${e.stage}: ${e.message}`);
    else if (e.type === 'stage-end') {
      bar.stop();
      bar = silentProgress;
      barTotal = -1;
      const m = Object.entries(e.metrics)
        .slice(0, 4)
        .map(([k, v]) => `${k} ${num(v)}`)
        .join(', ');
      say(
        `[${e.index + 1}/${e.count}] ${e.stage}: ${e.status} in ${secs(e.durationMs)}, peak RSS ${megabytes(e.peakRssBytes, 0)}${m ? `; ${m}` : ''}${e.error ? `: ${e.error}` : ''}`,
      );
    }
  };
}

function renderOutcome(o: TrainOutcome, dryRun: boolean): string {
  if (dryRun) return formatPlan(o.plan);
  const lines: string[] = [];
  if (o.result) {
    lines.push(
      table(
        ['stage', 'status', 'time', 'metrics'],
        o.result.stages.map((s) => [
          s.name,
          s.status,
          secs(s.durationMs),
          Object.entries(s.metrics)
            .slice(0, 3)
            .map(([k, v]) => `${k} ${num(v)}`)
            .join(', '),
        ]),
      ),
    );
    if (o.result.status === 'failed') lines.push(`training failed: ${o.result.error}; the active version is unchanged`);
  }
  if (o.version)
    lines.push(`version ${o.version}${o.created ? ' (new)' : ' (unchanged)'}${o.activated ? ', active' : ''}`);
  if (o.gate) lines.push(`quality gate: ${o.gate.passed ? 'passed' : 'failed'}: ${o.gate.reason}`);
  return lines.join('\n');
}

function runRow(r: Pick<RunRecord, 'id' | 'kind' | 'status' | 'startedAt' | 'durationMs' | 'metrics'>) {
  const metrics = Object.entries(r.metrics)
    .filter(([k]) => /ndcg|rmse|loss|R2|k$/.test(k))
    .slice(0, 3)
    .map(([k, v]) => `${k} ${num(v)}`)
    .join(', ');
  return [r.id, r.kind, r.status, r.startedAt.replace('T', ' ').slice(0, 19), secs(r.durationMs), metrics];
}

type TunedScenario = { name: 'watched' | 'few-ratings' | 'new-movie'; given?: number[] };

/** `tune --scenario`: which scenario's viewers score the trials (the personalised protocol is the default split). */
function tuneScenario(name: string | undefined, given: string | undefined): TunedScenario | undefined {
  if (name === undefined) {
    if (given !== undefined) throw new ValidationError('--given needs --scenario', '--given');
    return undefined;
  }
  if (name !== 'watched' && name !== 'few-ratings' && name !== 'new-movie')
    throw new ValidationError(
      `--scenario must be watched, few-ratings or new-movie (personalised is the default split), not "${name}"`,
      '--scenario',
    );
  if (given === undefined) return { name };
  const counts = given.split(',').map((v) => Number(v.trim()));
  if (counts.some((n) => !Number.isSafeInteger(n) || n < 1 || n > 1000))
    throw new ValidationError(`--given must be whole numbers from 1 to 1000, not "${given}"`, '--given');
  return { name, given: [...new Set(counts)].sort((a, b) => a - b) };
}

export function registerPipeline(program: Command): void {
  program
    .command('train')
    .description(
      `train every model as a DAG of cached stages (${STAGE_NAMES.join(', ')}), make a model version and activate it`,
    )
    .option('--only <stage>', 'run one stage and what it depends on; makes no version')
    .option('--force [stages]', 'rerun stages even when cached: all, or a comma-separated list', list)
    .option('--dry-run', 'print the plan (what runs, what is cached) and stop')
    .option('--no-activate', 'make the version but leave the active one')
    .option('--gate', 'activate only if the quality gate passes (pipeline.gate)')
    .option('--from-snapshot <dir>', 'train on a data snapshot written by the server (scheduled retraining)')
    .option('--kind <kind>', 'kind of the recorded run', 'train')
    .action(
      async (
        opts: {
          only?: string;
          force?: string[] | boolean;
          dryRun?: boolean;
          activate: boolean;
          gate?: boolean;
          fromSnapshot?: string;
          kind: string;
        },
        cmd: Command,
      ) => {
        const { config, secrets } = configFor(cmd);
        if (opts.only !== undefined && !STAGE_NAMES.includes(opts.only))
          throw new ValidationError(
            `--only: unknown stage "${opts.only}"; stages: ${STAGE_NAMES.join(', ')}`,
            '--only',
          );
        const force = Array.isArray(opts.force) ? opts.force : opts.force === true ? true : undefined;
        for (const s of Array.isArray(force) ? force : [])
          if (!STAGE_NAMES.includes(s))
            throw new ValidationError(`--force: unknown stage "${s}"; stages: ${STAGE_NAMES.join(', ')}`, '--force');
        const json = globals(cmd).json === true;
        const snapshot = opts.fromSnapshot ? readSnapshot(opts.fromSnapshot) : await snapshotFor(config, secrets);
        const { train } = await import('../../pipeline/train.ts');
        const outcome = await train(config, snapshot, {
          ...(opts.only ? { only: opts.only } : {}),
          ...(force !== undefined ? { force } : {}),
          dryRun: opts.dryRun === true,
          activate: !opts.activate ? 'never' : opts.gate ? 'gate' : 'always',
          kind: opts.kind,
          onEvent: trainReporter(json),
          log: (line) => process.stderr.write(`cinerec: ${line}\n`),
        });
        output(cmd, outcome, (o) => renderOutcome(o, opts.dryRun === true));
        if (outcome.result?.status === 'failed') process.exitCode = 1;
      },
    );

  program
    .command('tune')
    .description(
      `random search over a strategy's parameters on a validation split; every trial is a run (${tunable().join(', ')})`,
    )
    .argument('<name>', 'strategy or rating model to tune')
    .option('--trials <n>', 'number of sampled settings', positiveInt('--trials', 1000), 20)
    .option(
      '--seed <n>',
      'seed of the sampler and of the validation split (not an evaluation seed)',
      (v) => Number(v),
      101,
    )
    .option('--train-fraction <x>', 'share of each user’s ratings to train on', (v) => Number(v), 0.75)
    .option('--k <n>', 'list length of the ranking metric', positiveInt('--k', 1000), 10)
    .option('--write', 'write the best parameters that are settings into the config file')
    .option(
      '--scenario <name>',
      'score trials on a scenario’s own viewers (watched, few-ratings, new-movie; one user fold of the tuning seed)',
    )
    .option('--given <list>', 'with --scenario: movies each validation viewer tells (default: the scenario’s)')
    .action(
      async (
        name: string,
        opts: {
          trials: number;
          seed: number;
          trainFraction: number;
          k: number;
          write?: boolean;
          scenario?: string;
          given?: string;
        },
        cmd: Command,
      ) => {
        const loaded = configFor(cmd);
        const { config } = loaded;
        if (!(opts.trainFraction > 0 && opts.trainFraction < 1))
          throw new ValidationError('--train-fraction must be between 0 and 1', '--train-fraction');
        if (!Number.isInteger(opts.seed)) throw new ValidationError('--seed must be a whole number', '--seed');
        const scenario = tuneScenario(opts.scenario, opts.given);
        const snapshot = await snapshotFor(config, loaded.secrets);
        const { tracker, mlflow } = trackerFor(config);
        const say = (line: string) => process.stderr.write(`cinerec: ${line}\n`);
        const bar = globals(cmd).json ? silentProgress : terminalProgress();
        bar.start(opts.trials, `tune ${name}`);
        const { configUpdates, tune } = await import('../../pipeline/tune.ts');
        const result = await tune(config, snapshot, {
          name,
          trials: opts.trials,
          seed: opts.seed,
          trainFraction: opts.trainFraction,
          k: opts.k,
          ...(scenario ? { scenario } : {}),
          tracker,
          codeVersion: 'tune',
          onTrial: (t) => bar.update(t.trial),
        }).finally(() => bar.stop());
        await mlflow?.flush();
        const spec = STRATEGIES.get(name) ?? RATING_MODELS.get(name);
        const searched = spec ? Object.keys(searchSpaceOf(spec)) : [];
        let written: Record<string, number> = {};
        if (opts.write) {
          const tuned = Object.fromEntries(searched.map((k) => [k, result.best.params[k]!]));
          written = configUpdates(name, tuned);
          const file = loaded.file ?? resolve('cinerec.config.json');
          const current: Record<string, unknown> = existsSync(file)
            ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)
            : {};
          for (const [path, value] of Object.entries(written)) {
            const keys = path.split('.');
            let node = current;
            for (const key of keys.slice(0, -1)) {
              if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
              node = node[key] as Record<string, unknown>;
            }
            node[keys.at(-1)!] = value;
          }
          writeFileSync(file, `${JSON.stringify(current, null, 2)}\n`);
          say(`wrote ${Object.keys(written).join(', ') || 'nothing (no tuned parameter is a setting)'} to ${file}`);
        }
        output(cmd, { ...result, written }, (r) =>
          [
            table(
              ['trial', ...searched, r.metric],
              [r.baseline, ...r.trials].map((t) => [
                t.trial === 0 ? 'config' : t.trial,
                ...searched.map((k) => num(t.params[k])),
                num(t.score),
              ]),
            ),
            `best: ${Object.entries(r.best.params)
              .filter(([k]) => searched.includes(k))
              .map(([k, v]) => `--param ${name}.${k}=${v}`)
              .join(
                ' ',
              )} (${r.metric} ${num(r.best.score)} vs ${num(r.baseline.score)} with the configuration; run ${r.runId})`,
          ].join('\n'),
        );
      },
    );

  const runs = program.command('runs').description('training runs: parameters, metrics, curves, status');
  runs
    .command('list')
    .description('newest first')
    .option('--kind <kind>', 'only runs of this kind (train, retrain, stage:als, tune:als, …)')
    .option('--all', 'include stage runs (default: top-level runs only)')
    .option('--limit <n>', 'at most n runs', (v) => Number(v), 30)
    .action((opts: { kind?: string; all?: boolean; limit: number }, cmd: Command) => {
      const { config } = configFor(cmd);
      const { tracker } = trackerFor(config);
      tracker.recoverInterrupted();
      const list = tracker.list({
        ...(opts.kind ? { kind: opts.kind } : opts.all ? {} : { parentId: null }),
        limit: opts.limit,
      });
      output(cmd, list, (rs) =>
        rs.length === 0
          ? `no runs yet in ${config.modelsDir}: run \`npx cinerec train\``
          : table(['run', 'kind', 'status', 'started', 'time', 'metrics'], rs.map(runRow)),
      );
    });
  runs
    .command('show')
    .description('one run with its stage runs, parameters, metrics and curves')
    .argument('<id>', 'run id')
    .action((id: string, _opts: unknown, cmd: Command) => {
      const { config } = configFor(cmd);
      const { tracker } = trackerFor(config);
      const run = tracker.get(id);
      const children = tracker.list({ parentId: id });
      output(cmd, { ...run, stages: children }, (r) => {
        const lines = [
          `run ${r.id} (${r.kind}): ${r.status}${r.error ? `: ${r.error}` : ''}${r.note ? ` — ${r.note}` : ''}`,
          `started ${r.startedAt}, ${secs(r.durationMs)}, peak RSS ${r.peakRssBytes ? megabytes(r.peakRssBytes, 0) : 'not recorded'}, code ${r.codeVersion.slice(0, 12)}, data ${r.dataFingerprint?.slice(0, 12) ?? 'n/a'}`,
        ];
        const metrics = Object.entries(r.metrics);
        if (metrics.length)
          lines.push(
            'metrics:',
            table(
              ['metric', 'value'],
              metrics.map(([k, v]) => [k, num(v)]),
            ),
          );
        for (const [name, pts] of Object.entries(r.curves))
          lines.push(`curve ${name}: ${pts.map((p) => num(p.value)).join(' ')}`);
        if (r.artifacts.length)
          lines.push(
            `artifacts: ${r.artifacts.map((a) => `${a.path} (${(a.bytes / 1024).toFixed(0)} KB)`).join(', ')}`,
          );
        if (r.stages.length)
          lines.push('stages:', table(['run', 'kind', 'status', 'started', 'time', 'metrics'], r.stages.map(runRow)));
        return lines.join('\n');
      });
    });
  runs
    .command('compare')
    .description('parameters that differ and metrics side by side')
    .argument('<a>', 'run id')
    .argument('<b>', 'run id')
    .action((a: string, b: string, _opts: unknown, cmd: Command) => {
      const { config } = configFor(cmd);
      const { tracker } = trackerFor(config);
      const cmp = tracker.compare(a, b);
      output(cmd, cmp, (c) =>
        [
          `${c.a.id} (${c.a.kind}, ${c.a.status}) vs ${c.b.id} (${c.b.kind}, ${c.b.status})`,
          c.params.length
            ? table(
                ['parameter', 'a', 'b'],
                c.params.map((p) => [p.name, String(p.a), String(p.b)]),
              )
            : 'same parameters',
          table(
            ['metric', 'a', 'b', 'b − a'],
            c.metrics.map((m) => [m.name, num(m.a), num(m.b), m.delta === null ? '' : num(m.delta)]),
          ),
        ].join('\n'),
      );
    });

  const models = program.command('models').description('model versions made by `cinerec train`');
  models
    .command('list')
    .description('versions, newest last, with the active one marked')
    .action(async (_opts: unknown, cmd: Command) => {
      const { config } = configFor(cmd);
      const state = await modelsState(versionsFor(config), await pointerFor(config));
      output(cmd, state, (s) =>
        s.versions.length === 0
          ? 'no model versions yet: run `npx cinerec train`'
          : table(
              ['', 'version', 'created', 'run', 'data', `${config.pipeline.gate.metric}`, 'size'],
              s.versions.map((v) => [
                v.active ? '*' : '',
                v.version,
                v.createdAt.replace('T', ' ').slice(0, 19),
                v.runId ?? '',
                v.dataFingerprint.slice(0, 10),
                num(v.metrics[config.pipeline.gate.metric]),
                megabytes(v.bytes),
              ]),
            ),
      );
    });
  models
    .command('activate')
    .description('serve this version (a running server swaps to it)')
    .argument('<version>', 'e.g. v0003')
    .action(async (v: string, _opts: unknown, cmd: Command) => {
      const { config } = configFor(cmd);
      const state = await (await pointerFor(config)).activate(v);
      output(cmd, state, (s) => `active: ${s.active}`);
    });
  models
    .command('verify')
    .description('check every file of a version (default: the active one) against its recorded size and sha256')
    .argument('[version]', 'e.g. v0003')
    .action(async (v: string | undefined, _opts: unknown, cmd: Command) => {
      const { config } = configFor(cmd);
      const versions = versionsFor(config);
      const id = v ?? (await (await pointerFor(config)).state()).active;
      if (!id) throw new ValidationError('no active model version to verify: run `npx cinerec train`', 'version');
      const m = versions.verify(id, { content: true });
      const hashed = m.artifacts.filter((a) => a.sha256).length;
      output(cmd, { version: id, ok: true, files: m.artifacts.length, hashed, bytes: m.bytes }, (r) =>
        hashed === r.files
          ? `${id}: ok, ${r.files} files (${megabytes(r.bytes)}) match their sizes and sha256`
          : `${id}: ok by size; ${r.files - hashed} of ${r.files} files were recorded without a sha256 (made before hashes were recorded)`,
      );
    });
  models
    .command('rollback')
    .description('go back to the previously active version')
    .action(async (_opts: unknown, cmd: Command) => {
      const { config } = configFor(cmd);
      const state = await (await pointerFor(config)).rollback();
      output(cmd, state, (s) => `active: ${s.active}`);
    });
}
