/** Search as you type: the query is debounced and the previous request cancelled on each keystroke. */
import { type ReactNode, useEffect, useId, useState } from 'react';
import { api, useAsync } from '../api.ts';
import type { SearchResult } from '../types.ts';
import { Empty } from './status.tsx';

export function useDebounced<T>(value: T, ms: number): T {
  const [current, setCurrent] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setCurrent(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return current;
}

export type SearchItem = SearchResult['items'][number];

export function MovieSearch({
  label,
  initial = '',
  limit = 10,
  onQuery,
  children,
}: {
  label: string;
  initial?: string;
  limit?: number;
  onQuery?: (q: string) => void;
  children: (items: SearchItem[], result: SearchResult) => ReactNode;
}) {
  const id = useId();
  const [q, setQ] = useState(initial);
  const query = useDebounced(q.trim(), 200);
  useEffect(() => onQuery?.(query), [query, onQuery]);
  const state = useAsync(query ? `${query}|${limit}` : null, (signal) =>
    api<SearchResult>(`/v1/movies?q=${encodeURIComponent(query)}&limit=${limit}`, { signal }),
  );
  return (
    <div className="search">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="search"
        value={q}
        autoComplete="off"
        placeholder="e.g. matrix, toy story, amélie"
        onChange={(e) => setQ(e.target.value)}
      />
      <div aria-live="polite">
        {!query ? null : state.status === 'error' ? (
          <p className="state error" role="alert">
            {state.error}
          </p>
        ) : state.data === null ? (
          <p className="state loading" role="status">
            Searching…
          </p>
        ) : state.data.items.length === 0 ? (
          <Empty>No movie title matches “{state.data.query}”.</Empty>
        ) : (
          <>
            <p className="muted">
              {state.data.total} {state.data.total === 1 ? 'match' : 'matches'} for “{state.data.query}”
              {state.data.total > state.data.items.length ? `, first ${state.data.items.length} shown` : ''}
            </p>
            {children(state.data.items, state.data)}
          </>
        )}
      </div>
    </div>
  );
}
