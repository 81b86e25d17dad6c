// The spellings of a plugin name that generated code needs, and the roles a
// generated plugin can have.

/** A plugin name in each form the templates use. */
export interface PluginNames {
  /** kebab-case, as in manifests and fixtures (`ping-pong`). */
  kebab: string;
  /** PascalCase, for types (`PingPong`). */
  pascal: string;
  /** camelCase, for values (`pingPong`). */
  camel: string;
  /** UPPER_SNAKE_CASE, for environment variables (`PING_PONG`). */
  upper: string;
}

/** Which roles a generated plugin has. */
export interface Roles {
  server: boolean;
  client: boolean;
}

/** The spellings of a kebab-case name (checked by the caller). */
export function pluginNames(kebab: string): PluginNames {
  const words = kebab.split("-");
  const pascal = words.map((w) => w[0].toUpperCase() + w.slice(1)).join("");
  return {
    kebab,
    pascal,
    camel: pascal[0].toLowerCase() + pascal.slice(1),
    upper: words.map((w) => w.toUpperCase()).join("_"),
  };
}

/**
 * Fills a template: `__kebab__`, `__Pascal__`, `__camel__` and `__UPPER__`
 * become the name's spellings. Templates are `String.raw` literals, so the
 * generated code's own backticks and `${` are written escaped there.
 */
export function fill(template: string, names: PluginNames): string {
  return template
    .replaceAll("\\`", "`")
    .replaceAll("\\${", "${")
    .replaceAll("__kebab__", names.kebab)
    .replaceAll("__Pascal__", names.pascal)
    .replaceAll("__camel__", names.camel)
    .replaceAll("__UPPER__", names.upper);
}
