/**
 * User explorer: a user's history, taste cluster and segment, the router's list next to every
 * strategy's, and predicted ratings. Each strategy column loads on its own, so a slow first fit
 * (ALS, hybrid) does not hold up the others, and an unavailable strategy says so in its column.
 */
import { type FormEvent, useEffect, useId, useState } from 'react';
import { api, useAsync } from '../api.ts';
import { Scroller } from '../components/scroller.tsx';
import { AsyncView, Empty, ErrorBox, Loading } from '../components/status.tsx';
import { formatScore } from '../components/title-card.tsx';
import { Link, navigate } from '../router.tsx';
import type { PredictionList, RecommendationList, UserSegmentView, UserView } from '../types.ts';

const DEFAULT_STRATEGIES = ['ease', 'als', 'hybrid', 'user-cluster', 'itemknn', 'content'];
const MORE_STRATEGIES = [
  'also-liked',
  'similar',
  'rp3beta',
  'ensemble',
  'segment',
  'neural',
  'popular',
  'content-popular',
  'hybrid-cluster',
  'most-popular',
  'random',
];

function StrategyColumn({ userId, strategy }: { userId: number; strategy: string | null }) {
  const q = strategy ? `&strategy=${encodeURIComponent(strategy)}` : '';
  const state = useAsync(`${userId}|${strategy}`, (signal) =>
    api<RecommendationList>(`/v1/users/${userId}/recommendations?k=8${q}`, { signal }),
  );
  const name = strategy ?? 'router';
  return (
    <section className="column strategy" aria-label={`Strategy ${name}`} data-strategy={name}>
      <h3>{name}</h3>
      <AsyncView state={state} loading={`Fitting and ranking (${name})`}>
        {(data) => (
          <>
            <p className="why">
              {strategy ? data.strategy : `${data.scenario} → ${data.strategy}`}
              {strategy ? null : <span className="muted"> · {data.reason}</span>}
            </p>
            {data.items.length === 0 ? (
              <Empty>Nothing to recommend.</Empty>
            ) : (
              <ol className="similar">
                {data.items.map((m) => (
                  <li key={m.movieId}>
                    <Link to={`/movies/${m.movieId}`}>{m.displayTitle}</Link>{' '}
                    <span className="muted">{formatScore(m.score)}</span>
                    {m.reason ? <span className="reason">{m.reason}</span> : null}
                  </li>
                ))}
              </ol>
            )}
          </>
        )}
      </AsyncView>
    </section>
  );
}

function SegmentOf({ userId }: { userId: number }) {
  const state = useAsync(`useg|${userId}`, (signal) => api<UserSegmentView>(`/v1/users/${userId}/segment`, { signal }));
  if (state.status === 'error')
    return (
      <dd>
        {state.code === 404 && /route/i.test(state.error)
          ? 'user segments are not available on this server'
          : state.error}
      </dd>
    );
  if (state.data === null)
    return (
      <dd>
        <Loading what="Computing segments" />
      </dd>
    );
  const u = state.data;
  return (
    <dd data-testid="user-segment">
      {u.segment < 0 || !u.details ? (
        'none (no ratings)'
      ) : (
        <>
          segment {u.segment} ({u.details.label}): {u.details.description}
          {u.source === 'placed' ? <span className="muted"> · placed from the current ratings</span> : null}
        </>
      )}
    </dd>
  );
}

