import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { Ajv, type JSONSchemaType } from 'ajv';

type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Settings as written in cinerec.config.json (every section complete after defaults are merged). */
export interface ConfigInput {
  /** Where releases are fetched and the store lives. */
  dataDir: string;
  /** Where `cinerec eval` writes its reports (JSON, Markdown, SVG charts) and the API reads them. */
  reportsDir: string;
  /** Release used by `npm start` when the store is empty. */
  dataset: string;
  store: {
    /** Default: <dataDir>/cinerec.duckdb. */
    path?: string;
    /** DuckDB memory cap, e.g. "2GB"; it spills to disk beyond that. */
    memoryLimit: string;
  };
  server: { host: string; port: number; bodyLimit: number; logLevel: LogLevel };
  popularity: {
    /** m in the weighted rating: this quantile of the vote counts of rated movies... */
    minVotesQuantile: number;
    /** ...unless fixed here. */
    minVotes?: number;
  };
  recommend: { defaultK: number; maxK: number };
  /** Fitted models (content model now; versions later). Default: <dataDir>/models. */
  modelsDir?: string;
  content: {
    /** Weight of each feature group: its share of the variance the encoder sees. 0 drops the group. */
    weights: { genres: number; year: number; tags: number; genome: number; stats: number };
    tagVocabulary: number;
    tagMinMovies: number;
    dimensions: number;
    clusters: number;
    restarts: number;
    seed: number;
    positiveRating: number;
    /** What reduces the scaled features to `dimensions` numbers: block-wise PCA or the autoencoder. */
    encoder: 'pca' | 'autoencoder';
    /** The autoencoder encoder (src/models/content-autoencoder.ts); used when encoder is 'autoencoder'. */
    autoencoder: {
      /** Hidden widths of the encoder, mirrored by the decoder; [] is a linear autoencoder. */
      hidden: number[];
      epochs: number;
      batchSize: number;
      learningRate: number;
      /** Epochs without a better held-out loss before stopping (the best epoch's weights are kept). */
      patience: number;
      /** Share of the movies held out for early stopping and the reconstruction figures. */
      validation: number;
      seed: number;
    };
  };
  als: {
    factors: number;
    regularization: number;
    alpha: number;
    iterations: number;
    confidence: 'binary' | 'rating' | 'linear';
    solver: 'cg' | 'cholesky';
    cgSteps: number;
    seed: number;
    /** Worker threads; 0 = all cores. */
    threads: number;
  };
  hybrid: {
    alsWeight: number;
    contentWeight: number;
    clusters: number;
    restarts: number;
    seed: number;
    bridgeLambda: number;
    bridgeMinRatings: number;
  };
  userClusters: { clusters: number; restarts: number; seed: number; smoothing: number };
  /** Segments: k chosen over [minK, maxK] by `rule` (silhouette, davies-bouldin, calinski-harabasz or elbow). */
  segments: {
    minK: number;
    maxK: number;
    rule: 'silhouette' | 'davies-bouldin' | 'calinski-harabasz' | 'elbow';
    seed: number;
    restarts: number;
    /** User segments (autoencoder codes of taste profiles → k-means) and the `segment` strategy. */
    users: {
      /** Ratings above this are positive. */
      positiveRating: number;
      hidden: number;
      code: number;
      epochs: number;
      patience: number;
      batchSize: number;
      learningRate: number;
      validationShare: number;
      /** Pseudo-ratings pulling a user's mean in a movie segment towards their overall mean. */
      meanShrinkage: number;
      /** `segment` strategy: pseudo-members pulling a segment's score towards everyone's. */
      smoothing: number;
      /** `segment` strategy: 0–1, how much the viewer's liked movie segments reweight the list. */
      movieSegmentWeight: number;
      /** `segment` strategy: what a non-positive rating counts for (a positive one counts 1). */
      lowRatingWeight: number;
    };
  };
  /** `cinerec train`: the evaluation stage and the quality gate a retrained version must pass. */
  pipeline: {
    evaluation: { strategies: string[]; k: number; trainFraction: number; seed: number };
    /** A new version is activated by scheduled retraining only if `metric` drops by at most `maxDrop`. */
    gate: { metric: string; maxDrop: number };
  };
  /** The neural rating predictor (user/item autoencoders + MLP) and the `neural` strategy. */
  neural: {
    /** User autoencoder: hidden width and code size (the user vector). */
    userHidden: number;
    code: number;
    /** Item autoencoder (movie vectors): hidden width and code size. */
    itemHidden: number;
    itemCode: number;
    /** Autoencoders: maximum epochs (early stopping), Adam learning rate, input dropout. */
    aeEpochs: number;
    aeLr: number;
    aeDropout: number;
    /** Movie vector: item autoencoder code, genres and year, or both. */
    itemVectors: 'ae' | 'content' | 'both';
    /** MLP hidden widths (hidden2 = 0: one hidden layer), maximum epochs, Adam learning rate. */
    hidden: number;
    hidden2: number;
    epochs: number;
    lr: number;
    /** Cross-fitting parts: the MLP trains on codes computed without the rating it predicts. */
    crossFolds: number;
    /** `neural` strategy: re-rank the top `pool` of this strategy, or 'all' movies. */
    candidates: string;
    pool: number;
    seed: number;
  };
  router: {
    /** Fewer ratings than this → the few-ratings blend. */
    minRatings: number;
    /** Fewer positive ratings than this → the blend as well. */
    minPositive: number;
    positiveRating: number;
    /** Weight of content similarity in the few-ratings blend (the rest is popularity). */
    contentWeight: number;
    /** Strategy for viewers with a rich history. */
    personalised: string;
  };
}

