import { type Command, InvalidArgumentError, Option } from "commander";
import { AdminClient, serverUrlProblem } from "./admin-client.ts";
import { UsageError } from "./exit-codes.ts";

const DEFAULT_URL = "http://localhost:8080";
const DEFAULT_TIMEOUT_SECONDS = 10;

/** The options every client command takes, as commander hands them over. */
export interface ConnectionFlags {
  url: string;
  token?: string;
  json?: boolean;
  timeout: number;
}

export function addConnectionOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--url <url>", "address of the server")
        .env("API_KEY_ROTATOR_URL")
        .default(DEFAULT_URL),
    )
    .addOption(
      new Option("--token <token>", "bearer token (prefer the variable: flags show in ps)").env(
        "API_KEY_ROTATOR_TOKEN",
      ),
    )
    .option("--json", "print the server's JSON answer instead of a table")
    .addOption(
      new Option("--timeout <seconds>", "give up waiting for the server after this long")
        .argParser(seconds)
        .default(DEFAULT_TIMEOUT_SECONDS),
    );
}

export function connect(flags: ConnectionFlags): AdminClient {
  const problem = serverUrlProblem(flags.url);
  // The address is not echoed: a wrong one may carry credentials.
  if (problem) throw new UsageError(`--url / API_KEY_ROTATOR_URL ${problem}`);
  // An empty variable (API_KEY_ROTATOR_TOKEN=) means "no token", not an empty one.
  const token = flags.token || undefined;
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) {
    throw new UsageError(
      "--token / API_KEY_ROTATOR_TOKEN must be printable ASCII without spaces (check for a pasted newline)",
    );
  }
  return new AdminClient({ url: flags.url, token, timeoutMs: flags.timeout * 1000 });
}

function seconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0 || parsed > 3600) {
    throw new InvalidArgumentError("must be a number of seconds between 0 and 3600");
  }
  return parsed;
}
