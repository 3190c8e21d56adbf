import type { GenreCount } from '../data/catalogue.ts';
import type { MovieSegmentsView } from '../serving/segments.ts';
import type { Services } from '../serving/services.ts';
import type {
  AddedMovie,
  ClusterOverview,
  MovieDetails,
  NewMovieInput,
  PopularList,
  PopularQuery,
  PredictionList,
  PredictionModel,
  RecommendRequest,
  RoutedList,
  RuleInput,
  SearchResult,
  SimilarList,
  SimilarMethodRequest,
  StoreInfo,
  UserRatingInput,
  UserSegmentOverview,
  UserSegmentView,
  UserView,
} from '../serving/views.ts';
import type { Rule } from '../store/types.ts';
import { ConflictError, NotFoundError, UnavailableError, UserError, ValidationError } from '../util/errors.ts';

/**
 * What the CLI's commands ask for, answered either by services over the store this process opened, or, while a
 * server holds the store, by that server's API: the same command works both ways.
 */
export interface Client {
  info(): Promise<StoreInfo>;
  genres(): Promise<GenreCount[]>;
  movie(id: number): Promise<MovieDetails>;
  search(query: string, options: { limit?: number; offset?: number }): Promise<SearchResult>;
  popular(query: PopularQuery): Promise<PopularList>;
  addMovie(input: NewMovieInput): Promise<AddedMovie>;
  similar(id: number, options: { k?: number; method?: SimilarMethodRequest }): Promise<SimilarList>;
  recommend(req: RecommendRequest): Promise<RoutedList>;
  addUser(ratings: readonly UserRatingInput[]): Promise<UserView>;
  rate(userId: number, ratings: readonly UserRatingInput[]): Promise<UserView>;
  user(userId: number, limit?: number): Promise<UserView>;
  movieSegments(): Promise<MovieSegmentsView>;
  userSegments(): Promise<UserSegmentOverview>;
  userSegment(userId: number): Promise<UserSegmentView>;
  movieClusters(examples?: number): Promise<ClusterOverview>;
  predictions(userId: number, movieIds: readonly number[], model: PredictionModel): Promise<PredictionList>;
  rules(): Promise<(Rule & { active: boolean; title: string | null })[]>;
  putRule(input: RuleInput): Promise<Rule>;
  removeRule(movieId: number): Promise<void>;
}

/** The services of this process. */
export function localClient(s: Services): Client {
  return {
    info: () => s.catalogue.info(),
    genres: async () => s.catalogue.genres(),
    movie: (id) => s.catalogue.movie(id),
    search: async (q, o) => s.catalogue.search(q, o),
    popular: (q) => s.catalogue.popularList(q),
    addMovie: (input) => s.catalogue.addMovie(input),
    similar: (id, o) => s.similar.similar(id, o),
    recommend: (req) => s.recommendations.recommend(req),
    addUser: (ratings) => s.viewers.addUser(ratings),
    rate: (id, ratings) => s.viewers.rate(id, ratings),
    user: (id, limit) => s.viewers.user(id, limit),
    movieSegments: () => s.segments.movieSegments(),
    userSegments: () => s.segments.userSegments(),
    userSegment: (id) => s.segments.userSegment(id),
    movieClusters: (examples) => s.segments.movieClusters(examples),
    predictions: (id, movies, model) => s.predictions.predictions(id, movies, model),
    rules: async () => s.rules.list(),
    putRule: (input) => s.rules.put(input),
    removeRule: (id) => s.rules.remove(id),
  };
}

interface Problem {
  status: number;
  detail?: string;
  title?: string;
  field?: string;
}

/** The API's problem+json as the error the local services would have thrown. */
function errorOf(p: Problem): UserError {
  const message = p.detail ?? p.title ?? `the server answered ${p.status}`;
  if (p.status === 404) return new NotFoundError(message, p.field);
  if (p.status === 409) return new ConflictError(message, p.field);
  if (p.status === 503) return new UnavailableError(message, p.field);
  if (p.status === 401 || p.status === 403)
    return new UserError(
      `${message} (the server holding the store needs the admin token for changes: set CINEREC_ADMIN_TOKEN)`,
      p.field,
    );
  return new ValidationError(message, p.field);
}

/** One call to the API of the server at `base`; a problem answer becomes the error the services would throw. */
export async function httpClientCall<T>(
  base: string,
  adminToken: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && adminToken) headers.authorization = `Bearer ${adminToken}`;
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new UnavailableError(`the server at ${base} does not answer (${(err as Error).message})`);
  }
  const text = await res.text();
  const json: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw errorOf({ status: res.status, ...(json as object) });
  return json as T;
}

/** The API of the server that holds the store. */
export function httpClient(base: string, adminToken: string | null): Client {
  const call = <T>(method: string, path: string, body?: unknown): Promise<T> =>
    httpClientCall<T>(base, adminToken, method, path, body);
  const q = (params: Record<string, string | number | undefined>) => {
    const s = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) s.set(k, String(v));
    const text = s.toString();
    return text ? `?${text}` : '';
  };
  return {
    info: () => call('GET', '/v1/info'),
    genres: async () => (await call<{ items: GenreCount[] }>('GET', '/v1/genres')).items,
    movie: (id) => call('GET', `/v1/movies/${id}`),
    search: (query, o) => call('GET', `/v1/movies${q({ q: query, limit: o.limit, offset: o.offset })}`),
    popular: (p) =>
      call('GET', `/v1/recommendations/popular${q({ genres: p.genres?.join(','), match: p.match, k: p.k })}`),
    addMovie: (input) => call('POST', '/v1/movies', input),
    similar: (id, o) => call('GET', `/v1/movies/${id}/similar${q({ k: o.k, method: o.method })}`),
    recommend: (req) => call('POST', '/v1/recommendations', req),
    addUser: async (ratings) => call<UserView>('POST', '/v1/users', { ratings }),
    rate: (id, ratings) => call('POST', `/v1/users/${id}/ratings`, { ratings }),
    user: (id, limit) => call('GET', `/v1/users/${id}${q({ limit })}`),
    movieSegments: () => call('GET', '/v1/segments/movies'),
    userSegments: () => call('GET', '/v1/segments/users'),
    userSegment: (id) => call('GET', `/v1/users/${id}/segment`),
    movieClusters: (examples) => call('GET', `/v1/clusters/movies${q({ examples })}`),
    predictions: (id, movies, model) =>
      call('GET', `/v1/users/${id}/predictions${q({ movies: movies.join(','), model })}`),
    rules: async () =>
      (await call<{ items: (Rule & { active: boolean; title: string | null })[] }>('GET', '/v1/rules')).items,
    putRule: ({ movieId, ...rule }) => call('PUT', `/v1/rules/${movieId}`, rule),
    removeRule: async (id) => {
      await call('DELETE', `/v1/rules/${id}`, undefined);
    },
  };
}