/** The configuration after loading: every path absolute. */
export type Config = Omit<ConfigInput, 'store' | 'modelsDir'> & {
  store: ConfigInput['store'] & { path: string };
  modelsDir: string;
};

// A plain JSON Schema checked against ConfigInput at compile time by Ajv's JSONSchemaType; Ajv
// (already Fastify's validator) loads in a fraction of the time TypeBox needs, and every CLI call pays it.
export const CONFIG_SCHEMA: JSONSchemaType<ConfigInput> = {
  type: 'object',
  additionalProperties: false,
  required: [
    'dataDir',
    'reportsDir',
    'dataset',
    'store',
    'server',
    'popularity',
    'recommend',
    'content',
    'als',
    'hybrid',
    'userClusters',
    'segments',
    'pipeline',
    'neural',
    'router',
  ],
  properties: {
    segments: {
      type: 'object',
      additionalProperties: false,
      required: ['minK', 'maxK', 'rule', 'seed', 'restarts', 'users'],
      properties: {
        minK: { type: 'integer', minimum: 2, maximum: 1000 },
        maxK: { type: 'integer', minimum: 2, maximum: 1000 },
        rule: { type: 'string', enum: ['silhouette', 'davies-bouldin', 'calinski-harabasz', 'elbow'] },
        seed: { type: 'integer', minimum: 0 },
        restarts: { type: 'integer', minimum: 1, maximum: 100 },
        users: {
          type: 'object',
          additionalProperties: false,
          required: [
            'positiveRating',
            'hidden',
            'code',
            'epochs',
            'patience',
            'batchSize',
            'learningRate',
            'validationShare',
            'meanShrinkage',
            'smoothing',
            'movieSegmentWeight',
            'lowRatingWeight',
          ],
          properties: {
            positiveRating: { type: 'number' },
            hidden: { type: 'integer', minimum: 1, maximum: 4096 },
            code: { type: 'integer', minimum: 1, maximum: 1024 },
            epochs: { type: 'integer', minimum: 0, maximum: 100000 },
            patience: { type: 'integer', minimum: 1 },
            batchSize: { type: 'integer', minimum: 1 },
            learningRate: { type: 'number', exclusiveMinimum: 0 },
            validationShare: { type: 'number', minimum: 0, maximum: 0.5 },
            meanShrinkage: { type: 'number', minimum: 0 },
            smoothing: { type: 'number', minimum: 0 },
            movieSegmentWeight: { type: 'number', minimum: 0, maximum: 1 },
            lowRatingWeight: { type: 'number', minimum: 0, maximum: 1 },
          },
        },
      },
    },
    hybrid: {
      type: 'object',
      additionalProperties: false,
      required: ['alsWeight', 'contentWeight', 'clusters', 'restarts', 'seed', 'bridgeLambda', 'bridgeMinRatings'],
      properties: {
        alsWeight: { type: 'number', minimum: 0 },
        contentWeight: { type: 'number', minimum: 0 },
        clusters: { type: 'integer', minimum: 1, maximum: 10000 },
        restarts: { type: 'integer', minimum: 1, maximum: 100 },
        seed: { type: 'integer', minimum: 0 },
        bridgeLambda: { type: 'number', exclusiveMinimum: 0 },
        bridgeMinRatings: { type: 'integer', minimum: 1 },
      },
    },
    userClusters: {
      type: 'object',
      additionalProperties: false,
      required: ['clusters', 'restarts', 'seed', 'smoothing'],
      properties: {
        clusters: { type: 'integer', minimum: 1, maximum: 10000 },
        restarts: { type: 'integer', minimum: 1, maximum: 100 },
        seed: { type: 'integer', minimum: 0 },
        smoothing: { type: 'number', minimum: 0 },
      },
    },
    als: {
      type: 'object',
      additionalProperties: false,
      required: [
        'factors',
        'regularization',
        'alpha',
        'iterations',
        'confidence',
        'solver',
        'cgSteps',
        'seed',
        'threads',
      ],
      properties: {
        factors: { type: 'integer', minimum: 1, maximum: 1024 },
        regularization: { type: 'number', exclusiveMinimum: 0 },
        alpha: { type: 'number', minimum: 0 },
        iterations: { type: 'integer', minimum: 0, maximum: 1000 },
        confidence: { type: 'string', enum: ['binary', 'rating', 'linear'] },
        solver: { type: 'string', enum: ['cg', 'cholesky'] },
        cgSteps: { type: 'integer', minimum: 1, maximum: 100 },
        seed: { type: 'integer', minimum: 0 },
        threads: { type: 'integer', minimum: 0, maximum: 256 },
      },
    },
    neural: {
      type: 'object',
      additionalProperties: false,
      required: [
        'userHidden',
        'code',
        'itemHidden',
        'itemCode',
        'aeEpochs',
        'aeLr',
        'aeDropout',
        'itemVectors',
        'hidden',
        'hidden2',
        'epochs',
        'lr',
        'crossFolds',
        'candidates',
        'pool',
        'seed',
      ],
      properties: {
        userHidden: { type: 'integer', minimum: 1, maximum: 4096 },
        code: { type: 'integer', minimum: 1, maximum: 1024 },
        itemHidden: { type: 'integer', minimum: 1, maximum: 4096 },
        itemCode: { type: 'integer', minimum: 1, maximum: 1024 },
        aeEpochs: { type: 'integer', minimum: 1, maximum: 1000 },
        aeLr: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        aeDropout: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
        itemVectors: { type: 'string', enum: ['ae', 'content', 'both'] },
        hidden: { type: 'integer', minimum: 1, maximum: 4096 },
        hidden2: { type: 'integer', minimum: 0, maximum: 4096 },
        epochs: { type: 'integer', minimum: 1, maximum: 1000 },
        lr: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        crossFolds: { type: 'integer', minimum: 2, maximum: 20 },
        candidates: { type: 'string', minLength: 1 },
        pool: { type: 'integer', minimum: 1, maximum: 100000 },
        seed: { type: 'integer', minimum: 0 },
      },
    },
    router: {
      type: 'object',
      additionalProperties: false,
      required: ['minRatings', 'minPositive', 'positiveRating', 'contentWeight', 'personalised'],
      properties: {
        minRatings: { type: 'integer', minimum: 0 },
        minPositive: { type: 'integer', minimum: 0 },
        positiveRating: { type: 'number' },
        contentWeight: { type: 'number', minimum: 0, maximum: 1 },
        personalised: { type: 'string', minLength: 1 },
      },
    },
    modelsDir: { type: 'string', minLength: 1, nullable: true },
    content: {
      type: 'object',
      additionalProperties: false,
      required: [
        'weights',
        'tagVocabulary',
        'tagMinMovies',
        'dimensions',
        'clusters',
        'restarts',
        'seed',
        'positiveRating',
        'encoder',
        'autoencoder',
      ],
      properties: {
        weights: {
          type: 'object',
          additionalProperties: false,
          required: ['genres', 'year', 'tags', 'genome', 'stats'],
          properties: {
            genres: { type: 'number', minimum: 0, maximum: 100 },
            year: { type: 'number', minimum: 0, maximum: 100 },
            tags: { type: 'number', minimum: 0, maximum: 100 },
            genome: { type: 'number', minimum: 0, maximum: 100 },
            stats: { type: 'number', minimum: 0, maximum: 100 },
          },
        },
        tagVocabulary: { type: 'integer', minimum: 0, maximum: 200000 },
        tagMinMovies: { type: 'integer', minimum: 1 },
        dimensions: { type: 'integer', minimum: 2, maximum: 1024 },
        clusters: { type: 'integer', minimum: 1, maximum: 10000 },
        restarts: { type: 'integer', minimum: 1, maximum: 100 },
        seed: { type: 'integer', minimum: 0 },
        positiveRating: { type: 'number' },
        encoder: { type: 'string', enum: ['pca', 'autoencoder'] },
        autoencoder: {
          type: 'object',
          additionalProperties: false,
          required: ['hidden', 'epochs', 'batchSize', 'learningRate', 'patience', 'validation', 'seed'],
          properties: {
            hidden: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 8192 }, maxItems: 6 },
            epochs: { type: 'integer', minimum: 1, maximum: 10000 },
            batchSize: { type: 'integer', minimum: 1, maximum: 65536 },
            learningRate: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
            patience: { type: 'integer', minimum: 1 },
            validation: { type: 'number', minimum: 0, maximum: 0.5 },
            seed: { type: 'integer', minimum: 0 },
          },
        },
      },
    },
    dataDir: { type: 'string', minLength: 1 },
    reportsDir: { type: 'string', minLength: 1 },
    dataset: { type: 'string', minLength: 1 },
    store: {
      type: 'object',
      additionalProperties: false,
      required: ['memoryLimit'],
      properties: {
        path: { type: 'string', minLength: 1, nullable: true },
        memoryLimit: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?\\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$' },
      },
    },
    server: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port', 'bodyLimit', 'logLevel'],
      properties: {
        host: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        bodyLimit: { type: 'integer', minimum: 1024, maximum: 100 * 1024 * 1024 },
        logLevel: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
      },
    },
    popularity: {
      type: 'object',
      additionalProperties: false,
      required: ['minVotesQuantile'],
      properties: {
        minVotesQuantile: { type: 'number', minimum: 0, maximum: 1 },
        minVotes: { type: 'number', minimum: 0, nullable: true },
      },
    },
    pipeline: {
      type: 'object',
      additionalProperties: false,
      required: ['evaluation', 'gate'],
      properties: {
        evaluation: {
          type: 'object',
          additionalProperties: false,
          required: ['strategies', 'k', 'trainFraction', 'seed'],
          properties: {
            strategies: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
            k: { type: 'integer', minimum: 1, maximum: 1000 },
            trainFraction: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
            seed: { type: 'integer' },
          },
        },
        gate: {
          type: 'object',
          additionalProperties: false,
          required: ['metric', 'maxDrop'],
          properties: {
            metric: { type: 'string', pattern: '^[a-z-]+\\.[A-Za-z]+$' },
            maxDrop: { type: 'number', minimum: 0 },
          },
        },
      },
    },
    recommend: {
      type: 'object',
      additionalProperties: false,
      required: ['defaultK', 'maxK'],
      properties: {
        defaultK: { type: 'integer', minimum: 1, maximum: 1000 },
        maxK: { type: 'integer', minimum: 1, maximum: 10000 },
      },
    },
  },
};

