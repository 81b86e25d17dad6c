/**
 * Transports: thin, typed wrappers over Deno's sockets with deadlines, abort
 * signals, typed errors and timing marks. No protocol logic. UDP is
 * experimental (it needs `--unstable-net`): `@wiretest/wiretest/unstable-udp`.
 *
 * @example Round trip over TCP on loopback
 * ```ts
 * import { connectTcp, listenTcp } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * using listener = listenTcp();
 * using client = await connectTcp({ port: listener.addr.port, timeout: 1000 });
 * using server = await listener.accept({ timeout: 1000 });
 * await client.write(new TextEncoder().encode("ping"));
 * const buf = new Uint8Array(4);
 * assert.equal(await server.read(buf, { timeout: 1000 }), 4);
 * ```
 *
 * @module
 */
// Everything but TLS is in ./plain.ts, for code that loads TLS only when asked.
export * from "./plain.ts";
export * from "./tls.ts";
