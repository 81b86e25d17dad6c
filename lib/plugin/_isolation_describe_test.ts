import assert from "node:assert/strict";
import type { ManifestEntry } from "./manifest.ts";
import { readDescription } from "./_isolation_describe.ts";

const entry: ManifestEntry = {
  name: "ping",
  module: "file:///srv/ping.ts",
  description: "Pings.",
  roles: ["client"],
  apiVersion: 1,
  permissions: {},
  export: "default",
  source: "file:///srv/manifest.json",
};

const sent = {
  name: "ping",
  version: "1.0.0",
  description: "Pings.",
  client: { params: { type: "object" }, positionals: ["target"], summary: true },
};

Deno.test("readDescription() accepts a description of the entry's plugin", () => {
  assert.deepEqual(readDescription(entry, sent), sent);
});

Deno.test("readDescription() refuses a description of another plugin", () => {
  assert.throws(
    () => readDescription(entry, { ...sent, name: "echo" }),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message === 'Cannot describe plugin "ping": its worker sent the description of "echo"',
  );
});

Deno.test("readDescription() refuses roles its manifest entry does not declare", () => {
  const server = { params: { type: "object" }, positionals: [] };
  assert.throws(() => readDescription(entry, { ...sent, server }), /roles that differ/);
  assert.throws(() => readDescription(entry, { ...sent, client: undefined }), /roles that differ/);
});

Deno.test("readDescription() refuses positionals that are not names and params that are not a schema", () => {
  const client = { ...sent.client, positionals: ["target", 7] };
  assert.throws(() => readDescription(entry, { ...sent, client }), /positionals/);
  assert.throws(
    () => readDescription(entry, { ...sent, client: { ...sent.client, params: [] } }),
    /without a params schema/,
  );
  assert.throws(() => readDescription(entry, "ping"), /sent no description/);
});
