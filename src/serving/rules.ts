import { RuleSet } from '../recommend/rules.ts';
import type { Rule } from '../store/types.ts';
import { NotFoundError, ValidationError } from '../util/errors.ts';
import { checkId, checkText, parseInstant } from './checks.ts';
import type { Served } from './served.ts';
import type { RuleInput } from './views.ts';

/** The largest promotion factor, and the longest reason (the API's schema says the same). */
export const MAX_BOOST = 1000;
export const MAX_REASON = 500;

/** Promote and block rules: stored first, then applied to every list. */
export class RuleService {
  constructor(private readonly served: Served) {}

  list(): (Rule & { active: boolean; title: string | null })[] {
    const now = new Date();
    return this.served.rules.list().map((r) => ({
      ...r,
      active: RuleSet.isActive(r, now),
      title: this.served.catalogue.get(r.movieId)?.displayTitle ?? null,
    }));
  }

  put(input: RuleInput): Promise<Rule> {
    return this.served.writes.run(() => this.putNow(input));
  }

  private async putNow(input: RuleInput): Promise<Rule> {
    checkId(input.movieId, 'movieId', 'movie id');
    if (!this.served.catalogue.get(input.movieId))
      throw new NotFoundError(`no movie with id ${input.movieId}`, 'movieId');
    if (input.action !== 'block' && input.action !== 'promote') {
      throw new ValidationError(`action must be "block" or "promote", not "${String(input.action)}"`, 'action');
    }
    const boost = input.action === 'promote' ? (input.boost ?? 1.5) : 1;
    if (!(typeof boost === 'number' && Number.isFinite(boost) && boost > 0 && boost <= MAX_BOOST))
      throw new ValidationError(`boost must be a number above 0 and at most ${MAX_BOOST}`, 'boost');
    if (input.action === 'block' && input.boost !== undefined && input.boost !== 1) {
      throw new ValidationError('boost applies to promote rules only', 'boost');
    }
    let until: string | null = null;
    if (input.until !== undefined && input.until !== null && input.until !== '') {
      // A real calendar date (2026-02-30 is an error); a bare date means the whole of that day.
      const end = parseInstant(String(input.until), 'until');
      if (end.getTime() <= Date.now())
        throw new ValidationError(
          `until ${input.until} has passed: the rule would never apply (give a later date, or leave until out)`,
          'until',
        );
      until = end.toISOString();
    }
    const reason = checkText(input.reason, 'reason', { max: MAX_REASON });
    const store = this.served.store;
    const rule = await store.putRule({
      movieId: input.movieId,
      action: input.action,
      boost,
      until,
      reason,
    });
    await this.refresh();
    return rule;
  }

  remove(movieId: number): Promise<void> {
    return this.served.writes.run(async () => {
      const store = this.served.store;
      if (!(await store.removeRule(movieId))) throw new NotFoundError(`no rule for movie ${movieId}`, 'movieId');
      await this.refresh();
    });
  }

  /** The stored rules become the served ones, here and in every other serving process. */
  private async refresh(): Promise<void> {
    const rules = await this.served.store.listRules();
    this.served.rules = new RuleSet(rules);
    await this.served.changes.publish({ kind: 'rules', rules });
  }
}
