import assert from "node:assert/strict";
import { calcSize, pack, type StructValue, unpack } from "./struct.ts";
import { killAfter } from "../../tests/_support/command.ts";

// The reference peer: CPython's struct module, run as a subprocess. Values
// travel as tagged JSON so 64-bit integers, floats and bytes survive exactly.
const PYTHON = `
import json, struct, sys

def decode(v):
    if isinstance(v, dict):
        if "int" in v: return int(v["int"])
        if "hex" in v: return bytes.fromhex(v["hex"])
        if "float" in v: return float(v["float"])
    return v

def encode(v):
    if isinstance(v, bool): return v
    if isinstance(v, int): return {"int": str(v)}
    if isinstance(v, float): return {"float": repr(v)}
    return {"hex": v.hex()}

out = []
for job in json.load(sys.stdin):
    try:
        if job["op"] == "pack":
            out.append({"hex": struct.pack(job["format"], *map(decode, job["values"])).hex()})
        elif job["op"] == "unpack":
            out.append({"values": [encode(v) for v in struct.unpack(job["format"], bytes.fromhex(job["hex"]))]})
        else:
            out.append({"size": struct.calcsize(job["format"])})
    except Exception as e:
        out.append({"error": type(e).__name__})
json.dump(out, sys.stdout)
`;

type Job =
  | { op: "pack"; format: string; values: unknown[] }
  | { op: "unpack"; format: string; hex: string }
  | { op: "calcsize"; format: string };

interface PyResult {
  hex?: string;
  values?: unknown[];
  size?: number;
  error?: string;
}

