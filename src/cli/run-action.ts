import { ServerRefusal, ServerUnreachable } from "./admin-client.ts";
import { ExitCode, UsageError } from "./exit-codes.ts";

/**
 * Wraps a command's action: expected failures become one line on stderr and the matching
 * exit code; anything else is a bug and keeps its stack trace.
 */
export function runAction<Args extends unknown[]>(
  action: (...args: Args) => Promise<void>,
): (...args: Args) => Promise<void> {
  return async (...args) => {
    try {
      await action(...args);
    } catch (error) {
      process.exitCode = report(error);
    }
  };
}

function report(error: unknown): number {
  if (error instanceof ServerRefusal) {
    const retry = error.retryAfter === undefined ? "" : `; retry in ${error.retryAfter} s`;
    fail(`${error.message} (${error.code}, HTTP ${error.status}${retry})`);
    return ExitCode.refused;
  }
  if (error instanceof ServerUnreachable) {
    fail(error.message);
    return ExitCode.unreachable;
  }
  if (error instanceof UsageError) {
    fail(error.message);
    return ExitCode.usage;
  }
  throw error;
}

export function fail(message: string): void {
  process.stderr.write(`api-key-rotator: ${message}\n`);
}
