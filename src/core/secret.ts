const inspectSymbol = Symbol.for("nodejs.util.inspect.custom");

/**
 * An API key string that cannot reach a log line by accident: JSON, string
 * conversion and util.inspect all show the preview; only `reveal()` gives the key.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  // Worked out when asked for, not kept: a pool of 100,000 keys would hold 100,000 previews.
  get preview(): string {
    return previewOf(this.#value);
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return this.preview;
  }

  toString(): string {
    return this.preview;
  }

  [inspectSymbol](): string {
    return `Secret(${this.preview})`;
  }
}

/**
 * `sk-abc…xyz`: at most 6 leading and 3 trailing characters, and never more
 * than about a third of the key, so short keys are not given away whole.
 */
export function previewOf(value: string): string {
  const head = Math.min(6, Math.floor(value.length / 4));
  const tail = Math.min(3, Math.floor(value.length / 8));
  return `${value.slice(0, head)}…${tail > 0 ? value.slice(-tail) : ""}`;
}
