/**
 * Experiments: training runs (parameters, metrics, their stage runs and every curve as a line chart),
 * a comparison of two runs, model versions with activate / roll back / retrain, and the offline
 * evaluation reports as tables and bar charts. Runs and versions are the files `cinerec train` writes
 * under modelsDir, read through /v1/runs and /v1/models; the chosen run and the compared pair live in
 * the address (?run=…&compare=…,…) so a view can be linked to.
 */
import { type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { megabytes as formatMegabytes } from '../../../src/util/format.ts';
import { TokenField, useAdminToken } from '../admin.tsx';
import { type Async, api, plainError, useAsync } from '../api.ts';
import { BarChart, LineChart, type Series } from '../charts/charts.tsx';
import { Scroller } from '../components/scroller.tsx';
import { AsyncView, Empty, ErrorBox } from '../components/status.tsx';
import { navigate, useLocation } from '../router.tsx';
import type { EvaluationList, EvaluationReport, ModelsView, RunDetail, RunRecord, RunSummary } from '../types.ts';

type Param = RunRecord['params'][string];
type RunStatus = RunSummary['status'];

const fmt = (v: number | null | undefined): string =>
  v === null || v === undefined
    ? '–'
    : Number.isInteger(v)
      ? String(v)
      : Math.abs(v) >= 100
        ? v.toFixed(1)
        : v.toFixed(4);

const fmtParam = (v: Param | undefined): string => (v === undefined || v === null ? '–' : String(v));

const duration = (ms: number | null): string =>
  ms === null
    ? '–'
    : ms < 1000
      ? `${Math.round(ms)} ms`
      : ms < 120_000
        ? `${(ms / 1000).toFixed(1)} s`
        : `${(ms / 60_000).toFixed(1)} min`;

// The CLI's own formatter, so a size reads the same in `cinerec models list` and here.
const megabytes = (bytes: number | null): string => (bytes === null ? '–' : formatMegabytes(bytes));

function When({ iso }: { iso: string | null }) {
  if (!iso) return <>–</>;
  const d = new Date(iso);
  return (
    <time dateTime={iso} title={iso}>
      {d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })}
    </time>
  );
}

/** Which way a metric improves, from its name ("als.ndcg" → its last part); null when it has no direction. */
function direction(name: string): 'higher' | 'lower' | null {
  const m = name.split('.').at(-1) ?? name;
  if (/rmse|mae|loss|inertia|seconds|davies|popularity|bytes/i.test(m)) return 'lower';
  if (/ndcg|precision|recall|hit|map|mrr|coverage|novelty|auc|r2|silhouette|calinski/i.test(m)) return 'higher';
  return null;
}

/** A few metrics for a list row: the NDCGs when there are any (the evaluation's headline), else the first. */
function headline(metrics: Record<string, number>, n = 3): string {
  const entries = Object.entries(metrics);
  const ndcg = entries.filter(([k]) => /(^|\.)ndcg$/.test(k));
  return (
    (ndcg.length > 0 ? ndcg : entries)
      .slice(0, n)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(' · ') || '–'
  );
}

const statusWords: Record<RunStatus, string> = {
  running: 'running',
  finished: 'finished',
  failed: 'failed',
  skipped: 'cached',
};

/** What a stage's curve steps count. */
const X_LABEL: Record<string, string> = {
  als: 'iteration',
  mf: 'epoch',
  'movie-segments': 'k',
  'user-segments': 'k',
  neural: 'epoch',
};

const runUrl = (id: string) => `/v1/runs/${encodeURIComponent(id)}`;

/** A skipped (cached) stage run names the run that produced its output: the curves are that run's. */
const CACHED_FROM = /output of run (\d{8}T\d{9}-\d{3,})/;

interface StageCurves {
  stage: string;
  run: RunDetail;
  /** The run whose curves these are, when the stage was cached. */
  cachedFrom: string | null;
  curves: RunRecord['curves'];
}

