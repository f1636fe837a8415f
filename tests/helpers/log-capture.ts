import { EventEmitter, once } from "node:events";
import type { DestinationStream } from "pino";

/** A pino destination that keeps every line and lets a test await one. */
export class LogCapture implements DestinationStream {
  readonly lines: string[] = [];
  readonly #events = new EventEmitter();

  write(line: string): void {
    this.lines.push(line);
    this.#events.emit("line", line);
  }

  count(pattern: RegExp): number {
    return this.lines.filter((line) => pattern.test(line)).length;
  }

  /** Resolves with the first line (already written or still to come) matching `pattern`. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const seen = this.lines.find((line) => pattern.test(line));
    if (seen) return seen;
    const signal = AbortSignal.timeout(timeoutMs);
    for (;;) {
      const [line] = (await once(this.#events, "line", { signal })) as [string];
      if (pattern.test(line)) return line;
    }
  }
}
