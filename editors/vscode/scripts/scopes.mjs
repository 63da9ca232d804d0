// Tokenizes .csp files with the extension's grammar, as VS Code does (vscode-textmate and the
// Oniguruma regular expressions VS Code uses), and prints every token with its scopes.
//
//   node scripts/scopes.mjs FILE...          one line per token: LINE:COL `text` scopes
//   node scripts/scopes.mjs --json FILE...   one JSON object per file: {file, tokens: [...]}
//                                            each token {line, col, text, scopes} (1-based line,
//                                            0-based column in UTF-16 code units)
//
// tests/test_vscode.py runs it on the bundled policies.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const here = dirname(fileURLToPath(import.meta.url));
const grammarPath = join(here, "..", "syntaxes", "csdsl.tmLanguage.json");

const wasm = readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
await oniguruma.loadWASM(wasm);
const registry = new vsctm.Registry({
  onigLib: Promise.resolve({
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (s) => new oniguruma.OnigString(s),
  }),
  loadGrammar: async (scopeName) =>
    scopeName === "source.csdsl" ? vsctm.parseRawGrammar(readFileSync(grammarPath, "utf8"), grammarPath) : null,
});
const grammar = await registry.loadGrammar("source.csdsl");

const args = process.argv.slice(2);
const json = args[0] === "--json";
const files = json ? args.slice(1) : args;
if (files.length === 0) {
  console.error("usage: node scripts/scopes.mjs [--json] FILE...");
  process.exit(2);
}
for (const file of files) {
  const lines = readFileSync(file, "utf8").replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  let state = vsctm.INITIAL;
  const tokens = [];
  lines.forEach((text, i) => {
    const result = grammar.tokenizeLine(text, state);
    for (const t of result.tokens) {
      const piece = text.slice(t.startIndex, t.endIndex);
      if (piece.trim() === "") continue;
      tokens.push({ line: i + 1, col: t.startIndex, text: piece, scopes: t.scopes });
    }
    state = result.ruleStack;
  });
  if (json) {
    console.log(JSON.stringify({ file, tokens }));
  } else {
    for (const t of tokens) console.log(`${file}:${t.line}:${t.col} \`${t.text}\` ${t.scopes.slice(1).join(" ")}`);
  }
}
