import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';

import {
  choice,
  defaultsOf,
  group,
  int,
  num,
  optionalText,
  type Params,
  schemaOf,
  text,
  texts,
  type ValuesOf,
} from '../components/params.ts';
import { COMPONENT_SECTIONS, type ComponentSettings } from '../components/sections.ts';

/**
 * The configuration: these base settings plus one section per component (components/*.ts declares each beside the
 * component that reads it). Type, defaults and JSON Schema all derive from the declarations.
 */
export const BASE_SETTINGS = {
  dataDir: text('./data', 'where releases are fetched and the store lives'),
  reportsDir: text('./reports', 'where `cinerec eval` writes its reports and the API reads them'),
  dataset: text('ml-latest-small', 'release used by `npm start` when the store is empty'),
  store: group(
    {
      url: optionalText(
        'PostgreSQL URL (postgres://user@host:5432/cinerec): the shared production store; unset: the embedded DuckDB file',
      ),
      path: optionalText('the DuckDB file (default <dataDir>/cinerec.duckdb)'),
      memoryLimit: text(
        '2GB',
        'DuckDB memory cap; it spills to disk beyond that',
        '^[0-9]+(\\.[0-9]+)?\\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$',
      ),
    },
    'the store',
  ),
  server: group(
    {
      host: text('127.0.0.1', 'interface to listen on'),
      port: int(8080, { min: 0, max: 65535, doc: 'port (0 picks a free one)' }),
      bodyLimit: int(1024 * 1024, { min: 1024, max: 100 * 1024 * 1024, doc: 'largest request body in bytes' }),
      logLevel: choice(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'log level'),
      cacheSize: int(10_000, {
        min: 0,
        max: 10_000_000,
        doc: 'finished list answers kept per serving process (0: no result cache)',
      }),
      workers: int(0, {
        min: 0,
        max: 256,
        doc: 'serving processes (each loads the model version; the store owner forks them); 0 = one per core, 1 = a single process',
      }),
      headersTimeout: int(10_000, {
        min: 1000,
        max: 600_000,
        doc: 'milliseconds a client has to send the request headers (from connecting); then 408 and the connection is closed',
      }),
      requestTimeout: int(30_000, {
        min: 1000,
        max: 3_600_000,
        doc: 'milliseconds a client has to send the whole request (headers and body); then 408 and the connection is closed',
      }),
      keepAliveTimeout: int(5000, {
        min: 100,
        max: 600_000,
        doc: 'milliseconds an idle keep-alive connection stays open',
      }),
      maxConnections: int(1024, {
        min: 1,
        max: 1_000_000,
        doc: 'open connections per serving process; beyond it new connections are closed at once',
      }),
      shutdownGrace: int(5000, {
        min: 0,
        max: 8000,
        doc: 'milliseconds requests in flight get to finish on SIGTERM before the connections are closed (the process exits within 10 s)',
      }),
      trustProxy: texts([], {
        doc: 'addresses or CIDR ranges of the load balancers in front (e.g. 127.0.0.1, 10.0.0.0/8): their X-Forwarded-For names the client that rate limits and logs see; empty: trust none',
      }),
      rateLimit: group(
        {
          window: int(60_000, { min: 1000, max: 86_400_000, doc: "the rate limits' window in milliseconds" }),
          publicPosts: int(600, {
            min: 0,
            max: 1_000_000,
            doc: 'POST requests that need no token (POST /v1/recommendations) per client address and window; 0: no limit',
          }),
          writes: int(300, {
            min: 0,
            max: 1_000_000,
            doc: 'requests to routes that need the admin token per client address and window (refused ones count); 0: no limit',
          }),
        },
        'rate limits per client address (per serving process); over the limit: 429 with Retry-After',
      ),
    },
    'the HTTP server',
  ),
  recommend: group(
    {
      defaultK: int(10, { min: 1, max: 1000, doc: 'list length when none is asked for' }),
      maxK: int(500, { min: 1, max: 10000, doc: 'longest list' }),
    },
    'list lengths',
  ),
  modelsDir: optionalText('trained models, runs and versions (default <dataDir>/models)'),
  pipeline: group(
    {
      evaluation: group(
        {
          strategies: texts(['most-popular', 'als', 'router'], { minItems: 1, doc: 'strategies evaluated' }),
          k: int(10, { min: 1, max: 1000, doc: 'list length' }),
          trainFraction: num(0.75, {
            exclusiveMin: 0,
            exclusiveMax: 1,
            doc: "share of each user's ratings trained on",
          }),
          seed: int(1, { doc: 'split seed' }),
          maxUsers: int(5000, {
            min: 0,
            doc: 'test users evaluated: a seeded sample of at most this many (0: all); the report gives the count',
          }),
        },
        'the evaluation stage of `cinerec train`',
      ),
      gate: group(
        {
          metric: text('router.ndcg', 'metric of the quality gate', '^[a-z-]+\\.[A-Za-z]+$'),
          maxDrop: num(0.01, { min: 0, doc: 'largest drop of the metric a retrained version may show' }),
        },
        'the quality gate a retrained version must pass to be activated',
      ),
    },
    '`cinerec train`: the evaluation stage and the quality gate',
  ),
} as const satisfies Params;

