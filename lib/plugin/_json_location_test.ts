import assert from "node:assert/strict";
import {
  duplicateKeys,
  jsonTree,
  lineColumn,
  locateJsonSyntaxError,
  locatePath,
} from "./_json_location.ts";

function parseError(text: string): SyntaxError {
  try {
    JSON.parse(text);
  } catch (error) {
    assert.ok(error instanceof SyntaxError);
    return error;
  }
  assert.fail(`${JSON.stringify(text)} parsed`);
}

Deno.test("lineColumn() counts lines and columns from 1", () => {
  const text = "ab\ncd\n\nef";
  assert.deepEqual(lineColumn(text, 0), { line: 1, column: 1 });
  assert.deepEqual(lineColumn(text, 4), { line: 2, column: 2 });
  assert.deepEqual(lineColumn(text, 7), { line: 4, column: 1 });
  assert.deepEqual(lineColumn(text, 99), { line: 4, column: 3 });
});

Deno.test("locateJsonSyntaxError() reads V8's line and column", () => {
  const text = '{\n  "a": 1,\n}';
  const problem = locateJsonSyntaxError(text, parseError(text));
  assert.equal(problem.description, "Expected double-quoted property name");
  assert.deepEqual(problem.at, { line: 3, column: 1 });
});

Deno.test("locateJsonSyntaxError() computes line and column from a bare position", () => {
  // Older V8 versions write only "at position N".
  const text = '{\n  "a" 1\n}';
  const error = new SyntaxError("Expected ':' after property name in JSON at position 8");
  const problem = locateJsonSyntaxError(text, error);
  assert.equal(problem.description, "Expected ':' after property name");
  assert.deepEqual(problem.at, { line: 2, column: 7 });
});

Deno.test("locateJsonSyntaxError() locates V8's position-less unexpected token", () => {
  const text = '{\n  "a": }';
  const error = parseError(text);
  assert.doesNotMatch(error.message, /position/);
  const problem = locateJsonSyntaxError(text, error);
  assert.equal(problem.description, 'Unexpected token "}"');
  assert.deepEqual(problem.at, { line: 2, column: 8 });
});

Deno.test("locateJsonSyntaxError() describes a bad literal where it starts", () => {
  const text = '{"a": tru\n}';
  const problem = locateJsonSyntaxError(text, parseError(text));
  assert.equal(problem.description, 'Unexpected "tru"');
  assert.deepEqual(problem.at, { line: 1, column: 7 });
});

Deno.test("locateJsonSyntaxError() places unexpected end of input at the end", () => {
  const text = '{"a": [1,\n';
  const problem = locateJsonSyntaxError(text, parseError(text));
  assert.equal(problem.description, "Unexpected end of JSON input");
  assert.deepEqual(problem.at, { line: 2, column: 1 });
});

Deno.test("jsonTree() refuses comments, which JSON.parse refuses too", () => {
  assert.equal(jsonTree('{"a": 1 // no\n}'), undefined);
  assert.equal(jsonTree('{"a": 1}')?.type, "object");
});

Deno.test("locatePath() points at a value, a key, or the parent of a missing field", () => {
  const text = '{\n  "p": {\n    "x": [1, 2]\n  }\n}';
  const tree = jsonTree(text)!;
  assert.deepEqual(locatePath(tree, text, ["p", "x", 1]), { line: 3, column: 14 });
  assert.deepEqual(locatePath(tree, text, ["p", "x"], true), { line: 3, column: 5 });
  assert.deepEqual(locatePath(tree, text, ["p", "missing"]), { line: 2, column: 3 });
});

Deno.test("duplicateKeys() finds every offset of a repeated key", () => {
  const tree = jsonTree('{"a": 1, "b": 2, "a": 3}')!;
  assert.deepEqual(duplicateKeys(tree), [{ key: "a", offsets: [1, 17] }]);
});
