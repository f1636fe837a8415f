/**
 * The Node flags our server runs with where we launch Node ourselves: the
 * single executable (its SEA `execArgv`) and the benchmark's rows for our server.
 *
 * --max-semi-space-size=8: on a machine with this much memory V8 lets the young
 * generation grow to 2 x 32 MB, and keeps it while the process is busy. Loading
 * 100,000 keys makes it grow (almost everything allocated survives), and under
 * load it stays grown. Capped at 2 x 8 MB, a 100,000-key server measured from
 * src/ held 188 MB RSS once loaded instead of 222 MB, and 270 MB at its peak
 * under load instead of 352 MB; its throughput moved by less than the run-to-run
 * noise (2 MB was slower at 100,000 keys: 84-87 against 60-72 us of CPU per request).
 */
export const NODE_FLAGS: readonly string[] = ["--max-semi-space-size=8"];
