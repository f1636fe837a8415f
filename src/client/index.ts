// Public face of `api-key-rotator/client`: re-exports only.
export type { KeyUnavailableErrorDetails, RotatorErrorDetails } from "./errors.ts";
export { KeyUnavailableError, ReportError, RotatorError } from "./errors.ts";
export { createClient, getApiKey, withApiKey } from "./get-api-key.ts";
export type {
  ApiKeyResult,
  ClientOptions,
  DefaultGetApiKeyOptions,
  DefaultWithApiKeyOptions,
  FetchFunction,
  GetApiKeyOptions,
  KeyMode,
  KeyRequestOptions,
  KeyRotatorClient,
  KeyUse,
  Outcome,
  ReportOptions,
  WithApiKeyOptions,
} from "./types.ts";
