import { RuleSet } from '../recommend/rules.ts';
import type { Rule } from '../store/types.ts';
import { NotFoundError, ValidationError } from '../util/errors.ts';
import type { Served } from './served.ts';
import type { RuleInput } from './views.ts';

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
    if (!this.served.catalogue.get(input.movieId))
      throw new NotFoundError(`no movie with id ${input.movieId}`, 'movieId');
    if (input.action !== 'block' && input.action !== 'promote') {
      throw new ValidationError(`action must be "block" or "promote", not "${String(input.action)}"`, 'action');
    }
    const boost = input.action === 'promote' ? (input.boost ?? 1.5) : 1;
    if (!(Number.isFinite(boost) && boost > 0)) throw new ValidationError('boost must be a number above 0', 'boost');
    if (input.action === 'block' && input.boost !== undefined && input.boost !== 1) {
      throw new ValidationError('boost applies to promote rules only', 'boost');
    }
    let until: string | null = null;
    if (input.until) {
      const t = Date.parse(input.until);
      if (Number.isNaN(t))
        throw new ValidationError(`until must be an ISO date such as 2026-12-31, not "${input.until}"`, 'until');
      // A bare date means the whole of that day.
      until = new Date(/^\d{4}-\d{2}-\d{2}$/.test(input.until) ? t + 86_400_000 - 1 : t).toISOString();
    }
    const store = this.served.store;
    const rule = await store.putRule({
      movieId: input.movieId,
      action: input.action,
      boost,
      until,
      reason: input.reason?.trim() || null,
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
