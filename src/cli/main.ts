#!/usr/bin/env node
import { Command } from "commander";
import { exitWithUsageCode } from "./exit-codes.ts";
import { addHealthcheckCommand } from "./healthcheck-command.ts";
import { addKeysCommand } from "./keys-command.ts";
import { addKeysFileCommand } from "./keys-file-command.ts";
import { addNextCommand } from "./next-command.ts";
import { addServeCommand } from "./serve-command.ts";
import { addStatsCommand } from "./stats-command.ts";

const program = new Command()
  .name("api-key-rotator")
  .description("Hands out the least recently used API key that is still under its limits.");

addServeCommand(program);
addHealthcheckCommand(program);
// From here on, bad usage exits 2. Commands added above keep commander's 1: Docker reserves 2
// for health checks.
exitWithUsageCode(program);
addKeysCommand(program);
addKeysFileCommand(program);
addStatsCommand(program);
addNextCommand(program);

// No top-level await: the single executable runs this file as CommonJS (Node 24 SEA).
program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
