import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainingData } from '../recommend/strategy.ts';
import { UnavailableError } from '../util/errors.ts';
import { type ModelSource, ModelUnavailableError } from './define.ts';
import { modelSpec, settingsFor } from './index.ts';
import type { ModelName, ModelTypes } from './models.ts';
import type { ComponentSettings } from './sections.ts';

/** A model's place in a stage output (and so in a model version): `model/`, or `skipped.json` saying why not. */
export const MODEL_DIR = 'model';
export const SKIPPED_FILE = 'skipped.json';

/** A model in a stage output or version directory: its saved files, or why it was left out; null if neither. */
export function storedModelAt(dir: string): StoredModel | null {
  const skipped = join(dir, SKIPPED_FILE);
  if (existsSync(skipped)) return { skipped: (JSON.parse(readFileSync(skipped, 'utf8')) as { reason: string }).reason };
  const model = join(dir, MODEL_DIR);
  return existsSync(model) ? { dir: model } : null;
}

/** Where a trained model is: its directory, or why training left it out. */
export type StoredModel = { dir: string } | { skipped: string };

/**
 * Trained models loaded from directories (a model version when serving, the stage cache when a training stage
 * needs its dependencies), each once, dependencies first. Loading never fits: a model that is not there is an
 * error that says how to get it.
 */
export class StoredModels implements ModelSource {
  private readonly loading = new Map<ModelName, Promise<unknown>>();
  private readonly done = new Map<ModelName, unknown>();

  constructor(
    private readonly where: (name: ModelName) => StoredModel | null,
    private readonly data: TrainingData,
    /** The settings the models were trained with (a version's own configuration). */
    private readonly config: ComponentSettings,
    /** Called before a model's files are read (e.g. to check their sha256); throws to refuse them. */
    private readonly check: (name: ModelName, dir: string) => void | Promise<void> = () => {},
    /** What the models are called in messages, e.g. "model version v0003". */
    private readonly what = 'the trained models',
  ) {}

  get<N extends ModelName>(name: N): Promise<ModelTypes[N]> {
    let p = this.loading.get(name);
    if (!p) {
      p = this.load(name).then((m) => {
        this.done.set(name, m);
        return m;
      });
      this.loading.set(name, p);
      p.catch(() => this.loading.delete(name));
    }
    return p as Promise<ModelTypes[N]>;
  }

  async optional<N extends ModelName>(name: N): Promise<ModelTypes[N] | null> {
    const at = this.where(name);
    return at && 'dir' in at ? this.get(name) : null;
  }

  /** A model already in memory, or null (movies added live are placed only into loaded models). */
  loaded<N extends ModelName>(name: N): ModelTypes[N] | null {
    return (this.done.get(name) as ModelTypes[N] | undefined) ?? null;
  }

  /** Loads every model there is (a server does this before it listens, so no request waits for a load). */
  async loadAll(names: readonly ModelName[]): Promise<void> {
    for (const n of names) if (this.where(n) && 'dir' in this.where(n)!) await this.get(n);
  }

  private async load<N extends ModelName>(name: N): Promise<ModelTypes[N]> {
    const spec = modelSpec(name);
    if (!spec.served)
      throw new ModelUnavailableError(
        name,
        `evaluation only: model versions do not hold it (\`npx cinerec eval --strategies …\` fits it)`,
      );
    const at = this.where(name);
    if (!at)
      throw new UnavailableError(
        `${this.what} has no ${name} model: train a new version with \`npx cinerec train\``,
        'version',
      );
    if ('skipped' in at) throw new ModelUnavailableError(name, at.skipped);
    for (const d of spec.deps) await this.get(d);
    await this.check(name, at.dir);
    const model = await spec.load(at.dir, {
      data: this.data,
      settings: settingsFor(spec.reads, this.config),
      models: this,
    });
    return model as ModelTypes[N];
  }
}
