import assert from "node:assert/strict";
import { z } from "zod";
import { definePlugin } from "./define_plugin.ts";
import { type JsonSchema, manifestJsonSchema, paramsJsonSchema } from "./json_schema.ts";
import { Registry } from "./registry.ts";

const FIXTURES = new URL("../../tests/fixtures/manifests/", import.meta.url);

Deno.test("paramsJsonSchema() describes each role, fields with defaults optional", async () => {
  const registry = await new Registry().withManifests(new URL("good/manifest.json", FIXTURES));
  const schemas = paramsJsonSchema(await registry.load("greet"));
  const server = schemas.server!;
  const client = schemas.client!;
  assert.equal(server.type, "object");
  assert.equal(server.required, undefined, "every server param has a default");
  assert.deepEqual(server.properties?.port, {
    default: 0,
    description: "Port (0 picks a free one).",
    type: "integer",
    minimum: 0,
    maximum: 65535,
  });
  assert.deepEqual(client.required, ["target", "name"]);
  assert.deepEqual(client.properties?.name, {
    description: "Who to greet.",
    type: "string",
    minLength: 1,
    maxLength: 100,
  });
});

Deno.test("paramsJsonSchema() leaves out a role the plugin lacks", () => {
  const serverOnly = definePlugin({
    name: "sink",
    version: "1.0.0",
    description: "Server only.",
    server: {
      params: z.object({ port: z.number().default(0) }),
      serve: () => Promise.reject(new Error("not started in this test")),
    },
  });
  const schemas = paramsJsonSchema(serverOnly);
  assert.deepEqual(Object.keys(schemas), ["server"]);
});

Deno.test("paramsJsonSchema() accepts anything where JSON Schema cannot express a check", () => {
  const custom = definePlugin({
    name: "custom",
    version: "1.0.0",
    description: "Has a param JSON Schema cannot express.",
    client: {
      params: z.object({ when: z.date(), n: z.number() }),
      run: () => Promise.resolve({ ok: true, metrics: {}, facts: {} }),
    },
  });
  const client = paramsJsonSchema(custom).client!;
  assert.deepEqual(client.properties?.when, {});
  assert.deepEqual(client.properties?.n, { type: "number" });
});

Deno.test("manifestJsonSchema() requires the fields every entry needs", () => {
  const schema = manifestJsonSchema();
  const plugins = schema.properties?.plugins as JsonSchema;
  const entry = plugins.additionalProperties as JsonSchema;
  assert.equal(schema.additionalProperties, false);
  assert.equal(
    (plugins.propertyNames as JsonSchema).pattern,
    "^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$",
  );
  assert.deepEqual(entry.required, ["module", "description", "roles", "apiVersion", "permissions"]);
  const permissions = entry.properties?.permissions as JsonSchema;
  assert.deepEqual(Object.keys(permissions.properties ?? {}), [
    "net",
    "read",
    "write",
    "env",
    "sys",
    "run",
    "ffi",
  ]);
});
