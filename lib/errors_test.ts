import assert from "node:assert/strict";
import net from "node:net";
import {
  ConnectionError,
  type ConnectionErrorCode,
  PermissionDeniedError,
  TimeoutError,
  toNetError,
} from "./errors.ts";

// A Node-style error: a plain Error with a `code`, as node: APIs throw.
function nodeError(code: string, message = `${code} happened`): Error {
  return Object.assign(new Error(message), { code });
}

Deno.test("TimeoutError names the operation, address and time", () => {
  const cases: [string, string][] = [
    ["connect", "Cannot connect to 127.0.0.1:80: timed out after 100 ms"],
    ["read", "Cannot read from 127.0.0.1:80: timed out after 100 ms"],
    ["write", "Cannot write to 127.0.0.1:80: timed out after 100 ms"],
    ["send", "Cannot send to 127.0.0.1:80: timed out after 100 ms"],
    ["receive", "Cannot receive on 127.0.0.1:80: timed out after 100 ms"],
    ["listen", "Cannot listen on 127.0.0.1:80: timed out after 100 ms"],
    ["accept", "Cannot accept on 127.0.0.1:80: timed out after 100 ms"],
    ["handshake", "Cannot handshake with 127.0.0.1:80: timed out after 100 ms"],
    ["resolve", "Cannot resolve 127.0.0.1:80: timed out after 100 ms"],
    ["probe", "Cannot probe on 127.0.0.1:80: timed out after 100 ms"],
    // A ping names its target as given, quoted (udp-ping's NoReplyError does too).
    ["ping", 'Cannot ping "127.0.0.1:80": timed out after 100 ms'],
  ];
  for (const [operation, message] of cases) {
    const err = new TimeoutError({ operation, address: "127.0.0.1:80", timeoutMs: 100 });
    assert.equal(err.message, message);
    assert.equal(err.name, "TimeoutError");
    assert.equal(err.operation, operation);
    assert.equal(err.address, "127.0.0.1:80");
    assert.equal(err.timeoutMs, 100);
  }
});

Deno.test("TimeoutError shows a fractional timeout with one decimal", () => {
  const err = new TimeoutError({ operation: "read", address: "unix:/s", timeoutMs: 12.345 });
  assert.equal(err.message, "Cannot read from unix:/s: timed out after 12.3 ms");
});

Deno.test("ConnectionError words each code in the documented form", () => {
  const expected: Record<ConnectionErrorCode, string> = {
    "refused": "connection refused",
    "reset": "connection reset by peer",
    "aborted": "connection aborted",
    "unreachable": "network or host unreachable",
    "closed": "connection closed",
    "broken-pipe": "broken pipe (the peer closed the connection)",
    "address-in-use": "address already in use",
    "address-unavailable": "address not available",
    "not-found": "no such socket",
    "dns": "name could not be resolved",
    "timed-out": "timed out in the operating system",
    "tls": "TLS failure",
    "other": "network error",
  };
  for (const [code, text] of Object.entries(expected)) {
    const err = new ConnectionError({
      code: code as ConnectionErrorCode,
      operation: "connect",
      address: "[::1]:443",
    });
    assert.equal(err.message, `Cannot connect to [::1]:443: ${text}`);
    assert.equal(err.code, code);
    assert.equal(err.name, "ConnectionError");
  }
});

Deno.test("ConnectionError uses a detail instead of the standard wording", () => {
  const err = new ConnectionError({
    code: "tls",
    operation: "handshake",
    address: "127.0.0.1:8443",
    detail: "certificate has expired",
  });
  assert.equal(err.message, "Cannot handshake with 127.0.0.1:8443: certificate has expired");
});

