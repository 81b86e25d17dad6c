// The machine a benchmark ran on, and the versions of everything compared:
// ratios are only comparable between runs on similar machines.

/** What the results depend on. */
export interface Machine {
  nproc: number;
  cpu: string;
  memory_gib: number;
  kernel: string;
  os: string;
  versions: Record<string, string>;
}

const VERSION_COMMANDS: Record<string, [string, string[]]> = {
  node: ["node", ["--version"]],
  python3: ["python3", ["--version"]],
  iperf3: ["iperf3", ["--version"]],
  sockperf: ["sockperf", ["--version"]],
  wrk: ["wrk", ["--version"]],
  nginx: ["nginx", ["-v"]],
  socat: ["socat", ["-V"]],
  curl: ["curl", ["--version"]],
};

/** Reads /proc and asks each program present for its version. */
export async function describeMachine(): Promise<Machine> {
  const cpuinfo = await readOr("/proc/cpuinfo");
  const meminfo = await readOr("/proc/meminfo");
  const osRelease = await readOr("/etc/os-release");
  const versions: Record<string, string> = {
    deno: `${Deno.version.deno} (V8 ${Deno.version.v8})`,
  };
  await Promise.all(
    Object.entries(VERSION_COMMANDS).map(async ([name, [cmd, args]]) => {
      const line = await versionLine(cmd, args, name);
      if (line) versions[name] = line;
    }),
  );
  return {
    nproc: navigator.hardwareConcurrency,
    cpu: cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown",
    memory_gib: Number(meminfo.match(/^MemTotal:\s+(\d+)/m)?.[1] ?? 0) / 1024 / 1024,
    kernel: Deno.osRelease(),
    os: osRelease.match(/^PRETTY_NAME="?([^"\n]+)"?$/m)?.[1] ?? Deno.build.os,
    versions,
  };
}

async function readOr(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return "";
  }
}

async function versionLine(cmd: string, args: string[], name: string): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
    // socat prints a banner first; the others lead with their version.
    const line = lines.find((l) => l.toLowerCase().includes("version") && name === "socat") ??
      lines.find((l) => /\d+\.\d+/.test(l));
    // sockperf colours its banner with terminal escapes.
    // deno-lint-ignore no-control-regex
    return line?.replace(/\x1b\[[0-9;]*m/g, "").slice(0, 120);
  } catch {
    return undefined;
  }
}
