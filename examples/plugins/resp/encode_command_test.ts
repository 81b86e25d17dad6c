import assert from "node:assert/strict";
import { encodeCommand } from "./encode_command.ts";
import { RespDecoder } from "./resp_decoder.ts";

Deno.test("encodeCommand() writes an array of bulk strings", () => {
  assert.equal(
    new TextDecoder().decode(encodeCommand(["GET", "ключ"])),
    "*2\r\n$3\r\nGET\r\n$8\r\nключ\r\n",
  );
});

Deno.test("encodeCommand() keeps binary arguments byte for byte, however large", () => {
  const value = new Uint8Array(100_000).map((_, i) => i % 256);
  const bytes = encodeCommand(["SET", "k", value]);
  // The same framing read back: an array of three bulk strings.
  const [decoded] = new RespDecoder({ maxBulkSize: 200_000 }).push(bytes);
  assert.deepEqual(decoded, [
    new TextEncoder().encode("SET"),
    new TextEncoder().encode("k"),
    value,
  ]);
});

Deno.test("encodeCommand() refuses a command without a name", () => {
  assert.throws(() => encodeCommand([]), TypeError);
});
