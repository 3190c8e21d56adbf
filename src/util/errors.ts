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
