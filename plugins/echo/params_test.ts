import assert from "node:assert/strict";
import { ParamsError, type ParamsSchema, validateParams } from "../../lib/plugin/params_schema.ts";
import { echoClientParams, echoServerParams, payloadBytes, resolveTransport } from "./params.ts";

/** The paths of the issues when `input` does not parse, joined with dots. */
function issuePaths(schema: ParamsSchema, input: unknown): string[] {
  try {
    validateParams(schema, input);
  } catch (error) {
    assert.ok(error instanceof ParamsError);
    return error.issues.map((issue) => issue.path.join("."));
  }
  assert.fail("expected the params to be rejected");
}

/** Whether `input` is accepted. */
function accepts(schema: ParamsSchema, input: unknown): boolean {
  try {
    validateParams(schema, input);
    return true;
  } catch {
    return false;
  }
}

Deno.test("echoServerParams fills in loopback, a free port, a 60 s idle timeout, a 10,000 cap, io auto and the deno TLS server", () => {
  assert.deepEqual(validateParams(echoServerParams, {}), {
    transport: "tcp",
    host: "127.0.0.1",
    port: 0,
    idleTimeoutMs: 60_000,
    maxConnections: 10_000,
    io: "auto",
    tlsServer: "deno",
  });
  assert.deepEqual(issuePaths(echoServerParams, { transport: "udp", io: "ffi" }), ["io"]);
});

Deno.test("echoServerParams requires cert and key for tls", () => {
  assert.deepEqual(issuePaths(echoServerParams, { transport: "tls" }), ["cert", "key"]);
  assert.equal(
    accepts(echoServerParams, { transport: "tls", cert: "c.pem", key: "k.pem" }),
    true,
  );
});

Deno.test("echoServerParams rejects fields meant for another transport", () => {
  assert.deepEqual(issuePaths(echoServerParams, { path: "/tmp/s.sock" }), ["path"]);
  assert.deepEqual(issuePaths(echoServerParams, { transport: "udp", cert: "c.pem" }), ["cert"]);
});

Deno.test("echoServerParams rejects out-of-range numbers", () => {
  assert.deepEqual(issuePaths(echoServerParams, { port: 70_000 }), ["port"]);
  assert.deepEqual(issuePaths(echoServerParams, { idleTimeoutMs: -1 }), ["idleTimeoutMs"]);
  assert.deepEqual(issuePaths(echoServerParams, { maxConnections: 0 }), ["maxConnections"]);
});

Deno.test("echoClientParams fills in defaults", () => {
  assert.deepEqual(validateParams(echoClientParams, { target: "127.0.0.1:7" }), {
    target: "127.0.0.1:7",
    connections: 1,
    noDelay: true,
    keepAlive: false,
    timeoutMs: 5000,
    insecure: false,
  });
});

Deno.test("echoClientParams accepts exactly one payload", () => {
  assert.deepEqual(
    issuePaths(echoClientParams, { target: "127.0.0.1:7", payload: "a", payloadHex: "00" }),
    ["payloadHex"],
  );
  assert.deepEqual(issuePaths(echoClientParams, { target: "127.0.0.1:7", payloadHex: "abc" }), [
    "payloadHex",
  ]);
  assert.deepEqual(issuePaths(echoClientParams, { target: "127.0.0.1:7", payload: "" }), [
    "payload",
  ]);
});

Deno.test("echoClientParams rejects count together with durationMs", () => {
  assert.deepEqual(
    issuePaths(echoClientParams, { target: "127.0.0.1:7", count: 2, durationMs: 100 }),
    ["durationMs"],
  );
});

Deno.test("echoClientParams checks the target against the transport", () => {
  assert.deepEqual(issuePaths(echoClientParams, { target: "localhost" }), ["target"]);
  assert.deepEqual(
    issuePaths(echoClientParams, { target: "127.0.0.1:7", transport: "unix" }),
    ["target"],
  );
  assert.deepEqual(issuePaths(echoClientParams, { target: "unix:/tmp/s", transport: "tcp" }), [
    "target",
  ]);
  assert.equal(accepts(echoClientParams, { target: "unix:/tmp/s" }), true);
  assert.equal(accepts(echoClientParams, { target: "[::1]:7", transport: "udp" }), true);
});

Deno.test("echoClientParams limits udp payloads to one datagram and has no chunkSize for udp", () => {
  assert.deepEqual(
    issuePaths(echoClientParams, { target: "127.0.0.1:7", transport: "udp", payloadSize: 65_508 }),
    ["payloadSize"],
  );
  assert.deepEqual(
    issuePaths(echoClientParams, { target: "127.0.0.1:7", transport: "udp", chunkSize: 10 }),
    ["chunkSize"],
  );
});

Deno.test("echoClientParams keeps tls options for tls", () => {
  assert.deepEqual(
    issuePaths(echoClientParams, { target: "127.0.0.1:7", caFile: "ca.pem", insecure: true }),
    ["caFile", "insecure"],
  );
  assert.equal(
    accepts(echoClientParams, { target: "127.0.0.1:7", transport: "tls", caFile: "ca.pem" }),
    true,
  );
});

Deno.test("echoClientParams bounds connections at 10000", () => {
  assert.deepEqual(issuePaths(echoClientParams, { target: "127.0.0.1:7", connections: 10_001 }), [
    "connections",
  ]);
});

Deno.test("resolveTransport() prefers the given transport over the target's form", () => {
  assert.equal(resolveTransport({ target: "unix:/s", transport: "tcp" }), "tcp");
  assert.equal(resolveTransport({ target: "unix:/s" }), "unix");
  assert.equal(resolveTransport({ target: "127.0.0.1:1", transport: "udp" }), "udp");
});

Deno.test("payloadBytes() makes fresh random bytes of payloadSize beyond 64 KiB", () => {
  const a = payloadBytes({ payloadSize: 200_000 });
  const b = payloadBytes({ payloadSize: 200_000 });
  assert.equal(a.length, 200_000);
  assert.notDeepEqual(a.subarray(150_000), b.subarray(150_000));
  assert.notDeepEqual(a.subarray(150_000, 150_100), new Uint8Array(100));
});

Deno.test("payloadBytes() decodes hex with whitespace and encodes text as UTF-8", () => {
  assert.deepEqual(
    payloadBytes({ payloadHex: "DE ad\nbe EF" }),
    new Uint8Array([222, 173, 190, 239]),
  );
  assert.deepEqual(payloadBytes({ payload: "é" }), new Uint8Array([0xc3, 0xa9]));
  assert.throws(() => payloadBytes({ payloadHex: "xyz" }), SyntaxError);
});
