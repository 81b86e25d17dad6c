/** A child process: its pid and state letter (`Z` for one not reaped). */
export interface ChildProcess {
  pid: number;
  state: string;
}

/**
 * The processes whose parent is `parent`, read from /proc (Linux), zombies
 * included: a killed child that was never waited for still counts.
 */
export function childProcesses(parent: number): ChildProcess[] {
  const found: ChildProcess[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === parent) found.push({ pid: Number(entry.name), state });
    } catch {
      // Gone while read.
    }
  }
  return found;
}
