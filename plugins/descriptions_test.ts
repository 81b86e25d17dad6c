import assert from "node:assert/strict";
import { builtinDescription, describeBuiltins } from "./descriptions.ts";
import { builtinRegistry } from "./manifest.ts";

Deno.test("descriptions.json is what describing each built-in module gives (deno task reference writes it)", async () => {
  const described = await describeBuiltins();
  assert.deepEqual(
    Object.keys(described),
    builtinRegistry().list().map((entry) => entry.name),
  );
  const { default: written } = await import("./descriptions.json", { with: { type: "json" } });
  assert.deepEqual(written, described);
  for (const [name, { description }] of Object.entries(described)) {
    assert.deepEqual(await builtinDescription(name), description, name);
  }
});

Deno.test("builtinDescription() is undefined when a file the description was made from has changed", async () => {
  const { default: written } = await import("./descriptions.json", { with: { type: "json" } });
  const root = await Deno.makeTempDir({ prefix: "wiretest-descriptions-" });
  try {
    const rootUrl = new URL(`file://${root}/`);
    for (const file of written.echo.files) {
      const to = new URL(file, rootUrl);
      await Deno.mkdir(new URL(".", to), { recursive: true });
      await Deno.copyFile(new URL(`../${file}`, import.meta.url), to);
    }
    assert.deepEqual(await builtinDescription("echo", rootUrl), written.echo.description);
    await Deno.writeTextFile(new URL("plugins/echo/params.ts", rootUrl), "\n// changed", {
      append: true,
    });
    assert.equal(await builtinDescription("echo", rootUrl), undefined);
    await Deno.remove(new URL("plugins/echo/params.ts", rootUrl));
    assert.equal(await builtinDescription("echo", rootUrl), undefined, "a file gone");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("builtinDescription() is undefined for a name no built-in plugin has, inherited ones too", async () => {
  for (const name of ["nope", "constructor", "__proto__", "toString"]) {
    assert.equal(await builtinDescription(name), undefined, name);
  }
});

Deno.test("builtinDescription() gives a copy: changing it changes no later answer", async () => {
  const first = await builtinDescription("echo");
  first!.client!.positionals.push("changed");
  assert.deepEqual((await builtinDescription("echo"))!.client!.positionals, ["target"]);
});
