import { type Command, Option } from "commander";
import type { KeyMode } from "./admin-client.ts";
import { addConnectionOptions, type ConnectionFlags, connect } from "./connection-options.ts";
import { example, report } from "./output.ts";
import { runAction } from "./run-action.ts";

export function addNextCommand(program: Command): void {
  addConnectionOptions(program.command("next"))
    .description("dispense a key and print it alone, for $(api-key-rotator next) (client token)")
    .addOption(
      new Option("--mode <mode>", "least recently used, or a random eligible key")
        .choices(["auto", "random"])
        .default("auto"),
    )
    .addHelpText(
      "after",
      example(
        "export API_KEY_ROTATOR_TOKEN=$CLIENT_TOKEN",
        "OPENAI_API_KEY=$(api-key-rotator next --url http://localhost:8080) || exit",
      ),
    )
    .action(
      runAction(async (flags: ConnectionFlags & { mode: KeyMode }) => {
        report(flags, await connect(flags).next(flags.mode), (answer) => [answer.api_key]);
      }),
    );
}
