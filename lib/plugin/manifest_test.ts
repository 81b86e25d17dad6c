import assert from "node:assert/strict";
import {
  loadManifest,
  type Manifest,
  ManifestError,
  parseManifest,
  type PluginPermissions,
  validateManifest,
} from "./manifest.ts";

const FIXTURES = new URL("../../tests/fixtures/manifests/", import.meta.url);
const fixture = (path: string) => new URL(path, FIXTURES);

/** Loads an invalid fixture and returns the error it is rejected with. */
async function rejection(path: string): Promise<Error> {
  try {
    await loadManifest(fixture(path));
  } catch (error) {
    assert.ok(error instanceof Error);
    return error;
  }
  assert.fail(`${path} was accepted`);
}

/** The manifest's display name, as messages quote it (relative to the working directory). */
function shown(path: string): string {
  const file = decodeURIComponent(fixture(path).pathname);
  const cwd = Deno.cwd();
  return file.startsWith(`${cwd}/`) ? file.slice(cwd.length + 1) : file;
}

function entry(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    module: "./x.ts",
    description: "X.",
    roles: ["client"],
    apiVersion: 1,
    permissions: {},
    ...fields,
  };
}

Deno.test("loadManifest() resolves relative modules against the manifest file", async () => {
  const manifest = await loadManifest(fixture("good/manifest.json"));
  assert.equal(manifest.source, fixture("good/manifest.json").href);
  assert.deepEqual(manifest.plugins.map((p) => p.name), ["greet", "lazy-marker"]);
  const greet = manifest.plugins[0];
  assert.equal(greet.module, fixture("good/greet.ts").href);
  assert.deepEqual(greet.roles, ["server", "client"]);
  assert.deepEqual(greet.permissions, { net: ["127.0.0.1"] });
  assert.equal(greet.export, "default");
  assert.equal(greet.apiVersion, 1);
  assert.equal(greet.source, manifest.source);
});

Deno.test("loadManifest() accepts a plain path relative to the working directory", async () => {
  const path = shown("good/manifest.json");
  const manifest = await loadManifest(path);
  assert.equal(manifest.plugins[0].module, fixture("good/greet.ts").href);
});

Deno.test("parseManifest() keeps jsr:, npm: and https: specifiers and resolves ../ paths", () => {
  const manifest = parseManifest(
    JSON.stringify({
      $schema: "https://example.com/schema.json",
      plugins: {
        a: entry({ module: "jsr:@acme/a@^1/plugin" }),
        b: entry({ module: "npm:wiretest-b@1" }),
        c: entry({ module: "https://example.com/c/mod.ts" }),
        d: entry({ module: "../shared/d.ts" }),
        e: entry({ module: "file:///opt/e.ts" }),
      },
    }),
    "file:///srv/plugins/manifest.json",
  );
  assert.equal(manifest.schema, "https://example.com/schema.json");
  assert.deepEqual(manifest.plugins.map((p) => p.module), [
    "jsr:@acme/a@^1/plugin",
    "npm:wiretest-b@1",
    "https://example.com/c/mod.ts",
    "file:///srv/shared/d.ts",
    "file:///opt/e.ts",
  ]);
});

Deno.test("parseManifest() resolves relative modules of a manifest served over https", () => {
  const manifest = parseManifest(
    JSON.stringify({ plugins: { a: entry({ module: "./a/mod.ts" }) } }),
    new URL("https://example.com/pkg/1.0.0/manifest.json"),
  );
  assert.equal(manifest.plugins[0].module, "https://example.com/pkg/1.0.0/a/mod.ts");
});

Deno.test("parseManifest() keeps a manifest whose apiVersion is not this wiretest's", () => {
  // Refused when the plugin is loaded, so one stale entry does not hide the others.
  const manifest = parseManifest(
    JSON.stringify({ plugins: { a: entry({ apiVersion: 2 }) } }),
    "file:///m.json",
  );
  assert.equal(manifest.plugins[0].apiVersion, 2);
});

