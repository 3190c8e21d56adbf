import type { Query, ScoreResult, Strategy } from './strategy.ts';

export type Scenario = 'cold-start' | 'watched' | 'few-ratings' | 'personalised';

export interface RouterSettings {
  /** Fewer ratings than this → the few-ratings blend. */
  minRatings: number;
  /** ...as are fewer positive ratings than this. */
  minPositive: number;
  /** A rating at or above this is positive. */
  positiveRating: number;
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
}

/** The watched and few-ratings paths in words, by strategy (another strategy is named). */
const WATCHED_WHAT: Readonly<Record<string, string>> = {
  content: 'movies similar in content',
  similar: 'movies watched by the same viewers (by content for movies nobody rated), leaning on popularity',
};
const FEW_WHAT: Readonly<Record<string, string>> = {
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

  constructor(
    readonly strategies: RouterStrategies,
    readonly settings: RouterSettings,
  ) {}

  decide(query: Query): Decision {
    const { ratings } = query.history;
    let rated = 0;
    let positive = 0;
    for (let k = 0; k < ratings.length; k++) {
      const r = ratings[k]!;
      if (Number.isNaN(r)) continue;
      rated++;
      if (r >= this.settings.positiveRating) positive++;
    }
    const watched = ratings.length - rated;
    const { minRatings, minPositive, positiveRating } = this.settings;
    if (ratings.length === 0) {
      const genres = query.ctx.genres?.length ?? 0;
      return {
        scenario: 'cold-start',
        strategy: this.strategies.coldStart,
        reason:
          genres > 0
            ? 'nothing watched or rated yet: the most popular titles of the chosen genres'
            : 'nothing watched or rated yet: the most popular titles',
      };
    }
    if (rated === 0) {
      return {
        scenario: 'watched',
        strategy: this.strategies.watched,
        reason: `${watched} watched movie${watched === 1 ? '' : 's'} and no ratings: ${WATCHED_WHAT[this.strategies.watched.name] ?? `by ${this.strategies.watched.name}`}`,
      };
    }
    if (rated < minRatings || positive < minPositive) {
      return {
        scenario: 'few-ratings',
        strategy: this.strategies.fewRatings,
        reason:
          rated < minRatings
            ? `${rated} rating${rated === 1 ? '' : 's'} (fewer than ${minRatings}): ${FEW_WHAT[this.strategies.fewRatings.name] ?? `by ${this.strategies.fewRatings.name}`}`
            : `${positive} positive rating${positive === 1 ? '' : 's'} (≥ ${positiveRating}; fewer than ${minPositive}): ${FEW_WHAT[this.strategies.fewRatings.name] ?? `by ${this.strategies.fewRatings.name}`}`,
      };
    }
    return {
      scenario: 'personalised',
      strategy: this.strategies.personalised,
      reason: `${rated} ratings, ${positive} positive: personalised by ${this.strategies.personalised.name}`,
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