Deno.test("PermissionDeniedError says who refused", () => {
  const runtime = new PermissionDeniedError({
    operation: "connect",
    address: "127.0.0.2:80",
    source: "runtime",
  });
  assert.equal(
    runtime.message,
    "Cannot connect to 127.0.0.2:80: permission denied by the Deno runtime " +
      "(grant it with --allow-net or a manifest entry)",
  );
  const os = new PermissionDeniedError({
    operation: "listen",
    address: "0.0.0.0:80",
    source: "os",
  });
  assert.equal(
    os.message,
    "Cannot listen on 0.0.0.0:80: permission denied by the operating system",
  );
  assert.equal(os.source, "os");
  assert.equal(os.name, "PermissionDeniedError");
});

Deno.test("typed errors keep their cause", () => {
  const cause = new Error("root");
  assert.equal(
    new TimeoutError({ operation: "read", address: "a:1", timeoutMs: 1, cause }).cause,
    cause,
  );
  assert.equal(
    new ConnectionError({ code: "reset", operation: "read", address: "a:1", cause }).cause,
    cause,
  );
  assert.equal(
    new PermissionDeniedError({ operation: "read", address: "a:1", source: "os", cause }).cause,
    cause,
  );
});

Deno.test("toNetError() maps Deno's error classes to connection codes", () => {
  const cases: [new (message: string) => Error, ConnectionErrorCode][] = [
    [Deno.errors.ConnectionRefused, "refused"],
    [Deno.errors.ConnectionReset, "reset"],
    [Deno.errors.ConnectionAborted, "aborted"],
    [Deno.errors.NotConnected, "closed"],
    [Deno.errors.BadResource, "closed"],
    [Deno.errors.Interrupted, "closed"],
    [Deno.errors.UnexpectedEof, "closed"],
    [Deno.errors.BrokenPipe, "broken-pipe"],
    [Deno.errors.AddrInUse, "address-in-use"],
    [Deno.errors.AddrNotAvailable, "address-unavailable"],
    [Deno.errors.NotFound, "not-found"],
    [Deno.errors.TimedOut, "timed-out"],
  ];
  for (const [ErrorClass, code] of cases) {
    const cause = new ErrorClass("os said no");
    const err = toNetError(cause, "read", "127.0.0.1:7");
    assert.ok(err instanceof ConnectionError, `${cause.name}: ${err}`);
    assert.equal(err.code, code, cause.name);
    assert.equal(err.operation, "read");
    assert.equal(err.address, "127.0.0.1:7");
    assert.equal(err.cause, cause);
  }
});

Deno.test("toNetError() maps Node error codes to connection codes", () => {
  const cases: [string, ConnectionErrorCode][] = [
    ["ECONNREFUSED", "refused"],
    ["ECONNRESET", "reset"],
    ["ECONNABORTED", "aborted"],
    ["ENETUNREACH", "unreachable"],
    ["EHOSTUNREACH", "unreachable"],
    ["EPIPE", "broken-pipe"],
    ["EADDRINUSE", "address-in-use"],
    ["EADDRNOTAVAIL", "address-unavailable"],
    ["ENOENT", "not-found"],
    ["ENOTFOUND", "dns"],
    ["EAI_AGAIN", "dns"],
    ["ETIMEDOUT", "timed-out"],
    ["ERR_SOCKET_CLOSED", "closed"],
  ];
  for (const [nodeCode, code] of cases) {
    const cause = nodeError(nodeCode);
    const err = toNetError(cause, "write", "127.0.0.1:7");
    assert.ok(err instanceof ConnectionError, nodeCode);
    assert.equal(err.code, code, nodeCode);
    assert.equal(err.cause, cause);
  }
});

Deno.test("toNetError() maps a real node:net ECONNREFUSED", async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const cause = await new Promise<Error>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", (e) => {
      socket.destroy();
      resolve(e);
    });
  });
  const err = toNetError(cause, "connect", `127.0.0.1:${port}`);
  assert.ok(err instanceof ConnectionError, String(err));
  assert.equal(err.code, "refused");
  assert.equal(err.message, `Cannot connect to 127.0.0.1:${port}: connection refused`);
});

