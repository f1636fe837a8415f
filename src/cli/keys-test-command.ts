import type { Command } from "commander";
import type { KeyTestOutcome } from "../providers/key-tester.ts";
import { ServerRefusal, ServerUnreachable } from "./admin-client.ts";
import { addConnectionOptions, type ConnectionFlags, connect } from "./connection-options.ts";
import { UsageError } from "./exit-codes.ts";
import { example, report, table } from "./output.ts";
import { runAction } from "./run-action.ts";

/** The answer of POST /keys/:key/test (src/http/key-test-route.ts). */
export interface KeyTestJson {
  id: string;
  outcome: KeyTestOutcome;
  /** The provider's HTTP status; null when it did not answer. */
  status: number | null;
  /** Seconds, from the provider's Retry-After. */
  retry_after: number | null;
  message: string;
}

export function addKeysTestCommand(keys: Command): void {
  addConnectionOptions(keys.command("test"))
    .description(
      "check a key with its pool's provider and record the outcome (exit 0 whatever the provider said)",
    )
    .argument("<id-or-key>", "the key's id (recommended) or the key itself")
    .addHelpText(
      "after",
      example("API_KEY_ROTATOR_TOKEN=$ADMIN_TOKEN api-key-rotator keys test V1StGXR8_Z5j"),
    )
    .action(
      runAction(async (ref: string, flags: ConnectionFlags) => {
        report(flags, await requestKeyTest(flags, ref), describeTest);
      }),
    );
}

function describeTest(result: KeyTestJson): string[] {
  return table([
    ["ID", "OUTCOME", "HTTP", "RETRY AFTER", "MESSAGE"],
    [
      result.id,
      result.outcome,
      result.status === null ? "-" : String(result.status),
      result.retry_after === null ? "-" : `${result.retry_after} s`,
      result.message,
    ],
  ]);
}

/**
 * AdminClient (admin-client.ts) has no call for this route yet, so this is its request for
 * one route, failing the same ways (ServerRefusal: exit 1, ServerUnreachable: exit 3).
 */
async function requestKeyTest(flags: ConnectionFlags, ref: string): Promise<KeyTestJson> {
  // connect() holds the checks of --url and --token that every command makes.
  connect(flags);
  // URL parsers resolve "." and ".." segments (even percent-encoded) before they are sent.
  if (ref === "." || ref === "..") throw new UsageError("refer to this key by its id");
  const base = new URL(flags.url.endsWith("/") ? flags.url : `${flags.url}/`);
  const headers: Record<string, string> = { accept: "application/json" };
  if (flags.token) headers.authorization = `Bearer ${flags.token}`;
  let response: Response;
  let text: string;
  try {
    response = await fetch(new URL(`keys/${encodeURIComponent(ref)}/test`, base), {
      method: "POST",
      headers,
      signal: AbortSignal.timeout(flags.timeout * 1000),
    });
    text = await response.text();
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    const why = timedOut ? `no answer within ${flags.timeout} s` : String(code ?? error);
    // The base only: the path may hold the key.
    throw new ServerUnreachable(`cannot reach the server at ${base.href}: ${why}`);
  }
  const json = parseJson(text);
  if (response.ok && json !== undefined) return json as KeyTestJson;
  const body = (typeof json === "object" && json !== null ? json : {}) as Record<string, unknown>;
  throw new ServerRefusal(
    typeof body.error === "string"
      ? body.error
      : `the server at ${base.href} answered HTTP ${response.status} without the expected JSON`,
    response.status,
    typeof body.code === "string" ? body.code : "http_error",
    typeof body.retry_after === "number" ? body.retry_after : undefined,
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
