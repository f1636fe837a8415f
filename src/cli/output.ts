/** Indented: `--json` output is read by people too, and one field a line suits grep. */
function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function printLines(lines: readonly string[]): void {
  if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n`);
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths = (rows[0] ?? []).map((_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
      )
      .join("  ");
  return rows.map(line);
}

/** `--json` prints the answer as the server gave it; otherwise `describe` says it for people. */
export function report<T>(
  flags: { json?: boolean },
  answer: T,
  describe: (answer: T) => string[],
): void {
  if (flags.json) printJson(answer);
  else printLines(describe(answer));
}

/** The "Example:" block of a command's `--help`. */
export function example(...lines: string[]): string {
  return `\nExample:\n${lines.map((line) => `  ${line}`).join("\n")}`;
}