const validate = new Ajv({ allErrors: true }).compile(CONFIG_SCHEMA);

/** Read from the environment only, never from files: secrets stay out of the repository. */
export interface Secrets {
  adminToken: string | null;
}

export const DEFAULTS: ConfigInput = {
  dataDir: './data',
  reportsDir: './reports',
  dataset: 'ml-latest-small',
  store: { memoryLimit: '2GB' },
  server: { host: '127.0.0.1', port: 8080, bodyLimit: 1024 * 1024, logLevel: 'info' },
  popularity: { minVotesQuantile: 0.9 },
  recommend: { defaultK: 10, maxK: 500 },
  content: {
    weights: { genres: 1, year: 0.5, tags: 0.5, genome: 2, stats: 0 },
    tagVocabulary: 5000,
    tagMinMovies: 2,
    dimensions: 64,
    clusters: 100,
    restarts: 3,
    seed: 1,
    positiveRating: 4,
    encoder: 'pca',
    autoencoder: {
      hidden: [256, 128],
      epochs: 60,
      batchSize: 256,
      learningRate: 0.002,
      patience: 8,
      validation: 0.1,
      seed: 1,
    },
  },
  als: {
    factors: 64,
    regularization: 0.05,
    alpha: 1,
    iterations: 15,
    confidence: 'binary',
    solver: 'cg',
    cgSteps: 3,
    seed: 1,
    threads: 0,
  },
  hybrid: {
    alsWeight: 1,
    contentWeight: 1,
    clusters: 100,
    restarts: 3,
    seed: 1,
    bridgeLambda: 1,
    bridgeMinRatings: 5,
  },
  userClusters: { clusters: 20, restarts: 3, seed: 1, smoothing: 5 },
  segments: {
    minK: 2,
    maxK: 30,
    rule: 'calinski-harabasz',
    seed: 1,
    restarts: 2,
    users: {
      positiveRating: 3.5,
      hidden: 32,
      code: 8,
      epochs: 300,
      patience: 20,
      batchSize: 32,
      learningRate: 0.003,
      validationShare: 0.1,
      meanShrinkage: 2,
      smoothing: 10,
      movieSegmentWeight: 0.5,
      lowRatingWeight: 0.5,
    },
  },
  pipeline: {
    evaluation: { strategies: ['most-popular', 'als', 'router'], k: 10, trainFraction: 0.75, seed: 1 },
    gate: { metric: 'router.ndcg', maxDrop: 0.01 },
  },
  neural: {
    userHidden: 128,
    code: 64,
    itemHidden: 64,
    itemCode: 32,
    aeEpochs: 30,
    aeLr: 0.001,
    aeDropout: 0.5,
    itemVectors: 'both',
    hidden: 64,
    hidden2: 32,
    epochs: 15,
    lr: 0.002,
    crossFolds: 5,
    candidates: 'ease',
    pool: 10,
    seed: 1,
  },
  router: { minRatings: 5, minPositive: 3, positiveRating: 4, contentWeight: 0.2, personalised: 'ease' },
};

