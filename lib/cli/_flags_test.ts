import assert from "node:assert/strict";
import { z } from "zod";
import { httpProbeClientParams } from "../../plugins/http_probe/params.ts";
import { flagSpecs, parseFlags, usageLine } from "./_flags.ts";

Deno.test("flagSpecs() reads flags from a JSON Schema: kinds, defaults, choices, lists", () => {
  const specs = flagSpecs({
    type: "object",
    properties: {
      target: { type: "string", description: "Where" },
      payloadSize: { type: "integer", default: 64 },
      mode: { type: "string", enum: ["tcp", "udp"], default: "tcp" },
      verbose: { type: "boolean", default: false },
      headers: { type: "array", items: { type: "string" }, default: [] },
      ratio: { anyOf: [{ type: "number" }, { type: "null" }] },
    },
    required: ["target", "payloadSize"],
  });
  assert.deepEqual(
    specs.map((s) => [s.flag, s.kind, s.multiple, s.required, s.defaultValue]),
    [
      ["target", "string", false, true, undefined],
      ["payload-size", "integer", false, false, 64],
      ["mode", "enum", false, false, "tcp"],
      ["verbose", "boolean", false, false, false],
      ["headers", "string", true, false, []],
      ["ratio", "number", false, false, undefined],
    ],
  );
  assert.equal(specs[0].description, "Where");
  assert.deepEqual(specs[2].choices, ["tcp", "udp"]);
});

Deno.test("flagSpecs() gives the same flags for a params schema as for its JSON Schema", () => {
  const schema = z.object({ count: z.number().int().default(3).describe("How many") });
  const json = schema["~standard"].jsonSchema.input({ target: "draft-2020-12" });
  assert.deepEqual(flagSpecs(schema), flagSpecs(json));
  assert.equal(flagSpecs(schema)[0].description, "How many");
});

Deno.test("flagSpecs() skips what a Worker could send that is not a property schema", () => {
  const hostile = JSON.parse(
    `{"properties": {"__proto__": {"type": "string"}, "ok": {"type": "string", "description": 5},
      "bad name": {"type": "string"}, "-x": {"type": "string"}, "list": "string", "nothing": null},
      "required": "ok", "~standard": {"jsonSchema": {"input": "a function?"}}}`,
  );
  const specs = flagSpecs(hostile);
  assert.deepEqual(specs.map((s) => s.param), ["ok"]);
  assert.equal(specs[0].description, "");
  assert.equal(specs[0].required, false);
  assert.deepEqual(flagSpecs(JSON.parse(`{"properties": []}`)), []);
});

Deno.test("parseFlags() converts flag values to the kinds flagSpecs() read", () => {
  const specs = flagSpecs({
    properties: {
      target: { type: "string" },
      count: { type: "integer" },
      tags: { type: "array", items: { type: "string" }, "x-wiretest-alias": "tag" },
      fast: { type: "boolean" },
    },
  });
  const { params } = parseFlags(
    ["127.0.0.1:7", "--count", "1_000", "--tag", "a", "--tags", "b", "--tag=c", "--no-fast"],
    specs,
    ["target"],
  );
  assert.deepEqual(params, {
    target: "127.0.0.1:7",
    count: 1000,
    tags: ["a", "b", "c"],
    fast: false,
  });
});

Deno.test("parseFlags() takes a singular flag only when the schema declares the alias", () => {
  const specs = flagSpecs({ properties: { tags: { type: "array", items: { type: "string" } } } });
  assert.equal(specs[0].alias, undefined);
  assert.deepEqual(parseFlags(["--tags", "a"], specs, []).params, { tags: ["a"] });
  assert.throws(() => parseFlags(["--tag", "a"], specs, []), {
    name: "UsageError",
    message: 'Cannot parse arguments: unknown flag "--tag" (did you mean "--tags"?)',
  });
});

Deno.test("parseFlags() names the closest flag for an unknown one, quotes balanced", () => {
  const specs = flagSpecs(httpProbeClientParams);
  const refused = (args: string[]) => {
    try {
      parseFlags(args, specs, ["url"]);
    } catch (error) {
      assert.equal((error as Error).name, "UsageError");
      return (error as Error).message;
    }
    throw new Error(`${args.join(" ")} was accepted`);
  };
  assert.equal(
    refused(["http://127.0.0.1/", "--ca", "ca.pem"]),
    'Cannot parse arguments: unknown flag "--ca" (did you mean "--ca-file"?)',
  );
  assert.equal(
    refused(["--timout-ms", "5"]),
    'Cannot parse arguments: unknown flag "--timout-ms" (did you mean "--timeout-ms"?)',
  );
  assert.equal(refused(["-k"]), 'Cannot parse arguments: unknown flag "-k" (see --help)');
  assert.equal(refused(["--repeat"]), 'Cannot parse arguments: flag "--repeat" needs a value');
  assert.equal(
    refused(["--insecure=yes"]),
    'Cannot parse arguments: flag "--insecure" takes no value, got "yes"',
  );
  for (const args of [["--ca"], ["--repeat", "-1"], ["--insecure=1"], ["--zzz"], ["-x"]]) {
    const message = refused(args);
    assert.equal(message.split('"').length % 2, 1, `unbalanced quotes: ${message}`);
    assert.doesNotMatch(message, /'/);
  }
});

Deno.test("usageLine() is single-spaced with and without positionals", () => {
  assert.equal(usageLine("serve echo", []), "wiretest serve echo [flags]");
  assert.equal(usageLine("send", ["file", "target"]), "wiretest send <file> <target> [flags]");
});