Deno.test("toNetError() maps the runtime's NotCapable to PermissionDeniedError runtime", () => {
  // Deno 2 raises NotCapable for its own checks; feature-detect rather than check versions.
  const RuntimeDenial = "NotCapable" in Deno.errors
    ? Deno.errors.NotCapable
    : Deno.errors.PermissionDenied;
  const cause = new RuntimeDenial("Requires net access");
  const err = toNetError(cause, "connect", "127.0.0.1:9");
  assert.ok(err instanceof PermissionDeniedError);
  assert.equal(err.source, "runtime");
  assert.equal(err.cause, cause);
});

Deno.test("toNetError() maps the kernel's EACCES and EPERM to PermissionDeniedError os", () => {
  for (const cause of [nodeError("EACCES"), nodeError("EPERM")]) {
    const err = toNetError(cause, "listen", "0.0.0.0:80");
    assert.ok(err instanceof PermissionDeniedError);
    assert.equal(err.source, "os");
  }
  if ("NotCapable" in Deno.errors) {
    const err = toNetError(new Deno.errors.PermissionDenied("EACCES"), "listen", "0.0.0.0:80");
    assert.ok(err instanceof PermissionDeniedError);
    assert.equal(err.source, "os");
  }
});

Deno.test("toNetError() passes typed errors and AbortError through unchanged", () => {
  const typed = [
    new TimeoutError({ operation: "read", address: "a:1", timeoutMs: 5 }),
    new ConnectionError({ code: "reset", operation: "read", address: "a:1" }),
    new PermissionDeniedError({ operation: "read", address: "a:1", source: "os" }),
    new TypeError("bad shape"),
    new RangeError("too big"),
    new DOMException("aborted", "AbortError"),
    new DOMException("signal timed out", "TimeoutError"),
  ];
  for (const error of typed) assert.equal(toNetError(error, "write", "b:2"), error);
});

Deno.test("toNetError() recognises name resolution failures by message", () => {
  const err = toNetError(
    new Error("failed to lookup address information: Name or service not known"),
    "connect",
    "no-such-host.invalid:80",
  );
  assert.ok(err instanceof ConnectionError);
  assert.equal(err.code, "dns");
  assert.equal(
    err.message,
    "Cannot connect to no-such-host.invalid:80: name could not be resolved",
  );
});

Deno.test("toNetError() recognises TLS failures and keeps their message", () => {
  const err = toNetError(
    new Error("invalid peer certificate: UnknownIssuer"),
    "handshake",
    "127.0.0.1:8443",
  );
  assert.ok(err instanceof ConnectionError);
  assert.equal(err.code, "tls");
  assert.equal(
    err.message,
    "Cannot handshake with 127.0.0.1:8443: invalid peer certificate: UnknownIssuer",
  );
});

Deno.test("toNetError() maps an unknown error to other and keeps its message", () => {
  const cause = new Error("something odd");
  const err = toNetError(cause, "read", "127.0.0.1:7");
  assert.ok(err instanceof ConnectionError);
  assert.equal(err.code, "other");
  assert.equal(err.message, "Cannot read from 127.0.0.1:7: something odd");
  assert.equal(err.cause, cause);
});

Deno.test("toNetError() maps a thrown non-error value to other", () => {
  const err = toNetError("plain string", "read", "127.0.0.1:7");
  assert.ok(err instanceof ConnectionError);
  assert.equal(err.code, "other");
  assert.equal(err.message, "Cannot read from 127.0.0.1:7: plain string");
  assert.equal(err.cause, "plain string");
});

Deno.test("toNetError() does not take names from Object.prototype for codes", () => {
  for (const name of ["constructor", "toString", "__proto__"]) {
    const cause = Object.assign(new Error("odd"), { name, code: name });
    const err = toNetError(cause, "read", "127.0.0.1:7");
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.code, "other", name);
  }
});