export class ConfigError extends Error {}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Json, over: Json): Json {
  if (!isObject(base) || !isObject(over)) return over;
  const out: Record<string, Json> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? merge(out[k]!, v) : v;
  return out;
}

/** Sets a dotted path ("server.port") to a value parsed from a string. */
export function setPath(target: Record<string, Json>, path: string, raw: string): void {
  const keys = path.split('.');
  let node: Record<string, Json> = target;
  for (const key of keys.slice(0, -1)) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key] as Record<string, Json>;
  }
  let value: Json = raw;
  // A JSON list, e.g. content.autoencoder.hidden=[256,128].
  if (/^\[.*\]$/s.test(raw.trim())) {
    try {
      value = JSON.parse(raw) as Json;
    } catch {
      throw new ConfigError(`${path}: "${raw}" is not a valid JSON list`);
    }
  } else if (/^-?\d+(\.\d+)?$/.test(raw)) value = Number(raw);
  else if (raw === 'true' || raw === 'false') value = raw === 'true';
  node[keys[keys.length - 1]!] = value;
}

// Environment variables and the setting each one overrides.
export const ENV_VARS: Readonly<Record<string, string>> = {
  CINEREC_DATA_DIR: 'dataDir',
  CINEREC_REPORTS_DIR: 'reportsDir',
  CINEREC_MODELS_DIR: 'modelsDir',
  CINEREC_DATASET: 'dataset',
  CINEREC_STORE: 'store.path',
  CINEREC_MEMORY_LIMIT: 'store.memoryLimit',
  CINEREC_HOST: 'server.host',
  CINEREC_PORT: 'server.port',
  CINEREC_LOG_LEVEL: 'server.logLevel',
};

