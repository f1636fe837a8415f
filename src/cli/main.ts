#!/usr/bin/env node
import { Command } from "commander";
import { addServeCommand } from "./serve-command.ts";

const program = new Command()
  .name("api-key-rotator")
  .description("Hands out the least recently used API key that is still under its limits.");

addServeCommand(program);

await program.parseAsync(process.argv);
