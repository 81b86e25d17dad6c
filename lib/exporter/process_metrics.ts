/**
 * The exporter process's own resource metrics, named as Prometheus client
 * libraries name them (`process_resident_memory_bytes`,
 * `process_cpu_seconds_total`, `process_start_time_seconds`).
 *
 * @module
 */
import type { MetricFamily } from "./exposition.ts";

const START_SECONDS = Date.now() / 1000 - performance.now() / 1000;
// Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks.
const TICKS_PER_SECOND = 100;

/**
 * The process's RSS, CPU seconds (Linux) and start time.
 *
 * @returns The families.
 */
export function processMetrics(): MetricFamily[] {
  const families: MetricFamily[] = [
    {
      name: "process_resident_memory_bytes",
      help: "Resident memory size in bytes",
      type: "gauge",
      samples: [{ value: Deno.memoryUsage().rss }],
    },
    {
      name: "process_start_time_seconds",
      help: "Start time of the process since unix epoch in seconds",
      type: "gauge",
      samples: [{ value: Math.round(START_SECONDS * 100) / 100 }],
    },
  ];
  const cpu = cpuSeconds();
  if (cpu !== undefined) {
    families.push({
      name: "process_cpu_seconds_total",
      help: "Total user and system CPU time spent in seconds",
      type: "counter",
      samples: [{ value: cpu }],
    });
  }
  return families;
}

function cpuSeconds(): number | undefined {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    // Fields after the command name (which may hold spaces), from field 3.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}
