import type { RatingModel, Strategy, TrainingData } from '../recommend/strategy.ts';
import { UnavailableError } from '../util/errors.ts';
import type { Progress } from '../util/progress.ts';
import type { CurvePoint } from '../util/shapes.ts';
import type { ModelName, ModelTypes } from './models.ts';
import type { Params, Section, ValuesOf } from './params.ts';

/**
 * What a component declares, once: the settings it reads (its configuration sections, whose declarations carry
 * defaults, schema and search ranges), the trained models it produces or scores with, and how to fit, save, load
 * and create them. Training, serving, evaluation, tuning and the configuration all read these declarations.
 */

/** The values of the sections a component declares it reads: it is given nothing else. */
export type SettingsOf<R extends readonly Section[]> = {
  [S in R[number] as S['key']]: S extends Section<string, infer P extends Params> ? ValuesOf<P> : never;
};

/** A model the data or the version does not have (e.g. EASE above its size limit was not trained). */
export class ModelUnavailableError extends UnavailableError {
  constructor(
    readonly model: ModelName,
    readonly reason: string,
  ) {
    super(`model ${model} is not available: ${reason}`, 'strategy');
  }
}

/** Trained models by name: loaded from a model version when serving, fitted when training or evaluating. */
export interface ModelSource {
  get<N extends ModelName>(name: N): Promise<ModelTypes[N]>;
  /**
   * The model when it is there without fitting (serving: in the version; fitting: already fitted), else null.
   * For models a strategy uses when present but does not need.
   */
  optional<N extends ModelName>(name: N): Promise<ModelTypes[N] | null>;
}

export interface FitContext<R extends readonly Section[]> {
  data: TrainingData;
  settings: SettingsOf<R>;
  /** The models it depends on, fitted first. */
  models: ModelSource;
  progress: Progress;
  log(line: string): void;
}

export interface LoadContext<R extends readonly Section[]> {
  /** The served data: the version's snapshot plus what the store gained since (live movies and users). */
  data: TrainingData;
  settings: SettingsOf<R>;
  /** Its dependencies, loaded first. */
  models: ModelSource;
}

export interface ModelReport {
  metrics: Record<string, number>;
  curves?: Record<string, CurvePoint[]>;
  /** Small JSON written beside the model for the run page (e.g. the hybrid bridge's R²). */
  details?: unknown;
}

export interface ModelSpec<N extends ModelName = ModelName, R extends readonly Section[] = readonly Section[]> {
  name: N;
  description: string;
  /** Configuration sections it reads: they are the training stage's parameters (its cache key). */
  reads: R;
  /** Settings inside those sections that do not change what is fitted (e.g. als.threads): left out of the key. */
  ignore?: readonly string[];
  /** Models it is fitted from (trained before it, loaded before it). */
  deps: readonly ModelName[];
  /** Trained into every model version (false: fitted only by the offline evaluation, e.g. baselines). */
  served: boolean;
  /**
   * The declaring module (`import.meta.url`): its run-time import closure, implementation modules loaded lazily
   * included, is the training stage's code version.
   */
  module: string;
  /** Why it cannot be trained on this data with these settings (e.g. EASE above maxDense), or null. */
  skip?(data: TrainingData, settings: SettingsOf<R>): string | null;
  fit(ctx: FitContext<R>): Promise<ModelTypes[N]>;
  save(model: ModelTypes[N], dir: string): Promise<void>;
  load(dir: string, ctx: LoadContext<R>): Promise<ModelTypes[N]>;
  report?(model: ModelTypes[N]): ModelReport;
}

export function defineModel<N extends ModelName, const R extends readonly Section[]>(
  spec: ModelSpec<N, R>,
): ModelSpec<N, R> {
  return spec;
}

export interface StrategyContext<R extends readonly Section[]> {
  data: TrainingData;
  settings: SettingsOf<R>;
  models: ModelSource;
  /**
   * Another registered strategy (the router's parts, the neural strategy's candidates), created once. With
   * `fallback`, a strategy whose models are unavailable (not trained on this data) is replaced by that one.
   */
  strategy(name: string, fallback?: string): Promise<Strategy>;
}

/**
 * A ranking strategy: its tunable parameters are named settings of the sections it reads, so `--param als.factors`
 * and `als.factors` in the configuration are one value, and `tune --write` writes the setting itself.
 */
export interface StrategySpec<R extends readonly Section[] = readonly Section[]> {
  name: string;
  description: string;
  reads: R;
  /** Parameter name → dotted setting path (e.g. factors: 'als.factors'); the setting declares range and search. */
  params: Readonly<Record<string, string>>;
  /** Trained models it scores with. */
  models: readonly ModelName[];
  /** Strategies it is composed of, by name (from settings: a function of them). */
  uses?(settings: SettingsOf<R>): readonly string[];
  create(ctx: StrategyContext<R>): Strategy | Promise<Strategy>;
}

export function defineStrategy<const R extends readonly Section[]>(spec: StrategySpec<R>): StrategySpec<R> {
  return spec;
}

/** A rating predictor (RMSE/MAE in `cinerec eval --rating`, predictions served from a trained model). */
export interface RatingModelSpec<R extends readonly Section[] = readonly Section[]> {
  name: string;
  description: string;
  reads: R;
  params: Readonly<Record<string, string>>;
  /** The trained model it predicts from, when serving can use it. */
  model?: ModelName;
  create(ctx: StrategyContext<R>): RatingModel | Promise<RatingModel>;
}

export function defineRatingModel<const R extends readonly Section[]>(spec: RatingModelSpec<R>): RatingModelSpec<R> {
  return spec;
}
