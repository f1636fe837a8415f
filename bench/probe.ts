import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";

/**
 * Preloaded (`node --import`) into every server under test, so figures that
 * only the server's own process can see reach the harness without the
 * server's code knowing it is being measured.
 *
 * The harness asks with SIGUSR2 and the probe answers with a file in
 * BENCH_PROBE_DIR. It used to answer over an IPC channel. With that channel
 * and its 'message' listener in the server, the 10,000- and 100,000-key rows
 * measured 0.74-0.86 x the 10-key row's requests a second (three runs, one of
 * them with the channel unref'd); with no probe at all 0.84-1.11 (two runs),
 * and with this probe 1.03-1.20 (two runs). Saves were off in all seven
 * (bench/README.md, "The probe"). A signal handler costs nothing until the
 * signal comes.
 */
export interface ProbeReport {
  /** 1 for the first report, then one more each time. */
  readonly seq: number;
  readonly memory: { rss: number; rssAnon: number | null; maxRss: number };
  /** Since the previous report (or since the process began, in the first). */
  readonly window: {
    /** Event-loop delay, in milliseconds; zero in the first report (not monitored then). */
    loopDelay: { p50: number; p99: number; max: number };
    /** CPU time this process used, in milliseconds. */
    cpuMs: number;
    /** Garbage-collection pauses: how many, their sum and the longest, in milliseconds. */
    gc: { count: number; totalMs: number; maxMs: number };
  };
}

// The harness's side of this (server-process.ts) uses the same signal and file names. This file
// is written out as plain JS and preloaded on its own, so it imports nothing of ours.
const SIGNAL = "SIGUSR2";
const reportFile = (dir: string, seq: number) => join(dir, `report-${seq}.json`);

const dir = process.env.BENCH_PROBE_DIR;
// 1 ms sampling: coarse enough to cost nothing, fine enough to see a 20 ms stall.
const delay = monitorEventLoopDelay({ resolution: 1 });
let cpuAtStart = process.cpuUsage();
let gc = { count: 0, totalMs: 0, maxMs: 0 };
let seq = 0;
// GC pauses stop the loop too; counting them tells a collector's stall from our code's.
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.count++;
    gc.totalMs += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
  }
});
const ms = (ns: number) => ns / 1e6;

/**
 * The private part of RSS (Linux's RssAnon): RSS also counts the pages of the `node` executable,
 * and how many of those a process maps follows the page cache (the kernel maps cached
 * neighbours of each faulting page), so the same server can measure 77 or 103 MB. Null elsewhere.
 */
function rssAnon(): number | null {
  try {
    const kb = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

function report(): ProbeReport {
  const cpu = process.cpuUsage(cpuAtStart);
  const monitored = seq > 0;
  return {
    seq: ++seq,
    memory: {
      rss: process.memoryUsage.rss(),
      rssAnon: rssAnon(),
      maxRss: process.resourceUsage().maxRSS * 1024,
    },
    window: {
      loopDelay: monitored
        ? { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) }
        : { p50: 0, p99: 0, max: 0 },
      cpuMs: (cpu.user + cpu.system) / 1000,
      gc,
    },
  };
}

if (dir !== undefined) {
  process.on(SIGNAL, () => {
    const answer = report();
    const file = reportFile(dir, answer.seq);
    // Renamed into place, so the harness never reads half a report.
    writeFileSync(`${file}.tmp`, JSON.stringify(answer));
    renameSync(`${file}.tmp`, file);
    // Monitoring starts with the first report (the server is ready): start-up is timed without it.
    cpuAtStart = process.cpuUsage();
    gc = { count: 0, totalMs: 0, maxMs: 0 };
    if (seq === 1) {
      gcObserver.observe({ entryTypes: ["gc"] });
      delay.enable();
    }
    delay.reset();
  });
}
