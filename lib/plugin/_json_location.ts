/**
 * Source positions in JSON text: where a syntax error is and where a field
 * is, for messages that send people to the right line.
 *
 * `JSON.parse` stays the authority on what is valid JSON; jsonc-parser (strict
 * mode: no comments, no trailing commas) only locates things, because V8's
 * "Unexpected token" messages carry no position.
 *
 * @module
 */
import {
  findNodeAtLocation,
  type Node as JsonNode,
  type ParseError,
  parseTree,
  printParseErrorCode,
} from "jsonc-parser";

export type { JsonNode };

/** A 1-based line and column. */
export interface LineColumn {
  /** Line, from 1. */
  line: number;
  /** Column (UTF-16 code units), from 1. */
  column: number;
}

/** What went wrong in unparsable JSON, and where when it can be told. */
export interface JsonSyntaxProblem {
  /** V8's description without its position or source excerpt. */
  description: string;
  /** Where the parser stopped, when known. */
  at?: LineColumn;
}

const STRICT = { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false };

/**
 * Converts a UTF-16 offset into a 1-based line and column.
 *
 * @param text The whole text.
 * @param offset Offset into it (clamped to its length).
 * @returns The line and column.
 */
export function lineColumn(text: string, offset: number): LineColumn {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < end; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: end - lineStart + 1 };
}

/**
 * Tells where `JSON.parse` failed. V8 writes "… in JSON at position N
 * (line L column C)" (older versions only "position N"), "Unexpected end of
 * JSON input", or "Unexpected token 'x', "…" is not valid JSON" with no
 * position at all; the last is located with jsonc-parser.
 *
 * @param text The text that failed to parse.
 * @param error What `JSON.parse` threw.
 * @returns The description and, when known, the position.
 */
export function locateJsonSyntaxError(text: string, error: SyntaxError): JsonSyntaxProblem {
  const message = error.message;
  const positioned = /^(.*?) in JSON at position (\d+)(?: \(line (\d+) column (\d+)\))?/s.exec(
    message,
  );
  if (positioned) {
    const [, description, position, line, column] = positioned;
    const at = line !== undefined
      ? { line: Number(line), column: Number(column) }
      : lineColumn(text, Number(position));
    return { description, at };
  }
  if (/^Unexpected end of JSON input/.test(message)) {
    return { description: "Unexpected end of JSON input", at: lineColumn(text, text.length) };
  }
  const token = /^Unexpected token '([\s\S]*?)',/.exec(message)?.[1];
  const errors: ParseError[] = [];
  parseTree(text, errors, STRICT);
  const first = errors[0];
  if (!first) return { description: token === undefined ? message : unexpected(token) };
  const at = lineColumn(text, first.offset);
  const found = text.slice(first.offset, first.offset + Math.max(1, first.length));
  // V8 sometimes names the character after a bad literal ("tru" then "\n"):
  // describe what jsonc-parser points at, so words and position agree.
  if (token !== undefined && found.startsWith(token)) return { description: unexpected(token), at };
  return {
    description: `${PHRASES[printParseErrorCode(first.error)] ?? "unexpected input"} ${
      JSON.stringify(found)
    }`,
    at,
  };
}

const PHRASES: Record<string, string> = {
  InvalidSymbol: "Unexpected",
  InvalidNumberFormat: "Invalid number",
  PropertyNameExpected: "Expected a property name before",
  ValueExpected: "Expected a value before",
  ColonExpected: "Expected ':' before",
  CommaExpected: "Expected ',' before",
  CloseBraceExpected: "Expected '}' before",
  CloseBracketExpected: "Expected ']' before",
  EndOfFileExpected: "Unexpected text after the JSON value:",
  InvalidCommentToken: "Comments are not JSON:",
  InvalidCharacter: "Invalid character in",
};

function unexpected(token: string): string {
  return `Unexpected token ${JSON.stringify(token)}`;
}

/** Parses JSON into a syntax tree with offsets, or `undefined` when it is not JSON. */
export function jsonTree(text: string): JsonNode | undefined {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, STRICT);
  return errors.length === 0 ? root : undefined;
}

/**
 * Finds where a field is written: its key when `key` is set (for unknown or
 * misnamed fields), otherwise its value. A path that does not exist (a
 * missing field) gives the key of the deepest part that does.
 *
 * @param root The tree from {@linkcode jsonTree}.
 * @param text The text (for line counting).
 * @param path Field path, e.g. `["plugins", "echo", "roles", 0]`.
 * @param key Point at the property key rather than the value.
 * @returns The position, or `undefined` when not even the root matches.
 */
export function locatePath(
  root: JsonNode,
  text: string,
  path: readonly (string | number)[],
  key = false,
): LineColumn | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = findNodeAtLocation(root, path.slice(0, depth) as (string | number)[]);
    if (!node) continue;
    const exact = depth === path.length;
    const property = node.parent?.type === "property" ? node.parent : undefined;
    // For a missing field, the key of its parent object reads better than "{".
    const target = (key || !exact) && property?.children?.[0] ? property.children[0] : node;
    return lineColumn(text, target.offset);
  }
  return undefined;
}

/** Finds every key written more than once in an object node, with its later positions. */
export function duplicateKeys(
  objectNode: JsonNode | undefined,
): { key: string; offsets: number[] }[] {
  const seen = new Map<string, number[]>();
  for (const property of objectNode?.type === "object" ? objectNode.children ?? [] : []) {
    const keyNode = property.children?.[0];
    if (keyNode?.type !== "string") continue;
    const offsets = seen.get(keyNode.value) ?? [];
    offsets.push(keyNode.offset);
    seen.set(keyNode.value, offsets);
  }
  return [...seen].filter(([, offsets]) => offsets.length > 1).map(([key, offsets]) => ({
    key,
    offsets,
  }));
}
