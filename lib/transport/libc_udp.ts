/**
 * Blocking UDP sockets through libc (`Deno.dlopen`), for measuring loops
 * that run in a Worker of their own: one FFI call per syscall, no event loop
 * between a datagram's arrival and its timestamp, and the kernel's
 * `SO_TIMESTAMPNS` receive timestamp where the kernel gives one. Linux on
 * x86_64 and aarch64 only (the struct layouts and constants are theirs);
 * anywhere else, or when FFI is not granted for libc's path,
 * {@linkcode openLibcUdp} says why and callers use {@linkcode bindUdp}.
 *
 * FFI is a blanket escape from Deno's permissions: these sockets bind and
 * send wherever they are told, whatever `--allow-net` says. Check the net
 * permission for every address first ({@linkcode libcUdpRefusal} does).
 *
 * @module
 */
import { LIBC_CANDIDATES, libcPath } from "../_internal/libc_path.ts";
import { ipVersion } from "../_internal/ip_literal.ts";
import { quotePath } from "../_internal/input_file_error.ts";

/**
 * Where libc may be, in the order {@linkcode openLibcUdp} tries them; grant
 * `--allow-ffi` for the one on your system (no pointer API is used, so the
 * path alone is enough).
 *
 * @example Granting FFI for libc alone
 * ```ts
 * import { LIBC_PATHS } from "@wiretest/wiretest/unstable-udp";
 * import assert from "node:assert/strict";
 *
 * assert.ok(LIBC_PATHS.includes("/lib/x86_64-linux-gnu/libc.so.6"));
 * const flag = `--allow-ffi=${LIBC_PATHS[0]}`;
 * assert.equal(flag, "--allow-ffi=/lib/x86_64-linux-gnu/libc.so.6");
 * ```
 */
export const LIBC_PATHS: readonly string[] = LIBC_CANDIDATES;

/**
 * The paths {@linkcode openLibcUdp} tries, in order: the libc this process
 * runs with (when it may read where that is), then {@linkcode LIBC_PATHS},
 * those this process may load through FFI first. A plugin process granted
 * `ffi: ["libc"]` may load only libc's real path and may not read where
 * libc is, so its first candidate is the one path it can `Deno.dlopen`.
 *
 * @returns Absolute paths, each once.
 *
 * @example Every candidate is absolute
 * ```ts
 * import { libcCandidates } from "@wiretest/wiretest/unstable-udp";
 * import assert from "node:assert/strict";
 *
 * assert.ok(libcCandidates().every((path) => path.startsWith("/")));
 * ```
 */
export function libcCandidates(): string[] {
  const found = libcPath();
  const granted = (path: string) =>
    Deno.permissions.querySync({ name: "ffi", path }).state === "granted";
  // A stable partition: the usual order, but a link such as /lib (merged
  // /usr) never comes before the real path a grant names.
  const paths = [...LIBC_PATHS.filter(granted), ...LIBC_PATHS.filter((p) => !granted(p))];
  return [...new Set(found === undefined ? paths : [found, ...paths])];
}

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0x80000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_RCVBUF = 8;
const SO_SNDBUF = 7;
const SO_TIMESTAMPNS = 35;
const SO_RCVTIMEO = 20;
// recvmsg then carries the socket's cumulative drop count (a uint32 cmsg).
const SO_RXQ_OVFL = 40;
// getsockopt: the socket's memory counters, u32s; index 8 is its drop count.
const SO_MEMINFO = 55;
const SK_MEMINFO_DROPS = 8;
const MSG_DONTWAIT = 0x40;
const MSG_ERRQUEUE = 0x2000;
const IPPROTO_IP = 0;
const IPPROTO_IPV6 = 41;
const IP_RECVERR = 11;
const IPV6_RECVERR = 25;
const ECONNREFUSED = 111;
// Most queued ICMP errors one receive drains (the queue is bounded by SO_RCVBUF anyway).
const ERRORS_DRAINED = 1024;
const POLLIN = 1;
const CLOCK_REALTIME = 0;
const EAGAIN = 11;
const EINTR = 4;

// Each socket's descriptor, for LibcUdp.poll (not exposed: closing it
// behind the socket's back would break the socket).
const SOCKET_FDS = new WeakMap<LibcUdpSocket, number>();

// errno values told apart, by name (the names Node uses as error codes).
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  13: "EACCES",
  90: "EMSGSIZE",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  101: "ENETUNREACH",
  105: "ENOBUFS",
  111: "ECONNREFUSED",
  113: "EHOSTUNREACH",
};

