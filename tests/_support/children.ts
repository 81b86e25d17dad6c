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

/**
 * The children of this process whose command line holds `token` (e.g. a
 * grant only their manifest names), for tests that run in parallel with
 * others in one process. A child once seen is remembered by its pid, so a
 * killed one not yet reaped (a zombie has no command line) still counts.
 */
export class MarkedChildren {
  readonly token: string;
  #seen = new Set<number>();

  constructor(token: string) {
    this.token = token;
  }

  /** The marked children now, zombies of seen ones included. */
  list(): ChildProcess[] {
    return childProcesses(Deno.pid).filter((child) => {
      if (this.#seen.has(child.pid)) return true;
      try {
        if (!Deno.readTextFileSync(`/proc/${child.pid}/cmdline`).includes(this.token)) return false;
      } catch {
        return false;
      }
      this.#seen.add(child.pid);
      return true;
    });
  }
}
