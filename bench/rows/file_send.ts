// File send, 1 GiB framed and sha256-verified from wiretest's sender to its
// receiver (two CLI processes), against a raw socat copy of the same file
// (with and without an fdatasync of the copy, which our receiver does), and
// the seeds' Python raw sender and receiver. Also the peak RSS of our sender
// and receiver, at two sizes, to show it does not grow with the file.
import { alternate, type Side } from "../_alternate.ts";
import { lastJson, wholeJson } from "../_process.ts";
import type { BenchRow, CheckReport, RowContext, RowReport } from "../_row.ts";
import { denoScript, serve } from "../_wiretest.ts";
import { freePort, waitForListen } from "../../tests/_support/peer.ts";

const MIB = 1024 * 1024;
const RSS_LIMIT_MIB = 100;
/** Growth of the peak RSS between the small and the large file that still counts as flat. */
const FLAT_MIB = 10;

function sizes(ctx: RowContext) {
  if (ctx.mode === "quick") return { bytes: 4 * MIB, warmUp: 1 * MIB, small: 1 * MIB, huge: 0 };
  return {
    bytes: 1024 * MIB,
    warmUp: 64 * MIB,
    small: 100 * MIB,
    huge: ctx.mode === "full" ? 4096 * MIB : 0,
  };
}

/** Writes `bytes` random bytes to `path`, 4 MiB at a time. */
async function randomFile(path: string, bytes: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const block = new Uint8Array(4 * MIB);
  for (let off = 0; off < bytes; off += block.length) {
    for (let i = 0; i < block.length; i += 65_536) {
      crypto.getRandomValues(block.subarray(i, i + 65_536));
    }
    const part = block.subarray(0, Math.min(block.length, bytes - off));
    let written = 0;
    while (written < part.length) written += await file.write(part.subarray(written));
  }
}

/** One wiretest transfer: wall time, the sender's own rate, both peaks. */
interface Transfer {
  seconds: number;
  internalMibS: number;
  senderRss: number;
  receiverRss: number;
}

/** Peak RSS of both roles in one transfer of `size` bytes. */
interface Peaks {
  size: number;
  sender: number;
  receiver: number;
}

/** Each role's peak against the limit, and its growth from the smallest file to the largest. */
function rssChecks(variant: string, runs: Peaks[]): CheckReport[] {
  const limit = { op: "<=" as const, value: RSS_LIMIT_MIB, text: `≤ ${RSS_LIMIT_MIB} MiB` };
  const flat = { op: "<=" as const, value: FLAT_MIB, text: `flat: ≤ +${FLAT_MIB} MiB` };
  const label = (p: Peaks) => `${p.size / MIB} MiB`;
  return (["sender", "receiver"] as const).flatMap((role): CheckReport[] => {
    const peak = Math.max(...runs.map((r) => r[role]));
    const growth = peak - runs[0][role];
    return [
      {
        label: `${role} peak RSS (${variant})`,
        value: peak,
        unit: "MiB",
        target: limit,
        met: peak <= RSS_LIMIT_MIB,
        detail: runs.map((r) => `${label(r)}: ${r[role].toFixed(1)}`).join(", "),
      },
      {
        label: `${role} RSS growth ${label(runs[0])} → ${label(runs.at(-1)!)} (${variant})`,
        value: growth,
        unit: "MiB",
        target: flat,
        met: growth <= FLAT_MIB,
      },
    ];
  });
}

