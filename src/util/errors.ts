/** Errors that carry their meaning to every entry point: the API maps them to status codes, the CLI to exit codes. */

export class UserError extends Error {
  constructor(
    message: string,
    /** The parameter or field at fault, when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Input is invalid (HTTP 400). */
export class ValidationError extends UserError {}

/** The thing asked for does not exist (HTTP 404). */
export class NotFoundError extends UserError {}

/** The request conflicts with the current state (HTTP 409). */
export class ConflictError extends UserError {}

/** What is asked needs something that is not there yet, e.g. a trained model version (HTTP 503). */
export class UnavailableError extends UserError {}

/**
 * The store cannot serve the request for a reason outside the request: a read-only or failing file system, a store
 * file that cannot be opened, a database that must be reopened (HTTP 503). `cause` keeps the driver's own error.
 */
export class StorageUnavailableError extends UnavailableError {
  constructor(message: string, cause?: unknown) {
    super(message);
    if (cause !== undefined) this.cause = cause;
  }
}

/** The store's disk is full (HTTP 507): nothing was written; writes work again once space is freed. */
export class StorageFullError extends StorageUnavailableError {}
