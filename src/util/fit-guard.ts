/**
 * Serving only loads what training saved. A process that serves (the server, the CLI's read commands) calls
 * forbidFitting() once; from then on every model fit calls assertMayFit() first and throws, so a model fitted on
 * a request path fails loudly in tests instead of stalling a server for a minute.
 *
 * Deliberately process-wide: a fit anywhere in a serving process is the bug this catches, whoever calls it.
 */

let forbidden: string | null = null;

export class FitForbiddenError extends Error {}

/** From now on, in this process, any model fit throws (why: what this process is, e.g. "the server"). */
export function forbidFitting(why: string): void {
  forbidden = why;
}

/** Lifts the ban (tests that fit and serve in one process). */
export function allowFitting(): void {
  forbidden = null;
}

export function fittingForbidden(): boolean {
  return forbidden !== null;
}

/** Called at the top of every model fit. */
export function assertMayFit(what: string): void {
  if (forbidden !== null)
    throw new FitForbiddenError(
      `${what} would be fitted in ${forbidden}, which only loads trained models: train it with \`npx cinerec train\``,
    );
}
