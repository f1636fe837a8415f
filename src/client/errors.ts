/** What a {@link KeyUnavailableError} carries besides its message. */
export interface KeyUnavailableErrorDetails {
  /** HTTP status of the server's answer, or `0` when there was no answer. */
  status: number;
  /** Stable machine-readable code (see {@link KeyUnavailableError.code}). */
  code: string;
  /** Seconds to wait before asking again, when the server said so. */
  retryAfter?: number | undefined;
  /** The underlying error (network failures, aborts). */
  cause?: unknown;
}

/**
 * Thrown (as a rejection) when no key could be obtained. The message never contains the
 * client token or a key.
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
export class KeyUnavailableError extends Error {
  override name = "KeyUnavailableError";
  /** HTTP status of the server's answer, or `0` for network errors, timeouts and aborts. */
  readonly status: number;
  /** Stable machine-readable code. */
  readonly code: string;
  /** Seconds to wait before asking again: the `Retry-After` header, else the body's `retry_after`. */
  readonly retryAfter: number | undefined;

  constructor(message: string, details: KeyUnavailableErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.code = details.code;
    this.retryAfter = details.retryAfter;
  }
}
