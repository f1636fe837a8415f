import type { Command } from "commander";

/** The CLI's exit codes: scripts branch on them, so they never change meaning. */
export const ExitCode = {
  ok: 0,
  /** The server answered with an error status; for `keys-file`, the file could not be read, decrypted or written. */
  refused: 1,
  /** The command line (or an input file) is wrong; nothing was sent. */
  usage: 2,
  /** No answer from the server: connection refused, DNS failure, timeout. */
  unreachable: 3,
} as const;

/** A mistake of the caller's, found before anything was sent. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Makes commander's own failures (unknown command or option, missing argument, bad choice)
 * exit with the usage code instead of its default 1, which here means "the server said no".
 * Applies to the program and to the subcommands added after the call (commander copies the
 * setting when a subcommand is created).
 */
export function exitWithUsageCode(program: Command): void {
  program.exitOverride((error) => {
    process.exit(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage);
  });
}
