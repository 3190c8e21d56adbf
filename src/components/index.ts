import { ValidationError } from '../util/errors.ts';
import { alsModel, alsStrategy } from './als.ts';
import { biasModel, biasRating, globalMeanRating, randomStrategy } from './baselines.ts';
import { contentClusterStrategy, contentModel, contentStrategy, projectionModel } from './content.ts';
import type { ModelSpec, RatingModelSpec, SettingsOf, StrategySpec } from './define.ts';
import { easeModel, easeStrategy, itemKnnModel, itemKnnStrategy } from './ease.ts';
import { ensembleStrategy } from './ensemble.ts';
import { hybridClusterStrategy, hybridModel, hybridStrategySpec } from './hybrid.ts';
import { mfModel, mfRating } from './mf.ts';
import type { ModelName } from './models.ts';
import { multVaeModel, multVaeStrategy } from './mult-vae.ts';
import { neuralModel, neuralRating, neuralStrategy } from './neural.ts';
import { type Leaf, leaves, type SearchRange, type Section } from './params.ts';
import { mostPopularStrategy, popularGenreStrategy, popularityModel, popularStrategy } from './popularity.ts';
import { contentPopularStrategy, routerStrategy } from './router.ts';
import { rp3betaModel, rp3betaStrategy } from './rp3beta.ts';
import type { ComponentSettings } from './sections.ts';
import { COMPONENT_SECTIONS } from './sections.ts';
import { movieSegmentsModel, segmentScoresModel, segmentStrategy, userSegmentsModel } from './segments.ts';
import { alsoLikedStrategy, similarStrategy } from './similar.ts';
import { userClusterStrategy, userClustersModel } from './user-clusters.ts';

/**
 * The registry: every model, ranking strategy and rating model, by name. Lookups are own-property checks on
 * Maps, so a name such as "constructor" or "__proto__" is just an unknown name.
 */

type AnyModelSpec = ModelSpec<ModelName, readonly Section[]>;
type AnyStrategySpec = StrategySpec<readonly Section[]>;
type AnyRatingSpec = RatingModelSpec<readonly Section[]>;

/** In training order: a model comes after the models it depends on. */
const MODEL_LIST: readonly AnyModelSpec[] = [
  popularityModel,
  contentModel,
  projectionModel,
  alsModel,
  easeModel,
  itemKnnModel,
  rp3betaModel,
  multVaeModel,
  hybridModel,
  userClustersModel,
  movieSegmentsModel,
  userSegmentsModel,
  segmentScoresModel,
  mfModel,
  neuralModel,
  biasModel,
];

const STRATEGY_LIST: readonly AnyStrategySpec[] = [
  randomStrategy,
  popularStrategy,
  mostPopularStrategy,
  popularGenreStrategy,
  itemKnnStrategy,
  easeStrategy,
  contentStrategy,
  alsStrategy,
  hybridStrategySpec,
  hybridClusterStrategy,
  userClusterStrategy,
  segmentStrategy,
  contentPopularStrategy,
  routerStrategy,
  contentClusterStrategy,
  neuralStrategy,
  rp3betaStrategy,
  multVaeStrategy,
  ensembleStrategy,
  similarStrategy,
  alsoLikedStrategy,
];

const RATING_LIST: readonly AnyRatingSpec[] = [globalMeanRating, biasRating, mfRating, neuralRating];

export const MODELS: ReadonlyMap<ModelName, AnyModelSpec> = new Map(MODEL_LIST.map((m) => [m.name, m]));
export const STRATEGIES: ReadonlyMap<string, AnyStrategySpec> = new Map(STRATEGY_LIST.map((s) => [s.name, s]));
export const RATING_MODELS: ReadonlyMap<string, AnyRatingSpec> = new Map(RATING_LIST.map((s) => [s.name, s]));

/** Models a model version holds, in training order. */
export const SERVED_MODELS: readonly AnyModelSpec[] = MODEL_LIST.filter((m) => m.served);

/** Strategies a model version can serve: every model they read is in it (the others are evaluation only). */
export const SERVED_STRATEGIES: readonly string[] = STRATEGY_LIST.filter((s) =>
  s.models.every((m) => MODELS.get(m)?.served),
).map((s) => s.name);

