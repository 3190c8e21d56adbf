import type { RatingModel, Strategy, TrainingData } from '../recommend/strategy.ts';
import { ValidationError } from '../util/errors.ts';
import { type ModelSource, ModelUnavailableError } from './define.ts';
import { cycleFrom, ratingSpec, settingsFor, strategySpec } from './index.ts';
import type { ComponentSettings } from './sections.ts';

/**
 * Creates registered strategies over one model source and one data set, each once: the router's parts and a
 * `?strategy=` override share the same instances. Creating a strategy never fits (the source fits or loads).
 */
export class StrategyBook {
  private readonly made = new Map<string, Promise<Strategy>>();

  constructor(
    readonly data: TrainingData,
    readonly config: ComponentSettings,
    readonly models: ModelSource,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** A strategy ready to score any query (its on-demand parts created: see Strategy.prepare). */
  async get(name: string, field = 'strategy'): Promise<Strategy> {
    const s = await this.created(name, field);
    await s.prepare?.();
    return s;
  }

  /** A strategy as created, its on-demand parts not yet (the router then loads only the part a query needs). */
  created(name: string, field = 'strategy'): Promise<Strategy> {
    const spec = strategySpec(name, field);
    let p = this.made.get(spec.name);
    if (!p) {
      const cycle = cycleFrom(spec.name, this.config);
      if (cycle) throw new ValidationError(`strategy ${spec.name} is built from itself: ${cycle.join(' → ')}`, field);
      p = Promise.resolve(
        spec.create({
          data: this.data,
          settings: settingsFor(spec.reads, this.config),
          models: this.models,
          strategy: (n, fallback) => this.part(spec.name, n, fallback),
        }),
      );
      this.made.set(spec.name, p);
      p.catch(() => this.made.delete(spec.name));
    }
    return p;
  }

  /** A strategy `owner` is built from; `fallback` stands in when its models were not trained on this data. */
  private async part(owner: string, name: string, fallback?: string): Promise<Strategy> {
    try {
      return await this.get(name, owner);
    } catch (err) {
      if (!(err instanceof ModelUnavailableError) || !fallback || fallback === name) throw err;
      this.log(`${owner}: ${name} is not available (${err.reason}); using ${fallback}`);
      return this.get(fallback);
    }
  }

  /** A rating model over the same source. */
  async rating(name: string): Promise<RatingModel> {
    const spec = ratingSpec(name);
    return spec.create({
      data: this.data,
      settings: settingsFor(spec.reads, this.config),
      models: this.models,
      strategy: (n) => this.get(n),
    });
  }
}
