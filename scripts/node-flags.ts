/**
 * The Node flags our server runs with where we launch Node ourselves: the
 * single executable (its SEA `execArgv`, and so the Docker image) and the
 * benchmark's rows for our server.
 *
 * --max-semi-space-size=16: on a machine with this much memory V8 lets the
 * young generation grow to 2 x 64 MB, and keeps it while the process is busy.
 * Loading 100,000 keys makes it grow (almost everything allocated survives),
 * and under load it stays grown. Three alternated runs of the built server at
 * 100,000 keys (10 s of wrk each): RSS once loaded 162-163 MB against 184-192
 * MB without the cap, peak 192-195 MB against 223-271 MB, CPU per request 73-77
 * against 68-82 us. At 10 keys: peak 119-120 MB either way, CPU within the
 * noise. A cap of 8 MB was no better at 100,000 keys (ready 150-168 MB) and
 * once peaked at 178 MB with 10 keys.
 */
export const NODE_FLAGS: readonly string[] = ["--max-semi-space-size=16"];
