/**
 * The Node flags our server runs with where we launch Node ourselves: the
 * single executable (its SEA `execArgv`, and so the Docker image) and the
 * benchmark's rows for our server.
 *
 * --max-semi-space-size=4, for the peak under load: on a machine with this
 * much memory V8 lets the young generation grow to 2 x 64 MB, and keeps it
 * while the process is busy. Loading 100,000 keys makes it grow (almost
 * everything allocated then survives), and under load it stays grown.
 *
 * 4 since 2026-11-24 (night). Built, 100,000 keys, two bench runs of each,
 * alternated (3 rounds): peak RSS 143-147 MB in 6 of 6 launches against
 * 150-173 with 8, saving every second 146-158 against 157-253 (8's two highest
 * look like the pretenuring outlier bench/README describes, and cost 53-60 us
 * of CPU a request); once loaded 125-131 against 130-137. The cost: GC pauses
 * took 2.7-3.1% of the time against 1.7-2.1, and 5.0-6.4% against 2.9-3.7
 * saving every second. CPU a request, two servers at once loaded in turn (2 s
 * windows, 12 each, then the servers' places swapped to cancel the order's
 * own effect): +1.5% at 100,000 keys and -2.5% at 10 keys, inside the noise.
 * Saving every second, p99 rose: 7.1-10.4 ms in three runs against 5.9-7.8
 * in four; at the default save interval it did not rise.
 *
 * 2 was measured on 2026-12-08 (two bench runs of each, alternated, 8 launches
 * at 100,000 keys each way): peak 144.1-148.1 MB against 144.9-150.2, with GC
 * pauses taking 3.7-5.0% of the time against 2.4-3.3%. Not taken: a point and
 * a half more of GC for a megabyte or two in the tail of the peak.
 *
 * Before: with an object per key, a cap of 16 MB measured best (once loaded
 * 162-163 MB against 184-192 without a cap and 150-168 with 8). With the
 * column table and the hash indexes, 8 measured better (we did not trace why
 * it changed). Built, 100,000 keys, alternated (2026-11-23): once loaded
 * 134-136 against 145-147 MB (six launches each) and 131.8-137.4 against
 * 142.7-149.0 MB (two bench runs); peak after 10 s of wrk 151-187 against
 * 175-205 MB (ten launches each, none in the pretenuring pathology
 * bench/README describes; from src/ 170-218 against 190-211). The cost: GC
 * pauses took 2.0-2.3% of the time at 100,000 keys against 1.4-1.6%, and
 * 3.3-3.5% against 1.2-2.3% while saving every second; CPU per request
 * differed by less than the noise between launches.
 */
export const NODE_FLAGS: readonly string[] = ["--max-semi-space-size=4"];