/** Settings as written in cinerec.config.json (every section complete after defaults are merged). */
export type ConfigInput = ValuesOf<typeof BASE_SETTINGS> & ComponentSettings;

/** The configuration after loading: every path absolute. */
export type Config = Omit<ConfigInput, 'store' | 'modelsDir'> & {
  store: ConfigInput['store'] & { path: string };
  modelsDir: string;
};

const ALL_SETTINGS: Params = {
  ...BASE_SETTINGS,
  ...Object.fromEntries(COMPONENT_SECTIONS.map((s) => [s.key, group(s.params, s.doc)])),
};

/** The configuration's JSON Schema (what `cinerec.config.json` may hold). */
export const CONFIG_SCHEMA = schemaOf(ALL_SETTINGS);

export const DEFAULTS = defaultsOf(ALL_SETTINGS) as unknown as ConfigInput;

interface Validator {
  (data: unknown): data is ConfigInput;
  errors?: ErrorObject[] | null;
}

/**
 * Ajv validates the configuration (the same validator as Fastify's). Compiling the schema costs about 0.1 s, which
 * every CLI call would pay: the build (scripts/build.mjs) compiles it once into config-validator.js beside the
 * compiled module; run from the sources, it is compiled here.
 */
async function validator(): Promise<Validator> {
  const compiled = new URL('./config-validator.js', import.meta.url);
  if (compiled.pathname.includes('/dist/')) {
    try {
      return ((await import(compiled.href)) as { default: Validator }).default;
    } catch {
      // Not built (or built before the schema changed): compile below.
    }
  }
  const { Ajv } = await import('ajv');
  return new Ajv({ allErrors: true }).compile<ConfigInput>(CONFIG_SCHEMA);
}

const validate = await validator();

/** Read from the environment only, never from files: secrets stay out of the repository. */
export interface Secrets {
  /** CINEREC_ADMIN_TOKEN: changes (and everything a reader may see). */
  adminToken: string | null;
  /** CINEREC_READER_TOKEN: when set, per-user data (histories, predictions, segments) needs this or the admin token. */
  readerToken: string | null;
}

/** RFC 6750's b64token: what an `Authorization: Bearer` header can carry as it is. */
const TOKEN_PATTERN = /^[A-Za-z0-9\-._~+/]+=*$/;
const TOKEN_MIN_LENGTH = 16;
const TOKEN_MAX_LENGTH = 512;

/**
 * A token from the environment, checked at start-up: surrounding whitespace is dropped (as an env file leaves it),
 * and what remains must be sendable in a bearer header and long enough not to be guessed.
 */
export function tokenFrom(env: NodeJS.ProcessEnv, name: string): string | null {
  const value = env[name]?.trim();
  if (!value) return null;
  if (!TOKEN_PATTERN.test(value))
    throw new ConfigError(
      `${name}: a token may hold only letters, digits and - . _ ~ + / (then = padding), so that it can be sent as ` +
        '"Authorization: Bearer <token>"; it holds ' +
        (/\s/.test(value) ? 'whitespace' : 'other characters'),
    );
  if (value.length < TOKEN_MIN_LENGTH || value.length > TOKEN_MAX_LENGTH)
    throw new ConfigError(
      `${name}: a token must be ${TOKEN_MIN_LENGTH} to ${TOKEN_MAX_LENGTH} characters long (e.g. \`openssl rand -hex 24\`); it has ${value.length}`,
    );
  return value;
}

function secretsFrom(env: NodeJS.ProcessEnv): Secrets {
  const adminToken = tokenFrom(env, 'CINEREC_ADMIN_TOKEN');
  const readerToken = tokenFrom(env, 'CINEREC_READER_TOKEN');
  if (adminToken !== null && adminToken === readerToken)
    throw new ConfigError('CINEREC_READER_TOKEN must differ from CINEREC_ADMIN_TOKEN: a reader could change data');
  return { adminToken, readerToken };
}

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
  CINEREC_DATABASE_URL: 'store.url',
  CINEREC_MEMORY_LIMIT: 'store.memoryLimit',
  CINEREC_HOST: 'server.host',
  CINEREC_PORT: 'server.port',
  CINEREC_LOG_LEVEL: 'server.logLevel',
  CINEREC_WORKERS: 'server.workers',
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
  return { config: resolved, secrets: secretsFrom(env), file: used };
}