export function modelSpec(name: ModelName): AnyModelSpec {
  const spec = MODELS.get(name);
  if (!spec) throw new Error(`unknown model "${name}"`);
  return spec;
}

/** A registered strategy, or a ValidationError naming the valid ones. */
export function strategySpec(name: string, field = 'strategy'): AnyStrategySpec {
  const spec = typeof name === 'string' ? STRATEGIES.get(name) : undefined;
  if (!spec)
    throw new ValidationError(
      `unknown strategy "${String(name)}"; choose from ${[...STRATEGIES.keys()].join(', ')}`,
      field,
    );
  return spec;
}

export function ratingSpec(name: string, field = 'model'): AnyRatingSpec {
  const spec = typeof name === 'string' ? RATING_MODELS.get(name) : undefined;
  if (!spec)
    throw new ValidationError(
      `unknown rating model "${String(name)}"; choose from ${[...RATING_MODELS.keys()].join(', ')}`,
      field,
    );
  return spec;
}

/** The values of the sections a component declares it reads. */
export function settingsFor<R extends readonly Section[]>(reads: R, config: ComponentSettings): SettingsOf<R> {
  const all = config as unknown as Record<string, unknown>;
  return Object.fromEntries(reads.map((s) => [s.key, all[s.key]])) as SettingsOf<R>;
}

const SECTION_BY_KEY: ReadonlyMap<string, Section> = new Map(COMPONENT_SECTIONS.map((s) => [s.key, s]));

/** The declaration of a dotted setting path such as "als.factors". */
export function settingOf(path: string): Leaf {
  const dot = path.indexOf('.');
  const sec = SECTION_BY_KEY.get(path.slice(0, dot));
  const leaf = sec ? leaves(sec.params).find((l) => l.path === path.slice(dot + 1)) : undefined;
  if (!leaf) throw new Error(`no setting ${path}`);
  return leaf;
}

export type Params = Record<string, number>;

interface ParamSpec {
  name: string;
  params: Readonly<Record<string, string>>;
}

/** A strategy's parameters with their current values (the settings they name). */
export function paramsOf(spec: ParamSpec, config: ComponentSettings): Params {
  const out: Params = {};
  for (const [name, path] of Object.entries(spec.params)) {
    const v = getPath(config, path);
    if (typeof v === 'number') out[name] = v;
  }
  return out;
}

/** The search range of each tunable parameter (its setting's declaration), by parameter name. */
export function searchSpaceOf(spec: ParamSpec): Record<string, SearchRange & { integer: boolean }> {
  const out: Record<string, SearchRange & { integer: boolean }> = {};
  for (const [name, path] of Object.entries(spec.params)) {
    const { param } = settingOf(path);
    if (param.kind === 'number' || param.kind === 'integer') {
      if (param.search) out[name] = { ...param.search, integer: param.kind === 'integer' };
    }
  }
  return out;
}

export function getPath(config: ComponentSettings, path: string): unknown {
  let node: unknown = config;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The configuration with a strategy's parameters set (they name settings, so a parameter is a setting). */
export function withParams<C extends ComponentSettings>(config: C, spec: ParamSpec, params: Params | undefined): C {
  if (!params || Object.keys(params).length === 0) return config;
  const out = structuredClone(config);
  for (const [name, value] of Object.entries(params)) {
    const path = Object.hasOwn(spec.params, name) ? spec.params[name] : undefined;
    if (!path) throw new ValidationError(`${spec.name} has no parameter "${name}"`, '--param');
    const keys = path.split('.');
    let node = out as unknown as Record<string, unknown>;
    for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
    node[keys.at(-1)!] = value;
  }
  return out;
}

/** Setting paths of a parameter map: { als: { factors: 128 } } → { 'als.factors': 128 }. */
export function settingUpdates(spec: ParamSpec, params: Params): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(params)) {
    const path = Object.hasOwn(spec.params, name) ? spec.params[name] : undefined;
    if (path) out[path] = value;
  }
  return out;
}

