// The peer programs benchmarks compare against, and the Debian packages that
// provide them. Missing ones are installed with apt-get (unless told not
// to); a side whose program is still missing is skipped with the reason.

/** Program on PATH → the Debian package that provides it. */
export const PACKAGES: Readonly<Record<string, string>> = {
  curl: "curl",
  iperf3: "iperf3",
  nginx: "nginx-light",
  node: "nodejs",
  openssl: "openssl",
  "prometheus-blackbox-exporter": "prometheus-blackbox-exporter",
  python3: "python3",
  socat: "socat",
  sockperf: "sockperf",
  wrk: "wrk",
};

/** Whether `program` is on PATH. */
export function hasProgram(program: string): boolean {
  const found = new Deno.Command("sh", {
    args: ["-c", `command -v '${program.replaceAll("'", "")}'`],
    stdout: "null",
    stderr: "null",
  }).outputSync();
  return found.success;
}

/**
 * Makes sure the programs are on PATH: installs the packages of the missing
 * ones with `apt-get install -y` (after `apt-get update` if the first
 * attempt fails), as root or through `sudo -n`. Never throws: returns the
 * programs that are available afterwards.
 */
export async function ensurePrograms(
  programs: Iterable<string>,
  options: { install: boolean; log: (line: string) => void },
): Promise<Set<string>> {
  const wanted = [...new Set(programs)];
  const missing = wanted.filter((p) => !hasProgram(p));
  if (missing.length > 0 && options.install) {
    const packages = [...new Set(missing.map((p) => PACKAGES[p] ?? p))];
    options.log(`installing ${packages.join(" ")} (apt-get install -y)`);
    if (!await aptInstall(packages)) {
      await apt(["update", "-qq"]);
      if (!await aptInstall(packages)) {
        options.log(`apt-get could not install ${packages.join(" ")}`);
      }
    }
  }
  const available = new Set(wanted.filter((p) => !missing.includes(p) || hasProgram(p)));
  for (const p of wanted) {
    if (!available.has(p)) options.log(`${p} is not available: sides that need it are skipped`);
  }
  return available;
}

function aptInstall(packages: string[]): Promise<boolean> {
  return apt(["install", "-y", "-qq", "--no-install-recommends", ...packages]);
}

async function apt(args: string[]): Promise<boolean> {
  const root = Deno.uid() === 0;
  if (!root && !hasProgram("sudo")) return false;
  const [cmd, full] = root ? ["apt-get", args] : ["sudo", ["-n", "apt-get", ...args]];
  try {
    const out = await new Deno.Command(cmd, {
      args: full,
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}
