/**
 * XML read into plain objects for the reporter tests, by the one XML parser
 * among the test dependencies (saxes, a conformant XML 1.0 parser). Apart
 * from `_test_utils.ts`, which child processes import without the config
 * that maps `saxes`.
 *
 * @module
 */
import { SaxesParser } from "saxes";

/** A parsed element: see {@linkcode parseXmlTree}. */
// deno-lint-ignore no-explicit-any
export type XmlNode = any;

interface Frame {
  readonly name: string;
  readonly node: Record<string, unknown>;
  text: string;
  children: number;
}

/**
 * Parses XML into nested objects: an element is an object of its
 * attributes, its child elements by name and its text as `"#text"`; an
 * element with neither attributes nor children is its text.
 *
 * @param xml The document.
 * @param arrays Element names always read as lists, however many there are.
 * @returns The document as an object with the root element under its name.
 * @throws {Error} When the document is not well-formed.
 */
export function parseXmlTree(xml: string, arrays: readonly string[] = []): XmlNode {
  const parser = new SaxesParser();
  const root: Frame = { name: "", node: {}, text: "", children: 0 };
  const stack: Frame[] = [root];
  parser.on("error", (error) => {
    throw error;
  });
  parser.on("opentag", (tag) => {
    const node: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(tag.attributes)) node[key] = String(value);
    stack[stack.length - 1].children++;
    stack.push({ name: tag.name, node, text: "", children: 0 });
  });
  parser.on("text", (text) => stack[stack.length - 1].text += text);
  parser.on("cdata", (text) => stack[stack.length - 1].text += text);
  parser.on("closetag", () => {
    const frame = stack.pop()!;
    const parent = stack[stack.length - 1].node;
    const bare = frame.children === 0 && Object.keys(frame.node).length === 0;
    if (!bare && frame.text.trim() !== "") frame.node["#text"] = frame.text;
    const value = bare ? frame.text : frame.node;
    const existing = parent[frame.name];
    if (Array.isArray(existing)) existing.push(value);
    else if (existing !== undefined) parent[frame.name] = [existing, value];
    else parent[frame.name] = arrays.includes(frame.name) ? [value] : value;
  });
  parser.write(xml).close();
  return root.node;
}
