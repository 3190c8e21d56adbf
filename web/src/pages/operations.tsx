/**
 * Operations (admin token): promote/block rules with their effect on a preview list, adding a movie
 * (placed at once by the content model) and adding a user with ratings.
 */
import { type FormEvent, useEffect, useId, useState } from 'react';
import { TokenField, useAdminToken } from '../admin.tsx';
import { api, plainError, useAsync } from '../api.ts';
import { Scroller } from '../components/scroller.tsx';
import { MovieSearch } from '../components/search.tsx';
import { AsyncView, Empty, ErrorBox } from '../components/status.tsx';
import { CardGrid, type CardMovie, formatScore, TitleCard } from '../components/title-card.tsx';
import { Link } from '../router.tsx';
import type { AddedMovie, GenreList, PopularList, RuleView, UserView } from '../types.ts';

type Submit = { busy: boolean; error: string | null; done: string | null };
const IDLE: Submit = { busy: false, error: null, done: null };

function Rules({ onChange, version }: { onChange: () => void; version: number }) {
  const token = useAdminToken();
  const ids = { action: useId(), boost: useId(), until: useId(), reason: useId() };
  const [movie, setMovie] = useState<CardMovie | null>(null);
  const [action, setAction] = useState<'promote' | 'block'>('promote');
  const [boost, setBoost] = useState('1.5');
  const [until, setUntil] = useState('');
  const [reason, setReason] = useState('');
  const [submit, setSubmit] = useState<Submit>(IDLE);
  const rules = useAsync(`rules|${version}`, (signal) => api<{ items: RuleView[] }>('/v1/rules', { signal }));

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!movie) {
      setSubmit({ ...IDLE, error: 'Pick a movie first: search for it and choose it from the list.' });
      return;
    }
    const b = Number(boost);
    if (action === 'promote' && !(b > 0)) {
      setSubmit({ ...IDLE, error: 'Boost must be a number above 0, e.g. 1.5.' });
      return;
    }
    setSubmit({ ...IDLE, busy: true });
    try {
      await api<RuleView>(`/v1/rules/${movie.movieId}`, {
        method: 'PUT',
        token,
        body: {
          action,
          ...(action === 'promote' ? { boost: b } : {}),
          ...(until ? { until } : {}),
          ...(reason.trim() ? { reason: reason.trim() } : {}),
        },
      });
      setSubmit({ ...IDLE, done: `${action === 'block' ? 'Blocked' : 'Promoted'} ${movie.displayTitle}.` });
      onChange();
    } catch (err) {
      setSubmit({ ...IDLE, error: plainError(err) });
    }
  };

  const removeRule = async (r: RuleView) => {
    setSubmit({ ...IDLE, busy: true });
    try {
      await api<null>(`/v1/rules/${r.movieId}`, { method: 'DELETE', token });
      setSubmit({ ...IDLE, done: `Removed the rule on ${r.title ?? `movie ${r.movieId}`}.` });
      onChange();
    } catch (err) {
      setSubmit({ ...IDLE, error: plainError(err) });
    }
  };

  return (
    <section className="panel" aria-labelledby="rules">
      <h2 id="rules">Promote and block</h2>
      <form onSubmit={save} aria-label="New rule" className="stack">
        <MovieSearch label="Movie for the rule" limit={6}>
          {(items) => (
            <ul className="pick" aria-label="Pick a movie">
              {items.map((m) => (
                <li key={m.movieId}>
                  <button type="button" aria-pressed={movie?.movieId === m.movieId} onClick={() => setMovie(m)}>
                    {m.displayTitle} {m.year ? `(${m.year})` : ''}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </MovieSearch>
        <p data-testid="rule-movie">
          {movie ? (
            <>
              Chosen: <strong>{movie.displayTitle}</strong> (id {movie.movieId})
            </>
          ) : (
            'No movie chosen yet.'
          )}
        </p>
        {/* Each label stays on the line of its field when the row wraps (a phone). */}
        <div className="row wrap">
          <span className="field">
            <label htmlFor={ids.action}>Action</label>
            <select
              id={ids.action}
              value={action}
              onChange={(e) => setAction(e.target.value === 'block' ? 'block' : 'promote')}
            >
              <option value="promote">promote</option>
              <option value="block">block</option>
            </select>
          </span>
          {action === 'promote' ? (
            <span className="field">
              <label htmlFor={ids.boost}>Boost</label>
              <input
                id={ids.boost}
                inputMode="decimal"
                value={boost}
                onChange={(e) => setBoost(e.target.value)}
                size={5}
              />
            </span>
          ) : null}
          <span className="field">
            <label htmlFor={ids.until}>Expires</label>
            <input id={ids.until} type="date" value={until} onChange={(e) => setUntil(e.target.value)} />
          </span>
        </div>
        <label htmlFor={ids.reason}>Reason</label>
        <input id={ids.reason} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} />
        <button type="submit" disabled={submit.busy}>
          Save rule
        </button>
      </form>
      {submit.error ? <ErrorBox message={submit.error} /> : null}
      {submit.done ? (
        <p role="status" className="ok">
          {submit.done}
        </p>
      ) : null}
      <h3>Rules</h3>
      <AsyncView state={rules} loading="Loading rules">
        {(data) =>
          data.items.length === 0 ? (
            <Empty>No rules yet.</Empty>
          ) : (
            <Scroller label="Rules" minWidth="28rem">
              <table aria-label="Rules">
                <thead>
                  <tr>
                    <th scope="col">Movie</th>
                    <th scope="col">Action</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Expires</th>
                    <th scope="col">
                      <span className="visually-hidden">Remove</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((r) => (
                    <tr key={r.movieId} className={r.active ? undefined : 'inactive'}>
                      <td>
                        <Link to={`/movies/${r.movieId}`}>{r.title ?? `movie ${r.movieId}`}</Link>
                      </td>
                      <td>
                        {r.action}
                        {r.action === 'promote' ? ` ×${r.boost}` : ''}
                        {r.active ? '' : ' (expired)'}
                      </td>
                      <td className="list">{r.reason ?? '–'}</td>
                      <td className="token">{r.until ? r.until.slice(0, 10) : 'never'}</td>
                      <td>
                        <button
                          type="button"
                          onClick={() => removeRule(r)}
                          aria-label={`Remove the rule on ${r.title ?? r.movieId}`}
                        >
                          Remove
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Scroller>
          )
        }
      </AsyncView>
    </section>
  );
}

function Preview({ version }: { version: number }) {
  const genres = useAsync('genres', (signal) => api<GenreList>('/v1/genres', { signal }));
  const [genre, setGenre] = useState('');
  const id = useId();
  const list = useAsync(`preview|${genre}|${version}`, (signal) =>
    api<PopularList>(`/v1/recommendations/popular?k=10${genre ? `&genres=${encodeURIComponent(genre)}` : ''}`, {
      signal,
    }),
  );
  return (
    <section className="panel" aria-labelledby="preview">
      <h2 id="preview">Preview: popular list with the rules applied</h2>
      <p className="row">
        <label htmlFor={id}>Genre</label>
        <select id={id} value={genre} onChange={(e) => setGenre(e.target.value)}>
          <option value="">all genres</option>
          {(genres.data?.items ?? []).map((g) => (
            <option key={g.genre} value={g.genre}>
              {g.genre}
            </option>
          ))}
        </select>
      </p>
      <AsyncView state={list} loading="Loading the preview">
        {(data) => (
          <ol className="preview" aria-label="Preview list">
            {data.items.map((m) => (
              <li key={m.movieId}>
                <Link to={`/movies/${m.movieId}`}>{m.displayTitle}</Link>{' '}
                <span className="muted">{formatScore(m.score)}</span>
                {m.promoted ? <span className="badge">promoted</span> : null}
                {m.reason ? <span className="reason">{m.reason}</span> : null}
              </li>
            ))}
          </ol>
        )}
      </AsyncView>
    </section>
  );
}

function AddMovie() {
  const token = useAdminToken();
  const genres = useAsync('genres', (signal) => api<GenreList>('/v1/genres', { signal }));
  const ids = { title: useId(), year: useId(), tags: useId() };
  const [title, setTitle] = useState('');
  const [year, setYear] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [tags, setTags] = useState('');
  const [submit, setSubmit] = useState<Submit>(IDLE);
  const [added, setAdded] = useState<AddedMovie | null>(null);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!title.trim()) {
      setSubmit({ ...IDLE, error: 'Give the movie a title.' });
      return;
    }
    const y = year.trim() ? Number(year) : undefined;
    if (y !== undefined && !Number.isInteger(y)) {
      setSubmit({ ...IDLE, error: 'The year must be a whole number, e.g. 2016.' });
      return;
    }
    setSubmit({ ...IDLE, busy: true });
    try {
      const result = await api<AddedMovie>('/v1/movies', {
        method: 'POST',
        token,
        body: {
          title: title.trim(),
          ...(y !== undefined ? { year: y } : {}),
          genres: chosen,
          tags: tags
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean),
        },
      });
      setAdded(result);
      setSubmit({ ...IDLE, done: `Added ${result.movie.displayTitle} as movie ${result.movie.movieId}.` });
    } catch (err) {
      setSubmit({ ...IDLE, error: plainError(err) });
    }
  };
  return (
    <section className="panel" aria-labelledby="add-movie">
      <h2 id="add-movie">Add a movie</h2>
      <form onSubmit={save} className="stack" aria-label="Add a movie">
        <label htmlFor={ids.title}>Title</label>
        <input id={ids.title} value={title} onChange={(e) => setTitle(e.target.value)} placeholder="Arrival" />
        <label htmlFor={ids.year}>Year</label>
        <input id={ids.year} inputMode="numeric" value={year} onChange={(e) => setYear(e.target.value)} size={6} />
        <fieldset className="chips">
          <legend>Genres</legend>
          {(genres.data?.items ?? []).map((g) => (
            <label key={g.genre} className={chosen.includes(g.genre) ? 'chip on' : 'chip'}>
              <input
                type="checkbox"
                checked={chosen.includes(g.genre)}
                onChange={() =>
                  setChosen((c) => (c.includes(g.genre) ? c.filter((x) => x !== g.genre) : [...c, g.genre]))
                }
              />
              {g.genre}
            </label>
          ))}
        </fieldset>
        <label htmlFor={ids.tags}>Tags (comma-separated)</label>
        <input id={ids.tags} value={tags} onChange={(e) => setTags(e.target.value)} placeholder="aliens, linguistics" />
        <button type="submit" disabled={submit.busy}>
          {submit.busy ? 'Adding…' : 'Add movie'}
        </button>
      </form>
      {submit.error ? <ErrorBox message={submit.error} /> : null}
      {submit.done ? (
        <p role="status" className="ok">
          {submit.done}
        </p>
      ) : null}
      {added ? (
        <div data-testid="added-movie">
          <p>
            <Link to={`/movies/${added.movie.movieId}`}>{added.movie.displayTitle}</Link> was placed in{' '}
            <Link to={`/clusters?cluster=${added.cluster}`}>
              <strong>cluster {added.cluster}</strong>
            </Link>
            . Its nearest movies by content:
          </p>
          <CardGrid label="Neighbours of the new movie">
            {added.similar.map((m) => (
              <TitleCard key={m.movieId} movie={m} score={m.score} scoreLabel="similarity" reason={m.reason} />
            ))}
          </CardGrid>
        </div>
      ) : null}
    </section>
  );
}

/** "296 5" or "296, 4.5" per line. */
function parseRatings(text: string): { ratings: { movieId: number; rating: number }[]; error: string | null } {
  const ratings: { movieId: number; rating: number }[] = [];
  const lines = text.split('\n').map((l) => l.trim());
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    const m = /^(\d+)\s*[,;:\s]\s*(\d+(?:\.\d+)?)$/.exec(line);
    if (!m) return { ratings, error: `Line ${i + 1} (“${line}”) should be a movie id and a rating, e.g. “296 4.5”.` };
    ratings.push({ movieId: Number(m[1]), rating: Number(m[2]) });
  }
  if (ratings.length === 0) return { ratings, error: 'Enter at least one rating.' };
  return { ratings, error: null };
}

function AddUser() {
  const token = useAdminToken();
  const id = useId();
  const [text, setText] = useState('');
  const [submit, setSubmit] = useState<Submit>(IDLE);
  const [user, setUser] = useState<UserView | null>(null);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseRatings(text);
    if (parsed.error) {
      setSubmit({ ...IDLE, error: parsed.error });
      return;
    }
    setSubmit({ ...IDLE, busy: true });
    try {
      const u = await api<UserView>('/v1/users', { method: 'POST', token, body: { ratings: parsed.ratings } });
      setUser(u);
      setSubmit({ ...IDLE, done: `Created user ${u.userId} with ${u.ratings} ratings.` });
    } catch (err) {
      setSubmit({ ...IDLE, error: plainError(err) });
    }
  };
  return (
    <section className="panel" aria-labelledby="add-user">
      <h2 id="add-user">Add a user with ratings</h2>
      <form onSubmit={save} className="stack" aria-label="Add a user">
        <label htmlFor={id}>Ratings, one per line: movie id and rating</label>
        <textarea
          id={id}
          rows={5}
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder={'296 5\n318 4.5'}
        />
        <button type="submit" disabled={submit.busy}>
          Create user
        </button>
      </form>
      {submit.error ? <ErrorBox message={submit.error} /> : null}
      {submit.done ? (
        <p role="status" className="ok">
          {submit.done} {user ? <Link to={`/users/${user.userId}`}>Open user {user.userId}</Link> : null}
        </p>
      ) : null}
    </section>
  );
}

export default function Operations() {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    document.title = 'Operations · cinerec';
  }, []);
  return (
    <>
      <h1>Operations</h1>
      <TokenField />
      <div className="split">
        <Rules version={version} onChange={() => setVersion((v) => v + 1)} />
        <Preview version={version} />
      </div>
      <div className="split">
        <AddMovie />
        <AddUser />
      </div>
    </>
  );
}
