/** Search as you type; each hit links to its movie page. The query is kept in the address. */
import { useCallback, useEffect } from 'react';
import { MovieSearch } from '../components/search.tsx';
import { Link, navigate, useLocation } from '../router.tsx';

export default function Search() {
  const { query } = useLocation();
  const initial = query.get('q') ?? '';
  useEffect(() => {
    document.title = 'Search · cinerec';
  }, []);
  const onQuery = useCallback((q: string) => {
    navigate(q ? `/search?q=${encodeURIComponent(q)}` : '/search', { replace: true });
  }, []);
  return (
    <>
      <h1>Search</h1>
      <MovieSearch label="Movie title" initial={initial} limit={25} onQuery={onQuery}>
        {(items) => (
          <ul className="results" aria-label="Search results">
            {items.map((m) => (
              <li key={m.movieId}>
                <Link to={`/movies/${m.movieId}`}>{m.displayTitle}</Link> <span className="muted">{m.year ?? ''}</span>
                <span className="genres-inline">{m.genres.join(' · ')}</span>
                <span className="muted">{m.votes} ratings</span>
              </li>
            ))}
          </ul>
        )}
      </MovieSearch>
    </>
  );
}