Deno.test("parseManifest() reads an explicit export name", () => {
  const manifest = parseManifest(
    JSON.stringify({ plugins: { a: entry({ export: "plugin" }) } }),
    "file:///m.json",
  );
  assert.equal(manifest.plugins[0].export, "plugin");
});

Deno.test("loadManifest() rejects invalid JSON with file, line and column", async () => {
  const error = await rejection("invalid/bad_json.txt");
  assert.ok(error instanceof SyntaxError);
  assert.equal(
    error.message,
    `Cannot load manifest "${shown("invalid/bad_json.txt")}": unexpected token "}" ` +
      `(line 8, column 31)`,
  );
  assert.ok(error.cause instanceof SyntaxError);
});

Deno.test("loadManifest() places a trailing comma from V8's line and column", async () => {
  const error = await rejection("invalid/trailing_comma.txt");
  assert.ok(error instanceof SyntaxError);
  assert.match(error.message, /trailing_comma\.txt": expected double-quoted property name/);
  assert.match(error.message, /\(line 9, column 5\)$/);
});

Deno.test("parseManifest() places an empty text at line 1, column 1", () => {
  assert.throws(
    () => parseManifest("", "file:///empty.json"),
    (error: unknown) => {
      assert.ok(error instanceof SyntaxError);
      assert.equal(
        error.message,
        'Cannot load manifest "/empty.json": unexpected end of JSON input (line 1, column 1)',
      );
      return true;
    },
  );
});

Deno.test("loadManifest() names the entry and field of a missing field", async () => {
  const error = await rejection("invalid/missing_field.json");
  assert.ok(error instanceof ManifestError);
  assert.equal(
    error.message,
    `Cannot load manifest "${shown("invalid/missing_field.json")}": ` +
      `plugin "echo": "description" is missing (line 3, column 5)`,
  );
  assert.deepEqual(error.issues, [{
    plugin: "echo",
    path: ["plugins", "echo", "description"],
    message: 'plugin "echo": "description" is missing',
    line: 3,
    column: 5,
  }]);
});

Deno.test("loadManifest() rejects a plugin name that is not kebab-case", async () => {
  const error = await rejection("invalid/bad_name.json");
  assert.ok(error instanceof ManifestError);
  assert.match(
    error.message,
    /: plugin name "Echo_Plugin" is not kebab-case \(e\.g\. "http-probe"\) \(line 3, column 5\)$/,
  );
});

Deno.test("loadManifest() rejects empty roles naming file, plugin and field", async () => {
  const error = await rejection("invalid/empty_roles.json");
  assert.ok(error instanceof ManifestError);
  assert.ok(error instanceof TypeError);
  assert.equal(
    error.message,
    `Cannot load manifest "${shown("invalid/empty_roles.json")}": ` +
      `plugin "echo": "roles" must not be empty (line 6, column 16)`,
  );
});

Deno.test("loadManifest() rejects a module specifier with another scheme", async () => {
  const error = await rejection("invalid/bad_scheme.json");
  assert.ok(error instanceof ManifestError);
  assert.match(
    error.message,
    /plugin "echo": "module" must be a relative path \("\.\/echo\/mod\.ts"\) or a jsr:, npm:, https:, http: or file: specifier, not "ftp:\/\/example\.com\/echo\.ts" \(line 4, column 17\)$/,
  );
});

Deno.test("parseManifest() rejects a bare module name", () => {
  assert.throws(
    () =>
      parseManifest(
        JSON.stringify({ plugins: { a: entry({ module: "echo/mod.ts" }) } }),
        "file:///m.json",
      ),
    /plugin "a": "module" must be a relative path .* not "echo\/mod\.ts"/,
  );
});

Deno.test("loadManifest() rejects an unknown permission and lists the known ones", async () => {
  const error = await rejection("invalid/unknown_permission.json");
  assert.ok(error instanceof ManifestError);
  assert.match(
    error.message,
    /plugin "echo": "permissions\.hrtime" is not a known field \(known: net, read, write, env, sys, run, ffi\) \(line 8, column 37\)$/,
  );
  assert.deepEqual(error.issues[0].path, ["plugins", "echo", "permissions", "hrtime"]);
});

Deno.test("loadManifest() refuses to grant run to a plugin", async () => {
  const error = await rejection("invalid/run_granted.json");
  assert.ok(error instanceof ManifestError);
  assert.match(
    error.message,
    /"permissions\.run" must be false: plugins may not run subprocesses \(line 8, column 31\)$/,
  );
});

Deno.test('parseManifest() refuses ffi beyond ["libc"]: all, a library path, libc and more', () => {
  for (
    const ffi of [true, ["libc.so.6"], ["/usr/lib/x86_64-linux-gnu/libc.so.6"], ["libc", "libm"]]
  ) {
    assert.throws(
      () =>
        parseManifest(
          JSON.stringify({ plugins: { a: entry({ permissions: { ffi } }) } }),
          "file:///m.json",
        ),
      (error: unknown) => {
        assert.ok(error instanceof ManifestError);
        assert.match(
          error.message,
          /plugin "a": "permissions\.ffi" must be false or \["libc"\]: the C library is the only native library a plugin may load \(line 1, column \d+\)$/,
        );
        assert.deepEqual(error.issues[0].path, ["plugins", "a", "permissions", "ffi"]);
        return true;
      },
    );
  }
});

Deno.test('parseManifest() keeps ffi ["libc"] as written: the host decides whether it is honoured', () => {
  const manifest = parseManifest(
    JSON.stringify({ plugins: { a: entry({ permissions: { ffi: ["libc"] } }) } }),
    "file:///m.json",
  );
  assert.deepEqual(manifest.plugins[0].permissions.ffi, ["libc"]);
});

Deno.test("parseManifest() rejects a role listed twice, naming it", () => {
  assert.throws(
    () =>
      parseManifest(
        JSON.stringify({ plugins: { a: entry({ roles: ["client", "server", "client"] }) } }),
        "file:///m.json",
      ),
    /plugin "a": "roles" lists "client" twice \(line 1, column 63\)$/,
  );
});

Deno.test("parseManifest() rejects an apiVersion that is not a whole number", () => {
  for (const apiVersion of [1.5, 0.999]) {
    assert.throws(
      () =>
        parseManifest(
          JSON.stringify({ plugins: { a: entry({ apiVersion }) } }),
          "file:///m.json",
        ),
      /plugin "a": "apiVersion" must be an integer \(line 1, column 87\)$/,
    );
  }
});

Deno.test("loadManifest() rejects a plugin name written twice in one manifest", async () => {
  const error = await rejection("invalid/duplicate_name.json");
  assert.ok(error instanceof ManifestError);
  assert.match(
    error.message,
    /: plugin "echo" is defined twice \(first at line 3, column 5\) \(line 10, column 5\)$/,
  );
});

Deno.test("parseManifest() reports every problem, in the order they are written", () => {
  const text = `{
  "plugins": {
    "a": { "module": "./a.ts", "description": "", "roles": ["peer"], "apiVersion": 0, "permissions": { "net": 3 } }
  },
  "extra": true
}`;
  assert.throws(() => parseManifest(text, "file:///m.json"), (error: unknown) => {
    assert.ok(error instanceof ManifestError);
    assert.deepEqual(error.issues.map((i) => [i.message, i.line]), [
      ['plugin "a": "description" must not be empty', 3],
      ['plugin "a": "roles[0]" must be one of "server", "client"', 3],
      ['plugin "a": "apiVersion" must be a positive number', 3],
      [
        'plugin "a": "permissions.net" must be true, false or a list of hosts ("127.0.0.1", "example.com:443")',
        3,
      ],
      ['"extra" is not a known field (known: $schema, plugins)', 5],
    ]);
    return true;
  });
});

Deno.test("parseManifest() names the wrong type of a field", () => {
  assert.throws(
    () =>
      parseManifest(
        JSON.stringify({ plugins: { a: entry({ roles: "client" }) } }),
        "file:///m.json",
      ),
    /plugin "a": "roles" must be an array, not a string \(line 1, column 63\)$/,
  );
});

Deno.test("parseManifest() rejects a manifest that is not an object", () => {
  assert.throws(
    () => parseManifest("[]", "file:///m.json"),
    (error: unknown) =>
      error instanceof ManifestError &&
      error.message ===
        'Cannot load manifest "/m.json": the manifest must be an object, not an array (line 1, column 1)',
  );
});

Deno.test("validateManifest() reports problems without line numbers", () => {
  assert.throws(
    () => validateManifest({ plugins: { a: entry({ roles: [] }) } }, "file:///m.json"),
    (error: unknown) => {
      assert.ok(error instanceof ManifestError);
      assert.equal(
        error.message,
        'Cannot load manifest "/m.json": plugin "a": "roles" must not be empty',
      );
      assert.equal(error.issues[0].line, undefined);
      return true;
    },
  );
});

Deno.test("loadManifest() names the path of a missing file", async () => {
  const error = await rejection("nowhere/manifest.json");
  assert.ok(error instanceof Deno.errors.NotFound);
  assert.equal(
    error.message,
    `Cannot load manifest "${shown("nowhere/manifest.json")}": no such file`,
  );
});

Deno.test("loadManifest() refuses a URL scheme it cannot read", async () => {
  await assert.rejects(
    loadManifest("jsr:@acme/plugins/manifest.json"),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message ===
        'Cannot load manifest "jsr:@acme/plugins/manifest.json": only paths, file:, http: and https: URLs can be read',
  );
});

Deno.test({
  name: "loadManifest() fetches a manifest over http and resolves modules against its URL",
  permissions: { net: ["127.0.0.1"], read: true },
  async fn() {
    const text = JSON.stringify({ plugins: { a: entry({ module: "./a/mod.ts" }) } });
    await using server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) =>
        new URL(request.url).pathname === "/p/manifest.json"
          ? new Response(text, { headers: { "content-type": "application/json" } })
          : new Response("no", { status: 404 }),
    );
    const base = `http://127.0.0.1:${server.addr.port}`;
    const manifest: Manifest = await loadManifest(`${base}/p/manifest.json`);
    assert.equal(manifest.plugins[0].module, `${base}/p/a/mod.ts`);
    await assert.rejects(
      loadManifest(`${base}/p/missing.json`),
      (error: unknown) =>
        error instanceof Deno.errors.NotFound &&
        error.message === `Cannot load manifest "${base}/p/missing.json": HTTP 404 Not Found`,
    );
  },
});

