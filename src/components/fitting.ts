import type { TrainingData } from '../recommend/strategy.ts';
import { type Progress, silentProgress } from '../util/progress.ts';
import { type ModelSource, ModelUnavailableError } from './define.ts';
import { modelSpec, settingsFor } from './index.ts';
import type { ModelName, ModelTypes } from './models.ts';
import type { ComponentSettings } from './sections.ts';

/**
 * Models fitted on demand from training data, each once, dependencies first: what the offline evaluation and
 * tuning score strategies with (a fresh source per training split). Serving never uses this: it loads a version.
 */
export class FittingModels implements ModelSource {
  private readonly fitted = new Map<ModelName, Promise<unknown>>();

  constructor(
    private readonly data: TrainingData,
    private readonly config: ComponentSettings,
    private readonly opts: { progress?: Progress; log?: (line: string) => void } = {},
  ) {}

  get<N extends ModelName>(name: N): Promise<ModelTypes[N]> {
    let p = this.fitted.get(name);
    if (!p) {
      p = this.fit(name);
      this.fitted.set(name, p);
    }
    return p as Promise<ModelTypes[N]>;
  }

  async optional<N extends ModelName>(name: N): Promise<ModelTypes[N] | null> {
    const p = this.fitted.get(name);
    return p ? (p as Promise<ModelTypes[N]>) : null;
  }

  private async fit<N extends ModelName>(name: N): Promise<ModelTypes[N]> {
    const spec = modelSpec(name);
    const settings = settingsFor(spec.reads, this.config);
    const skipped = spec.skip?.(this.data, settings) ?? null;
    if (skipped) throw new ModelUnavailableError(name, skipped);
    for (const d of spec.deps) await this.get(d);
    const model = await spec.fit({
      data: this.data,
      settings,
      models: this,
      progress: this.opts.progress ?? silentProgress,
      log: this.opts.log ?? (() => {}),
    });
    return model as ModelTypes[N];
  }
}
