import { readFile } from "node:fs/promises";

/** The machine's CPU time counters, summed over every CPU, in clock ticks. */
export interface CpuTicks {
  /** Time the hypervisor ran something else while this VM's CPUs had work. */
  readonly steal: number;
  readonly total: number;
}

/**
 * Reads the first line of /proc/stat: user nice system idle iowait irq softirq
 * steal, then guest and guest_nice, which user and nice already include.
 */
export function parseProcStat(text: string): CpuTicks | null {
  const line = text.split("\n", 1)[0] ?? "";
  const [label, ...fields] = line.trim().split(/\s+/);
  const ticks = fields.slice(0, 8).map(Number);
  if (label !== "cpu" || ticks.length < 8 || ticks.some((t) => !Number.isFinite(t))) return null;
  return { steal: ticks[7] as number, total: ticks.reduce((a, b) => a + b, 0) };
}

/** The counters now; null where there is no /proc/stat (off Linux). */
export async function readCpuTicks(): Promise<CpuTicks | null> {
  try {
    return parseProcStat(await readFile("/proc/stat", "utf8"));
  } catch {
    return null;
  }
}

/**
 * The share of the machine's CPU time between two readings that the hypervisor
 * gave to other guests: a busy host. In two bench runs on this VM, the 9 rounds
 * of ours with 1% or more cost 18.8-29.0 us a request, the 21 under it
 * 13.8-21.7 (bench/README.md). Slow rounds without steal happen too: a
 * neighbour sharing the caches shows as none.
 */
export function stealShare(before: CpuTicks | null, after: CpuTicks | null): number | null {
  if (before === null || after === null) return null;
  const total = after.total - before.total;
  return total > 0 ? (after.steal - before.steal) / total : null;
}
