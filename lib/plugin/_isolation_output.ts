// A plugin's output as text that is safe to show: a plugin's stdout and
// stderr are its log, never a terminal's or a report's. Control characters
// (escape sequences that clear the screen or set a window's title, carriage
// returns that overwrite a line), C1 controls, line and paragraph separators
// and bidirectional overrides are shown as escapes, and a line is cut short.
// Read on the host's main thread, which starts the process (_isolation_host.ts).

/** Characters of one line kept. */
export const MAX_LINE_CHARS = 4096;

// C0 but tab, DEL, C1, U+2028/2029, bidi embeddings, overrides and isolates.
// deno-lint-ignore no-control-regex
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * One line of a plugin's output, with every unsafe character escaped
 * (`\x1b`, `\u202e`) and at most {@linkcode MAX_LINE_CHARS} characters kept.
 */
export function escapeOutput(line: string): string {
  const cut = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
  return cut.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/**
 * Resident memory of a process in MiB, now (`VmRSS`) or at its peak
 * (`VmHWM`), from /proc (Linux); `undefined` elsewhere.
 */
export function residentMiB(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

const FIELDS = {
  VmRSS: /^VmRSS:\s+(\d+) kB/m,
  VmHWM: /^VmHWM:\s+(\d+) kB/m,
};

/**
 * {@linkcode residentMiB} of one process read again and again through one
 * open /proc file: the host reads its peak after every role's result, and
 * opening the file by path each time (and building the pattern) cost about
 * half of it. The file names the process it was opened for, so a pid reused
 * after its end is never read. `close()` when the process has ended.
 */
export class ResidentMemory {
  #file: Deno.FsFile | undefined;
  #pid: number;
  #buffer = new Uint8Array(8192);
  #decoder = new TextDecoder();

  constructor(pid: number) {
    this.#pid = pid;
    try {
      this.#file = Deno.openSync(`/proc/${pid}/status`);
    } catch {
      // Not Linux, or gone: read by path (undefined there).
    }
  }

  /** The MiB now (`VmRSS`) or at the peak (`VmHWM`), or `undefined`. */
  read(field: "VmRSS" | "VmHWM"): number | undefined {
    const file = this.#file;
    if (!file) return residentMiB(this.#pid, field);
    try {
      file.seekSync(0, Deno.SeekMode.Start);
      const length = file.readSync(this.#buffer) ?? 0;
      // Longer than the buffer (never seen: 1.5 KiB): by path, whole.
      if (length === this.#buffer.length) return residentMiB(this.#pid, field);
      const match = FIELDS[field].exec(this.#decoder.decode(this.#buffer.subarray(0, length)));
      return match ? Number(match[1]) / 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  /** Closes the file (once the process has ended). */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}

/** A plugin process's output as log lines: escaped, attributed by the host, bounded. */
export class ProcessOutput {
  #left: number;
  #dropped = false;
  #emit: (stream: "stdout" | "stderr", line: string) => void;
  /** The last 4 KiB of stderr (Deno's own error, a heap exhaustion). */
  tail = "";

  /**
   * @param bytes Bytes of output kept before the rest is dropped.
   * @param emit Gets each line, escaped.
   */
  constructor(bytes: number, emit: (stream: "stdout" | "stderr", line: string) => void) {
    this.#left = bytes;
    this.#emit = emit;
  }

  /** Reads one of the process's streams to its end. */
  async capture(stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr"): Promise<void> {
    let partial = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      if (name === "stderr") this.tail = (this.tail + text).slice(-4096);
      if (this.#left <= 0) {
        if (!this.#dropped) {
          this.#dropped = true;
          this.#emit(name, "(more output than wiretest keeps: the rest is dropped)");
        }
        continue;
      }
      this.#left -= chunk.length;
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      if (partial.length > MAX_LINE_CHARS) {
        lines.push(partial);
        partial = "";
      }
      for (const line of lines) this.#emit(name, escapeOutput(line));
    }
    if (partial) this.#emit(name, escapeOutput(partial));
  }
}
