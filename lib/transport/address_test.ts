import assert from "node:assert/strict";
import {
  checkHost,
  checkUnixPath,
  formatAddress,
  parseConnectAddress,
  parseHostPort,
} from "./address.ts";

Deno.test("formatAddress() writes IPv4 as host:port", () => {
  assert.equal(
    formatAddress({ transport: "tcp", hostname: "127.0.0.1", port: 8080 }),
    "127.0.0.1:8080",
  );
});

Deno.test("formatAddress() brackets IPv6 hosts", () => {
  assert.equal(formatAddress({ transport: "udp", hostname: "::1", port: 53 }), "[::1]:53");
});

Deno.test("formatAddress() keeps host names as they are", () => {
  assert.equal(formatAddress({ transport: "tcp", hostname: "localhost", port: 1 }), "localhost:1");
});

Deno.test("formatAddress() writes Unix sockets as unix:path", () => {
  assert.equal(formatAddress({ transport: "unix", path: "/run/app.sock" }), "unix:/run/app.sock");
});

Deno.test("formatAddress() formats a real listener's address", () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  assert.equal(formatAddress(listener.addr), `127.0.0.1:${listener.addr.port}`);
});

Deno.test("parseHostPort() parses host:port and [v6]:port", () => {
  assert.deepEqual(parseHostPort("localhost:8080"), { hostname: "localhost", port: 8080 });
  assert.deepEqual(parseHostPort("127.0.0.1:0"), { hostname: "127.0.0.1", port: 0 });
  assert.deepEqual(parseHostPort("[::1]:53"), { hostname: "::1", port: 53 });
  assert.deepEqual(parseHostPort("  example.test:443 "), { hostname: "example.test", port: 443 });
});

Deno.test("parseHostPort() uses the default host for :port", () => {
  assert.deepEqual(parseHostPort(":9000"), { hostname: "127.0.0.1", port: 9000 });
  assert.deepEqual(parseHostPort(":9000", "::1"), { hostname: "::1", port: 9000 });
});

Deno.test("parseHostPort() round trips what formatAddress() writes", () => {
  for (const hostname of ["127.0.0.1", "::1", "localhost"]) {
    const text = formatAddress({ transport: "tcp", hostname, port: 65535 });
    assert.deepEqual(parseHostPort(text), { hostname, port: 65535 });
  }
});

Deno.test("parseHostPort() throws TypeError for text that is not host:port", () => {
  for (const text of ["localhost", "127.0.0.1:", "host:http", "", "a:1:2"]) {
    assert.throws(() => parseHostPort(text), {
      name: "TypeError",
      message: `Cannot parse address: "${text}" is not host:port`,
    }, text);
  }
  // An IPv6 address without brackets: where the port starts cannot be told.
  assert.throws(() => parseHostPort("::1:53"), {
    name: "TypeError",
    message:
      'Cannot parse address: "::1:53" is not host:port (an IPv6 address goes in brackets: "[::1]:53")',
  });
});

Deno.test("parseConnectAddress() refuses port 0 and hosts no lookup could find", () => {
  assert.deepEqual(parseConnectAddress("localhost:7"), { hostname: "localhost", port: 7 });
  // Beyond loopback parses as well (nothing connects here).
  assert.deepEqual(parseConnectAddress("192.0.2.1:7"), { hostname: "192.0.2.1", port: 7 });
  assert.deepEqual(parseConnectAddress("[2001:db8::1]:443"), {
    hostname: "2001:db8::1",
    port: 443,
  });
  assert.deepEqual(parseConnectAddress("db_1.example.com.:65535"), {
    hostname: "db_1.example.com.",
    port: 65535,
  });
  assert.throws(() => parseConnectAddress("127.0.0.1:0"), {
    name: "RangeError",
    message: 'Cannot use address "127.0.0.1:0": port 0 cannot be connected to (give 1-65535)',
  });
  assert.throws(() => parseConnectAddress(`${"x".repeat(300)}:7`), {
    name: "TypeError",
    message: /^Cannot use host "x{60}…" \(300 characters\): it is 300 characters, more than 253$/,
  });
  assert.throws(() => parseConnectAddress("127.0.0.1\0:7"), {
    name: "TypeError",
    message: /^Cannot use host "127\.0\.0\.1\\u0000": it is not an IP address or a host name/,
  });
  assert.throws(() => parseConnectAddress(`${"l".repeat(64)}.example:7`), /more than 63/);
});

Deno.test("checkUnixPath() names the path's length and the 107-byte limit", () => {
  checkUnixPath(`/${"a".repeat(106)}`);
  assert.throws(() => checkUnixPath(`/${"é".repeat(54)}`), {
    name: "RangeError",
    message: /: it is 109 bytes, longer than the 107 bytes a socket path may have on Linux$/,
  });
  assert.throws(() => checkUnixPath("/tmp/a\0b"), { name: "TypeError", message: /NUL/ });
  assert.throws(() => checkUnixPath(""), { name: "TypeError", message: /empty/ });
});

Deno.test("parseHostPort() throws RangeError for a port above 65535", () => {
  assert.throws(() => parseHostPort("127.0.0.1:65536"), {
    name: "RangeError",
    message: 'Cannot parse address: port 65536 in "127.0.0.1:65536" is out of range 0-65535',
  });
});

Deno.test("parseHostPort() and checkHost() refuse an IPv6 zone id, quoting the whole value", () => {
  for (const text of ["[fe80::1%lo]:7", "[fe80::1%25lo]:7", "[fe80::1%lo]"]) {
    assert.throws(() => parseHostPort(text), {
      name: "TypeError",
      message: `Cannot parse address: "${text}" has an IPv6 zone id ("${
        /%[^\]]*/.exec(text)![0]
      }"), which wiretest does not support (give a global or loopback address)`,
    }, text);
  }
  assert.throws(() => checkHost("fe80::1%eth0"), {
    name: "TypeError",
    message:
      'Cannot use host "fe80::1%eth0": it has an IPv6 zone id ("%eth0"), which wiretest does not support (give a global or loopback address)',
  });
  // A "%" in what is no IPv6 address is no zone: the usual words.
  assert.throws(() => checkHost("a%b"), /it is not an IP address or a host name/);
});

Deno.test("checkHost() refuses names a resolver would read as a mistyped IPv4 address", () => {
  for (const host of ["1.2.3.999", "10.1", "12345", "a.0x1f", "256.0.0.1"]) {
    assert.throws(() => checkHost(host), {
      name: "TypeError",
      message:
        `Cannot use host "${host}": it is not an IPv4 address (four numbers 0-255 joined by dots) nor a host name`,
    }, host);
  }
  for (const host of ["db-1.internal", "example.com.", "1password.com", "x1.y2", "localhost"]) {
    checkHost(host);
  }
});

Deno.test("parseConnectAddress() says what is wrong with an unclosed bracket or user info", () => {
  assert.throws(() => parseConnectAddress("[::1"), {
    name: "TypeError",
    message: 'Cannot parse address: "[::1" is not host:port (its "[" is not closed)',
  });
  assert.throws(() => parseConnectAddress("user@127.0.0.1:7"), {
    name: "TypeError",
    message:
      'Cannot use host "user@127.0.0.1": it is not an IP address or a host name (user info such as "user@" has no place in it)',
  });
  assert.throws(() => parseConnectAddress("127.0.0.1\u009b:7"), {
    name: "TypeError",
    message: /^Cannot use host "127\.0\.0\.1\\u009b": /,
  });
});