/** The curves of every stage of a run (and the run's own, when it has any, e.g. a stage run). */
async function loadCurves(run: RunDetail, signal: AbortSignal): Promise<StageCurves[]> {
  // In the order they ran (ids sort by start time; the API lists newest first).
  const ordered = [...run.stages].sort((a, b) => (a.id < b.id ? -1 : 1));
  const stages = await Promise.all(
    ordered.map(async (s): Promise<StageCurves> => {
      const rec = await api<RunDetail>(runUrl(s.id), { signal });
      const from = rec.status === 'skipped' ? (CACHED_FROM.exec(rec.note ?? '')?.[1] ?? null) : null;
      // The producing run may have been removed since: then there are no curves to show.
      const source = from ? await api<RunDetail>(runUrl(from), { signal }).catch(() => null) : null;
      return { stage: s.kind.replace(/^stage:/, ''), run: rec, cachedFrom: from, curves: (source ?? rec).curves };
    }),
  );
  const own: StageCurves[] =
    Object.keys(run.curves).length > 0
      ? [{ stage: run.kind.replace(/^stage:/, ''), run, cachedFrom: null, curves: run.curves }]
      : [];
  return [...own, ...stages];
}

function KeyValues({
  title,
  values,
  raw = false,
}: {
  title: string;
  values: Record<string, number | string | boolean | null>;
  /** Numbers as given (settings), not rounded (measurements). */
  raw?: boolean;
}) {
  const entries = Object.entries(values);
  return (
    <Scroller label={title}>
      <table aria-label={title}>
        <tbody>
          {entries.length === 0 ? (
            <tr>
              <td>none</td>
            </tr>
          ) : (
            entries.map(([k, v]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td className="num">{typeof v === 'number' && !raw ? fmt(v) : fmtParam(v)}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </Scroller>
  );
}

/** Long lists (a train run records the whole configuration) start folded. */
function Fold({ summary, open, children }: { summary: string; open: boolean; children: ReactNode }) {
  return (
    <details open={open} className="fold">
      <summary>{summary}</summary>
      {children}
    </details>
  );
}

function CurveNumbers({ stage, curves }: { stage: string; curves: RunRecord['curves'] }) {
  const names = Object.keys(curves);
  const steps = [...new Set(names.flatMap((n) => curves[n]!.map((p) => p.step)))].sort((a, b) => a - b);
  const at = (n: string, step: number) => curves[n]!.find((p) => p.step === step)?.value;
  return (
    <Fold summary={`${stage}: the numbers`} open={false}>
      <Scroller label={`${stage} curves as numbers`}>
        <table aria-label={`${stage} curves as numbers`}>
          <thead>
            <tr>
              <th scope="col">{X_LABEL[stage] ?? 'step'}</th>
              {names.map((n) => (
                <th key={n} scope="col">
                  {n}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {steps.map((s) => (
              <tr key={s}>
                <th scope="row">{s}</th>
                {names.map((n) => (
                  <td key={n} className="num">
                    {fmt(at(n, s))}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </Scroller>
    </Fold>
  );
}

function StageCharts({ stages }: { stages: StageCurves[] }) {
  const withCurves = stages.filter((s) => Object.keys(s.curves).length > 0);
  if (withCurves.length === 0) return <Empty>This run recorded no curves.</Empty>;
  return (
    <>
      {withCurves.map((s) => (
        <div key={s.run.id} className="stage-curves">
          <h4>
            {s.stage}
            {s.cachedFrom ? (
              <span className="muted">
                {' '}
                · cached: the curves of run <span className="token">{s.cachedFrom}</span>
              </span>
            ) : null}
          </h4>
          <div className="charts">
            {Object.entries(s.curves).map(([name, points]) => (
              <LineChart
                key={name}
                title={`${s.stage} ${name} by ${X_LABEL[s.stage] ?? 'step'}`}
                xLabel={X_LABEL[s.stage] ?? 'step'}
                series={[{ name, points }]}
                markers={points.length <= 60}
              />
            ))}
          </div>
          <CurveNumbers stage={s.stage} curves={s.curves} />
        </div>
      ))}
    </>
  );
}

function RunDetails({
  id,
  versionOf,
  onClose,
}: {
  id: string;
  versionOf: (runId: string) => string | null;
  onClose: () => void;
}) {
  const state = useAsync(`run|${id}`, async (signal) => {
    const run = await api<RunDetail>(runUrl(id), { signal });
    return { run, stages: await loadCurves(run, signal) };
  });
  const heading = useRef<HTMLHeadingElement>(null);
  // Opening a run moves the focus (and the view) to it, so keyboard and screen-reader users land there.
  // biome-ignore lint/correctness/useExhaustiveDependencies: focus again whenever another run is opened.
  useEffect(() => heading.current?.focus(), [id]);
  const version = versionOf(id);
  return (
    <section className="panel run-details" aria-labelledby="run-details-h" data-testid="run-details" id="run-details">
      <div className="row spread">
        <h3 id="run-details-h" ref={heading} tabIndex={-1}>
          Run <span className="token">{id}</span>
          {version ? <span className="badge">{version}</span> : null}
        </h3>
        <button type="button" onClick={onClose}>
          Close the run
        </button>
      </div>
      <AsyncView state={state} loading="Loading the run and its stages">
        {({ run, stages }) => (
          <>
            <p className="muted">
              {run.kind} · {statusWords[run.status]} · started <When iso={run.startedAt} /> · {duration(run.durationMs)}
              {run.peakRssBytes !== null ? ` · peak memory ${megabytes(run.peakRssBytes)}` : ''}
              {run.dataFingerprint ? ` · data ${run.dataFingerprint.slice(0, 12)}` : ''}
              {run.codeVersion ? ` · code ${run.codeVersion.slice(0, 12)}` : ''}
            </p>
            {run.note ? <p>{run.note}</p> : null}
            {run.error ? <ErrorBox message={`The run failed: ${run.error}`} /> : null}
            <div className="split">
              <Fold
                summary={`Parameters (${Object.keys(run.params).length})`}
                open={Object.keys(run.params).length <= 12}
              >
                <KeyValues title="Parameters" values={run.params} raw />
              </Fold>
              <Fold summary={`Metrics (${Object.keys(run.metrics).length})`} open>
                <KeyValues title="Metrics" values={run.metrics} />
              </Fold>
            </div>
            {run.stages.length > 0 ? (
              <Scroller label="Stage runs" minWidth="30rem">
                <table aria-label="Stage runs">
                  <thead>
                    <tr>
                      <th scope="col">Stage</th>
                      <th scope="col">Status</th>
                      <th scope="col">Duration</th>
                      <th scope="col">Metrics</th>
                    </tr>
                  </thead>
                  <tbody>
                    {stages
                      .filter((s) => s.run.id !== run.id)
                      .map((s) => (
                        <tr key={s.run.id}>
                          <th scope="row">{s.stage}</th>
                          <td className={`status-${s.run.status}`}>
                            {statusWords[s.run.status]}
                            {s.cachedFrom ? (
                              <small className="muted">
                                {' '}
                                (from run <span className="token">{s.cachedFrom}</span>)
                              </small>
                            ) : null}
                            {s.run.error ? <small> {s.run.error}</small> : null}
                          </td>
                          <td className="num">{duration(s.run.durationMs)}</td>
                          <td className="metrics">{headline(s.run.metrics, 4)}</td>
                        </tr>
                      ))}
                  </tbody>
                </table>
              </Scroller>
            ) : null}
            <h4 className="sub">Curves</h4>
            <StageCharts stages={stages} />
          </>
        )}
      </AsyncView>
    </section>
  );
}

function Delta({ name, a, b }: { name: string; a: number | null; b: number | null }) {
  if (a === null || b === null) return <>–</>;
  const d = b - a;
  const dir = direction(name);
  const verdict = d === 0 ? 'same' : dir === null ? null : (dir === 'higher') === d > 0 ? 'better' : 'worse';
  return (
    <>
      {d > 0 ? '+' : d < 0 ? '−' : '±'}
      {fmt(Math.abs(d))}
      {verdict ? <span className={`delta ${verdict}`}> {verdict}</span> : null}
    </>
  );
}

function Compare({ ids, versionOf }: { ids: [string, string]; versionOf: (runId: string) => string | null }) {
  const [a, b] = ids;
  const [allParams, setAllParams] = useState(false);
  const toggleId = useId();
  const state = useAsync(`cmp|${a}|${b}`, async (signal) => {
    const [ra, rb] = await Promise.all([api<RunDetail>(runUrl(a), { signal }), api<RunDetail>(runUrl(b), { signal })]);
    const [ca, cb] = await Promise.all([loadCurves(ra, signal), loadCurves(rb, signal)]);
    return { ra, rb, ca, cb };
  });
  const label = (id: string) => {
    const v = versionOf(id);
    const run = <span className="token">{id}</span>;
    return v ? (
      <>
        {v} (run {run})
      </>
    ) : (
      <>run {run}</>
    );
  };
  const short = (id: string) => versionOf(id) ?? id;
  return (
    <section className="panel" aria-labelledby="compare-h" data-testid="comparison">
      <h3 id="compare-h">
        Comparison: {label(a)} against {label(b)}
      </h3>
      <AsyncView state={state} loading="Loading both runs">
        {({ ra, rb, ca, cb }) => {
          const names = [...new Set([...Object.keys(ra.params), ...Object.keys(rb.params)])].sort();
          const differ = names.filter((p) => fmtParam(ra.params[p]) !== fmtParam(rb.params[p]));
          const shown = allParams ? names : differ;
          const metrics = [...new Set([...Object.keys(ra.metrics), ...Object.keys(rb.metrics)])].sort();
          // Curves both runs have, stage by stage, drawn over each other.
          const overlays: { title: string; xLabel: string; series: Series[] }[] = [];
          for (const sa of ca) {
            const sb = cb.find((s) => s.stage === sa.stage);
            // A stage the later run took from the cache has the very same curves: nothing to compare.
            if (!sb || (sa.cachedFrom ?? sa.run.id) === (sb.cachedFrom ?? sb.run.id)) continue;
            for (const [name, points] of Object.entries(sa.curves)) {
              const other = sb.curves[name];
              if (!other) continue;
              const xLabel = X_LABEL[sa.stage] ?? 'step';
              overlays.push({
                title: `${sa.stage} ${name} by ${xLabel}: ${short(a)} and ${short(b)}`,
                xLabel,
                series: [
                  { name: short(a), points },
                  { name: short(b), points: other },
                ],
              });
            }
          }
          return (
            <>
              <p className="muted">
                {differ.length} of {names.length} parameters differ. Changes are {short(b)} minus {short(a)}.
              </p>
              <p className="row">
                <input
                  id={toggleId}
                  type="checkbox"
                  checked={allParams}
                  onChange={(e) => setAllParams(e.target.checked)}
                />
                <label htmlFor={toggleId}>Show the parameters that are the same too</label>
              </p>
              <div className="split">
                <Scroller label="Parameters compared">
                  <table aria-label="Parameters compared">
                    <thead>
                      <tr>
                        <th scope="col">Parameter</th>
                        <th scope="col">{short(a)}</th>
                        <th scope="col">{short(b)}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {shown.length === 0 ? (
                        <tr>
                          <td colSpan={3}>The two runs have the same parameters.</td>
                        </tr>
                      ) : (
                        shown.map((p) => (
                          <tr key={p} className={differ.includes(p) ? 'changed' : 'muted'}>
                            <th scope="row">{p}</th>
                            <td>{fmtParam(ra.params[p])}</td>
                            <td>{fmtParam(rb.params[p])}</td>
                          </tr>
                        ))
                      )}
                    </tbody>
                  </table>
                </Scroller>
                <Scroller label="Metrics compared">
                  <table aria-label="Metrics compared">
                    <thead>
                      <tr>
                        <th scope="col">Metric</th>
                        <th scope="col">{short(a)}</th>
                        <th scope="col">{short(b)}</th>
                        <th scope="col">Change</th>
                      </tr>
                    </thead>
                    <tbody>
                      {metrics.map((m) => {
                        const x = ra.metrics[m] ?? null;
                        const y = rb.metrics[m] ?? null;
                        return (
                          <tr key={m}>
                            <th scope="row">{m}</th>
                            <td className="num">{fmt(x)}</td>
                            <td className="num">{fmt(y)}</td>
                            <td className="num">
                              <Delta name={m} a={x} b={y} />
                            </td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </Scroller>
              </div>
              {overlays.length > 0 ? (
                <div className="charts">
                  {overlays.map((o) => (
                    <LineChart
                      key={o.title}
                      title={o.title}
                      xLabel={o.xLabel}
                      series={o.series}
                      markers={o.series.every((s) => s.points.length <= 60)}
                    />
                  ))}
                </div>
              ) : null}
            </>
          );
        }}
      </AsyncView>
    </section>
  );
}

const RUN_FILTERS = [
  { value: 'top', label: 'Trainings, retrainings and tunings', query: '' },
  { value: 'train', label: 'Trainings only', query: '?kind=train' },
  { value: 'retrain', label: 'Retrainings only', query: '?kind=retrain' },
  { value: 'all', label: 'Every run, stages too', query: '?all=true' },
] as const;

function Runs({
  refresh,
  open,
  picked,
  onOpen,
  onPick,
  versionOf,
  activeVersion,
}: {
  refresh: number;
  open: string | null;
  picked: string[];
  onOpen: (id: string | null) => void;
  onPick: (ids: string[]) => void;
  versionOf: (runId: string) => string | null;
  activeVersion: string | null;
}) {
  const [filter, setFilter] = useState<(typeof RUN_FILTERS)[number]['value']>('top');
  const [tick, setTick] = useState(0);
  const filterId = useId();
  const query = RUN_FILTERS.find((f) => f.value === filter)!.query;
  const state = useAsync(`runs|${query}|${refresh}|${tick}`, (signal) =>
    api<{ runs: RunSummary[] }>(`/v1/runs${query}`, { signal }),
  );
  // A run in progress (a retraining, or `cinerec train` elsewhere) is followed until it ends.
  const running = state.data?.runs.some((r) => r.status === 'running') ?? false;
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick re-arms the timer after each reload.
  useEffect(() => {
    if (!running) return;
    const t = setTimeout(() => setTick((x) => x + 1), 2000);
    return () => clearTimeout(t);
  }, [running, tick]);
  const toggle = (id: string) =>
    onPick(picked.includes(id) ? picked.filter((x) => x !== id) : [...picked, id].slice(-2));
  return (
    <>
      <p className="row">
        <label htmlFor={filterId}>Runs to show</label>
        <select id={filterId} value={filter} onChange={(e) => setFilter(e.target.value as typeof filter)}>
          {RUN_FILTERS.map((f) => (
            <option key={f.value} value={f.value}>
              {f.label}
            </option>
          ))}
        </select>
      </p>
      <AsyncView state={state} loading="Loading runs">
        {({ runs }) =>
          runs.length === 0 ? (
            filter === 'top' ? (
              <Empty>No runs yet — run `cinerec train` to record one.</Empty>
            ) : (
              <Empty>No runs of this kind yet.</Empty>
            )
          ) : (
            <>
              <Scroller label="Runs" minWidth="44rem">
                <table aria-label="Runs">
                  <thead>
                    <tr>
                      <th scope="col">Compare</th>
                      <th scope="col">Run</th>
                      <th scope="col">Kind</th>
                      <th scope="col">Status</th>
                      <th scope="col">Started</th>
                      <th scope="col">Duration</th>
                      <th scope="col">Version</th>
                      <th scope="col">Metrics</th>
                    </tr>
                  </thead>
                  <tbody>
                    {runs.map((r) => {
                      const version = versionOf(r.id);
                      return (
                        <tr key={r.id} className={open === r.id ? 'active' : undefined}>
                          <td>
                            <input
                              type="checkbox"
                              aria-label={`Compare run ${r.id}`}
                              checked={picked.includes(r.id)}
                              onChange={() => toggle(r.id)}
                            />
                          </td>
                          <td>
                            <button
                              type="button"
                              className="linkish token"
                              aria-expanded={open === r.id}
                              onClick={() => onOpen(open === r.id ? null : r.id)}
                            >
                              {r.id}
                            </button>
                          </td>
                          <td>{r.kind}</td>
                          <td className={`status-${r.status}`}>{statusWords[r.status]}</td>
                          <td>
                            <When iso={r.startedAt} />
                          </td>
                          <td className="num">{duration(r.durationMs)}</td>
                          <td>
                            {version ?? '–'}
                            {version && version === activeVersion ? <span className="badge">active</span> : null}
                          </td>
                          <td className="metrics">{headline(r.metrics)}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </Scroller>
              <p className="muted" aria-live="polite">
                {picked.length === 2
                  ? 'Comparing the two ticked runs below.'
                  : picked.length === 1
                    ? 'Tick one more run to compare.'
                    : 'Tick two runs to compare them; choose a run to see its parameters, stages and curves.'}
              </p>
            </>
          )
        }
      </AsyncView>
      {picked.length === 2 ? <Compare ids={[...picked].sort() as [string, string]} versionOf={versionOf} /> : null}
      {open ? <RunDetails id={open} versionOf={versionOf} onClose={() => onOpen(null)} /> : null}
    </>
  );
}

type Action = { busy: string | null; error: string | null; done: string | null };
const IDLE: Action = { busy: null, error: null, done: null };

function Models({
  state,
  onChanged,
  onOpenRun,
}: {
  state: Async<ModelsView> & { reload: () => void };
  onChanged: () => void;
  onOpenRun: (runId: string) => void;
}) {
  const token = useAdminToken();
  const [action, setAction] = useState<Action>(IDLE);
  const post = async <T,>(path: string, busy: string, done: (answer: T) => string) => {
    setAction({ ...IDLE, busy });
    try {
      const answer = await api<T>(path, { method: 'POST', token });
      setAction({ ...IDLE, done: done(answer) });
    } catch (err) {
      setAction({ ...IDLE, error: plainError(err) });
    }
    onChanged();
  };
  const serving = (m: ModelsView) => (m.served ? `now serving ${m.served}` : 'serving models fitted from the store');
  // A retraining runs in another process: activating or rolling back meanwhile is fine.
  const busy = action.busy !== null;
  return (
    <AsyncView state={state} loading="Loading model versions">
      {(models) =>
        models.versions.length === 0 ? (
          <Empty>No model versions yet — run `cinerec train` to make one.</Empty>
        ) : (
          <>
            <Scroller label="Model versions" minWidth="36rem">
              <table aria-label="Model versions">
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">Created</th>
                    <th scope="col">Run</th>
                    <th scope="col">Metrics</th>
                    <th scope="col">Size</th>
                    <th scope="col">
                      <span className="visually-hidden">Action</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {models.versions.map((v) => (
                    <tr key={v.version} className={v.active ? 'active' : undefined}>
                      <th scope="row">
                        {v.version}
                        {v.active ? <span className="badge">active</span> : null}
                        {models.served === v.version ? <span className="badge outline">served</span> : null}
                      </th>
                      <td>
                        <When iso={v.createdAt} />
                      </td>
                      <td>
                        {v.runId ? (
                          <button
                            type="button"
                            className="linkish token"
                            aria-label={`Show run ${v.runId} that made ${v.version}`}
                            onClick={() => onOpenRun(v.runId!)}
                          >
                            {v.runId}
                          </button>
                        ) : (
                          '–'
                        )}
                      </td>
                      <td className="metrics">{headline(v.metrics)}</td>
                      <td className="num">{megabytes(v.bytes)}</td>
                      <td>
                        {v.active ? null : (
                          <button
                            type="button"
                            disabled={busy}
                            onClick={() =>
                              post<ModelsView>(
                                `/v1/models/${encodeURIComponent(v.version)}/activate`,
                                `Loading ${v.version} and swapping it in`,
                                (m) => `Activated ${v.version}: ${serving(m)}.`,
                              )
                            }
                          >
                            Activate {v.version}
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Scroller>
            {models.active !== models.served ? (
              <p className="muted">
                {models.active ?? 'No version'} is active, but this server serves{' '}
                {models.served ?? 'models fitted from the store'}
                {models.active ? ' until it has loaded the active one.' : '.'}
              </p>
            ) : null}
            <TokenField />
            <div className="row">
              <button
                type="button"
                disabled={busy}
                onClick={() =>
                  post<ModelsView>(
                    '/v1/models/rollback',
                    'Loading the previous version and swapping it in',
                    (m) => `Rolled back to ${m.active}: ${serving(m)}.`,
                  )
                }
              >
                Roll back
              </button>
              <button
                type="button"
                disabled={busy || models.retraining}
                onClick={() =>
                  post<{ started: boolean }>(
                    '/v1/models/retrain?wait=false',
                    'Starting a retraining',
                    () => 'Retraining started in a separate process; requests keep being answered meanwhile.',
                  )
                }
              >
                Retrain now
              </button>
            </div>
            {action.busy ? (
              <p className="state loading" role="status">
                <span className="spinner" aria-hidden="true" />
                {action.busy}…
              </p>
            ) : null}
            {action.error ? <ErrorBox message={action.error} /> : null}
            {action.done ? (
              <p role="status" className="ok">
                {action.done}
              </p>
            ) : null}
            {models.retraining ? (
              <p className="state loading" role="status">
                <span className="spinner" aria-hidden="true" />
                Retraining in a separate process; the new version is activated if it passes the quality gate…
              </p>
            ) : models.lastRetrain ? (
              <p className={models.lastRetrain.status === 'failed' ? 'status-failed' : 'muted'}>
                Last retraining ({models.lastRetrain.status}, finished <When iso={models.lastRetrain.finishedAt} />
                ): {models.lastRetrain.message}
              </p>
            ) : null}
          </>
        )
      }
    </AsyncView>
  );
}

function EvaluationView({ id }: { id: string }) {
  const state = useAsync(`eval|${id}`, (signal) =>
    api<EvaluationReport>(`/v1/evaluations/${encodeURIComponent(id)}`, { signal }),
  );
  const [metric, setMetric] = useState<string | null>(null);
  const selectId = useId();
  return (
    <AsyncView state={state} loading="Loading the report">
      {(r) => {
        const m = metric && r.metricOrder.includes(metric) ? metric : (r.metricOrder[0] ?? null);
        const values = m ? r.strategies.map((s) => s.metrics[m]?.mean ?? Number.NaN) : [];
        const best = direction(m ?? '') === 'lower' ? Math.min(...values) : Math.max(...values);
        return (
          <div data-testid="evaluation">
            <p className="muted">
              {r.kind} · {r.dataset.name} ({r.dataset.users} users, {r.dataset.ratings} ratings) · split{' '}
              {r.protocol.split}
              {r.protocol.k ? ` · k = ${r.protocol.k}` : ''} · seeds {r.protocol.seeds.join(', ')}
            </p>
            <Scroller label="Evaluation results">
              <table aria-label="Evaluation results">
                <caption>Mean with 95% confidence interval</caption>
                <thead>
                  <tr>
                    <th scope="col">Strategy</th>
                    {r.metricOrder.map((name) => (
                      <th key={name} scope="col">
                        {name}
                      </th>
                    ))}
                    <th scope="col">Fit</th>
                  </tr>
                </thead>
                <tbody>
                  {r.strategies.map((s) => (
                    <tr key={s.name}>
                      <th scope="row" title={s.description}>
                        {s.name}
                      </th>
                      {r.metricOrder.map((name) => {
                        const v = s.metrics[name];
                        return (
                          <td key={name} className="num">
                            {v ? (
                              <>
                                {v.mean.toFixed(4)}
                                <small className="muted"> ±{((v.high - v.low) / 2).toFixed(4)}</small>
                              </>
                            ) : (
                              '–'
                            )}
                          </td>
                        );
                      })}
                      <td className="num">{s.fitSeconds.toFixed(1)} s</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Scroller>
            {m ? (
              <>
                <p className="row">
                  <label htmlFor={selectId}>Chart metric</label>
                  <select id={selectId} value={m} onChange={(e) => setMetric(e.target.value)}>
                    {r.metricOrder.map((name) => (
                      <option key={name}>{name}</option>
                    ))}
                  </select>
                </p>
                <BarChart
                  title={`${m} by strategy (95% CI)`}
                  format={(v) => v.toFixed(4)}
                  data={r.strategies.map((s, i) => {
                    const v = s.metrics[m];
                    return {
                      label: s.name,
                      value: v?.mean ?? 0,
                      ...(v ? { low: v.low, high: v.high } : {}),
                      highlight: values[i] === best,
                    };
                  })}
                />
              </>
            ) : null}
          </div>
        );
      }}
    </AsyncView>
  );
}

function Evaluations() {
  const state = useAsync('evaluations', (signal) => api<EvaluationList>('/v1/evaluations', { signal }));
  const [chosen, setChosen] = useState<string | null>(null);
  const selectId = useId();
  return (
    <AsyncView state={state} loading="Loading evaluation reports">
      {({ items }) => {
        if (items.length === 0) return <Empty>No evaluation reports yet — run `cinerec eval` to write one.</Empty>;
        const id = chosen ?? items[0]!.id;
        return (
          <>
            <p className="row">
              <label htmlFor={selectId}>Report</label>
              <select id={selectId} value={id} onChange={(e) => setChosen(e.target.value)}>
                {items.map((e) => (
                  <option key={e.id} value={e.id}>
                    {e.createdAt.slice(0, 16).replace('T', ' ')} · {e.kind} · {e.strategies.length} strategies ·{' '}
                    {e.headline.metric}
                  </option>
                ))}
              </select>
            </p>
            <EvaluationView id={id} />
          </>
        );
      }}
    </AsyncView>
  );
}

const RUN_ID = /^\d{8}T\d{9}-\d{3,}$/;

export default function Experiments() {
  useEffect(() => {
    document.title = 'Experiments · cinerec';
  }, []);
  const { query } = useLocation();
  const open = RUN_ID.test(query.get('run') ?? '') ? query.get('run') : null;
  const picked = (query.get('compare') ?? '')
    .split(',')
    .filter((id) => RUN_ID.test(id))
    .slice(0, 2);
  const setQuery = (run: string | null, compare: string[]) => {
    const q = new URLSearchParams();
    if (run) q.set('run', run);
    if (compare.length > 0) q.set('compare', compare.join(','));
    const s = q.toString();
    navigate(s ? `/experiments?${s}` : '/experiments', { replace: true });
  };

  const [tick, setTick] = useState(0);
  const models = useAsync(`models|${tick}`, (signal) => api<ModelsView>('/v1/models', { signal }));
  // A retraining is followed until it ends; the runs list reloads with every change.
  const retraining = models.data?.retraining ?? false;
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick re-arms the timer after each reload.
  useEffect(() => {
    if (!retraining) return;
    const t = setTimeout(() => setTick((x) => x + 1), 2000);
    return () => clearTimeout(t);
  }, [retraining, tick]);
  const byRun = new Map((models.data?.versions ?? []).flatMap((v) => (v.runId ? [[v.runId, v.version]] : [])));
  const versionOf = (runId: string) => byRun.get(runId) ?? null;

  return (
    <>
      <h1>Experiments</h1>
      <p className="lede">
        Training runs with their parameters, metrics and curves, model versions to serve, and offline evaluation
        reports.
      </p>
      <section aria-labelledby="runs-h">
        <h2 id="runs-h">Training runs</h2>
        <Runs
          refresh={tick}
          open={open}
          picked={picked}
          onOpen={(id) => setQuery(id, picked)}
          onPick={(ids) => setQuery(open, ids)}
          versionOf={versionOf}
          activeVersion={models.data?.active ?? null}
        />
      </section>
      <section aria-labelledby="models-h">
        <h2 id="models-h">Model versions</h2>
        <Models state={models} onChanged={() => setTick((x) => x + 1)} onOpenRun={(id) => setQuery(id, picked)} />
      </section>
      <section aria-labelledby="evals-h">
        <h2 id="evals-h">Evaluation reports</h2>
        <Evaluations />
      </section>
    </>
  );
}
