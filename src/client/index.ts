// Public face of `api-key-rotator/client`: re-exports only.
export type { KeyUnavailableErrorDetails } from "./errors.ts";
export { KeyUnavailableError } from "./errors.ts";
export { createClient, getApiKey } from "./get-api-key.ts";
export type {
  ApiKeyResult,
  ClientOptions,
  DefaultGetApiKeyOptions,
  FetchFunction,
  GetApiKeyOptions,
  KeyMode,
  KeyRequestOptions,
  KeyRotatorClient,
} from "./types.ts";