Deno.test("PluginPermissions but ffi (libc, named) can be handed to a Worker's deno.permissions", async () => {
  const manifest = await loadManifest(fixture("good/manifest.json"));
  // Type-level check too: Deno's vocabulary, but for ffi's symbolic "libc".
  const { ffi: _, ...permissions }: PluginPermissions = manifest.plugins[0].permissions;
  const forWorker: Deno.PermissionOptionsObject = permissions;
  assert.deepEqual(forWorker, { net: ["127.0.0.1"] });
});

Deno.test("parseManifest() resolves relative read/write grants against the manifest's directory", () => {
  const manifest = parseManifest(
    JSON.stringify({
      plugins: {
        reader: {
          module: "./reader.ts",
          description: "Reads data.",
          roles: ["client"],
          apiVersion: 1,
          permissions: {
            read: ["./data", "/etc/hosts"],
            write: ["../out/"],
            net: ["./not-a-path"],
          },
        },
      },
    }),
    "file:///srv/plugins/manifest.json",
  );
  const { permissions } = manifest.plugins[0];
  assert.deepEqual(permissions.read, ["/srv/plugins/data", "/etc/hosts"]);
  assert.deepEqual(permissions.write, ["/srv/out"]);
  assert.deepEqual(permissions.net, ["./not-a-path"]);
});
