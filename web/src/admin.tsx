/**
 * The admin token lives in sessionStorage: it survives a reload but not closing the tab, and never
 * goes anywhere but the Authorization header of this origin's API calls.
 */
import { useId, useSyncExternalStore } from 'react';

const KEY = 'cinerec.adminToken';
const CHANGE = 'cinerec:token';

function read(): string {
  try {
    return sessionStorage.getItem(KEY) ?? '';
  } catch {
    return '';
  }
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener(CHANGE, onChange);
  return () => window.removeEventListener(CHANGE, onChange);
}

export function setAdminToken(token: string): void {
  try {
    if (token) sessionStorage.setItem(KEY, token);
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage can be disabled; the token then lasts until the next reload only.
  }
  window.dispatchEvent(new Event(CHANGE));
}

export function useAdminToken(): string {
  return useSyncExternalStore(subscribe, read);
}

export function TokenField() {
  const id = useId();
  const token = useAdminToken();
  return (
    <div className="token-field">
      <label htmlFor={id}>Admin token</label>
      <input
        id={id}
        type="password"
        autoComplete="off"
        value={token}
        placeholder="CINEREC_ADMIN_TOKEN"
        onChange={(e) => setAdminToken(e.target.value.trim())}
        aria-describedby={`${id}-help`}
      />
      <small id={`${id}-help`} className="muted">
        Needed for changes. Kept in this tab only.
      </small>
    </div>
  );
}
