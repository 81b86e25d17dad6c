/**
 * UDP sockets with deadlines, abort signals and typed errors.
 *
 * **Experimental**: Deno's datagram sockets (`Deno.listenDatagram`) need
 * `--unstable-net` (or `"unstable": ["net"]` in `deno.json`), so this API is
 * not part of the stable root and may change with Deno's.
 *
 * ```sh
 * deno run --unstable-net --allow-net=127.0.0.1 my_udp_test.ts
 * ```
 *
 * @experimental
 *
 * @example A datagram round trip on loopback
 * ```ts
 * import { bindUdp } from "@wiretest/wiretest/unstable-udp";
 * import assert from "node:assert/strict";
 *
 * using a = bindUdp();
 * using b = bindUdp();
 * await a.send(new TextEncoder().encode("hi"), b.addr, { timeout: 1000 });
 * assert.equal(new TextDecoder().decode((await b.receive({ timeout: 1000 })).data), "hi");
 * ```
 *
 * @module
 */
export {
  bindUdp,
  type BindUdpOptions,
  type Datagram,
  MAX_UDP_PAYLOAD,
  type UdpSocket,
  type UdpTarget,
} from "./udp.ts";
export * from "./udp_io.ts";
export * from "./libc_udp.ts";
export * from "./libc_udp_echo.ts";
