/** Discover: pick genres, get the cold-start list (weighted rating within the genres). */
import { useEffect } from 'react';
import { api, useAsync } from '../api.ts';
import { AsyncView, Empty } from '../components/status.tsx';
import { CardGrid, TitleCard } from '../components/title-card.tsx';
import { navigate, useLocation } from '../router.tsx';
import type { GenreList, RecommendationList } from '../types.ts';

export default function Discover() {
  const { query } = useLocation();
  const chosen = (query.get('genres') ?? '').split(',').filter(Boolean);
  const match = query.get('match') === 'all' ? 'all' : 'any';
  const genres = useAsync('genres', (signal) => api<GenreList>('/v1/genres', { signal }));
  const key = `${chosen.join(',')}|${match}`;
  const list = useAsync(key, (signal) =>
    api<RecommendationList>('/v1/recommendations', {
      method: 'POST',
      body: { ...(chosen.length ? { genres: chosen, match } : {}), k: 24 },
      signal,
    }),
  );
  useEffect(() => {
    document.title = 'Discover · cinerec';
  }, []);

  const update = (next: string[], nextMatch = match) => {
    const q = new URLSearchParams();
    if (next.length) q.set('genres', next.join(','));
    if (nextMatch === 'all') q.set('match', 'all');
    const s = q.toString();
    navigate(s ? `/?${s}` : '/', { replace: true });
  };
  const toggle = (g: string) => update(chosen.includes(g) ? chosen.filter((x) => x !== g) : [...chosen, g]);

  return (
    <>
      <h1>Discover</h1>
      <p className="lede">Pick genres you like: the list shows the best-rated movies among them.</p>
      <AsyncView state={genres} loading="Loading genres">
        {(data) => (
          <fieldset className="chips">
            <legend>Genres</legend>
            {data.items.map((g) => (
              <label key={g.genre} className={chosen.includes(g.genre) ? 'chip on' : 'chip'}>
                <input type="checkbox" checked={chosen.includes(g.genre)} onChange={() => toggle(g.genre)} />
                {g.genre} <span className="muted">{g.movies}</span>
              </label>
            ))}
          </fieldset>
        )}
      </AsyncView>
      <div className="row">
        <fieldset className="inline">
          <legend>Match</legend>
          <label>
            <input type="radio" name="match" checked={match === 'any'} onChange={() => update(chosen, 'any')} /> any
            genre
          </label>
          <label>
            <input type="radio" name="match" checked={match === 'all'} onChange={() => update(chosen, 'all')} /> all
            genres
          </label>
        </fieldset>
        {chosen.length ? (
          <button type="button" onClick={() => update([])}>
            Clear genres
          </button>
        ) : null}
      </div>
      <AsyncView state={list} loading="Loading recommendations">
        {(data) => (
          <>
            <p className="why" data-testid="scenario">
              <strong>{data.scenario}</strong>: {data.reason}
            </p>
            {data.items.length === 0 ? (
              <Empty>No movie has all of these genres. Choose “any genre” or fewer genres.</Empty>
            ) : (
              <CardGrid label="Recommended movies">
                {data.items.map((m) => (
                  <TitleCard
                    key={m.movieId}
                    movie={m}
                    score={m.score}
                    scoreLabel="weighted rating"
                    reason={m.reason ?? `${m.votes} ratings, mean ${m.meanRating?.toFixed(2) ?? '–'}`}
                    badge={m.promoted ? 'promoted' : undefined}
                  />
                ))}
              </CardGrid>
            )}
          </>
        )}
      </AsyncView>
    </>
  );
}
