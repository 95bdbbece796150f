// Tokenise .fts files with the extension's TextMate grammar, as VS Code does (vscode-textmate with the
// Oniguruma WebAssembly build), and print one JSON object: {path: [[line, start, end, [scopes…]], …]}.
// Columns are UTF-16 code units, as in VS Code and the language server's default position encoding.
// tests/editors/ compares these scopes with the semantic tokens of `ftsc lsp`.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const textmate = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const grammarPath = join(root, "syntaxes", "fts.tmLanguage.json");

await oniguruma.loadWASM(readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer);
const registry = new textmate.Registry({
  onigLib: Promise.resolve({
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (text) => new oniguruma.OnigString(text),
  }),
  loadGrammar: async (scopeName) =>
    scopeName === "source.fts"
      ? textmate.parseRawGrammar(readFileSync(grammarPath, "utf8"), grammarPath)
      : null,
});
const grammar = await registry.loadGrammar("source.fts");

const result = {};
for (const path of process.argv.slice(2)) {
  const tokens = [];
  let state = textmate.INITIAL;
  readFileSync(path, "utf8")
    .split(/\r?\n/)
    .forEach((line, index) => {
      const { tokens: lineTokens, ruleStack } = grammar.tokenizeLine(line, state);
      for (const token of lineTokens) {
        if (token.startIndex < line.length) {
          tokens.push([index, token.startIndex, Math.min(token.endIndex, line.length), token.scopes]);
        }
      }
      state = ruleStack;
    });
  result[path] = tokens;
}
process.stdout.write(JSON.stringify(result));