export interface LoadOptions {
  /** Path of the config file; default ./cinerec.config.json if it exists (or $CINEREC_CONFIG). */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Dotted overrides from flags, e.g. { 'server.port': '9090' }. */
  overrides?: Record<string, string>;
  cwd?: string;
}

export interface LoadedConfig {
  config: Config;
  secrets: Secrets;
  /** The file read, if any. */
  file: string | null;
}

export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.file ?? env.CINEREC_CONFIG;
  const file = explicit ? resolve(cwd, explicit) : resolve(cwd, 'cinerec.config.json');
  let merged: Json = structuredClone(DEFAULTS) as unknown as Json;
  let used: string | null = null;
  if (existsSync(file)) {
    let parsed: Json;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as Json;
    } catch (err) {
      throw new ConfigError(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    if (!isObject(parsed)) throw new ConfigError(`${file}: must hold a JSON object`);
    delete parsed.$schema;
    merged = merge(merged, parsed);
    used = file;
  } else if (explicit) {
    throw new ConfigError(`${explicit}: config file not found`);
  }
  const over: Record<string, Json> = {};
  for (const [name, path] of Object.entries(ENV_VARS)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(over, path, value);
  }
  for (const [path, value] of Object.entries(options.overrides ?? {})) setPath(over, path, value);
  merged = merge(merged, over);

  if (!validate(merged)) {
    const problems = (validate.errors ?? []).slice(0, 5).map((e) => {
      const at = e.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(top level)';
      const extra = (e.params as { additionalProperty?: string }).additionalProperty;
      return extra ? `${at}: unknown setting "${extra}"` : `${at}: ${e.message}`;
    });
    throw new ConfigError(`invalid configuration${used ? ` in ${used}` : ''}: ${problems.join('; ')}`);
  }
  const config: ConfigInput = merged;
  // Relative paths are relative to the config file's folder (or the working directory).
  const base = used ? dirname(used) : cwd;
  const abs = (p: string) => (isAbsolute(p) || p === ':memory:' ? p : resolve(base, p));
  const dataDir = abs(config.dataDir);
  const resolved: Config = {
    ...config,
    dataDir,
    reportsDir: abs(config.reportsDir),
    modelsDir: config.modelsDir ? abs(config.modelsDir) : join(dataDir, 'models'),
    store: { ...config.store, path: config.store.path ? abs(config.store.path) : join(dataDir, 'cinerec.duckdb') },
  };
  return { config: resolved, secrets: { adminToken: env.CINEREC_ADMIN_TOKEN?.trim() || null }, file: used };
}
