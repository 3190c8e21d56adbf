import type { Query, ScoreResult, Strategy } from './strategy.ts';

export type Scenario = 'cold-start' | 'watched' | 'few-ratings' | 'personalised';

export interface RouterSettings {
  /** Fewer ratings than this → the few-ratings blend. */
  minRatings: number;
  /** ...as are fewer positive ratings than this. */
  minPositive: number;
  /** A rating at or above this is positive. */
  positiveRating: number;
  /** A watched or few-ratings viewer who gave fewer movies than this is served by the `thin` part (0: never). */
  thinHistory: number;
}

export interface Decision {
  scenario: Scenario;
  strategy: Strategy;
  /** Why this scenario, in words. */
  reason: string;
}

export interface RouterStrategies {
  coldStart: Strategy;
  watched: Strategy;
  fewRatings: Strategy;
  personalised: Strategy;
  /** Watched or few-ratings viewers who gave fewer than `thinHistory` movies. */
  thin: Strategy;
}

type Part = keyof RouterStrategies;

/** Each part as a strategy, or as a function that creates it the first time a query is routed to it. */
export type RouterParts = { [K in Part]: Strategy | (() => Promise<Strategy>) };

const PART_OF: Readonly<Record<Scenario, Part>> = {
  'cold-start': 'coldStart',
  watched: 'watched',
  'few-ratings': 'fewRatings',
  personalised: 'personalised',
};

/** The watched and few-ratings paths in words, by strategy (another strategy is named). */
const WATCHED_WHAT: Readonly<Record<string, string>> = {
  'also-liked': 'movies most liked by the viewers of the ones watched',
  content: 'movies similar in content',
  similar: 'movies watched by the same viewers (by content for movies nobody rated), leaning on popularity',
};
const FEW_WHAT: Readonly<Record<string, string>> = {
  'also-liked': 'movies most liked by the viewers of the liked ones',
  'content-popular': 'content similarity to the liked movies, blended with popularity',
  similar:
    'movies watched by the viewers of the liked ones (by content for movies nobody rated), leaning on popularity',
};

/**
 * Picks the path for a viewer from what is known about them (mission tasks 1–4):
 * nothing → cold start; watched movies only → the watched strategy; a thin rating history → the few-ratings
 * strategy; enough ratings → the personalised model (which strategy each is: the router section's settings).
 * Itself a Strategy, so the evaluator measures exactly this.
 */
export class RouterStrategy implements Strategy {
  readonly name = 'router';
  readonly description = 'scenario router: cold start, watched, few ratings or personalised';
  private last: Decision | null = null;
  private readonly made: Partial<RouterStrategies> = {};
  private readonly making = new Map<Part, Promise<Strategy>>();

  constructor(
    readonly parts: RouterParts,
    readonly settings: RouterSettings,
  ) {
    for (const key of Object.keys(parts) as Part[]) {
      const part = parts[key];
      if (typeof part !== 'function') this.made[key] = part;
    }
  }

  /**
   * Creates the parts that are still functions: one, or every one. A one-off command creates only the part its
   * query routes to (a personalised user never loads the content model); a server creates all before it listens,
   * and the evaluator before it scores.
   */
  async prepare(part?: Part): Promise<void> {
    const keys = part ? [part] : (Object.keys(this.parts) as Part[]);
    for (const key of keys) {
      if (this.made[key]) continue;
      let p = this.making.get(key);
      if (!p) {
        p = (this.parts[key] as () => Promise<Strategy>)();
        this.making.set(key, p);
        p.catch(() => this.making.delete(key));
      }
      this.made[key] = await p;
    }
  }

  /** The scenario of a query, from its history and context alone (no part needs to exist). */
  scenarioOf(query: Query): Scenario {
    return this.scenarioFor(counts(query, this.settings.positiveRating));
  }

  private scenarioFor({ rated, positive, watched }: Counts): Scenario {
    if (watched + rated === 0) return 'cold-start';
    if (rated === 0) return 'watched';
    if (rated < this.settings.minRatings || positive < this.settings.minPositive) return 'few-ratings';
    return 'personalised';
  }

  /** Decides after creating the part the query routes to. */
  async route(query: Query): Promise<Decision> {
    const c = counts(query, this.settings.positiveRating);
    await this.prepare(this.partFor(this.scenarioFor(c), c));
    return this.decide(query);
  }

  /** A thin history (one or two movies) is served by its own part in the watched and few-ratings scenarios. */
  private partFor(scenario: Scenario, c: Counts): Part {
    const thin =
      (scenario === 'watched' || scenario === 'few-ratings') && c.rated + c.watched < this.settings.thinHistory;
    return thin ? 'thin' : PART_OF[scenario];
  }

  private part(key: Part, scenario: Scenario): Strategy {
    const s = this.made[key];
    if (!s) throw new Error(`router: the ${scenario} strategy is not created yet (call prepare() or route())`);
    return s;
  }

  decide(query: Query): Decision {
    const c = counts(query, this.settings.positiveRating);
    const { rated, positive, watched } = c;
    const scenario = this.scenarioFor(c);
    const strategy = this.part(this.partFor(scenario, c), scenario);
    const { minRatings, minPositive, positiveRating } = this.settings;
    if (scenario === 'cold-start') {
      const genres = query.ctx.genres?.length ?? 0;
      return {
        scenario,
        strategy,
        reason:
          genres > 0
            ? 'nothing watched or rated yet: the most popular titles of the chosen genres'
            : 'nothing watched or rated yet: the most popular titles',
      };
    }
    if (scenario === 'watched') {
      return {
        scenario,
        strategy,
        reason: `${watched} watched movie${watched === 1 ? '' : 's'} and no ratings: ${WATCHED_WHAT[strategy.name] ?? `by ${strategy.name}`}`,
      };
    }
    if (scenario === 'few-ratings') {
      const what = FEW_WHAT[strategy.name] ?? `by ${strategy.name}`;
      return {
        scenario,
        strategy,
        reason:
          rated < minRatings
            ? `${rated} rating${rated === 1 ? '' : 's'} (fewer than ${minRatings}): ${what}`
            : `${positive} positive rating${positive === 1 ? '' : 's'} (≥ ${positiveRating}; fewer than ${minPositive}): ${what}`,
      };
    }
    return {
      scenario,
      strategy,
      reason: `${rated} ratings, ${positive} positive: personalised by ${strategy.name}`,
    };
  }

  score(query: Query, scores: Float32Array): ScoreResult | undefined {
    this.last = this.decide(query);
    return this.last.strategy.score(query, scores);
  }

  explain(query: Query, index: number): string | undefined {
    return (this.last ?? this.decide(query)).strategy.explain?.(query, index);
  }
}

/** Rated, positive and watched-only movies of a query's history (a watched movie has a NaN rating). */
interface Counts {
  rated: number;
  positive: number;
  watched: number;
}

function counts(query: Query, positiveRating: number): Counts {
  const { ratings } = query.history;
  let rated = 0;
  let positive = 0;
  for (let k = 0; k < ratings.length; k++) {
    const r = ratings[k]!;
    if (Number.isNaN(r)) continue;
    rated++;
    if (r >= positiveRating) positive++;
  }
  return { rated, positive, watched: ratings.length - rated };
}
