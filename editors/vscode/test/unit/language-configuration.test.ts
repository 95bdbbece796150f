// The regular expressions of language-configuration.json, as VS Code builds them (`new RegExp`): what a
// word is (double-click, completion ranges), and where Enter indents.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

interface LanguageConfiguration {
  wordPattern: string;
  indentationRules: { increaseIndentPattern: string; decreaseIndentPattern: string };
  onEnterRules: { beforeText: string; action: { indent: string } }[];
}

const configuration = JSON.parse(
  readFileSync(join(__dirname, "..", "..", "language-configuration.json"), "utf8"),
) as LanguageConfiguration;

test("a word is a name (with its $), a pattern segment or a number", () => {
  const words = (text: string) => text.match(new RegExp(configuration.wordPattern, "g"));
  assert.deepEqual(words("thaw $layers.{8..11}.q_proj.**"), ["thaw", "$layers", "8", "11", "q_proj"]);
  assert.deepEqual(words("lr = 1e-5, b = -0.5"), ["lr", "1e-5", "b", "-0.5"]);
  assert.deepEqual(words("model.layers-2.w"), ["model", "layers-2", "w"]);
});

test("Enter indents after an opening bracket and dedents a closing one", () => {
  const increase = new RegExp(configuration.indentationRules.increaseIndentPattern);
  const decrease = new RegExp(configuration.indentationRules.decreaseIndentPattern);
  for (const line of ["phase head {", 'phase "upper" {  # comment', "    optimizer = AdamW(", "    x = ["]) {
    assert.ok(increase.test(line), line);
  }
  for (const line of ["    thaw h.{0..3}.w", "# phase {", "    lr = 1e-5  # {"]) {
    assert.ok(!increase.test(line), line);
  }
  assert.ok(decrease.test("    }"));
  assert.ok(decrease.test(")"));
  assert.ok(!decrease.test("    thaw a.{b,c}"));
});

test("Enter after a thaw line ending in a comma indents the next selector", () => {
  const [rule] = configuration.onEnterRules;
  const before = new RegExp(rule?.beforeText ?? "");
  assert.equal(rule?.action.indent, "indent");
  assert.ok(before.test("    thaw $layers.{8..11}.attention.self.query.weight,"));
  assert.ok(before.test("    thaw a.*,  # more below"));
  assert.ok(!before.test("    thaw a.*"));
  assert.ok(!before.test("    init_pg_lrs = [1e-5,"));
});
