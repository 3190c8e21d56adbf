/** Loading, empty and error states, the same everywhere: announced to screen readers, in plain words. */
import type { ReactNode } from 'react';
import type { Async } from '../api.ts';

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="state loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>;
}

export function ErrorBox({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <div className="state error" role="alert">
      <p>{message}</p>
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** Renders the loading or error state, or the children with the data once it is there. */
export function AsyncView<T>({
  state,
  loading,
  children,
}: {
  state: Async<T> & { reload: () => void };
  loading?: string;
  children: (data: T) => ReactNode;
}) {
  if (state.status === 'error') return <ErrorBox message={state.error} onRetry={state.reload} />;
  if (state.data === null) return <Loading {...(loading ? { what: loading } : {})} />;
  return (
    <div aria-busy={state.status === 'loading'} className={state.status === 'loading' ? 'stale' : undefined}>
      {children(state.data)}
    </div>
  );
}