function Predictions({ user, movieIds }: { user: UserView; movieIds: number[] }) {
  const [model, setModel] = useState<'mf' | 'neural'>('mf');
  const id = useId();
  const ids = movieIds.slice(0, 40).join(',');
  const state = useAsync(ids ? `${user.userId}|${ids}|${model}` : null, (signal) =>
    api<PredictionList>(
      `/v1/users/${user.userId}/predictions?movies=${ids}${model === 'mf' ? '' : `&model=${model}`}`,
      { signal },
    ),
  );
  return (
    <section aria-labelledby="predictions">
      <h2 id="predictions">Predicted ratings</h2>
      <p className="row">
        <label htmlFor={id}>Rating model</label>
        <select id={id} value={model} onChange={(e) => setModel(e.target.value === 'neural' ? 'neural' : 'mf')}>
          <option value="mf">matrix factorisation (mf)</option>
          <option value="neural">neural</option>
        </select>
      </p>
      {!ids ? (
        <Empty>No movies to predict yet.</Empty>
      ) : (
        <AsyncView state={state} loading="Predicting ratings">
          {(data) => (
            <Scroller label="Predicted ratings">
              <table>
                <caption>Predicted by {data.model}: the router’s picks and the latest rated movies</caption>
                <thead>
                  <tr>
                    <th scope="col">Movie</th>
                    <th scope="col">Predicted</th>
                    <th scope="col">Own rating</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((p) => (
                    <tr key={p.movieId}>
                      <td>
                        <Link to={`/movies/${p.movieId}`}>{p.displayTitle}</Link>
                      </td>
                      <td className="num">{p.predicted.toFixed(2)}</td>
                      <td className="num">{p.rating ?? '–'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Scroller>
          )}
        </AsyncView>
      )}
    </section>
  );
}

function UserDetails({ id }: { id: number }) {
  const user = useAsync(`user|${id}`, (signal) => api<UserView>(`/v1/users/${id}?limit=20`, { signal }));
  const router = useAsync(`routed|${id}`, (signal) =>
    api<RecommendationList>(`/v1/users/${id}/recommendations?k=8`, { signal }),
  );
  const [shown, setShown] = useState<string[]>(DEFAULT_STRATEGIES);
  const all = [...DEFAULT_STRATEGIES, ...MORE_STRATEGIES];
  return (
    <AsyncView state={user} loading="Loading the user">
      {(u) => (
        <>
          <h2>User {u.userId}</h2>
          <dl className="facts">
            <dt>Ratings</dt>
            <dd>
              {u.ratings} ({u.positive} positive), mean {u.meanRating?.toFixed(2) ?? '–'}
              {u.live ? ' · changed since training (folded in)' : ''}
            </dd>
            <dt>Scenario</dt>
            <dd>{u.scenario}</dd>
            <dt>Taste cluster</dt>
            <dd data-testid="user-cluster">{u.cluster < 0 ? 'none (no ratings)' : `cluster ${u.cluster}`}</dd>
            <dt>Segment</dt>
            <SegmentOf userId={u.userId} />
          </dl>
          <section aria-labelledby="history">
            <h2 id="history">History (latest {u.history.length})</h2>
            {u.history.length === 0 ? (
              <Empty>This user has not rated anything.</Empty>
            ) : (
              <Scroller label="History">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Movie</th>
                      <th scope="col">Rating</th>
                      <th scope="col">Date</th>
                    </tr>
                  </thead>
                  <tbody>
                    {u.history.map((h) => (
                      <tr key={h.movieId}>
                        <td>
                          <Link to={`/movies/${h.movieId}`}>{h.displayTitle}</Link>{' '}
                          <span className="muted">{h.year ?? ''}</span>
                        </td>
                        <td className="num">{h.rating}</td>
                        <td className="token">{new Date(h.timestamp * 1000).toISOString().slice(0, 10)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </Scroller>
            )}
          </section>
          <section aria-labelledby="strategies">
            <h2 id="strategies">Recommendations by strategy</h2>
            <fieldset className="chips">
              <legend>Strategies shown next to the router</legend>
              {all.map((s) => (
                <label key={s} className={shown.includes(s) ? 'chip on' : 'chip'}>
                  <input
                    type="checkbox"
                    checked={shown.includes(s)}
                    onChange={() => setShown((x) => (x.includes(s) ? x.filter((y) => y !== s) : [...x, s]))}
                  />
                  {s}
                </label>
              ))}
            </fieldset>
            {/* Every column in view: they wrap onto more rows rather than scroll out of sight. */}
            <div className="columns strategies">
              <StrategyColumn userId={u.userId} strategy={null} />
              {all
                .filter((s) => shown.includes(s))
                .map((s) => (
                  <StrategyColumn key={s} userId={u.userId} strategy={s} />
                ))}
            </div>
          </section>
          <Predictions
            user={u}
            movieIds={[
              ...(router.data?.items.map((m) => m.movieId) ?? []),
              ...u.history.slice(0, 10).map((h) => h.movieId),
            ]}
          />
        </>
      )}
    </AsyncView>
  );
}

export default function Users({ id }: { id: number | null }) {
  const [text, setText] = useState(id === null ? '' : String(id));
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  useEffect(() => {
    document.title = id === null ? 'Users · cinerec' : `User ${id} · cinerec`;
    setText(id === null ? '' : String(id));
  }, [id]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const n = Number(text.trim());
    if (!Number.isInteger(n) || n < 1) {
      setError('A user id is a whole number from 1 up, e.g. 1 or 414.');
      return;
    }
    setError(null);
    navigate(`/users/${n}`);
  };
  return (
    <>
      <h1>User explorer</h1>
      <form className="row" onSubmit={submit} aria-label="Find a user">
        <label htmlFor={inputId}>User id</label>
        <input
          id={inputId}
          inputMode="numeric"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="e.g. 1"
          aria-invalid={error !== null}
        />
        <button type="submit">Show</button>
      </form>
      {error ? <ErrorBox message={error} /> : null}
      {id === null ? (
        <Empty>Enter a user id to see their history and recommendations.</Empty>
      ) : (
        <UserDetails key={id} id={id} />
      )}
    </>
  );
}
