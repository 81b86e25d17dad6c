import assert from "node:assert/strict";
import { isIP } from "node:net";
import { ipVersion } from "./ip_literal.ts";

Deno.test("ipVersion answers as node:net's isIP", () => {
  const cases = [
    "127.0.0.1",
    "0.0.0.0",
    "255.255.255.255",
    "256.0.0.1",
    "1.2.3",
    "1.2.3.4.5",
    "01.2.3.4",
    "1.2.3.04",
    " 1.2.3.4",
    "1.2.3.4 ",
    "::",
    "::1",
    "::ffff:127.0.0.1",
    "fe80::1%eth0",
    "fe80::1%",
    "2001:db8::",
    "2001:db8:0:0:0:0:0:1",
    "2001:db8:0:0:0:0:0:0:1",
    "2001:db8::1::2",
    "1:2:3:4:5:6:1.2.3.4",
    "1:2:3:4:5:6:7:1.2.3.4",
    "[::1]",
    "g::1",
    "12345::",
    "localhost",
    "example.com",
    "",
    "1.2.3.4:80",
    "::1:80",
    "٣.٣.٣.٣",
  ];
  for (const text of cases) assert.equal(ipVersion(text), isIP(text), text);
  // Every 2-character and many random strings over the address alphabet.
  const alphabet = "0123456789abcdefABCDEFg:.%[]";
  let seed = 7;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 20_000; i++) {
    const length = 1 + Math.floor(next() * 24);
    let text = "";
    for (let j = 0; j < length; j++) text += alphabet[Math.floor(next() * alphabet.length)];
    assert.equal(ipVersion(text), isIP(text), text);
  }
  // Addresses built to be near-valid: groups, a "::" anywhere, a dotted tail, a zone.
  const hex = () => Math.floor(next() * 0x1ffff).toString(16).slice(0, 1 + Math.floor(next() * 5));
  const octet = () => String(Math.floor(next() * 300));
  let valid = 0;
  for (let i = 0; i < 20_000; i++) {
    const groups = Array.from({ length: 1 + Math.floor(next() * 9) }, hex);
    if (next() < 0.5) groups.splice(Math.floor(next() * groups.length), Math.floor(next() * 3), "");
    let text = groups.join(":");
    if (next() < 0.3) text += `:${[octet(), octet(), octet(), octet()].join(".")}`;
    if (next() < 0.1) text = `::${text}`;
    if (next() < 0.1) text += "%eth0";
    if (isIP(text) !== 0) valid++;
    assert.equal(ipVersion(text), isIP(text), text);
  }
  assert.ok(valid > 1_000, `only ${valid} valid addresses generated`);
});
