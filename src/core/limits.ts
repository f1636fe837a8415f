export interface Limits {
  /** Dispenses per key per UTC minute. */
  readonly rpm: number;
  /** Dispenses per key per UTC day. */
  readonly rpd: number;
  /** Dispenses per UTC minute across all keys (the seed's "TPM"). */
  readonly tpm: number;
  /** How long a deactivated key rests before it is reactivated by itself. */
  readonly cooldownMs: number;
}
