import type { Config } from '../config/config.ts';
import type { Store } from '../store/types.ts';
import { CatalogueService } from './catalogue.ts';
import type { ChangeSink, WriteLock } from './changes.ts';
import { PredictionService } from './predictions.ts';
import { RecommendationService } from './recommendations.ts';
import { RuleService } from './rules.ts';
import { SegmentService } from './segments.ts';
import { Served } from './served.ts';
import { SimilarService } from './similar.ts';
import { ServedVersion } from './version.ts';
import { ViewerService } from './viewers.ts';

/**
 * The composition root the CLI and the server share: one served state and the services over it, each with one
 * job. The server swaps the whole bundle when it serves another version.
 */
export interface Services {
  readonly served: Served;
  readonly catalogue: CatalogueService;
  readonly similar: SimilarService;
  readonly viewers: ViewerService;
  readonly recommendations: RecommendationService;
  readonly segments: SegmentService;
  readonly predictions: PredictionService;
  readonly rules: RuleService;
}

export function servicesOver(served: Served): Services {
  const similar = new SimilarService(served);
  const catalogue = new CatalogueService(served, similar);
  return {
    served,
    catalogue,
    similar,
    viewers: new ViewerService(served),
    recommendations: new RecommendationService(served, catalogue),
    segments: new SegmentService(served),
    predictions: new PredictionService(served),
    rules: new RuleService(served),
  };
}

export interface LoadOptions {
  /** The version to serve: an id, null for none, or (default) the active one. */
  version?: string | null;
  log?: (line: string) => void;
  /** The write lock and change sink shared with the other processes serving the store (default: this one alone). */
  writes?: WriteLock;
  changes?: ChangeSink;
  /** Told of every result-cache lookup (the server's /metrics counts them). */
  onCacheLookup?: (hit: boolean) => void;
}

/** Opens a version (the active one by default) over the store and builds the services. */
export async function loadServices(store: Store, config: Config, opts: LoadOptions = {}): Promise<Services> {
  const version =
    opts.version === undefined
      ? await ServedVersion.active(config)
      : opts.version === null
        ? null
        : ServedVersion.open(config, opts.version);
  return servicesOver(
    await Served.load(store, config, version, opts.log, {
      ...(opts.writes ? { writes: opts.writes } : {}),
      ...(opts.changes ? { changes: opts.changes } : {}),
      ...(opts.onCacheLookup ? { onCacheLookup: opts.onCacheLookup } : {}),
    }),
  );
}
