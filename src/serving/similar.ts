import type { ContentIndex } from '../models/content-index.ts';
import type { RankedItem } from '../recommend/pipeline.ts';
import type { HybridStrategy } from '../recommend/strategies/hybrid.ts';
import type { Strategy } from '../recommend/strategy.ts';
import { NotFoundError, UnavailableError, ValidationError } from '../util/errors.ts';
import { checkK } from './checks.ts';
import type { Served } from './served.ts';
import {
  round4,
  type SimilarList,
  type SimilarMethod,
  type SimilarMethodRequest,
  type SimilarMovie,
  summary,
} from './views.ts';

const METHODS: readonly SimilarMethodRequest[] = ['auto', 'content', 'cluster', 'hybrid'];

/** Similar movies: by content (all movies, or within the movie's cluster) or in the hybrid ALS ⊕ content space. */
export class SimilarService {
  constructor(private readonly served: Served) {}

  similar(movieId: number, options: { k?: number; method?: SimilarMethodRequest } = {}): Promise<SimilarList> {
    const s = this.served;
    const key = JSON.stringify(['similar', s.stateStamp(), movieId, options]);
    return s.cache.get(key, () => this.similarNow(movieId, options));
  }

  private async similarNow(
    movieId: number,
    options: { k?: number; method?: SimilarMethodRequest },
  ): Promise<SimilarList> {
    const catalogue = this.served.catalogue;
    const movie = catalogue.get(movieId);
    if (!movie) throw new NotFoundError(`no movie with id ${movieId}`, 'movieId');
    const asked = options.method ?? 'auto';
    if (!METHODS.includes(asked))
      throw new ValidationError(
        `method must be "auto", "content", "cluster" or "hybrid", not "${String(asked)}"`,
        'method',
      );
    const k = checkK(this.served.config, options.k);
    const content = await this.served.models.get('content');
    const index = catalogue.indexOf(movieId);
    const method = asked === 'auto' ? await this.methodFor(index) : asked;
    let strategy: Strategy;
    if (method === 'hybrid') {
      const hybrid = (await this.served.strategy('hybrid')) as HybridStrategy;
      // Cosine in the hybrid space (ALS ⊕ content) to this one movie.
      strategy = {
        name: 'hybrid-similar',
        description: 'hybrid similarity',
        score: (_q, scores) => {
          hybrid.similarTo(index, scores);
          return undefined;
        },
      };
    } else {
      strategy = await this.served.strategy(method === 'cluster' ? 'content-cluster' : 'content');
    }
    const ranked = this.rankTiesByViewers(strategy, movieId, k);
    return {
      movie: { ...summary(movie), cluster: content.clusterOf(index) },
      method,
      items: ranked.map((r) => this.item(content, index, r)),
    };
  }

  /**
   * What evaluates best for the movie's situation (docs/evaluation.md, scenario watched): viewers and content
   * (hybrid) for a movie people rated in the training data, content alone for one nobody has (its hybrid vector is
   * only a bridged guess), and content when the version has no hybrid model.
   */
  private async methodFor(index: number): Promise<SimilarMethod> {
    if ((this.served.data.interactions.itemCounts()[index] ?? 0) === 0) return 'content';
    try {
      await this.served.strategy('hybrid');
      return 'hybrid';
    } catch (err) {
      // A version without the hybrid model (skipped or absent); anything else is a real failure.
      if (err instanceof UnavailableError) return 'content';
      throw err;
    }
  }

  /**
   * The top k, equal scores ordered by how many viewers rated each movie (then by catalogue order): movies a seed
   * cannot tell apart (same genres and year, no tags) come most watched first, not lowest id first. The list is
   * widened until its last movie scores below the k-th, so no better-known equal is cut off.
   */
  private rankTiesByViewers(strategy: Strategy, movieId: number, k: number): RankedItem[] {
    const counts = this.served.data.interactions.itemCounts();
    const n = this.served.catalogue.size;
    let want = Math.min(n, k + 10);
    for (;;) {
      const ranked = this.served.pipeline.rank(strategy, { ctx: { watched: [movieId] }, k: want, explain: false });
      const cut = ranked[k - 1];
      const last = ranked[ranked.length - 1];
      if (want >= n || ranked.length < want || !cut || !last || last.tier !== cut.tier || last.score !== cut.score) {
        return ranked
          .sort((a, b) => b.tier - a.tier || b.score - a.score || (counts[b.index] ?? 0) - (counts[a.index] ?? 0))
          .slice(0, k);
      }
      want = Math.min(n, want * 2);
    }
  }

  private item(content: ContentIndex, seed: number, r: RankedItem): SimilarMovie {
    const shared = content.shared(seed, r.index);
    const parts = [
      shared.series ? `same series: ${shared.series}` : '',
      shared.titleWords?.length
        ? `title word${shared.titleWords.length > 1 ? 's' : ''} ${shared.titleWords.join(', ')}`
        : '',
      shared.genres.length ? `shares ${shared.genres.join(', ')}` : '',
      shared.tags.length ? `tags ${shared.tags.join(', ')}` : '',
    ].filter(Boolean);
    return {
      ...summary(this.served.catalogue.movies[r.index]!),
      score: round4(r.score),
      cluster: content.clusterOf(r.index),
      promoted: r.promoted,
      shared,
      reason: parts.length ? parts.join('; ') : 'similar in content',
    };
  }
}
