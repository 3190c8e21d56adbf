/** The shell: skip link, navigation, and the page for the current path (each page a lazy chunk). */
import { lazy, Suspense, useEffect, useRef } from 'react';
import { ErrorBox, Loading } from './components/status.tsx';
import { Link, useLocation } from './router.tsx';

const Discover = lazy(() => import('./pages/discover.tsx'));
const Search = lazy(() => import('./pages/search.tsx'));
const Movie = lazy(() => import('./pages/movie.tsx'));
const Start = lazy(() => import('./pages/start.tsx'));
const Users = lazy(() => import('./pages/users.tsx'));
const Operations = lazy(() => import('./pages/operations.tsx'));
const Experiments = lazy(() => import('./pages/experiments.tsx'));
const Clusters = lazy(() => import('./pages/clusters.tsx'));

const NAV: { to: string; label: string; match: (p: string) => boolean }[] = [
  { to: '/', label: 'Discover', match: (p) => p === '/' },
  { to: '/search', label: 'Search', match: (p) => p === '/search' || p.startsWith('/movies/') },
  { to: '/start', label: 'Start by rating', match: (p) => p === '/start' },
  { to: '/users', label: 'Users', match: (p) => p.startsWith('/users') },
  { to: '/operations', label: 'Operations', match: (p) => p === '/operations' },
  { to: '/experiments', label: 'Experiments', match: (p) => p === '/experiments' },
  { to: '/clusters', label: 'Clusters', match: (p) => p === '/clusters' },
];

function page(path: string) {
  const movie = /^\/movies\/(\d+)\/?$/.exec(path);
  if (movie) return <Movie id={Number(movie[1])} />;
  const user = /^\/users(?:\/(\d+))?\/?$/.exec(path);
  if (user) return <Users id={user[1] ? Number(user[1]) : null} />;
  switch (path) {
    case '/':
      return <Discover />;
    case '/search':
      return <Search />;
    case '/start':
      return <Start />;
    case '/operations':
      return <Operations />;
    case '/experiments':
      return <Experiments />;
    case '/clusters':
      return <Clusters />;
    default:
      return (
        <>
          <h1>Page not found</h1>
          <ErrorBox message={`There is no page at ${path}. Pick one from the menu above.`} />
        </>
      );
  }
}

export function App() {
  const { path } = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  // After client-side navigation, move focus to the new page so screen readers announce it.
  // biome-ignore lint/correctness/useExhaustiveDependencies: path is the trigger, not a value read inside.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [path]);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand" aria-label="cinerec home">
          cinerec
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.to}>
                <Link to={n.to} aria-current={n.match(path) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <a className="docs" href="/docs">
          API docs
        </a>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Suspense fallback={<Loading what="Loading the page" />}>{page(path)}</Suspense>
      </main>
    </>
  );
}
