import { constants, PerformanceObserver, performance } from "node:perf_hooks";

interface GcDetail {
  readonly kind: number;
  readonly flags: number;
}

// Preloaded with `node --import`: announces every full GC that was asked for
// (not one V8 chose) as a JSON line on stdout, where the server logs too,
// with the time it began (entries arrive later, so the line's place says nothing).
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const { kind, flags } = (entry as typeof entry & { detail: GcDetail }).detail;
    const forced = flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED;
    if (kind !== constants.NODE_PERFORMANCE_GC_MAJOR || !forced) continue;
    const time = performance.timeOrigin + entry.startTime;
    process.stdout.write(`${JSON.stringify({ msg: "probe: forced full GC", time })}\n`);
  }
}).observe({ entryTypes: ["gc"] });
