import type { Command } from "commander";
import type { StatsJson } from "./admin-client.ts";
import { addConnectionOptions, type ConnectionFlags, connect } from "./connection-options.ts";
import { example, report, table } from "./output.ts";
import { runAction } from "./run-action.ts";

export function addStatsCommand(program: Command): void {
  addConnectionOptions(program.command("stats"))
    .description("show pool totals, dispenses and limits (admin token)")
    .addHelpText(
      "after",
      example(
        "API_KEY_ROTATOR_TOKEN=$ADMIN_TOKEN api-key-rotator stats --url http://localhost:8080",
      ),
    )
    .action(
      runAction(async (flags: ConnectionFlags) => {
        report(flags, await connect(flags).stats(), describeStats);
      }),
    );
}

function describeStats(stats: StatsJson): string[] {
  const { limits } = stats;
  return table([
    [
      "keys",
      `${stats.total_keys} total: ${stats.active_keys} active, ${stats.inactive_keys} inactive, ${stats.available_keys} available now`,
    ],
    ["dispensed", `${stats.dispensed_this_minute} this minute, ${stats.dispensed_today} today`],
    ["global cap", `${stats.global_cap.remaining} of ${stats.global_cap.limit} left this minute`],
    [
      "limits",
      `rpm ${limits.rpm}, rpd ${limits.rpd}, tpm ${limits.tpm}, cooldown ${limits.cooldown_seconds} s`,
    ],
  ]);
}
