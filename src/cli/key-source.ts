import { readFile } from "node:fs/promises";
import { text } from "node:stream/consumers";
import { UsageError } from "./exit-codes.ts";

/** Keys read for an import, with the line each came from when the input was one key a line. */
export interface KeySource {
  readonly keys: string[];
  readonly lines?: number[];
}

/** Reads `path` (`-` for stdin): a JSON array of strings, or one key a line. */
export async function readKeySource(path: string): Promise<KeySource> {
  const name = path === "-" ? "stdin" : path;
  let content: string;
  try {
    content = path === "-" ? await text(process.stdin) : await readFile(path, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new UsageError(`cannot read ${name}${typeof code === "string" ? ` (${code})` : ""}`);
  }
  const source = content.trimStart().startsWith("[") ? fromJson(content, name) : fromLines(content);
  if (source.keys.length === 0) throw new UsageError(`no keys in ${name}`);
  return source;
}

function fromJson(content: string, name: string): KeySource {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch {
    // JSON.parse's message quotes the input, which is full of keys.
    throw new UsageError(`${name} starts with "[" but is not valid JSON`);
  }
  if (!Array.isArray(value)) throw new UsageError(`${name} must be a JSON array of strings`);
  const notString = value.findIndex((item) => typeof item !== "string");
  if (notString !== -1) {
    throw new UsageError(`${name}: item ${notString + 1} of the JSON array is not a string`);
  }
  return { keys: value };
}

function fromLines(content: string): KeySource {
  const keys: string[] = [];
  const lines: number[] = [];
  content.split(/\r?\n/).forEach((line, index) => {
    const key = line.trim();
    if (key === "") return;
    keys.push(key);
    lines.push(index + 1);
  });
  return { keys, lines };
}
