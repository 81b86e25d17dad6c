// fixture.schema.json: what `wiretest schema` prints for the built-in
// plugins, and a schema an independent validator (ajv) accepts the example
// fixtures with.
import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";
import { fixtureSchemaFor } from "../../lib/cli/schema_command.ts";
import { discoverFixtures } from "../../lib/runner/discover.ts";
import { builtinRegistry } from "../../plugins/manifest.ts";

const ROOT = new URL("../../", import.meta.url);

async function committedSchema(): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(new URL("fixture.schema.json", ROOT)));
}

function validator(schema: Record<string, unknown>) {
  // Formats (the probe's "uri") are checked by the plugins' own schemas.
  return new Ajv2020({ allErrors: true, strict: false, validateFormats: false }).compile(schema);
}

Deno.test("fixture.schema.json is what `wiretest schema` prints for the built-in plugins", async () => {
  const fresh = await fixtureSchemaFor(builtinRegistry());
  assert.deepEqual(
    await committedSchema(),
    JSON.parse(JSON.stringify(fresh)),
    "regenerate it: deno task wiretest schema --output fixture.schema.json && deno fmt fixture.schema.json",
  );
});

Deno.test("fixture.schema.json accepts every example fixture", async () => {
  const validate = validator(await committedSchema());
  const files = await discoverFixtures([new URL("examples/fixtures", ROOT).pathname]);
  assert.ok(files.length >= 6);
  for (const file of files) {
    const valid = validate(parse(await Deno.readTextFile(file)));
    assert.ok(valid, `${file}: ${JSON.stringify(validate.errors)}`);
  }
});

Deno.test("fixture.schema.json refuses params a plugin's schema refuses", async () => {
  const validate = validator(await committedSchema());
  const fixture = {
    name: "bad",
    services: { echo: { plugin: "echo", with: { transport: "tcpx" } } },
    steps: [{ plugin: "udp-ping", with: { target: "${services.echo.addr}", count: 0 } }],
  };
  assert.equal(validate(fixture), false);
  const paths = new Set(validate.errors?.map((e) => e.instancePath));
  assert.ok(paths.has("/services/echo/with/transport"));
  assert.ok(paths.has("/steps/0/with/count"));
});

Deno.test("fixture.schema.json refuses a param no plugin schema declares, as the runner does", async () => {
  const validate = validator(await committedSchema());
  const fixture = (key: string) => ({
    name: "typo",
    steps: [{ plugin: "echo", with: { target: "127.0.0.1:7", [key]: 100 } }],
  });
  assert.equal(validate(fixture("count")), true, JSON.stringify(validate.errors));
  assert.equal(validate(fixture("cout")), false);
  assert.ok(
    validate.errors?.some((e) =>
      e.keyword === "additionalProperties" && e.instancePath === "/steps/0/with" &&
      (e.params as { additionalProperty?: string }).additionalProperty === "cout"
    ),
    JSON.stringify(validate.errors),
  );
});