const symbols = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  // ssize_t results read as their low 32 bits (-1, or a length under 64 KiB):
  // a 64-bit result would come back as a BigInt, garbage on every call.
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "i32" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  ppoll: { parameters: ["buffer", "u64", "buffer", "pointer"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  // memcpy returns its destination: with no byte copied, a buffer's address
  // (for recvmsg's structures) without the pointer APIs, which need FFI granted
  // everywhere rather than for libc's path alone.
  address_of: { name: "memcpy", parameters: ["buffer", "buffer", "usize"], result: "usize" },
  // errno read through its thread-local address, for the same reason.
  read_errno: { name: "memcpy", parameters: ["buffer", "pointer", "usize"], result: "pointer" },
} as const;

type LibcSymbols = Deno.DynamicLibrary<typeof symbols>["symbols"];

/** libc opened (and from where), or why it could not be. */
export type LibcUdpOpened = { libc: LibcUdp; path: string } | { libc?: undefined; reason: string };

/**
 * Opens libc (each thread opens its own; close it when done). Never throws:
 * when FFI is not granted for any of {@linkcode LIBC_PATHS}, the platform is
 * not Linux x86_64/aarch64 or no candidate path loads, the result says why.
 *
 * @returns `{ libc, path }`, or `{ reason }`.
 *
 * @example A datagram between two blocking sockets
 * ```ts
 * import { openLibcUdp } from "@wiretest/wiretest/unstable-udp";
 * import assert from "node:assert/strict";
 *
 * const opened = openLibcUdp();
 * if (opened.libc) {
 *   using libc = opened.libc;
 *   using a = libc.bind("127.0.0.1", 0);
 *   using b = libc.bind("127.0.0.1", 0);
 *   assert.equal(a.sendTo(new Uint8Array([1, 2, 3]), 3, "127.0.0.1", b.port), 0);
 *   const got = b.receive(1000);
 *   assert.equal(got?.length, 3);
 *   assert.equal(got?.fromPort, a.port);
 *   assert.deepEqual(b.buffer.subarray(0, 3), new Uint8Array([1, 2, 3]));
 * } else {
 *   assert.equal(typeof opened.reason, "string");
 * }
 * ```
 */
export function openLibcUdp(): LibcUdpOpened {
  if (Deno.build.os !== "linux" || !["x86_64", "aarch64"].includes(Deno.build.arch)) {
    return { reason: `not Linux x86_64/aarch64 (${Deno.build.os} ${Deno.build.arch})` };
  }
  if (typeof Deno.dlopen !== "function") return { reason: "Deno.dlopen is unavailable" };
  const reasons: string[] = [];
  for (const path of libcCandidates()) {
    // Asking first keeps a missing grant from prompting or throwing.
    const state = Deno.permissions.querySync({ name: "ffi", path }).state;
    if (state !== "granted") {
      reasons.push(`${path}: ffi ${state}`);
      continue;
    }
    try {
      const lib = Deno.dlopen(path, symbols);
      return { libc: new LibcUdp(lib), path };
    } catch (error) {
      reasons.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { reason: `libc not loaded (${reasons[0] ?? "no candidate path"})` };
}

/**
 * A failed libc call: the call and its errno. `code` is the errno's name
 * (`EADDRINUSE`), so {@linkcode toNetError} maps it as it maps Node's errors.
 *
 * @example Mapped to a ConnectionError
 * ```ts
 * import { ConnectionError, toNetError } from "@wiretest/wiretest/transport";
 * import { LibcError } from "@wiretest/wiretest/unstable-udp";
 * import assert from "node:assert/strict";
 *
 * const error = new LibcError("bind", 98);
 * assert.equal(error.code, "EADDRINUSE");
 * const mapped = toNetError(error, "listen", "127.0.0.1:7");
 * assert.ok(mapped instanceof ConnectionError);
 * assert.equal(mapped.code, "address-in-use");
 * ```
 */
export class LibcError extends Error {
  /** The errno value. */
  readonly errno: number;
  /** The errno's name (`EADDRINUSE`), or `errno N` for one not told apart. */
  readonly code: string;
  /** The call that failed (`bind`, `sendto`, `recvmsg`, …). */
  readonly call: string;
  /**
   * Describes a failed call.
   *
   * @param call The libc function that failed.
   * @param errno Its errno.
   */
  constructor(call: string, errno: number) {
    const code = ERRNO_NAMES[errno] ?? `errno ${errno}`;
    super(`Cannot ${call}: ${code}`);
    this.name = "LibcError";
    this.call = call;
    this.errno = errno;
    this.code = code;
  }
}

/** One received datagram, described over the socket's reused buffer. */
export interface LibcDatagram {
  /** Bytes received (the data is `buffer.subarray(0, length)`). */
  length: number;
  /** Sender's IP address as the runtime formats it (`127.0.0.1`, `::1`). */
  fromHostname: string;
  /** Sender's port. */
  fromPort: number;
  /** Arrival time in realtime milliseconds since {@linkcode LibcUdp.epochSec}: the kernel's when it gave one. */
  at: number;
  /** `true` when `at` is the kernel's `SO_TIMESTAMPNS` receive timestamp. */
  kernel: boolean;
  /**
   * The socket's cumulative drop count when this datagram was queued, as the
   * kernel attached it (`SO_RXQ_OVFL`), or -1 where it does not.
   */
  drops: number;
}

/**
 * libc's socket calls, opened by {@linkcode openLibcUdp}; errno is read right
 * after each call, on the calling thread.
 *
 * @example Realtime milliseconds
 * ```ts
 * import { openLibcUdp } from "@wiretest/wiretest/unstable-udp";
 * import assert from "node:assert/strict";
 *
 * const opened = openLibcUdp();
 * if (opened.libc) {
 *   using libc = opened.libc;
 *   const a = libc.now();
 *   assert.ok(libc.now() >= a);
 *   assert.ok(Math.abs(libc.epochSec * 1000 + a - Date.now()) < 1000);
 * }
 * ```
 */
export class LibcUdp implements Disposable {
  #lib: Deno.DynamicLibrary<typeof symbols>;
  #s: LibcSymbols;
  #errnoAt: Deno.PointerValue;
  #errno = new Int32Array(1);
  // timespecs as 32-bit words (little-endian on both architectures): read
  // and written without a BigInt, which would be garbage on every call.
  #timespec = new Uint32Array(4);
  #pollfds = new DataView(new ArrayBuffer(64));
  #pollTimeout = new Uint32Array(4);
  #pollCount = 0;
  #pollCountBig = 0n;
  /** Whole seconds subtracted from realtime stamps so milliseconds stay exact in a double. */
  readonly epochSec: number;

  /**
   * Wraps the opened library; use {@linkcode openLibcUdp}.
   *
   * @param lib The opened library.
   */
  constructor(lib: Deno.DynamicLibrary<typeof symbols>) {
    this.#lib = lib;
    const s = this.#s = lib.symbols;
    this.#errnoAt = s.__errno_location();
    s.clock_gettime(CLOCK_REALTIME, this.#timespec);
    this.epochSec = this.#timespec[0] + this.#timespec[1] * 2 ** 32;
  }

  /** The calling thread's errno.
   * @returns errno. */
  errno(): number {
    this.#s.read_errno(this.#errno, this.#errnoAt, 4n);
    return this.#errno[0];
  }

  /**
   * The address of a buffer's bytes (stable: array buffers do not move).
   * @param view The buffer.
   * @returns Its address.
   */
  addressOf(view: ArrayBufferView): bigint {
    return BigInt(this.#s.address_of(view, view, 0n));
  }

  /**
   * CLOCK_REALTIME in milliseconds since {@linkcode LibcUdp.epochSec}.
   * @returns Milliseconds.
   */
  now(): number {
    const t = this.#timespec;
    this.#s.clock_gettime(CLOCK_REALTIME, t);
    return (t[0] + t[1] * 2 ** 32 - this.epochSec) * 1000 + t[2] / 1e6;
  }

  /**
   * Binds a UDP socket, with `SO_TIMESTAMPNS` where the kernel has it.
   * @param hostname An IP literal.
   * @param port The port (0: a free one).
   * @param reuseAddress Set `SO_REUSEADDR` first.
   * @returns The socket.
   * @throws {LibcError} When the socket cannot be made or bound.
   * @throws {TypeError} When `hostname` is not an IP literal.
   */
  bind(hostname: string, port: number, reuseAddress = false): LibcUdpSocket {
    const family = hostname.includes(":") ? AF_INET6 : AF_INET;
    const fd = this.#s.socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new LibcError("socket", this.errno());
    try {
      const one = new Int32Array([1]);
      if (reuseAddress) this.#setsockopt(fd, SO_REUSEADDR, one);
      const address = encodeSockaddr(hostname, port);
      if (this.#s.bind(fd, address, address.byteLength) !== 0) {
        throw new LibcError("bind", this.errno());
      }
      // Room for bursts of 64 KiB datagrams: up to 4 MiB where rmem_max and
      // wmem_max allow (the kernel doubles it). The runtime's sockets keep the
      // kernel's default (rmem_default, often 208 KiB).
      this.#setsockopt(fd, SO_RCVBUF, new Int32Array([4 << 20]), false);
      this.#setsockopt(fd, SO_SNDBUF, new Int32Array([4 << 20]), false);
      const kernel = this.#setsockopt(fd, SO_TIMESTAMPNS, one, false);
      const drops = this.#setsockopt(fd, SO_RXQ_OVFL, one, false);
      const name = new Uint8Array(28);
      const length = new Uint32Array([28]);
      if (this.#s.getsockname(fd, name, length) !== 0) {
        throw new LibcError("getsockname", this.errno());
      }
      return new LibcUdpSocket(this, this.#s, fd, decodeAddress(name), kernel, drops);
    } catch (error) {
      this.#s.close(fd);
      throw error;
    }
  }

  /**
   * Waits up to `timeoutMs` (fractions count, to the nanosecond) until one of
   * `sockets` has a datagram queued, for a loop that serves several sockets.
   * @param sockets Sockets bound through this library.
   * @param timeoutMs Longest wait, in milliseconds (0: only look).
   * @param ready Set to 1 where a socket has a datagram (or an error) queued, else 0.
   * @returns How many sockets are ready; 0 when the wait ended without one (or a signal broke it).
   * @throws {LibcError} When ppoll fails.
   *
   * @example Which of two sockets has a datagram
   * ```ts
   * import { openLibcUdp } from "@wiretest/wiretest/unstable-udp";
   * import assert from "node:assert/strict";
   *
   * const opened = openLibcUdp();
   * if (opened.libc) {
   *   using libc = opened.libc;
   *   using a = libc.bind("127.0.0.1", 0);
   *   using b = libc.bind("127.0.0.1", 0);
   *   a.sendTo(new Uint8Array([1]), 1, "127.0.0.1", b.port);
   *   const ready = new Uint8Array(2);
   *   assert.equal(libc.poll([a, b], 1000, ready), 1);
   *   assert.deepEqual(ready, new Uint8Array([0, 1]));
   * }
   * ```
   */
  poll(sockets: readonly LibcUdpSocket[], timeoutMs: number, ready: Uint8Array): number {
    const n = sockets.length;
    if (this.#pollfds.byteLength < n * 8) this.#pollfds = new DataView(new ArrayBuffer(n * 16));
    const fds = this.#pollfds;
    for (let i = 0; i < n; i++) {
      fds.setInt32(i * 8, SOCKET_FDS.get(sockets[i]) ?? -1, true);
      fds.setInt16(i * 8 + 4, POLLIN, true);
      fds.setInt16(i * 8 + 6, 0, true);
    }
    setTimespec(this.#pollTimeout, timeoutMs);
    if (n !== this.#pollCount) this.#pollCountBig = BigInt(this.#pollCount = n);
    const count = this.#s.ppoll(fds, this.#pollCountBig, this.#pollTimeout, null);
    if (count < 0) {
      const errno = this.errno();
      if (errno !== EINTR) throw new LibcError("ppoll", errno);
    }
    for (let i = 0; i < n; i++) ready[i] = count > 0 && fds.getInt16(i * 8 + 6, true) !== 0 ? 1 : 0;
    return Math.max(0, count);
  }

  /** Unloads the library; sockets bound through it must be closed first. */
  close(): void {
    this.#lib.close();
  }

  /** Unloads the library (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  #setsockopt(fd: number, option: number, value: Int32Array, required = true): boolean {
    if (this.#s.setsockopt(fd, SOL_SOCKET, option, value, 4) === 0) return true;
    if (required) throw new LibcError("setsockopt", this.errno());
    return false;
  }
}

/**
 * A bound UDP socket driven by blocking libc calls, made by
 * {@linkcode LibcUdp.bind}. Not for the main thread of a program with other
 * work: each receive blocks the thread for up to its timeout.
 *
 * @example Nothing queued
 * ```ts
 * import { openLibcUdp } from "@wiretest/wiretest/unstable-udp";
 * import assert from "node:assert/strict";
 *
 * const opened = openLibcUdp();
 * if (opened.libc) {
 *   using libc = opened.libc;
 *   using socket = libc.bind("127.0.0.1", 0);
 *   assert.equal(socket.receive(0), null);
 *   assert.ok(socket.port > 0);
 * }
 * ```
 */
export class LibcUdpSocket implements Disposable {
  /** The bound address, real port included. */
  readonly hostname: string;
  /** The bound port. */
  readonly port: number;
  /** `true` when arrivals carry the kernel's receive timestamp. */
  readonly kernelTimestamps: boolean;
  /** Receive buffer: one byte more than any datagram, so nothing is cut. */
  readonly buffer: Uint8Array<ArrayBuffer> = new Uint8Array(65_536);
  #libc: LibcUdp;
  #s: LibcSymbols;
  #fd: number;
  #closed = false;
  // recvmsg's structures, built once: msghdr → iovec → buffer, name, control.
  #msghdr = new DataView(new ArrayBuffer(56));
  #iovec = new DataView(new ArrayBuffer(16));
  #name = new Uint8Array(28);
  #nameView = new DataView(this.#name.buffer);
  // Room for both control messages: a timestamp (32 bytes) and a drop count (24).
  #control = new DataView(new ArrayBuffer(64));
  #pollfd = new DataView(new ArrayBuffer(8));
  #timeout = new Uint32Array(4);
  #to = new Map<string, Uint8Array<ArrayBuffer>>();
  // The last destination, so a loop sending to one peer looks nothing up.
  #toHostname = "";
  #toPort = -1;
  #toAddress: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  // The last length sent, as the BigInt sendto's size_t takes.
  #length = -1;
  #lengthBig = 0n;
  #received: LibcDatagram = {
    length: 0,
    fromHostname: "",
    fromPort: 0,
    at: 0,
    kernel: false,
    drops: -1,
  };
  #from = { hostname: "", port: 0 };
  // SO_RCVTIMEO as last set (a timeval: two 64-bit words), for receiveBlocking().
  #receiveTimeoutMs = -1;
  #timeval = new Uint32Array(4);
  #reportErrors = false;
  #errorsReported = 0;
  // The drop count the last datagram carried (SO_RXQ_OVFL), or -1 without the option.
  #drops = -1;
  #meminfo = new Uint32Array(16);

  /**
   * Wraps a bound descriptor; use {@linkcode LibcUdp.bind}.
   *
   * @param libc The library.
   * @param s Its symbols.
   * @param fd The bound descriptor.
   * @param bound Its address.
   * @param kernel Whether it has kernel receive timestamps.
   * @param drops Whether the kernel took `SO_RXQ_OVFL` (arrivals carry the drop count).
   */
  constructor(
    libc: LibcUdp,
    s: LibcSymbols,
    fd: number,
    bound: { hostname: string; port: number },
    kernel: boolean,
    drops = false,
  ) {
    this.#libc = libc;
    if (drops) this.#drops = 0;
    this.#s = s;
    this.#fd = fd;
    SOCKET_FDS.set(this, fd);
    this.hostname = bound.hostname;
    this.port = bound.port;
    this.kernelTimestamps = kernel;
    const address = (view: ArrayBufferView) => libc.addressOf(view);
    this.#iovec.setBigUint64(0, address(this.buffer), true);
    this.#iovec.setBigUint64(8, BigInt(this.buffer.byteLength), true);
    this.#msghdr.setBigUint64(0, address(this.#name), true);
    this.#msghdr.setBigUint64(16, address(this.#iovec), true);
    this.#msghdr.setBigUint64(24, 1n, true);
    this.#msghdr.setBigUint64(32, address(this.#control), true);
    this.#pollfd.setInt32(0, fd, true);
    this.#pollfd.setInt16(4, POLLIN, true);
  }

  /** ICMP errors the kernel reported for this socket's datagrams, once {@linkcode LibcUdpSocket.reportErrors} asked for them. */
  get errorsReported(): number {
    return this.#errorsReported;
  }

  /**
   * Asks the kernel to report ICMP errors for datagrams this socket sent
   * (`IP_RECVERR`/`IPV6_RECVERR`), while the socket stays unconnected
   * (datagrams from other addresses still arrive; Linux otherwise reports
   * such errors only on connected sockets). Each error (a port unreachable,
   * say) is then counted in {@linkcode LibcUdpSocket.errorsReported} as
   * sends and receives meet it, instead of failing them.
   *
   * @returns Whether the kernel took the option.
   *
   * @example A datagram to a closed port comes back as an error
   * ```ts
   * import { openLibcUdp } from "@wiretest/wiretest/unstable-udp";
   * import assert from "node:assert/strict";
   *
   * const opened = openLibcUdp();
   * if (opened.libc) {
   *   using libc = opened.libc;
   *   using closed = libc.bind("127.0.0.1", 0);
   *   const port = closed.port;
   *   closed.close();
   *   using socket = libc.bind("127.0.0.1", 0);
   *   assert.equal(socket.reportErrors(), true);
   *   for (let i = 0; i < 3; i++) {
   *     assert.equal(socket.sendTo(new Uint8Array([1]), 1, "127.0.0.1", port), 0);
   *   }
   *   const until = performance.now() + 1000;
   *   while (socket.errorsReported < 3 && performance.now() < until) socket.receive(50);
   *   assert.equal(socket.errorsReported, 3);
   * }
   * ```
   */
  reportErrors(): boolean {
    const [level, option] = this.hostname.includes(":")
      ? [IPPROTO_IPV6, IPV6_RECVERR]
      : [IPPROTO_IP, IP_RECVERR];
    this.#reportErrors = this.#s.setsockopt(this.#fd, level, option, new Int32Array([1]), 4) === 0;
    return this.#reportErrors;
  }

  /**
   * Datagrams the kernel dropped on their way into this socket since it was
   * bound, mostly because its receive buffer was full: what a reader too slow
   * for a burst loses on this host, not on the network. One `getsockopt`
   * (`SO_MEMINFO`); where the kernel lacks it, the count the last datagram
   * received carried (`SO_RXQ_OVFL`, read with it at no cost), which misses
   * drops after that datagram. `undefined` when the kernel has neither.
   *
   * @returns The cumulative drop count, or `undefined`.
   *
   * @example A burst into a socket that does not read
   * ```ts
   * import { openLibcUdp } from "@wiretest/wiretest/unstable-udp";
   * import assert from "node:assert/strict";
   *
   * const opened = openLibcUdp();
   * if (opened.libc) {
   *   using libc = opened.libc;
   *   using a = libc.bind("127.0.0.1", 0);
   *   using b = libc.bind("127.0.0.1", 0);
   *   assert.equal(b.drops(), 0);
   *   // 600 datagrams of 60 KiB overflow a receive buffer of 8 MiB at most.
   *   const big = new Uint8Array(60 * 1024);
   *   for (let i = 0; i < 600; i++) a.sendTo(big, big.length, "127.0.0.1", b.port);
   *   let queued = 0;
   *   while (b.receive(0)) queued++;
   *   assert.ok(b.drops()! > 0);
   *   assert.equal(queued + b.drops()!, 600);
   * }
   * ```
   */
  drops(): number | undefined {
    const info = this.#meminfo;
    const length = new Uint32Array([info.byteLength]);
    if (
      this.#s.getsockopt(this.#fd, SOL_SOCKET, SO_MEMINFO, info, length) === 0 &&
      length[0] > SK_MEMINFO_DROPS * 4
    ) {
      return Math.max(info[SK_MEMINFO_DROPS], this.#drops);
    }
    return this.#drops < 0 ? undefined : this.#drops;
  }

  /** `true` once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends `length` bytes of `data` to an IP literal and port.
   * @param data The bytes.
   * @param length How many of them.
   * @param hostname An IP literal.
   * @param port The port.
   * @returns 0, or the errno of a refused send.
   */
  sendTo(data: Uint8Array, length: number, hostname: string, port: number): number {
    let to = this.#toAddress;
    if (hostname !== this.#toHostname || port !== this.#toPort) {
      const key = `${hostname} ${port}`;
      to = this.#to.get(key) ?? encodeSockaddr(hostname, port);
      // Bounded: an echo answers whoever sends.
      if (this.#to.size < 1024) this.#to.set(key, to);
      this.#toHostname = hostname;
      this.#toPort = port;
      this.#toAddress = to;
    }
    if (length !== this.#length) this.#lengthBig = BigInt(this.#length = length);
    while (true) {
      const sent = this.#s.sendto(this.#fd, data, this.#lengthBig, 0, to, to.byteLength);
      if (sent >= 0) return 0;
      const errno = this.#libc.errno();
      // An earlier datagram's ICMP error, pending on the socket: counted, then sent again.
      if (errno === ECONNREFUSED && this.#reportErrors && this.#drainErrors() > 0) continue;
      if (errno !== EINTR) return errno;
    }
  }

  /**
   * Waits up to `timeoutMs` for a datagram (0: only what is queued).
   * @param timeoutMs Longest wait, in milliseconds.
   * @returns The datagram, its bytes in {@linkcode LibcUdpSocket.buffer}
   * (valid until the next call), or `null` when none came in time.
   * @throws {LibcError} When the socket fails.
   */
  receive(timeoutMs: number): LibcDatagram | null {
    let got = this.#receiveQueued();
    if (got) return got;
    if (timeoutMs <= 0) {
      if (this.#reportErrors) this.#drainErrors();
      return null;
    }
    setTimespec(this.#timeout, timeoutMs);
    const ready = this.#s.ppoll(this.#pollfd, 1n, this.#timeout, null);
    if (ready < 0) {
      const errno = this.#libc.errno();
      if (errno === EINTR) return null;
      throw new LibcError("ppoll", errno);
    }
    if (ready === 0) return null;
    got = this.#receiveQueued();
    // Ready with nothing to read: an error queued (POLLERR), which must be
    // read or every wait would end at once.
    if (!got && this.#reportErrors) this.#drainErrors();
    return got;
  }

  /**
   * Waits up to about `maxMs` for a datagram blocked in `recvmsg` itself:
   * one call per datagram where {@linkcode LibcUdpSocket.receive} makes a
   * poll and a read, so an echo answers sooner. The kernel rounds the wait
   * up to its clock tick (`SO_RCVTIMEO`, a few milliseconds at most): for a
   * loop that looks at a stop flag between waits, not for a deadline.
   * @param maxMs Longest wait, in milliseconds (at least 1 µs is waited).
   * @returns The datagram, as {@linkcode LibcUdpSocket.receive} gives it,
   * or `null` when none came in time.
   * @throws {LibcError} When the socket fails.
   *
   * @example A datagram already queued comes back at once
   * ```ts
   * import { openLibcUdp } from "@wiretest/wiretest/unstable-udp";
   * import assert from "node:assert/strict";
   *
   * const opened = openLibcUdp();
   * if (opened.libc) {
   *   using libc = opened.libc;
   *   using a = libc.bind("127.0.0.1", 0);
   *   using b = libc.bind("127.0.0.1", 0);
   *   a.sendTo(new Uint8Array([9]), 1, "127.0.0.1", b.port);
   *   assert.equal(b.receiveBlocking(1000)?.fromPort, a.port);
   *   assert.equal(b.receiveBlocking(10), null);
   * }
   * ```
   */
  receiveBlocking(maxMs: number): LibcDatagram | null {
    if (maxMs !== this.#receiveTimeoutMs) {
      // Never 0, which SO_RCVTIMEO reads as "wait for ever".
      const us = Math.max(1, Math.round(maxMs * 1000));
      const t = this.#timeval;
      t[0] = Math.floor(us / 1e6);
      t[1] = 0;
      t[2] = us % 1e6;
      t[3] = 0;
      if (this.#s.setsockopt(this.#fd, SOL_SOCKET, SO_RCVTIMEO, t, 16) !== 0) {
        throw new LibcError("setsockopt", this.#libc.errno());
      }
      this.#receiveTimeoutMs = maxMs;
    }
    return this.#receiveQueued(0);
  }

  #receiveQueued(flags: number = MSG_DONTWAIT): LibcDatagram | null {
    const m = this.#msghdr;
    m.setUint32(8, this.#name.byteLength, true);
    m.setUint32(40, this.#control.byteLength, true);
    m.setUint32(44, 0, true);
    m.setInt32(48, 0, true);
    const length = this.#s.recvmsg(this.#fd, m, flags);
    if (length < 0) {
      const errno = this.#libc.errno();
      if (errno === EAGAIN || errno === EINTR) return null;
      // The error's message stays queued (and keeps poll ready) until read.
      if (errno === ECONNREFUSED && this.#reportErrors) {
        this.#drainErrors();
        return null;
      }
      throw new LibcError("recvmsg", errno);
    }
    const r = this.#received;
    r.length = length;
    r.kernel = false;
    r.at = NaN;
    // The kernel attaches the count only once it is above 0.
    r.drops = this.#drops < 0 ? -1 : 0;
    // Control messages, each a 16-byte header (length, level, type) and its
    // data, 8-byte aligned: SCM_TIMESTAMPNS (a timespec) and, once the
    // socket dropped anything, SO_RXQ_OVFL (the cumulative drop count).
    // 32-bit reads: the lengths are small and a timespec's words are read
    // apart, so nothing here makes a BigInt (garbage on every datagram).
    const controlLength = m.getUint32(40, true);
    const c = this.#control;
    for (let at = 0; at + 16 <= controlLength;) {
      const length = c.getUint32(at, true);
      if (length < 16 || at + length > controlLength) break;
      if (c.getInt32(at + 8, true) === SOL_SOCKET) {
        const type = c.getInt32(at + 12, true);
        if (type === SO_TIMESTAMPNS && length >= 32) {
          const sec = c.getUint32(at + 16, true) + c.getInt32(at + 20, true) * 2 ** 32 -
            this.#libc.epochSec;
          r.at = sec * 1000 + c.getUint32(at + 24, true) / 1e6;
          r.kernel = true;
        } else if (type === SO_RXQ_OVFL && length >= 20) {
          r.drops = this.#drops = c.getUint32(at + 16, true);
        }
      }
      at += (length + 7) & ~7;
    }
    if (!r.kernel) r.at = this.#libc.now();
    const from = decodeAddress(this.#name, this.#nameView, this.#from);
    r.fromHostname = from.hostname;
    r.fromPort = from.port;
    return r;
  }

  // Reads the queued errors (each one ICMP message); returns how many.
  #drainErrors(): number {
    const m = this.#msghdr;
    let drained = 0;
    for (; drained < ERRORS_DRAINED; drained++) {
      m.setUint32(8, this.#name.byteLength, true);
      m.setUint32(40, this.#control.byteLength, true);
      m.setUint32(44, 0, true);
      m.setInt32(48, 0, true);
      if (this.#s.recvmsg(this.#fd, m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) break;
    }
    this.#errorsReported += drained;
    return drained;
  }

  /** Closes the descriptor. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    SOCKET_FDS.delete(this);
    this.#s.close(this.#fd);
  }

  /** Closes the descriptor (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }
}

// A timespec (two little-endian 64-bit words) of `ms` milliseconds, at least 0.
function setTimespec(words: Uint32Array, ms: number): void {
  const positive = Math.max(0, ms);
  const sec = Math.floor(positive / 1000);
  words[0] = sec % 2 ** 32;
  words[1] = Math.floor(sec / 2 ** 32);
  words[2] = Math.floor((positive - sec * 1000) * 1e6);
  words[3] = 0;
}

/**
 * The `sockaddr_in` (16 bytes) or `sockaddr_in6` (28 bytes) of an IP literal
 * and a port, as Linux's libc takes it: family in host order, port and
 * address in network order. For code that calls libc's socket functions
 * through FFI itself (the proxy's TCP relay).
 *
 * @param hostname An IPv4 or IPv6 literal (no brackets).
 * @param port 0-65535.
 * @returns The socket address's bytes.
 * @throws {TypeError} When `hostname` is not an IPv4 or IPv6 literal, or has
 * an IPv6 zone id (`fe80::1%eth0`).
 *
 * @example An IPv4 address
 * ```ts
 * import { encodeSockaddr } from "@wiretest/wiretest/unstable-udp";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeSockaddr("127.0.0.1", 8080);
 * assert.equal(bytes.length, 16);
 * assert.deepEqual([...bytes.subarray(2, 8)], [0x1f, 0x90, 127, 0, 0, 1]);
 * assert.equal(encodeSockaddr("::1", 9).length, 28);
 * ```
 */
export function encodeSockaddr(hostname: string, port: number): Uint8Array<ArrayBuffer> {
  const version = ipVersion(hostname);
  if (version === 0 || hostname.includes("%")) {
    // A zone would go in sin6_scope_id as an interface index; wiretest's
    // targets refuse zones (checkHost), so none is looked up here either.
    const why = version === 0
      ? "is not an IP literal"
      : "has an IPv6 zone id, which wiretest does not support";
    throw new TypeError(`Cannot encode address: ${quotePath(hostname)} ${why}`);
  }
  if (version === 6) {
    const out = new Uint8Array(28);
    const view = new DataView(out.buffer);
    view.setUint16(0, AF_INET6, true);
    view.setUint16(2, port);
    out.set(ipv6Bytes(hostname), 8);
    return out;
  }
  const parts = hostname.split(".").map(Number);
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setUint16(0, AF_INET, true);
  view.setUint16(2, port);
  out.set(parts, 4);
  return out;
}

function ipv6Bytes(hostname: string): Uint8Array {
  // The URL parser normalises every IPv6 form (::, embedded IPv4) to 8 groups or "::".
  const canonical = new URL(`http://[${hostname}]`).hostname.slice(1, -1);
  const [head, tail = ""] = canonical.includes("::") ? canonical.split("::") : [canonical, ""];
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === "" ? [] : tail.split(":");
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [
    ...headGroups,
    ...Array(canonical.includes("::") ? missing : 0).fill("0"),
    ...tailGroups,
  ];
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  groups.forEach((g, i) => view.setUint16(i * 2, parseInt(g, 16)));
  return out;
}

const ipv4Cache = new Map<number, string>();

// Into `out` when given (a datagram's sender, on every receive: no new object).
function decodeAddress(
  name: Uint8Array,
  view: DataView = new DataView(name.buffer, name.byteOffset, name.byteLength),
  out: { hostname: string; port: number } = { hostname: "", port: 0 },
): { hostname: string; port: number } {
  const family = view.getUint16(0, true);
  out.port = view.getUint16(2);
  if (family === AF_INET) {
    const key = view.getUint32(4);
    let hostname = ipv4Cache.get(key);
    if (hostname === undefined) {
      hostname = `${name[4]}.${name[5]}.${name[6]}.${name[7]}`;
      if (ipv4Cache.size < 1024) ipv4Cache.set(key, hostname);
    }
    out.hostname = hostname;
    return out;
  }
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(view.getUint16(8 + i * 2).toString(16));
  // The URL parser compresses zeros the way the runtime reports senders (`::1`).
  out.hostname = new URL(`http://[${groups.join(":")}]`).hostname.slice(1, -1);
  return out;
}
