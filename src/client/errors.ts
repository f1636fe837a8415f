/** What a {@link RotatorError} carries besides its message. */
export interface RotatorErrorDetails {
  /** HTTP status of the server's answer, or `0` when there was no answer. */
  status: number;
  /** Stable machine-readable code (see {@link KeyUnavailableError.code}). */
  code: string;
  /** Seconds to wait before asking again, when the server said so. */
  retryAfter?: number | undefined;
  /** The underlying error (network failures, aborts). */
  cause?: unknown;
}

/** @deprecated Kept for existing imports; use {@link RotatorErrorDetails}. */
export type KeyUnavailableErrorDetails = RotatorErrorDetails;

/**
 * A request to the rotator server failed. The message never contains the client token or a
 * key. Catch {@link KeyUnavailableError} or {@link ReportError} to tell the two requests apart.
 */
export class RotatorError extends Error {
  override name = "RotatorError";
  /** HTTP status of the server's answer, or `0` for network errors, timeouts and aborts. */
  readonly status: number;
  /** Stable machine-readable code. */
  readonly code: string;
  /** Seconds to wait before asking again: the `Retry-After` header, else the body's `retry_after`. */
  readonly retryAfter: number | undefined;

  constructor(message: string, details: RotatorErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.code = details.code;
    this.retryAfter = details.retryAfter;
  }
}

/**
 * Thrown (as a rejection) when no key could be obtained.
 *
 * `code` is the server's `code` field for HTTP errors (e.g. a 503 "no key available"), or one
 * of the client's own codes:
 * - `"network_error"`: the server could not be reached (status 0)
 * - `"timeout"`: no complete answer within `timeoutMs` (status 0)
 * - `"aborted"`: the caller's `signal` aborted (status 0)
 * - `"bad_response"`: a success status without a usable `api_key`/`id` body
 * - `"http_error"`: an error status whose body has no `code`
 *
 * @example
 * try {
 *   await getApiKey();
 * } catch (error) {
 *   if (error instanceof KeyUnavailableError && error.retryAfter !== undefined) {
 *     console.warn(`no key (${error.code}), retry in ${error.retryAfter}s`);
 *   }
 *   throw error;
 * }
 */
export class KeyUnavailableError extends RotatorError {
  override name = "KeyUnavailableError";
}

/**
 * Thrown (as a rejection) by `report()` when the server did not take the report: `code` is the
 * server's (`"key_not_found"`, `"invalid_report"`, `"unauthorized"`, ...) or one of the client
 * codes `"network_error"`, `"timeout"` and `"http_error"`.
 */
export class ReportError extends RotatorError {
  override name = "ReportError";
}
