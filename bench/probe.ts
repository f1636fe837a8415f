import { readFileSync } from "node:fs";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";

/**
 * Preloaded (`node --import`) into every server under test, so figures that
 * only the server's own process can see reach the harness over IPC without the
 * server's code knowing it is being measured.
 */
export type ProbeRequest = { type: "memory" } | { type: "window-start" } | { type: "window-stop" };

export type ProbeReply =
  | { type: "memory"; rss: number; rssAnon: number | null; maxRss: number; heapUsed: number }
  | {
      type: "window";
      /** Event-loop delay over the window, in milliseconds. */
      loopDelay: { p50: number; p99: number; max: number };
      /** CPU time this process used over the window, in milliseconds. */
      cpuMs: number;
      /** Garbage-collection pauses over the window: how many, their sum and the longest, in ms. */
      gc: { count: number; totalMs: number; maxMs: number };
    };

// 1 ms sampling: coarse enough to cost nothing, fine enough to see a 20 ms stall.
const delay = monitorEventLoopDelay({ resolution: 1 });
let cpuAtStart = process.cpuUsage();
let gc = { count: 0, totalMs: 0, maxMs: 0 };
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

function reply(message: ProbeReply): void {
  process.send?.(message);
}

process.on("message", (message: ProbeRequest) => {
  switch (message.type) {
    case "memory":
      reply({
        type: "memory",
        rss: process.memoryUsage.rss(),
        rssAnon: rssAnon(),
        maxRss: process.resourceUsage().maxRSS * 1024,
        heapUsed: process.memoryUsage().heapUsed,
      });
      break;
    case "window-start":
      cpuAtStart = process.cpuUsage();
      gc = { count: 0, totalMs: 0, maxMs: 0 };
      gcObserver.observe({ entryTypes: ["gc"] });
      delay.reset();
      delay.enable();
      break;
    case "window-stop": {
      delay.disable();
      gcObserver.disconnect();
      const cpu = process.cpuUsage(cpuAtStart);
      reply({
        type: "window",
        loopDelay: {
          p50: ms(delay.percentile(50)),
          p99: ms(delay.percentile(99)),
          max: ms(delay.max),
        },
        cpuMs: (cpu.user + cpu.system) / 1000,
        gc,
      });
      break;
    }
  }
});
