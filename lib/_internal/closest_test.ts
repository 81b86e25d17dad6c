import assert from "node:assert/strict";
import { closestName, editDistance } from "./closest.ts";

Deno.test("editDistance() counts insertions, deletions and substitutions", () => {
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("echo", "echo"), 0);
  assert.equal(editDistance("ecoh", "echo"), 2);
  assert.equal(editDistance("kitten", "sitting"), 3);
});

Deno.test("closestName() suggests the nearest name for a typo", () => {
  const known = ["echo", "http-probe", "udp-ping", "file-send"];
  assert.equal(closestName("udp-pnig", known), "udp-ping");
  assert.equal(closestName("http-prob", known), "http-probe");
  assert.equal(closestName("ehco", known), "echo");
});

Deno.test("closestName() suggests nothing when no name is close", () => {
  assert.equal(closestName("gopher", ["echo", "udp-ping"]), undefined);
  assert.equal(closestName("x", []), undefined);
});

Deno.test("closestName() answers at once for very long names and candidates", () => {
  // Without the length checks the first call computes 10^10 cells: a hang.
  const long = "a".repeat(100_000);
  assert.equal(closestName(long, [long, "echo"]), undefined);
  assert.equal(closestName("echo", [long, "ecoh"]), "ecoh");
  assert.equal(closestName("b" + "a".repeat(200), ["a".repeat(200)]), "a".repeat(200));
});
