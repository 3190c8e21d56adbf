/** A movie: details, top tags, links, cluster and segment, and similar movies by content and hybrid side by side. */
import { type CSSProperties, useEffect } from 'react';
import { api, useAsync } from '../api.ts';
import { AsyncView, Empty, ErrorBox, Loading } from '../components/status.tsx';
import { formatScore, genreHue } from '../components/title-card.tsx';
import { Link } from '../router.tsx';
import type { MovieDetails, MovieSegmentOf, SimilarList } from '../types.ts';

function SimilarColumn({ id, method, title }: { id: number; method: 'content' | 'hybrid'; title: string }) {
  const state = useAsync(`${id}|${method}`, (signal) =>
    api<SimilarList>(`/v1/movies/${id}/similar?method=${method}&k=10`, { signal }),
  );
  return (
    <section className="column" aria-labelledby={`similar-${method}`}>
      <h2 id={`similar-${method}`}>{title}</h2>
      <AsyncView state={state} loading={`Finding similar movies (${method})`}>
        {(data) =>
          data.items.length === 0 ? (
            <Empty>No similar movies found.</Empty>
          ) : (
            <ol className="similar" aria-label={`Similar by ${method}`}>
              {data.items.map((m) => (
                <li key={m.movieId}>
                  <Link to={`/movies/${m.movieId}`}>{m.displayTitle}</Link>{' '}
                  <span className="muted">
                    {m.year ?? ''} · similarity {formatScore(m.score)} · cluster {m.cluster}
                  </span>
                  <span className="reason">{m.reason}</span>
                </li>
              ))}
            </ol>
          )
        }
      </AsyncView>
    </section>
  );
}

function Segment({ id }: { id: number }) {
  const state = useAsync(`segment|${id}`, (signal) => api<MovieSegmentOf>(`/v1/movies/${id}/segment`, { signal }));
  if (state.status === 'error') return <dd className="error-inline">{state.error}</dd>;
  if (state.data === null)
    return (
      <dd>
        <Loading what="Computing segments" />
      </dd>
    );
  const s = state.data;
  return (
    <dd data-testid="segment">
      {s.segment === null ? (
        'not segmented yet (added after the segments were computed)'
      ) : (
        <>
          <Link to={`/clusters#segment-${s.segment}`}>segment {s.segment}</Link>: {s.description}
        </>
      )}
    </dd>
  );
}

export default function Movie({ id }: { id: number }) {
  const state = useAsync(`movie|${id}`, (signal) => api<MovieDetails>(`/v1/movies/${id}`, { signal }));
  useEffect(() => {
    if (state.data) document.title = `${state.data.displayTitle} · cinerec`;
  }, [state.data]);
  if (state.status === 'error' && state.code === 404)
    return (
      <>
        <h1>Movie {id}</h1>
        <ErrorBox message={state.error} />
        <p>
          <Link to="/search">Search for a movie</Link>
        </p>
      </>
    );
  return (
    <AsyncView state={state} loading="Loading the movie">
      {(m) => (
        <article className="movie">
          <header className="movie-head" style={{ '--hue': genreHue(m.genres) } as CSSProperties}>
            <h1>{m.displayTitle}</h1>
            <p className="movie-sub">
              {m.year ?? 'year unknown'} · {m.genres.join(', ') || 'no genre listed'}
              {m.source === 'live' ? ' · added while serving' : ''}
            </p>
          </header>
          <dl className="facts">
            <dt>Score</dt>
            <dd>
              {formatScore(m.popularity.score)} weighted rating, rank {m.popularity.rank} · {m.popularity.votes}{' '}
              ratings, mean {m.popularity.meanRating?.toFixed(2) ?? '–'}
            </dd>
            <dt>Content cluster</dt>
            <dd data-testid="cluster">
              <Link to={`/clusters?cluster=${m.cluster}`}>cluster {m.cluster}</Link>
            </dd>
            <dt>Segment</dt>
            <Segment id={m.movieId} />
            <dt>Links</dt>
            <dd>
              {m.imdbUrl ? (
                <a href={m.imdbUrl} rel="noreferrer" target="_blank">
                  IMDb
                </a>
              ) : (
                'no IMDb id'
              )}
              {' · '}
              {m.tmdbUrl ? (
                <a href={m.tmdbUrl} rel="noreferrer" target="_blank">
                  TMDb
                </a>
              ) : (
                'no TMDb id'
              )}
            </dd>
            {m.rule ? (
              <>
                <dt>Rule</dt>
                <dd>
                  {m.rule.action}
                  {m.rule.reason ? ` — ${m.rule.reason}` : ''}
                  {m.rule.until ? ` (until ${m.rule.until.slice(0, 10)})` : ''}
                </dd>
              </>
            ) : null}
          </dl>
          <section aria-labelledby="tags">
            <h2 id="tags">Top tags</h2>
            {m.topTags.length ? (
              <ul className="tags">
                {m.topTags.map((t) => (
                  <li key={t.tag}>
                    {t.tag} <span className="muted">×{t.count}</span>
                  </li>
                ))}
              </ul>
            ) : (
              <Empty>Nobody has tagged this movie yet.</Empty>
            )}
          </section>
          <div className="columns">
            {/* Hybrid first: it finds what viewers recognise (docs/evaluation.md, the watched scenario). */}
            <SimilarColumn id={m.movieId} method="hybrid" title="Similar by hybrid (viewers and content)" />
            <SimilarColumn id={m.movieId} method="content" title="Similar by content" />
          </div>
        </article>
      )}
    </AsyncView>
  );
}
