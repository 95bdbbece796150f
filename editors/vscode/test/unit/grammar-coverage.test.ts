// Every scope the TextMate grammar can give is asserted by at least one grammar test
// (test/grammar/*.fts, run by vscode-tmgrammar-test), so no rule goes untested.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

const root = join(__dirname, "..", "..");
/** Every `name` and `contentName` in the grammar. */
function grammarScopes(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    node.forEach((child) => grammarScopes(child, found));
  } else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if ((key === "name" || key === "contentName") && typeof value === "string") {
        found.add(value);
      } else {
        grammarScopes(value, found);
      }
    }
  }
  return found;
}

function assertedScopes(): Set<string> {
  const found = new Set<string>();
  const directory = join(root, "test", "grammar");
  for (const file of readdirSync(directory).filter((name) => name.endsWith(".fts"))) {
    for (const line of readFileSync(join(directory, file), "utf8").split("\n")) {
      const assertion = /^\s*#\s*(?:\^+|<-+)\s+(.*)$/.exec(line);
      assertion?.[1]?.split(/\s+/).forEach((scope) => found.add(scope));
    }
  }
  return found;
}

test("the grammar tests assert every scope of the grammar", () => {
  const grammar = JSON.parse(readFileSync(join(root, "syntaxes", "fts.tmLanguage.json"), "utf8")) as unknown;
  const scopes = grammarScopes(grammar);
  scopes.delete("fts"); // the grammar's own display name
  const asserted = assertedScopes();
  const untested = [...scopes].filter((scope) => !asserted.has(scope)).sort();
  assert.deepEqual(untested, []);
  assert.ok(scopes.size > 30, `only ${scopes.size} scopes found: is the walk still right?`);
});
