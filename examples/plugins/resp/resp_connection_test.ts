import assert from "node:assert/strict";
import { within } from "../../../tests/_support/command.ts";
import { ConnectionError, listenTcp, TimeoutError } from "@wiretest/wiretest/transport";
import { startRedis, withoutRedis } from "./_test_utils.ts";
import { RespError, RespProtocolError } from "./errors.ts";
import { RespConnection } from "./resp_connection.ts";

const encoder = new TextEncoder();

/**
 * A stand-in server on loopback: reads one command, then writes `reply`
 * (and closes when `close` is set), for replies Redis itself never sends.
 */
function standIn(reply: string | null, close = false) {
  const listener = listenTcp();
  const served = (async () => {
    using peer = await listener.accept({ timeout: 5000 });
    await peer.read(new Uint8Array(1024), { timeout: 5000 });
    if (reply !== null) await peer.write(encoder.encode(reply));
    if (close) return;
    // Hold the connection until the client closes it.
    await peer.read(new Uint8Array(1024), { timeout: 5000 }).catch(() => null);
  })();
  return {
    port: listener.addr.port,
    async [Symbol.asyncDispose]() {
      await served;
      listener.close();
    },
  };
}

Deno.test({
  name: "RespConnection.command() throws an error reply as RespError and stays usable",
  ignore: withoutRedis(),
  async fn() {
    await using redis = await startRedis();
    using conn = await RespConnection.connect({ port: redis.port, timeout: 5000 });
    await assert.rejects(conn.command(["NOSUCHCOMMAND", "x"]), (e: unknown) => {
      assert.ok(e instanceof RespError);
      assert.equal(e.code, "ERR");
      assert.match(e.message, /^Cannot run NOSUCHCOMMAND on 127\.0\.0\.1:\d+: ERR unknown command/);
      return true;
    });
    assert.equal(await conn.command(["PING"]), "PONG");
    assert.equal(await conn.command(["ECHO", "a\r\nb"]) instanceof Uint8Array, true);
  },
});

Deno.test({
  name: "RespConnection.command() refuses a bulk reply over maxBulkSize from Redis",
  ignore: withoutRedis(),
  async fn() {
    await using redis = await startRedis();
    using writer = await RespConnection.connect({ port: redis.port, timeout: 5000 });
    assert.equal(await writer.command(["SET", "big", new Uint8Array(2048)]), "OK");
    using reader = await RespConnection.connect({
      port: redis.port,
      timeout: 5000,
      maxBulkSize: 1024,
    });
    await assert.rejects(
      reader.command(["GET", "big"]),
      (e: unknown) =>
        e instanceof RangeError && /2048 bytes exceeds the limit of 1024/.test(e.message),
    );
    // An out-of-sync connection is closed rather than reused.
    assert.equal(reader.conn.closed, true);
  },
});

Deno.test("RespConnection.command() reports a reply that is not RESP as RespProtocolError", async () => {
  await using server = standIn("HTTP/1.1 400 Bad Request\r\n\r\n");
  using conn = await RespConnection.connect({ port: server.port, timeout: 5000 });
  await assert.rejects(
    conn.command(["PING"]),
    (e: unknown) => e instanceof RespProtocolError && /unknown type byte "H"/.test(e.message),
  );
});

Deno.test("RespConnection.command() reports a server that closes mid-reply", async () => {
  await using server = standIn("$10\r\nabc", true);
  using conn = await RespConnection.connect({ port: server.port, timeout: 5000 });
  await assert.rejects(
    conn.command(["GET", "k"]),
    (e: unknown) =>
      e instanceof ConnectionError && e.code === "closed" &&
      /in the middle of a reply/.test(e.message),
  );
});

Deno.test("RespConnection.command() times out when the server never answers", async () => {
  await using server = standIn(null);
  // 1 s: past the connect even on a loaded machine (100 ms could end there).
  using conn = await RespConnection.connect({ port: server.port, timeout: 1000 });
  // The bound only turns a missing timeout into a failure instead of a hang.
  await assert.rejects(
    within(conn.command(["PING"]), 10_000, "PING to time out"),
    (e: unknown) =>
      e instanceof TimeoutError &&
      /^Cannot run PING on 127\.0\.0\.1:\d+: timed out/.test(e.message),
  );
});

Deno.test("RespConnection.command() rejects with the reason its signal aborts with", async () => {
  await using server = standIn(null);
  const controller = new AbortController();
  using conn = await RespConnection.connect({ port: server.port, signal: controller.signal });
  const pending = conn.command(["PING"]);
  controller.abort(new DOMException("stop", "AbortError"));
  await assert.rejects(pending, (e: unknown) => e instanceof DOMException && e.message === "stop");
});
