import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../serving/services.ts';
import { trackerFor } from '../../tracking/tracker.ts';
import { ConflictError } from '../../util/errors.ts';
import { FilePointer, type ModelPointer, modelsState } from '../../versions/pointer.ts';
import { versionsFor } from '../../versions/versions.ts';
import { HttpProblem } from '../errors.ts';
import type { ModelControl } from '../model-manager.ts';
import { PROBLEM_CONTENT_TYPE, Problem, problemResponses } from '../schemas.ts';

const Num = Type.Number();
const Metrics = Type.Record(Type.String(), Num);
const RunStatus = Type.Enum(['running', 'finished', 'failed', 'skipped']);
const ParamValue = Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]);
const Artifact = Type.Object({ path: Type.String(), bytes: Type.Integer() });

const RunSummary = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  parentId: Type.Union([Type.String(), Type.Null()]),
  status: RunStatus,
  startedAt: Type.String(),
  durationMs: Type.Union([Num, Type.Null()]),
  metrics: Metrics,
});

const RunRecord = Type.Object(
  {
    id: Type.String(),
    kind: Type.String(),
    parentId: Type.Union([Type.String(), Type.Null()]),
    status: RunStatus,
    startedAt: Type.String(),
    finishedAt: Type.Union([Type.String(), Type.Null()]),
    durationMs: Type.Union([Num, Type.Null()]),
    pid: Type.Integer(),
    params: Type.Record(Type.String(), ParamValue),
    metrics: Metrics,
    curves: Type.Record(Type.String(), Type.Array(Type.Object({ step: Num, value: Num }))),
    artifacts: Type.Array(Artifact),
    peakRssBytes: Type.Union([Num, Type.Null()]),
    codeVersion: Type.String(),
    dataFingerprint: Type.Union([Type.String(), Type.Null()]),
    cacheKey: Type.Union([Type.String(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
    note: Type.Union([Type.String(), Type.Null()]),
    stages: Type.Array(RunSummary, { description: 'the stage runs of a train run' }),
  },
  { description: 'one run: parameters, final metrics, whole curves, duration, peak memory, artifacts, status' },
);

const ModelVersion = Type.Object({
  version: Type.String(),
  createdAt: Type.String(),
  runId: Type.Union([Type.String(), Type.Null()]),
  dataFingerprint: Type.String(),
  codeVersion: Type.String(),
  stages: Type.Record(Type.String(), Type.String()),
  metrics: Metrics,
  artifacts: Type.Array(Artifact),
  bytes: Type.Integer(),
  active: Type.Boolean(),
});

const RetrainOutcome = Type.Object({
  status: Type.Enum(['activated', 'kept', 'failed']),
  version: Type.Union([Type.String(), Type.Null()]),
  message: Type.String(),
  startedAt: Type.String(),
  finishedAt: Type.String(),
});

const ModelsState = Type.Object({
  active: Type.Union([Type.String(), Type.Null()]),
  /** The version answering requests in this process (differs from `active` while a swap loads). */
  served: Type.Union([Type.String(), Type.Null()]),
  retraining: Type.Boolean(),
  lastRetrain: Type.Union([RetrainOutcome, Type.Null()]),
  versions: Type.Array(ModelVersion),
});

const RetrainConflict = Type.Object(
  {
    ...Problem.properties,
    job: Type.Optional(
      Type.Object(
        {
          kind: Type.Literal('retrain'),
          status: Type.Literal('running'),
          startedAt: Type.Union([Type.String(), Type.Null()], {
            description: 'when it started, if this process started it',
          }),
        },
        { description: 'the retraining that is running' },
      ),
    ),
  },
  { description: 'RFC 9457 problem details, with the running job' },
);

function retrainConflict(startedAt: string | null): HttpProblem {
  return new HttpProblem(
    409,
    `a retraining is already running${startedAt ? ` (since ${startedAt})` : ''}; its outcome will show in GET /v1/models`,
    { field: 'retrain', extra: { job: { kind: 'retrain', status: 'running', startedAt } } },
  );
}

/** Runs and model versions written by `cinerec train` (files under config.modelsDir). */
export const pipelineRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  models: ModelControl | null;
  pointer?: ModelPointer;
}> = async (app, { services, models, pointer: given }) => {
  const config = services.served.config;
  /** When the retraining this process asked for started; null when none runs. */
  let runningSince: string | null = null;
  const pointer = given ?? new FilePointer(versionsFor(config));
  const state = async () => {
    const status = (await models?.status()) ?? { retraining: false, lastRetrain: null };
    return {
      ...(await modelsState(versionsFor(config), pointer)),
      served: services.served.version?.id ?? null,
      retraining: status.retraining,
      lastRetrain: status.lastRetrain,
    };
  };

  app.get(
    '/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'Training runs, newest first',
        description: 'Top-level runs (train, retrain, tune) by default; `all=true` includes stage runs.',
        querystring: Type.Object({
          kind: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 100,
              pattern: '^[A-Za-z0-9:._-]+$',
              description: 'a run kind such as train, retrain, tune:als or als',
            }),
          ),
          all: Type.Optional(Type.Boolean()),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
        }),
        response: { 200: Type.Object({ runs: Type.Array(RunSummary) }) },
      },
    },
    async (request) => {
      const { kind, all, limit } = request.query;
      const runs = trackerFor(config).tracker.list({
        ...(kind ? { kind } : all ? {} : { parentId: null }),
        limit: limit ?? 50,
      });
      return { runs };
    },
  );

  app.get(
    '/runs/:id',
    {
      schema: {
        tags: ['runs'],
        summary: 'One run with its stage runs and curves',
        params: Type.Object({ id: Type.String({ pattern: '^[0-9T-]+$', maxLength: 40 }) }),
        response: { 200: RunRecord, ...problemResponses(400, 404) },
      },
    },
    async (request) => {
      const { tracker } = trackerFor(config);
      const run = tracker.get(request.params.id);
      return { ...run, stages: tracker.list({ parentId: run.id }) };
    },
  );

  app.get(
    '/models',
    {
      schema: {
        tags: ['models'],
        summary: 'Model versions and the active one',
        response: { 200: ModelsState },
      },
    },
    async () => state(),
  );

  app.post(
    '/models/:version/activate',
    {
      schema: {
        tags: ['models'],
        summary: 'Serve a model version (swapped in atomically once loaded)',
        params: Type.Object({ version: Type.String({ pattern: '^v[0-9]{4,}$' }) }),
        response: { 200: ModelsState, ...problemResponses(400, 404, 409) },
      },
    },
    async (request) => {
      if (!models) throw new ConflictError('this server does not manage model versions', 'models');
      // Served first, then made active: a version that cannot be served never becomes active.
      await models.activate(request.params.version);
      return state();
    },
  );

  app.post(
    '/models/rollback',
    {
      schema: {
        tags: ['models'],
        summary: 'Serve the previously active version again',
        response: { 200: ModelsState, ...problemResponses(409) },
      },
    },
    async () => {
      if (!models) throw new ConflictError('this server does not manage model versions', 'models');
      await models.rollback();
      return state();
    },
  );

  app.post(
    '/snapshots',
    {
      // The path is for the CLI on this machine (admin only): the one answer that names a server path.
      config: { serverPaths: true },
      schema: {
        tags: ['models'],
        summary: 'Write a snapshot of the store for a training or evaluation run on this machine',
        description:
          'What `cinerec train`, `eval` and `tune` use while a server holds the store: the data, frozen between ' +
          'writes, written under the models directory; the caller reads it and removes it.',
        response: {
          200: Type.Object({ path: Type.String(), fingerprint: Type.String() }),
          ...problemResponses(409),
        },
      },
    },
    async () => {
      if (!models) throw new ConflictError('this server does not manage model versions', 'models');
      return models.snapshot();
    },
  );

  app.post(
    '/models/retrain',
    {
      schema: {
        tags: ['models'],
        summary: 'Retrain now in a separate process; the new version is activated if it passes the quality gate',
        description: 'Waits for the outcome unless `wait=false` (then 202 and poll GET /v1/models).',
        querystring: Type.Object({ wait: Type.Optional(Type.Boolean({ default: true })) }),
        response: {
          200: RetrainOutcome,
          202: Type.Object({ started: Type.Boolean() }),
          409: {
            description: 'a retraining is already running (`job`), or this server does not manage model versions',
            content: { [PROBLEM_CONTENT_TYPE]: { schema: RetrainConflict } },
          },
        },
      },
    },
    async (request, reply) => {
      if (!models) throw new ConflictError('this server does not manage model versions', 'models');
      // Idempotent: while a retraining runs (asked for here, by another worker, or by the schedule) another request
      // is a 409 naming it, not a second "started". The claim is taken before any await, so two requests racing in
      // this process cannot both start one.
      if (runningSince !== null) throw retrainConflict(runningSince);
      const since = new Date().toISOString();
      runningSince = since;
      let running: ReturnType<ModelControl['retrain']>;
      try {
        await models.canRetrain();
        if ((await models.status()).retraining) throw retrainConflict(null);
        running = models.retrain();
      } catch (err) {
        runningSince = null;
        throw err;
      }
      running
        .finally(() => {
          if (runningSince === since) runningSince = null;
        })
        .catch(() => {});
      if (request.query.wait === false) {
        // The outcome is read later from GET /v1/models; a failure is recorded there, not thrown here.
        running.catch(() => {});
        return reply.code(202).send({ started: true });
      }
      return running;
    },
  );
};