async function python(jobs: Job[]): Promise<PyResult[]> {
  const child = new Deno.Command("python3", {
    args: ["-c", PYTHON],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  using _ = killAfter(child, 30_000);
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(jobs)));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(text: string): Uint8Array {
  return new Uint8Array(text.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
}

function toPython(value: unknown): unknown {
  if (typeof value === "bigint") return { int: String(value) };
  if (value instanceof Uint8Array) return { hex: hex(value) };
  if (typeof value === "string") return { hex: hex(new TextEncoder().encode(value)) };
  // JSON has no -0, Infinity or NaN: send those as text for Python's float().
  if (typeof value === "number" && (!Number.isFinite(value) || Object.is(value, -0))) {
    return { float: Object.is(value, -0) ? "-0.0" : String(value) };
  }
  return value;
}

/** The code of each value a format describes, in order ("3Hx4s" → H H H s). */
function valueCodes(format: string): string[] {
  const codes: string[] = [];
  for (const [, count, code] of format.matchAll(/(\d*)([a-zA-Z?])/g)) {
    if (code === "s") codes.push(code);
    else if (code !== "x") codes.push(...Array(count === "" ? 1 : Number(count)).fill(code));
  }
  return codes;
}

/** Python's tagged value, converted to what unpack() returns for `code`. */
function fromPython(value: unknown, code: string): StructValue {
  if (typeof value === "boolean") return value;
  const v = value as { int?: string; float?: string; hex?: string };
  if (v.hex !== undefined) return fromHex(v.hex);
  if (v.float !== undefined) {
    const special: Record<string, number> = { nan: NaN, inf: Infinity, "-inf": -Infinity };
    return v.float in special ? special[v.float] : Number(v.float);
  }
  return code === "q" || code === "Q" ? BigInt(v.int!) : Number(v.int!);
}

// [our format, values, Python's format when it differs]. Python's default
// (no prefix) is native and aligned; ours is big-endian, so compare with ">".
const PACK_TABLE: [string, (StructValue | string)[], string?][] = [
  [">I", [1024]],
  ["!I", [1024]],
  ["<I", [1024]],
  ["=I", [1024]],
  ["I", [1024], ">I"],
  ["HbB", [65535, -128, 255], ">HbB"],
  [">bBhHiIlL", [-1, 0, -32768, 65535, -(2 ** 31), 2 ** 32 - 1, 2 ** 31 - 1, 0]],
  ["<bBhHiIlL", [127, 1, 32767, 1, 1, 7, -7, 4294967295]],
  [">qQ", [-(2n ** 63n), 2n ** 64n - 1n]],
  ["<qQ", [2n ** 63n - 1n, 0n]],
  [">???", [true, false, true]],
  [">efd", [1.5, -0.1, Math.PI]],
  ["<efd", [65504, 3.4028234663852886e38, -0]],
  [">e", [1e-8]],
  [">e", [0.000061]],
  [">e", [2049]],
  [">e", [2051]],
  [">f", [16777217]],
  [">ddd", [Infinity, -Infinity, 5e-324]],
  [">4s", [new Uint8Array([1, 2, 3, 4])]],
  [">4s", [new Uint8Array([1, 2])]],
  [">2s", [new Uint8Array([1, 2, 3, 4])]],
  [">0s", [new Uint8Array([9])]],
  [">5s", ["héé"]],
  [">3H", [1, 2, 3]],
  [">0H", []],
  [">x2xBx", [7]],
  ["< B H\tI ", [1, 2, 3]],
  [">10B", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
  ["=qd", [-5n, 2.5]],
  // Values Python refuses too.
  [">B", [256]],
  [">b", [-129]],
  [">H", [-1]],
  [">h", [32768]],
  [">I", [2 ** 32]],
  [">i", [-(2 ** 31) - 1]],
  [">Q", [-1n]],
  [">Q", [2n ** 64n]],
  [">q", [2n ** 63n]],
  [">e", [65520]],
  [">f", [3.5e38]],
  [">H", [1, 2]],
  [">HH", [1]],
  [">Z", [1]],
  [">4", [1]],
  ["I>", [1]],
];

Deno.test("pack() produces the same bytes as Python's struct.pack for a table of formats", async () => {
  const results = await python(
    PACK_TABLE.map(([format, values, py]) => ({
      op: "pack",
      format: py ?? format,
      values: values.map(toPython),
    })),
  );
  let refused = 0;
  PACK_TABLE.forEach(([format, values], i) => {
    const label = `pack(${JSON.stringify(format)}, ${values.map(String).join(", ")})`;
    const py = results[i];
    if (py.error) {
      refused++;
      assert.throws(
        () => pack(format, ...values),
        (e: unknown) =>
          e instanceof RangeError || e instanceof TypeError || e instanceof SyntaxError,
        `${label}: Python raised ${py.error}, ours did not throw`,
      );
    } else {
      assert.equal(hex(pack(format, ...values)), py.hex, label);
    }
  });
  assert.equal(refused, 16);
});

// Formats whose every bit pattern is unpacked by both sides and compared.
const UNPACK_FORMATS = [
  ">bBhHiIlL",
  "<bBhHiIlL",
  ">qQ",
  "<qQ",
  "=Hq",
  "!4s?H",
  ">efd",
  "<efd",
  "HIx3B",
];

Deno.test("unpack() reads the same values as Python's struct.unpack from the same bytes", async () => {
  const cases: { format: string; bytes: Uint8Array }[] = [];
  for (const format of UNPACK_FORMATS) {
    const size = calcSize(format);
    cases.push({ format, bytes: new Uint8Array(size) });
    cases.push({ format, bytes: new Uint8Array(size).fill(0xff) });
    cases.push({ format, bytes: new Uint8Array(size).fill(0x80) });
    // Random bytes: a failure message shows them in hex, so it can be replayed.
    for (let k = 0; k < 20; k++) {
      cases.push({ format, bytes: crypto.getRandomValues(new Uint8Array(size)) });
    }
  }
  const results = await python(cases.map(({ format, bytes }) => ({
    op: "unpack",
    // No prefix means big-endian to us, native to Python.
    format: /^[<>!=]/.test(format) ? format : `>${format}`,
    hex: hex(bytes),
  })));
  cases.forEach(({ format, bytes }, i) => {
    const label = `unpack(${JSON.stringify(format)}, ${hex(bytes)})`;
    assert.ok(results[i].values, `${label}: Python raised ${results[i].error}`);
    const codes = valueCodes(format);
    const expected = results[i].values!.map((v, k) => fromPython(v, codes[k]));
    assert.deepEqual(unpack(format, bytes), expected, label);
  });
  assert.equal(cases.length, UNPACK_FORMATS.length * 23);
});

Deno.test("calcSize() agrees with Python's struct.calcsize when a byte order is given", async () => {
  const formats = [">I", "<HbB", "=qd", "!4s?H", ">x2xBx", ">10s3H", "<0s", ">efd", "< B H I "];
  const results = await python(formats.map((format) => ({ op: "calcsize", format })));
  formats.forEach((format, i) => assert.equal(calcSize(format), results[i].size, format));
});

Deno.test("pack() uses big-endian when the format has no byte order, unlike Python's native default", () => {
  assert.deepEqual(pack("HI", 1, 2), new Uint8Array([0, 1, 0, 0, 0, 2]));
  assert.equal(calcSize("BI"), 5);
});

Deno.test("pack() with = uses the machine's byte order", () => {
  const native = new Uint8Array(new Uint16Array([0x0102]).buffer);
  assert.deepEqual(pack("=H", 0x0102), native);
});

Deno.test("pack() throws a SyntaxError naming the position of an unknown code", () => {
  assert.throws(() => pack(">Iz", 1), {
    name: "SyntaxError",
    message: `Cannot parse format ">Iz": unknown format code "z" at position 2`,
  });
});

Deno.test("pack() throws a SyntaxError for a count with no code after it", () => {
  assert.throws(() => calcSize(">I12"), {
    name: "SyntaxError",
    message: `Cannot parse format ">I12": count at position 2 has no format code after it`,
  });
});

Deno.test("pack() throws a SyntaxError when the byte order is not first", () => {
  assert.throws(() => calcSize("I<"), {
    name: "SyntaxError",
    message: `Cannot parse format "I<": byte order "<" at position 1 must come first`,
  });
});

Deno.test("pack() refuses native alignment @ with a SyntaxError", () => {
  assert.throws(() => calcSize("@I"), SyntaxError);
});

Deno.test("pack() throws a TypeError when the number of values is wrong", () => {
  assert.throws(() => pack(">HH", 1), {
    name: "TypeError",
    message: `Cannot pack ">HH": expected 2 values, got 1`,
  });
});

Deno.test("pack() throws a RangeError naming the value and code when an integer is out of range", () => {
  assert.throws(() => pack(">BH", 1, 70000), {
    name: "RangeError",
    message: `Cannot pack values[1] as "H": "70000" is out of range 0 to 65535`,
  });
});

Deno.test("pack() throws a TypeError for a number where q needs a bigint", () => {
  assert.throws(() => pack(">q", 1 as unknown as bigint), {
    name: "TypeError",
    message: `Cannot pack values[0] as "q": expected a bigint, got number`,
  });
});

Deno.test("pack() throws a TypeError for a fraction, a string or a bigint where an integer code needs a number", () => {
  assert.throws(() => pack(">I", 1.5), TypeError);
  assert.throws(() => pack(">I", "1" as unknown as number), TypeError);
  assert.throws(() => pack(">I", 1n as unknown as number), TypeError);
  assert.throws(() => pack(">?", 1 as unknown as boolean), TypeError);
  assert.throws(() => pack(">4s", 1 as unknown as Uint8Array), TypeError);
});

Deno.test("unpack() throws a RangeError when the bytes are not exactly the format's size", () => {
  assert.throws(() => unpack(">I", new Uint8Array(3)), {
    name: "RangeError",
    message: `Cannot unpack ">I": expected 4 bytes, got 3`,
  });
  assert.throws(() => unpack(">I", new Uint8Array(5)), RangeError);
});

Deno.test("unpack() reads from a subarray at its own offset", () => {
  const whole = new Uint8Array([0xaa, 0, 0, 4, 0, 0xbb]);
  assert.deepEqual(unpack(">I", whole.subarray(1, 5)), [1024]);
});

Deno.test("unpack() returns s fields as copies, not views of the input", () => {
  const input = new Uint8Array([1, 2]);
  const [field] = unpack(">2s", input) as [Uint8Array];
  input[0] = 9;
  assert.deepEqual(field, new Uint8Array([1, 2]));
});

Deno.test("pack() and unpack() round-trip NaN for e, f and d", () => {
  const values = unpack(">efd", pack(">efd", NaN, NaN, NaN));
  assert.ok(values.every((v) => Number.isNaN(v)));
});
