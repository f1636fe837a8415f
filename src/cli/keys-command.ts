import type { Command } from "commander";
import type { AdminClient, KeyJson } from "./admin-client.ts";
import { addInChunks, describeImport } from "./bulk-add.ts";
import { addConnectionOptions, type ConnectionFlags, connect } from "./connection-options.ts";
import { readKeySource } from "./key-source.ts";
import { addKeysTestCommand } from "./keys-test-command.ts";
import { example, report, table } from "./output.ts";
import { runAction } from "./run-action.ts";

const AUTH = "export API_KEY_ROTATOR_URL=http://localhost:8080 API_KEY_ROTATOR_TOKEN=$ADMIN_TOKEN";

export function addKeysCommand(program: Command): void {
  const keys = program
    .command("keys")
    .description("add, list and manage the keys of a running server (admin token)");

  addConnectionOptions(keys.command("add"))
    .description("add keys: one through /add, several through /add_bulk")
    .argument("<key...>", "API keys (they end up in shell history: prefer `keys import -`)")
    .addHelpText("after", example(AUTH, "api-key-rotator keys add sk-aaaaaaaaaaaaaaaa"))
    .action(runAction(addKeys));

  addConnectionOptions(keys.command("import"))
    .description("add keys from a file: one key a line, or a JSON array of strings")
    .argument("<file>", "path to read, or - for stdin")
    .addHelpText(
      "after",
      example(
        AUTH,
        "api-key-rotator keys import keys.txt",
        "pass show openai-keys | api-key-rotator keys import -",
      ),
    )
    .action(
      runAction(async (file: string, flags: ConnectionFlags) => {
        const source = await readKeySource(file);
        report(flags, await addInChunks(connect(flags), source), describeImport);
      }),
    );

  addConnectionOptions(keys.command("list"))
    .description("list the keys (previews only: the server never shows a key again)")
    .addHelpText("after", example(AUTH, "api-key-rotator keys list"))
    .action(
      runAction(async (flags: ConnectionFlags) => {
        report(flags, await connect(flags).list(), keyTable);
      }),
    );

  for (const change of CHANGES) {
    addConnectionOptions(keys.command(change.name))
      .description(change.description)
      .argument("<id-or-key>", "the key's id (recommended) or the key itself")
      .addHelpText("after", example(AUTH, `api-key-rotator keys ${change.name} V1StGXR8_Z5j`))
      .action(
        runAction(async (ref: string, flags: ConnectionFlags) => {
          report(flags, await change.call(connect(flags), ref), (key) => [change.done(key)]);
        }),
      );
  }
  addKeysTestCommand(keys);
}

const named = (key: KeyJson) => `${key.id} (${key.preview})`;

const CHANGES: {
  name: string;
  description: string;
  call: (client: AdminClient, ref: string) => Promise<KeyJson>;
  done: (key: KeyJson) => string;
}[] = [
  {
    name: "delete",
    description: "remove a key from the pool",
    call: (client, ref) => client.remove(ref),
    done: (key) => `deleted ${named(key)}`,
  },
  {
    name: "deactivate",
    description: "rest a key; it comes back by itself after the cooldown",
    call: (client, ref) => client.deactivate(ref),
    done: (key) => `deactivated ${named(key)} until ${key.available_at}`,
  },
  {
    name: "reactivate",
    description: "make a key available again at once",
    call: (client, ref) => client.reactivate(ref),
    done: (key) => `reactivated ${named(key)}`,
  },
];

async function addKeys(keys: string[], flags: ConnectionFlags): Promise<void> {
  const client = connect(flags);
  // One key keeps /add's answer: a duplicate or an invalid key is the server saying no (exit 1).
  if (keys.length === 1) {
    const key = await client.add(keys[0] as string);
    report(flags, key, () => [`added ${named(key)}`]);
    return;
  }
  report(flags, await addInChunks(client, { keys }), describeImport);
}

function keyTable(keys: readonly KeyJson[]): string[] {
  if (keys.length === 0) return ["no keys"];
  return table([
    ["ID", "PREVIEW", "STATUS", "MINUTE", "DAY", "LAST USED"],
    ...keys.map((key) => [
      key.id,
      key.preview,
      key.status,
      String(key.usage.requests_this_minute),
      String(key.usage.requests_this_day),
      key.last_used ?? "never",
    ]),
  ]);
}
