// Names that go into the control API's URLs (/proxies/{name},
// /proxies/{name}/toxics/{toxic}): every URL parser drops the dot segments
// "." and "..", and "/" splits the path, so a proxy or toxic named so could be
// created but never reached again (toxiproxy accepts them, and then cannot).

/**
 * Why `name` cannot be a segment of a control API URL, or `undefined` when it can.
 *
 * @param name A proxy's or toxic's name.
 * @returns The reason, to follow `name "…" `.
 */
export function urlNameProblem(name: string): string | undefined {
  if (name === "." || name === ".." || name.includes("/")) {
    return `cannot be reached by URL: "." and ".." are dropped from URL paths and "/" splits them`;
  }
  return undefined;
}
