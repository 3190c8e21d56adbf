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
    const ranked = this.served.pipeline.rank(strategy, { ctx: { watched: [movieId] }, k, explain: false });
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

  private item(content: ContentIndex, seed: number, r: RankedItem): SimilarMovie {
    const shared = content.shared(seed, r.index);
    const parts = [
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