/** "ease.lambda=500" entries → per-name parameter overrides, checked against the known names. */
export function parseParams(
  entries: readonly string[],
  registry: ReadonlyMap<string, ParamSpec>,
  field = '--param',
): Map<string, Params> {
  const out = new Map<string, Params>();
  for (const entry of entries) {
    const m = /^([a-z][a-z0-9-]*)\.([A-Za-z][A-Za-z0-9]*)=(.+)$/.exec(entry.trim());
    if (!m) throw new ValidationError(`${field} expects name.key=value (e.g. ease.lambda=500), got "${entry}"`, field);
    const [, name, key, raw] = m;
    const spec = registry.get(name!);
    if (!spec) throw new ValidationError(`${field}: unknown strategy "${name}"`, field);
    if (!Object.hasOwn(spec.params, key!)) {
      const known = Object.keys(spec.params);
      throw new ValidationError(
        `${field}: ${name} has no parameter "${key}"${known.length ? `; it has ${known.join(', ')}` : ''}`,
        field,
      );
    }
    const value = Number(raw);
    if (!Number.isFinite(value))
      throw new ValidationError(`${field} ${name}.${key} must be a number, not "${raw}"`, field);
    out.set(name!, { ...(out.get(name!) ?? {}), [key!]: value });
  }
  return out;
}

/** Checks names against a registry; a ValidationError lists the valid ones. */
export function resolveNames(
  names: readonly string[],
  registry: ReadonlyMap<string, unknown>,
  field: string,
): string[] {
  const unknown = names.filter((n) => !registry.has(n));
  if (unknown.length > 0) {
    throw new ValidationError(
      `unknown strateg${unknown.length > 1 ? 'ies' : 'y'} ${unknown.map((n) => `"${n}"`).join(', ')}; choose from ${[...registry.keys()].join(', ')}`,
      field,
    );
  }
  if (names.length === 0) throw new ValidationError(`name at least one of ${[...registry.keys()].join(', ')}`, field);
  return [...new Set(names)];
}

/** Models a strategy needs, with everything they depend on, and the strategies it is built from (by name). */
export function closureOf(name: string, config: ComponentSettings): { strategies: string[]; models: ModelName[] } {
  const strategies = new Set<string>();
  const models = new Set<ModelName>();
  const addModel = (m: ModelName): void => {
    if (models.has(m)) return;
    for (const d of modelSpec(m).deps) addModel(d);
    models.add(m);
  };
  const visit = (n: string): void => {
    if (strategies.has(n)) return;
    strategies.add(n);
    const spec = strategySpec(n);
    for (const m of spec.models) addModel(m);
    for (const u of spec.uses?.(settingsFor(spec.reads, config)) ?? []) if (u !== 'all') visit(u);
  };
  visit(name);
  return { strategies: [...strategies], models: [...models] };
}

/** Section keys whose values shape a strategy's scores: its own, its parts', and its models'. */
export function sectionsOf(name: string, config: ComponentSettings): string[] {
  const { strategies, models } = closureOf(name, config);
  const keys = new Set<string>();
  for (const s of strategies) for (const sec of strategySpec(s).reads) keys.add(sec.key);
  for (const m of models) for (const sec of modelSpec(m).reads) keys.add(sec.key);
  return [...keys].sort();
}

/** A chain of strategies that leads back to `name` (e.g. router.personalised = router), or null. */
export function cycleFrom(name: string, config: ComponentSettings): string[] | null {
  const path: string[] = [];
  const done = new Set<string>();
  const visit = (n: string): string[] | null => {
    if (path.includes(n)) return [...path.slice(path.indexOf(n)), n];
    if (done.has(n) || !STRATEGIES.has(n)) return null;
    path.push(n);
    const spec = strategySpec(n);
    for (const u of spec.uses?.(settingsFor(spec.reads, config)) ?? []) {
      const c = visit(u);
      if (c) return c;
    }
    path.pop();
    done.add(n);
    return null;
  };
  return visit(name);
}

/** What can be tuned: every strategy and rating model with a parameter whose setting declares a search range. */
export function tunable(): string[] {
  const names = new Set<string>();
  for (const [name, spec] of [...STRATEGIES, ...RATING_MODELS])
    if (Object.keys(searchSpaceOf(spec)).length > 0) names.add(name);
  return [...names];
}
