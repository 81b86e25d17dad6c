/**
 * The transports without TLS: TCP, Unix sockets, addresses, the connection
 * types and errors — everything `@wiretest/wiretest/transport` exports but
 * its TLS client and listener. Those import `node:tls` and `node:crypto`,
 * which load Node's compatibility layer (about 12 ms in a new process), so
 * a plugin that needs TLS only for some targets imports this module
 * statically and `@wiretest/wiretest/transport` with `import()` when a
 * target asks for TLS, before any clock starts.
 *
 * @example Round trip over TCP without loading the TLS modules
 * ```ts
 * import { connectTcp, listenTcp, parseHostPort } from "@wiretest/wiretest/transport/plain";
 * import assert from "node:assert/strict";
 *
 * using listener = listenTcp();
 * const { hostname, port } = parseHostPort(`127.0.0.1:${listener.addr.port}`);
 * using client = await connectTcp({ hostname, port, timeout: 1000 });
 * using server = await listener.accept({ timeout: 1000 });
 * await client.write(new TextEncoder().encode("ping"));
 * const buf = new Uint8Array(4);
 * assert.equal(await server.read(buf, { timeout: 1000 }), 4);
 * ```
 *
 * @module
 */
export * from "../errors.ts";
export * from "./types.ts";
export * from "./address.ts";
export * from "./conn.ts";
export * from "./tcp.ts";
export * from "./unix.ts";
export * from "./read_full.ts";
export * from "./serve_connections.ts";
export * from "./forwarding_conn.ts";
export * from "./min_data_rate.ts";
