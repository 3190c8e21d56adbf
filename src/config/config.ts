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
    'router',
  ],
  properties: {
    segments: {
      type: 'object',
      additionalProperties: false,
      required: ['minK', 'maxK', 'rule', 'seed', 'restarts'],
      properties: {
        minK: { type: 'integer', minimum: 2, maximum: 1000 },
        maxK: { type: 'integer', minimum: 2, maximum: 1000 },
        rule: { type: 'string', enum: ['silhouette', 'davies-bouldin', 'calinski-harabasz', 'elbow'] },
        seed: { type: 'integer', minimum: 0 },
        restarts: { type: 'integer', minimum: 1, maximum: 100 },
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
  segments: { minK: 2, maxK: 30, rule: 'calinski-harabasz', seed: 1, restarts: 2 },
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
  if (/^-?\d+(\.\d+)?$/.test(raw)) value = Number(raw);
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