const row: BenchRow = {
  id: "file-send",
  title: "File send 1 GiB, framed + sha256 verified",
  order: 40,
  programs: ["socat", "python3"],
  async run(ctx: RowContext): Promise<RowReport> {
    const { bytes, warmUp, small, huge } = sizes(ctx);
    const recv = `${ctx.tmp}/recv`;
    await Deno.mkdir(recv);
    const sources = new Map<number, string>();
    const source = async (size: number) => {
      let path = sources.get(size);
      if (!path) {
        path = `${ctx.tmp}/src-${size}.bin`;
        ctx.log(`  writing a ${size / MIB} MiB random file`);
        await randomFile(path, size);
        sources.set(size, path);
      }
      return path;
    };
    // Between samples: nothing left dirty in the page cache to be written
    // back during the next side's run.
    const settle = async (leftover?: string) => {
      if (leftover) await Deno.remove(leftover).catch(() => {});
      await ctx.procs.run("sync", []);
    };
    const sizeOf = (warm: boolean) => warm ? warmUp : bytes;

    // A fresh receiver per transfer, so each one's peak RSS is its own.
    // `extra` is [] for the CLI's defaults (each role isolated in a Worker)
    // or ["--no-isolation"] (the plugin in the CLI's own process).
    const wiretestTransfer = async (size: number, extra: string[] = []): Promise<Transfer> => {
      const src = await source(size);
      const receiver = await serve(
        ctx.procs,
        ctx.root,
        "file-send",
        ["--dir", recv, "--overwrite", ...extra],
        "rss",
      );
      try {
        const [cmd, args] = denoScript(ctx.root, "wiretest_rss.ts", [
          "send",
          src,
          `${receiver.host}:${receiver.port}`,
          "--json",
          ...extra,
        ]);
        const started = performance.now();
        const out = await ctx.procs.run(cmd, args, { cwd: ctx.root });
        const seconds = (performance.now() - started) / 1000;
        const outcome = wholeJson(out.stdout);
        const facts = outcome.facts as { sha256: string; ack?: { sha256?: string } };
        if (outcome.ok !== true || facts.ack?.sha256 !== facts.sha256) {
          throw new Error(`wiretest send failed: ${JSON.stringify(outcome.error ?? facts)}`);
        }
        const exit = await receiver.proc.stop();
        return {
          seconds,
          internalMibS: (outcome.metrics as Record<string, number>).throughput_mib_s,
          senderRss: Number(lastJson(out.stderr).peak_rss_mib),
          receiverRss: Number(lastJson(exit.stderr).peak_rss_mib),
        };
      } finally {
        await receiver.proc.stop();
        await settle(`${recv}/src-${size}.bin`);
      }
    };

    const rawTransfer = async (
      size: number,
      receiverCmd: (port: number, out: string) => [string, string[]],
      senderCmd: (port: number, src: string) => [string, string[]],
      fdatasync = false,
    ) => {
      const src = await source(size);
      const port = freePort();
      const out = `${recv}/raw.bin`;
      const receiver = ctx.procs.spawn(...receiverCmd(port, out));
      try {
        // These receivers accept once: watch for the socket, do not connect.
        await waitForListen(port, 10_000);
        const started = performance.now();
        await ctx.procs.run(...senderCmd(port, src));
        const exit = await receiver.exited;
        if (exit.code !== 0) throw new Error(`receiver failed: ${exit.stderr.slice(-300)}`);
        if (fdatasync) await ctx.procs.run("sync", ["-d", out]);
        const seconds = (performance.now() - started) / 1000;
        const stored = (await Deno.stat(out)).size;
        if (stored !== size) throw new Error(`received ${stored} of ${size} bytes`);
        return { mib_s: size / MIB / seconds };
      } finally {
        await receiver.stop();
        await settle(out);
      }
    };
    const socatReceiver = (port: number, out: string): [string, string[]] => [
      "socat",
      ["-u", `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, `CREATE:${out}`],
    ];
    const socatSender = (port: number, src: string): [string, string[]] => [
      "socat",
      ["-u", `OPEN:${src}`, `TCP:127.0.0.1:${port}`],
    ];
    // The seeds' Python programs, shared with the interoperability tests.
    const seeds = `${ctx.root}/tests/_support/seeds`;

    const senderPeaks: number[] = [];
    const receiverPeaks: number[] = [];
    const sides: Side[] = [
      {
        id: "wiretest",
        label: "wiretest send → receive (framed, sha256)",
        async sample(warm) {
          const t = await wiretestTransfer(sizeOf(warm));
          if (!warm) {
            senderPeaks.push(t.senderRss);
            receiverPeaks.push(t.receiverRss);
          }
          return {
            mib_s: sizeOf(warm) / MIB / t.seconds,
            internal_mib_s: t.internalMibS,
            sender_rss_mib: t.senderRss,
            receiver_rss_mib: t.receiverRss,
          };
        },
      },
      {
        id: "socat",
        label: "socat raw copy",
        programs: ["socat"],
        sample: (warm) => rawTransfer(sizeOf(warm), socatReceiver, socatSender),
      },
      {
        id: "socat-sync",
        label: "socat raw copy + fdatasync",
        programs: ["socat"],
        sample: (warm) => rawTransfer(sizeOf(warm), socatReceiver, socatSender, true),
      },
      {
        id: "python",
        label: "Python seeds sender → receiver (raw, 1 KiB)",
        programs: ["python3"],
        sample: (warm) =>
          rawTransfer(
            sizeOf(warm),
            (port, out) => ["python3", [`${seeds}/receive_file.py`, String(port), out]],
            (port, src) => ["python3", [`${seeds}/send_file.py`, String(port), src]],
          ),
      },
    ];
    const metrics = [
      { key: "mib_s", label: "throughput", unit: "MiB/s", better: "higher" as const },
      {
        key: "internal_mib_s",
        label: "sender's own",
        unit: "MiB/s",
        better: "higher" as const,
      },
      { key: "sender_rss_mib", label: "sender RSS", unit: "MiB", better: "lower" as const },
      { key: "receiver_rss_mib", label: "receiver RSS", unit: "MiB", better: "lower" as const },
    ];
    const result = await alternate(ctx, sides, metrics, [
      {
        label: "wiretest framed / socat raw",
        metric: "mib_s",
        a: "wiretest",
        b: "socat",
        target: { op: ">=", value: 0.8, text: "≥ 0.8× socat" },
      },
      {
        label: "wiretest framed / socat + fdatasync",
        metric: "mib_s",
        a: "wiretest",
        b: "socat-sync",
      },
      { label: "wiretest framed / Python seeds", metric: "mib_s", a: "wiretest", b: "python" },
    ]);

    // Peak RSS against file size, with the CLI's defaults (the large file's
    // peaks come from the rounds) and in-process (--no-isolation), each
    // transfer with fresh processes.
    const checks: CheckReport[] = [];
    if (senderPeaks.length > 0) {
      const variants = [
        { name: "CLI default, isolated", extra: [] as string[] },
        { name: "--no-isolation", extra: ["--no-isolation"] },
      ];
      for (const { name, extra } of variants) {
        const runs: Peaks[] = [];
        const measure = async (size: number) => {
          const t = await wiretestTransfer(size, extra);
          runs.push({ size, sender: t.senderRss, receiver: t.receiverRss });
        };
        await measure(small);
        if (extra.length === 0) {
          runs.push({
            size: bytes,
            sender: Math.max(...senderPeaks),
            receiver: Math.max(...receiverPeaks),
          });
        } else {
          await measure(bytes);
        }
        if (huge > 0) {
          ctx.log(`  one ${huge / MIB} MiB transfer for the RSS check (${name})`);
          await measure(huge);
        }
        checks.push(...rssChecks(name, runs));
      }
      if (huge > 0) await Deno.remove(sources.get(huge)!);
    }
    return {
      params: {
        file_bytes: bytes,
        warm_up_bytes: warmUp,
        rss_sizes: [small, bytes, ...(huge ? [huge] : [])],
      },
      metrics,
      ...result,
      checks,
      notes: [
        "Throughput is the file size over the wall time from starting the sender to the " +
        "transfer being complete: for wiretest the sender's exit after the receiver's " +
        "acknowledgement (stored, fdatasync'd, renamed, sha256 checked), for the raw peers " +
        "both processes' exit. The wiretest sender's process start-up is inside that time; " +
        "its own measure (connect to acknowledgement) is shown as sender's own.",
        "socat and the seeds' programs do not sync the copy; the socat + fdatasync side adds " +
        "`sync -d` on the copy, the durability our receiver gives before its acknowledgement.",
        "Every sample starts from a synced page cache (sync after each, outside the timing); " +
        "the source file is in the page cache for every side.",
        "Peak RSS is VmHWM of the sender and receiver processes (fresh ones per transfer), " +
        "read by the processes themselves at exit (bench/peers/wiretest_rss.ts).",
      ],
    };
  },
};

export default row;
