// language-configuration.json: its regular expressions compile as VS Code compiles them, and they
// do what they are for on .csp text.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const config = JSON.parse(readFileSync(new URL("../language-configuration.json", import.meta.url), "utf8"));

test("a word is a name (Chinese ones too) or a number, a duration, a percentage", () => {
  const word = new RegExp(config.wordPattern.pattern, `${config.wordPattern.flags}g`);
  assert.deepEqual("态度恶劣：bool，".match(word), ["态度恶劣", "bool"]);
  assert.deepEqual("within 2h30m when x > 85%".match(word), ["within", "2h30m", "when", "x", "85%"]);
  assert.deepEqual("due(reply.agent)".match(word), ["due", "reply", "agent"]);
});

test("# comments, and the Chinese quotes and brackets close themselves", () => {
  assert.equal(config.comments.lineComment, "#");
  const pairs = new Map(config.autoClosingPairs.map((p) => [p.open, p.close]));
  for (const [open, close] of [['"', '"'], ["“", "”"], ["「", "」"], ["（", "）"], ["【", "】"], ["{", "}"], ["[", "]"], ["(", ")"]]) {
    assert.equal(pairs.get(open), close, open);
  }
  const surrounding = new Map(config.surroundingPairs.map(([open, close]) => [open, close]));
  assert.equal(surrounding.get("“"), "”");
  assert.equal(surrounding.get("「"), "」");
});

test("a line ending in an open brace indents the next; a closing brace outdents", () => {
  const increase = new RegExp(config.indentationRules.increaseIndentPattern);
  const decrease = new RegExp(config.indentationRules.decreaseIndentPattern);
  assert.ok(increase.test("record Complaint {"));
  assert.ok(increase.test("phrases abuse = [  # one per line"));
  assert.ok(!increase.test("  given Complaint { a: true }"));
  assert.ok(decrease.test("}"));
  assert.ok(decrease.test("  ］"));
});

test("folding markers: # region / # endregion", () => {
  assert.ok(new RegExp(config.folding.markers.start).test("  # region the KPIs"));
  assert.ok(new RegExp(config.folding.markers.end).test("# endregion"));
});
