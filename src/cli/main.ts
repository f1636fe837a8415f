#!/usr/bin/env node
import { Command } from "commander";
import { addHealthcheckCommand } from "./healthcheck-command.ts";
import { addServeCommand } from "./serve-command.ts";

const program = new Command()
  .name("api-key-rotator")
  .description("Hands out the least recently used API key that is still under its limits.");

addServeCommand(program);
addHealthcheckCommand(program);

// No top-level await: the single executable runs this file as CommonJS (Node 24 SEA).
program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
