import type { Command } from "commander";
import type { KeyTestJson } from "./admin-client.ts";
import { addConnectionOptions, type ConnectionFlags, connect } from "./connection-options.ts";
import { example, report, table } from "./output.ts";
import { runAction } from "./run-action.ts";

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
        report(flags, await connect(flags).testKey(ref), describeTest);
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
