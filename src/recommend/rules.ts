import type { Catalogue } from '../data/catalogue.ts';
import type { Rule } from '../store/types.ts';

/**
 * Operators' promote/block rules, applied to a full score vector before top-k selection so that
 * every strategy obeys them the same way. Blocked titles get -Infinity; promoted titles have their
 * score multiplied by the boost (divided, for a negative score, so a boost always lifts).
 */
export class RuleSet {
  private readonly rules: Map<number, Rule>;

  constructor(rules: readonly Rule[]) {
    this.rules = new Map(rules.map((r) => [r.movieId, r]));
  }

  list(): Rule[] {
    return [...this.rules.values()].sort((a, b) => a.movieId - b.movieId);
  }

  get(movieId: number): Rule | undefined {
    return this.rules.get(movieId);
  }

  static isActive(rule: Rule, now: Date): boolean {
    return rule.until === null || Date.parse(rule.until) > now.getTime();
  }

  /** Returns the catalogue indices that were promoted (and eligible) in this list (`into`, cleared first, when given). */
  apply(scores: Float32Array, catalogue: Catalogue, now: Date, into?: Set<number>): Set<number> {
    const promoted = into ?? new Set<number>();
    promoted.clear();
    for (const rule of this.rules.values()) {
      if (!RuleSet.isActive(rule, now)) continue;
      const i = catalogue.indexOf(rule.movieId);
      if (i < 0) continue;
      if (rule.action === 'block') {
        scores[i] = Number.NEGATIVE_INFINITY;
      } else if (scores[i] !== Number.NEGATIVE_INFINITY) {
        const s = scores[i]!;
        scores[i] = s >= 0 ? s * rule.boost : s / rule.boost;
        promoted.add(i);
      }
    }
    return promoted;
  }
}
