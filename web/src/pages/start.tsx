/**
 * Start by rating: a newcomer rates or marks movies watched and the router's list updates at once,
 * with the scenario it chose and why each title is there. The profile can be saved as a new user.
 * The profile is kept in localStorage so a reload does not lose it.
 */
import { useEffect, useState } from 'react';
import { TokenField, useAdminToken } from '../admin.tsx';
import { api, plainError, useAsync } from '../api.ts';
import { MovieSearch } from '../components/search.tsx';
import { Stars } from '../components/stars.tsx';
import { AsyncView, Empty, ErrorBox } from '../components/status.tsx';
import { CardGrid, type CardMovie, TitleCard } from '../components/title-card.tsx';
import { Link } from '../router.tsx';
import type { RecommendationList, UserView } from '../types.ts';

interface Entry {
  movie: CardMovie;
  rating: number | null;
}

const KEY = 'cinerec.profile';

function loadProfile(): Entry[] {
  try {
    const raw = localStorage.getItem(KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : [];
    return Array.isArray(parsed) ? (parsed as Entry[]) : [];
  } catch {
    return [];
  }
}

function useProfile() {
  const [profile, setProfile] = useState<Entry[]>(loadProfile);
  useEffect(() => {
    try {
      localStorage.setItem(KEY, JSON.stringify(profile));
    } catch {
      // Storage off: the profile lasts as long as the page.
    }
  }, [profile]);
  const set = (movie: CardMovie, rating: number | null) =>
    setProfile((p) => [...p.filter((e) => e.movie.movieId !== movie.movieId), { movie, rating }]);
  const remove = (movieId: number) => setProfile((p) => p.filter((e) => e.movie.movieId !== movieId));
  return { profile, set, remove, clear: () => setProfile([]) };
}

function SaveAsUser({ entries }: { entries: Entry[] }) {
  const token = useAdminToken();
  const [state, setState] = useState<{ busy: boolean; error?: string; user?: UserView }>({ busy: false });
  const rated = entries.filter((e) => e.rating !== null);
  const save = async () => {
    setState({ busy: true });
    try {
      const user = await api<UserView>('/v1/users', {
        method: 'POST',
        token,
        body: { ratings: rated.map((e) => ({ movieId: e.movie.movieId, rating: e.rating })) },
      });
      setState({ busy: false, user });
    } catch (err) {
      setState({ busy: false, error: plainError(err) });
    }
  };
  return (
    <section className="panel" aria-labelledby="save">
      <h2 id="save">Save this profile</h2>
      <p className="muted">
        Saves the rated movies as a new user (watched-only movies carry no rating and are left out).
      </p>
      <TokenField />
      <button type="button" onClick={save} disabled={state.busy || rated.length === 0}>
        {state.busy ? 'Saving…' : 'Save as a new user'}
      </button>
      {rated.length === 0 ? <p className="muted">Rate at least one movie to save.</p> : null}
      {state.error ? <ErrorBox message={state.error} /> : null}
      {state.user ? (
        <p role="status" className="ok">
          Saved as <Link to={`/users/${state.user.userId}`}>user {state.user.userId}</Link> with {state.user.ratings}{' '}
          ratings.
        </p>
      ) : null}
    </section>
  );
}

export default function Start() {
  const { profile, set, remove, clear } = useProfile();
  useEffect(() => {
    document.title = 'Start by rating · cinerec';
  }, []);
  const ratings = profile
    .filter((e) => e.rating !== null)
    .map((e) => ({ movieId: e.movie.movieId, rating: e.rating! }));
  const watched = profile.filter((e) => e.rating === null).map((e) => e.movie.movieId);
  const key = JSON.stringify([ratings, watched]);
  const recs = useAsync(key, (signal) =>
    api<RecommendationList>('/v1/recommendations', {
      method: 'POST',
      body: {
        ...(ratings.length ? { ratings } : {}),
        ...(watched.length ? { watched } : {}),
        exclude: profile.map((e) => e.movie.movieId),
        k: 12,
      },
      signal,
    }),
  );
  const byId = new Map(profile.map((e) => [e.movie.movieId, e]));

  return (
    <>
      <h1>Start by rating</h1>
      <p className="lede">
        Search for movies you know, rate them (half stars are fine) or mark them watched. The recommendations (“For
        you”) update as you go.
      </p>
      <div className="split">
        <div>
          <MovieSearch label="Find a movie to rate" limit={8}>
            {(items) => (
              <ul className="rate-list" aria-label="Movies to rate">
                {items.map((m) => {
                  const entry = byId.get(m.movieId);
                  return (
                    <li key={m.movieId}>
                      <span className="rate-title">
                        {m.displayTitle} <span className="muted">{m.year ?? ''}</span>
                      </span>
                      <Stars
                        label={`Your rating for ${m.displayTitle}`}
                        value={entry?.rating ?? null}
                        onChange={(r) => set(m, r)}
                      />
                      <button
                        type="button"
                        aria-pressed={entry !== undefined && entry.rating === null}
                        onClick={() => (entry && entry.rating === null ? remove(m.movieId) : set(m, null))}
                      >
                        Watched
                      </button>
                    </li>
                  );
                })}
              </ul>
            )}
          </MovieSearch>
          <section aria-labelledby="mine">
            <h2 id="mine">Your movies ({profile.length})</h2>
            {profile.length === 0 ? (
              <Empty>Nothing rated yet: the list shows what is popular overall.</Empty>
            ) : (
              <>
                <ul className="mine" aria-label="Your movies">
                  {profile.map((e) => (
                    <li key={e.movie.movieId}>
                      <span>{e.movie.displayTitle}</span>
                      <span className="muted">{e.rating === null ? 'watched' : `${e.rating} ★`}</span>
                      <button
                        type="button"
                        onClick={() => remove(e.movie.movieId)}
                        aria-label={`Remove ${e.movie.displayTitle}`}
                      >
                        Remove
                      </button>
                    </li>
                  ))}
                </ul>
                <button type="button" onClick={clear}>
                  Start over
                </button>
              </>
            )}
          </section>
          <SaveAsUser entries={profile} />
        </div>
        <section aria-labelledby="for-you">
          <h2 id="for-you">For you</h2>
          <AsyncView state={recs} loading="Updating recommendations">
            {(data) => (
              <>
                <p className="why" data-testid="scenario">
                  Scenario <strong>{data.scenario}</strong> ({data.strategy}): {data.reason}
                </p>
                {data.warnings.map((w) => (
                  <p key={w} className="warning">
                    {w}
                  </p>
                ))}
                <CardGrid label="Recommendations for you">
                  {data.items.map((m) => (
                    <TitleCard
                      key={m.movieId}
                      movie={m}
                      score={m.score}
                      reason={m.reason ?? `ranked by ${data.strategy}`}
                      badge={m.promoted ? 'promoted' : undefined}
                    />
                  ))}
                </CardGrid>
              </>
            )}
          </AsyncView>
        </section>
      </div>
    </>
  );
}
