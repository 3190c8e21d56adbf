import {
  ConflictError,
  NotFoundError,
  StorageFullError,
  StorageUnavailableError,
  UnavailableError,
  UserError,
  ValidationError,
} from '../util/errors.ts';

/**
 * Requests and replies between the serving processes of one machine (the store's owner and its workers) over the
 * cluster's IPC channel, with structured-clone serialization (typed arrays cross as they are). A user error
 * crosses as itself, so an HTTP status computed in a worker is the one the owner's error deserves.
 */

export interface Channel {
  send(message: unknown): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

interface Request {
  cinerec: 'request';
  id: number;
  method: string;
  args: unknown[];
}

interface Reply {
  cinerec: 'reply';
  id: number;
  ok: boolean;
  value?: unknown;
  error?: { kind: string; message: string; field?: string };
}

const KINDS: Record<string, new (message: string, field?: string) => UserError> = {
  ValidationError,
  NotFoundError,
  ConflictError,
  UnavailableError,
  StorageUnavailableError,
  StorageFullError,
  UserError,
};

function encodeError(err: unknown): Reply['error'] {
  if (err instanceof UserError)
    return {
      kind: Object.hasOwn(KINDS, err.constructor.name) ? err.constructor.name : 'UserError',
      message: err.message,
      ...(err.field !== undefined ? { field: err.field } : {}),
    };
  return { kind: 'Error', message: err instanceof Error ? err.message : String(err) };
}

function decodeError(e: NonNullable<Reply['error']>): Error {
  const Kind = Object.hasOwn(KINDS, e.kind) ? KINDS[e.kind] : undefined;
  return Kind ? new Kind(e.message, e.field) : new Error(e.message);
}

function isRequest(m: unknown): m is Request {
  return typeof m === 'object' && m !== null && (m as Request).cinerec === 'request';
}

function isReply(m: unknown): m is Reply {
  return typeof m === 'object' && m !== null && (m as Reply).cinerec === 'reply';
}

/** Calls the other end; `handle` answers the other end's calls. One per channel end. */
export class Rpc {
  private next = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(
    private readonly channel: Channel,
    handle: (method: string, args: unknown[]) => Promise<unknown>,
  ) {
    channel.on('message', (m) => {
      if (isReply(m)) {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.value);
        else p.reject(decodeError(m.error!));
      } else if (isRequest(m)) {
        handle(m.method, m.args).then(
          (value) => this.channel.send({ cinerec: 'reply', id: m.id, ok: true, value } satisfies Reply),
          (err: unknown) =>
            this.channel.send({ cinerec: 'reply', id: m.id, ok: false, error: encodeError(err) } satisfies Reply),
        );
      }
    });
  }

  call<T>(method: string, ...args: unknown[]): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.channel.send({ cinerec: 'request', id, method, args } satisfies Request);
    });
  }

  /** Fails every call still waiting (the other end is gone). */
  abort(reason: string): void {
    for (const p of this.pending.values()) p.reject(new UnavailableError(reason));
    this.pending.clear();
  }
}
