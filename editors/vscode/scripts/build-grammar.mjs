// Writes syntaxes/csdsl.tmLanguage.json, the TextMate grammar of the csdsl policy language.
//
// The grammar is written here rather than as JSON so that each token's regular expression is
// spelt once (a name, a string, a duration ...) and reused in every clause that needs it.
// `node scripts/build-grammar.mjs` writes the JSON; `--check` fails when the committed JSON
// differs from what this script writes (npm test and npm run package run it).
//
// The layout follows grammar/csp.lark and docs/language.md:
//   - the reserved words (`KEYWORDS` in src/csdsl/syntax/grammar.py) never name anything: they
//     are keywords wherever they occur (`true`, `false`, a value `missing` and the verdict `valid`
//     in a condition are constants and a language variable);
//   - the words of a clause's statements (`starts`, `within`, `require`, `hold` ...) are keywords
//     only in their place inside that clause's block, and ordinary names elsewhere (a field may
//     be called `open`, a transcript rule `hold`), so each clause is a region with its own
//     patterns;
//   - full-width punctuation typed by a Chinese input method (`：` `，` `（` `【` `“”` `＃` ...)
//     is read as its half-width form, so every pattern accepts both.

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const OUT = join(dirname(fileURLToPath(import.meta.url)), "..", "syntaxes", "csdsl.tmLanguage.json");

// ---- tokens (Oniguruma syntax) -----------------------------------------------------------------
const NAME = String.raw`[^\W\d]\w*`;
const D = String.raw`[0-9０-９]`;
const NUM = String.raw`${D}+(?:[.．]${D}+)?`;
const COLON = String.raw`[:：]`;
const LBRACE = String.raw`[{｛]`;
const RBRACE = String.raw`[}｝]`;
const LPAREN = String.raw`[(（]`;
const RPAREN = String.raw`[)）]`;
const LBRACKET = String.raw`[\[【［]`;
const RBRACKET = String.raw`[\]】］]`;
// a string: "...", “...” (ends at ” or "), ＂...＂ (ends at ＂ or "); on one line
const STR = String.raw`(?:"(?:[^"\\]|\\.)*"|“[^”"]*[”"]|＂[^＂"]*[＂"])`;
const DATE = String.raw`${D}{4}-${D}{2}-${D}{2}`;
const DATETIME = String.raw`${DATE}T${D}{2}[:：]${D}{2}(?:[:：]${D}{2}(?:\.${D}{1,6})?)?(?:Z|[+-]${D}{2}[:：]${D}{2})?`;
const CLOCK = String.raw`${D}{2}[:：]${D}{2}`;
const HOURS = String.raw`${CLOCK}-${CLOCK}`;
const DURATION = String.raw`(?<![\w.．])(?:${D}+[dhmsｄｈｍｓ])+(?!\w)`;
const TURNS = String.raw`turns?`;
// the words that start a declaration: a region left open by a missing `}` ends at the next one
const TOP = String.raw`(?=^\s*(?:policy|import|include|record|valid|unless|example|calendar|deadline|escalation|phrases|transcript|metric|invariant|rule|cites)\b)`;
// the start of a statement inside a block: the line's start or just after `{` or `,`
const STMT = String.raw`(?:^|(?<=[{｛,，]))\s*`;

const S = (name) => `${name}.csdsl`;
const kw = (clause) => S(`keyword.other.${clause}`);
const decl = (clause) => S(`keyword.declaration.${clause}`);
// captures 1, 2, ... in order: a scope name, or {patterns} to tokenize the captured text again
const cap = (...names) =>
  Object.fromEntries(names.map((n, i) => [String(i + 1), typeof n === "string" ? { name: n } : n]));
const inc = (...names) => names.map((n) => ({ include: `#${n}` }));
const withPatterns = (...names) => ({ patterns: inc(...names) });

const SC = {
  record: S("entity.name.type.record"),
  field: S("variable.other.field"),
  event: S("variable.other.event"),
  role: S("entity.name.tag.role"),
  calendar: S("entity.name.type.calendar"),
  deadline: S("entity.name.function.deadline"),
  unit: S("constant.language.unit"),
  period: S("constant.language.period"),
  status: S("constant.language.status"),
  phrases: S("variable.other.phrases"),
  clause: S("variable.other.clause"),
  situation: S("entity.name.function.situation"),
  num: withPatterns("literal"),
};

// a string in three spellings, with the given inner patterns
function strings(name, inner) {
  const quote = (open, close, kind) => ({
    name: S(`${name}${kind}`),
    begin: open,
    end: String.raw`(${close})|$`,
    beginCaptures: { 0: { name: S("punctuation.definition.string.begin") } },
    endCaptures: { 1: { name: S("punctuation.definition.string.end") } },
    patterns: inner,
  });
  return {
    patterns: [
      quote('"', '"', ""),
      quote("“", '[”"]', ".chinese"),
      quote("＂", '[＂"]', ".fullwidth"),
    ],
  };
}

// a declaration `WORD header { body }`: the header runs to the `{`, the region ends after the `}`
// `meta` names the region: meta.declaration.CLAUSE for a top-level declaration (a scope directly
// under source.csdsl while the file is well formed), meta.block.CLAUSE for one inside another
function block(word, { scope, header, body, wordPattern, meta }) {
  return {
    name: S(meta),
    begin: wordPattern ?? String.raw`\b(${word})\b`,
    beginCaptures: { 1: { name: scope } },
    end: String.raw`(?<=[}｝])|${TOP}`,
    patterns: [
      { begin: String.raw`\G`, end: String.raw`(?=${LBRACE})|${TOP}`, patterns: [...inc("comment"), ...header] },
      braces(body),
    ],
  };
}

function braces(body) {
  return {
    begin: LBRACE,
    beginCaptures: { 0: { name: S("punctuation.section.block.begin") } },
    end: RBRACE,
    endCaptures: { 0: { name: S("punctuation.section.block.end") } },
    patterns: [...inc("comment"), ...body],
  };
}

// `for RECORD` in a declaration's header
const forRecord = (clause) => ({ match: String.raw`\b(for)\s+(${NAME})`, captures: cap(kw(clause), SC.record) });
// the declared name right after the keyword
const declName = (scope) => ({ match: String.raw`\G\s*(${NAME})`, captures: cap(scope) });
// NAME "the standard's words": a wording string after a declared name
const wording = { include: "#string-wording" };

// ---- the grammar -----------------------------------------------------------------------------
const repository = {
  comment: {
    name: S("comment.line.number-sign"),
    begin: "[#＃]",
    beginCaptures: { 0: { name: S("punctuation.definition.comment") } },
    end: "$",
    patterns: [
      {
        // `# csdsl: ignore[W406] why`: silences a warning on its line
        match: String.raw`\b(csdsl)(:)\s*(ignore)(\[)([^\]]*)(\])`,
        name: S("meta.directive.ignore"),
        captures: cap(
          S("keyword.other.directive"),
          S("punctuation.separator.colon"),
          S("keyword.other.directive"),
          S("punctuation.section.brackets.begin"),
          { patterns: [{ match: String.raw`\b[EWRTV]\d{3}\b`, name: S("constant.other.diagnostic-code") }] },
          S("punctuation.section.brackets.end"),
        ),
      },
    ],
  },

  // ---- strings
  escape: { match: String.raw`\\(?:["\\nt]|u[0-9a-fA-F]{4})`, name: S("constant.character.escape") },
  placeholder: {
    // `{name}`: a placeholder; the seeds' own `XX`, `××`, `**` work the same way
    match: String.raw`[{｛][^{}｛｝"”＂]*[}｝]|[Xx*Ｘｘ＊]{2,}|×+`,
    name: S("variable.other.placeholder"),
  },
  "phrase-syntax": {
    patterns: [
      { include: "#placeholder" },
      {
        // `(a|b)`: alternatives (parentheses without `|` are ordinary text)
        begin: String.raw`[(（](?=[^()（）"”＂]*[|｜])`,
        beginCaptures: { 0: { name: S("punctuation.section.group.begin") } },
        end: String.raw`[)）]|(?=["”＂])`,
        endCaptures: { 0: { name: S("punctuation.section.group.end") } },
        name: S("meta.alternatives"),
        patterns: inc("phrase-syntax"),
      },
      { match: "[|｜]", name: S("keyword.operator.alternation") },
      {
        // `[...]`: optional words
        begin: String.raw`[\[［]`,
        beginCaptures: { 0: { name: S("punctuation.section.optional.begin") } },
        end: String.raw`[\]］]|(?=["”＂])`,
        endCaptures: { 0: { name: S("punctuation.section.optional.end") } },
        name: S("meta.optional"),
        patterns: inc("phrase-syntax"),
      },
    ],
  },
  string: strings("string.quoted.double", [...inc("escape", "placeholder")]),
  "string-phrase": strings("string.quoted.double.phrase", [...inc("escape", "phrase-syntax")]),
  // the standard's words after a clause's name: a leading `SEED SECTION` is its citation
  "string-wording": strings("string.quoted.double.wording", [
    {
      match: String.raw`\G(${D}{3})\s+((?:篇${D}+\s+)?[^\s"”＂]+)(?=[\s"”＂])`,
      name: S("meta.citation"),
      captures: cap(S("constant.numeric.seed"), S("entity.name.section")),
    },
    ...inc("escape", "placeholder"),
  ]),
  // a section in a `cites` block: `"000 二(1)"`, `"002 三 客户拨入"`
  "string-citation": strings("string.quoted.double.citation", [
    {
      match: String.raw`\G(${D}{3})\s+([^"”＂]+)`,
      name: S("meta.citation"),
      captures: cap(S("constant.numeric.seed"), S("entity.name.section")),
    },
    ...inc("escape"),
  ]),

  // ---- literals
  literal: {
    patterns: [
      { match: DATETIME, name: S("constant.other.datetime") },
      // a datetime with a one-digit hour (E112: write `T09:00`)
      { match: String.raw`${DATE}T${D}[:：]${D}{2}\b`, name: S("invalid.illegal.datetime") },
      { match: DATE, name: S("constant.other.date") },
      { match: HOURS, name: S("constant.other.hours") },
      { match: CLOCK, name: S("constant.other.time") },
      // not durations of the language: ISO 8601 (`PT4H`, the data's form) and fractions (`1.5h`)
      { match: String.raw`(?<!\w)P(?=\d|T\d)(?:\d+(?:\.\d+)?[YMWD])*(?:T(?:\d+(?:\.\d+)?[HMS])+)?(?!\w)`, name: S("invalid.illegal.duration") },
      { match: String.raw`(?<![\w.])\d+\.\d+[dhms](?!\w)`, name: S("invalid.illegal.duration") },
      { match: DURATION, name: S("constant.numeric.duration") },
      // a number stuck to a word that is no duration (E112: `24小时` is not a number, duration or date)
      { match: String.raw`(?<![\w.．])${NUM}(?=[^\W\d_])\w+`, name: S("invalid.illegal.number") },
      { match: String.raw`(?<![\w.．])${NUM}[%％]`, name: S("constant.numeric.percentage") },
      { match: String.raw`(?<![\w.．])${D}+[.．]${D}+(?![\w.．])`, name: S("constant.numeric.decimal") },
      { match: String.raw`(?<![\w.．])${D}+(?!\w)`, name: S("constant.numeric.integer") },
      { match: String.raw`\b(true|false)\b`, name: S("constant.language.boolean") },
    ],
  },
  illegal: {
    // not part of the language: `==`, `&&`, `||`, `!`, and Chinese punctuation that is not mapped
    match: String.raw`==|&&|\|\||[!！](?![=＝])|[;；。‘’「」『』]|……|——`,
    name: S("invalid.illegal"),
  },
  operator: {
    patterns: [
      { match: String.raw`[!！][=＝]|[<＜〈《>＞〉》][=＝]|[=＝<＜〈《>＞〉》]`, name: S("keyword.operator.comparison") },
      { match: String.raw`[+＋\-－*＊/／]`, name: S("keyword.operator.arithmetic") },
    ],
  },
  punctuation: {
    patterns: [
      { match: "[,，、]", name: S("punctuation.separator.comma") },
      { match: COLON, name: S("punctuation.separator.colon") },
      { match: String.raw`[.．]`, name: S("punctuation.accessor") },
      { match: LPAREN, name: S("punctuation.section.parens.begin") },
      { match: RPAREN, name: S("punctuation.section.parens.end") },
      { match: LBRACKET, name: S("punctuation.section.brackets.begin") },
      { match: RBRACKET, name: S("punctuation.section.brackets.end") },
    ],
  },

  // ---- expressions (conditions, `when`, metrics, invariants, rules)
  expression: {
    patterns: [
      ...inc("comment", "string", "call", "literal"),
      { match: String.raw`\b(is)\s+(set|missing)\b`, captures: cap(S("keyword.operator.word"), S("keyword.operator.word")) },
      { match: String.raw`\b(and|or|not)\b`, name: S("keyword.operator.logical") },
      { match: String.raw`\b(in|contains|is)\b`, name: S("keyword.operator.word") },
      { match: String.raw`\bmissing\b`, name: S("constant.language.missing") },
      { match: String.raw`\bvalid\b`, name: S("variable.language.verdict") },
      ...inc("illegal", "operator", "punctuation"),
      { match: NAME, name: S("variable.other") },
    ],
  },
  call: {
    // count(R where C), due(reply where tier = regular), first(EVENT), date(X) ...
    begin: String.raw`(?:\b(count|sum|mean|min|max|percentile|due|first|last|date|weekday|time_of_day)|(?!(?:and|or|not|in|contains|is)\b)(${NAME}))\s*(${LPAREN})`,
    beginCaptures: cap(S("support.function.builtin"), S("variable.function"), S("punctuation.section.parens.begin")),
    end: RPAREN,
    endCaptures: { 0: { name: S("punctuation.section.parens.end") } },
    name: S("meta.function-call"),
    patterns: [{ match: String.raw`\bwhere\b`, name: S("keyword.other.where") }, ...inc("expression")],
  },
  // `ID "words": CONDITION` lines of a validity block and its `unless`
  conditions: {
    patterns: [
      {
        match: String.raw`${STMT}(${NAME})\s*(${STR})?\s*(${COLON})`,
        captures: cap(S("entity.name.function.condition"), withPatterns("string-wording"), S("punctuation.separator.colon")),
      },
      ...inc("expression"),
    ],
  },

  // ---- header, import, include
  header: {
    patterns: [
      { match: String.raw`\b(policy)\b`, name: decl("policy") },
      { match: String.raw`\b(version|effective|timezone)\b`, name: kw("header") },
      { match: String.raw`\b(import|include)\b`, name: S("keyword.control.import") },
    ],
  },

  // ---- record NAME { field: type? ... }
  record: block("record", {
    meta: "meta.declaration.record",
    scope: decl("record"),
    header: [declName(SC.record)],
    body: [
      { match: String.raw`(${NAME})\s*(${COLON})`, captures: cap(SC.field, S("punctuation.separator.colon")) },
      {
        begin: String.raw`\b(enum)\s*(${LPAREN})`,
        beginCaptures: cap(kw("record"), S("punctuation.section.parens.begin")),
        end: RPAREN,
        endCaptures: { 0: { name: S("punctuation.section.parens.end") } },
        patterns: [...inc("comment", "punctuation"), { match: NAME, name: S("constant.other.enum") }],
      },
      { match: String.raw`\b(bool|int|number|text|date|datetime|duration)\b`, name: S("support.type.primitive") },
      { match: "[?？]", name: S("keyword.operator.optional") },
      { match: NAME, name: S("entity.name.type") },
      ...inc("illegal", "punctuation"),
    ],
  }),

  // ---- valid RECORD when any|all { ... } unless { ... }
  validity: block("valid", {
    meta: "meta.declaration.validity",
    scope: decl("validity"),
    header: [
      { match: String.raw`\b(when|any|all)\b`, name: kw("validity") },
      { match: NAME, name: SC.record },
    ],
    body: inc("conditions"),
  }),
  unless: block("unless", {
    meta: "meta.declaration.unless",
    scope: kw("validity"),
    header: [],
    body: inc("conditions"),
  }),

  // ---- example [ID] "title" { given ... events { } transcript { } expect ... }
  example: block("example", {
    meta: "meta.declaration.example",
    scope: decl("example"),
    header: [declName(S("entity.name.function.example")), ...inc("string")],
    body: inc("given", "events", "transcript-literal", "expect", "illegal", "punctuation"),
  }),
  given: {
    name: S("meta.block.given"),
    begin: String.raw`\b(given)\b`,
    beginCaptures: cap(kw("example")),
    end: String.raw`(?<=[}｝])|(?=^\s*(?:given|events|expect|transcript)\b)`,
    patterns: [
      {
        begin: String.raw`\G`,
        end: String.raw`(?=${LBRACE})|(?=^\s*(?:given|events|expect|transcript)\b)`,
        patterns: [
          { match: String.raw`(${NAME})\s+(with)\b`, captures: cap(S("entity.name.function.example"), kw("example")) },
          { match: NAME, name: SC.record },
        ],
      },
      braces([
        { match: String.raw`(${NAME})\s*(${COLON})`, captures: cap(SC.field, S("punctuation.separator.colon")) },
        ...inc("string", "literal"),
        { match: String.raw`\bmissing\b`, name: S("constant.language.missing") },
        ...inc("illegal", "operator", "punctuation"),
        { match: NAME, name: S("constant.other.enum") },
      ]),
    ],
  },
  events: block("events", {
    meta: "meta.block.events",
    scope: kw("example"),
    header: [],
    body: [
      { match: String.raw`${STMT}(${NAME})\s+(at)\b`, captures: cap(SC.event, kw("example")) },
      { match: String.raw`\b(by)\s+(${NAME})`, captures: cap(kw("example"), SC.role) },
      ...inc("literal", "illegal", "punctuation"),
    ],
  }),
  // transcript [DIRECTION] { ROLE [START[-END]] [confidence C] [sentiment S]: "..." ... }
  "transcript-literal": block("transcript", {
    meta: "meta.block.transcript",
    scope: kw("example"),
    header: [{ match: NAME, name: S("constant.language.direction") }],
    body: [
      {
        match: String.raw`${STMT}(${NAME})(?:\s+(${NUM})(?:\s*(-)\s*(${NUM}))?)?(?:\s+(confidence)\s+(${NUM}))?(?:\s+(sentiment)\s+(${NAME}))?\s*(${COLON})`,
        captures: cap(SC.role, SC.num, S("keyword.operator.range"), SC.num, kw("example"), SC.num, kw("example"), S("constant.language.sentiment"), S("punctuation.separator.colon")),
      },
      {
        match: String.raw`${STMT}(${NAME})\s+(interruptions)\s+(${NUM})(?:\s+(for)\s+(${DURATION}))?`,
        captures: cap(SC.role, kw("example"), SC.num, kw("example"), S("constant.numeric.duration")),
      },
      { match: String.raw`${STMT}(${NAME})(?:\s+(at)\s+(${NUM}))?`, captures: cap(SC.event, kw("example"), SC.num) },
      ...inc("string", "illegal", "punctuation"),
    ],
  }),
  expect: {
    patterns: [
      {
        begin: String.raw`\b(expect)\s+(passes|flags)\b`,
        beginCaptures: cap(kw("example"), kw("example")),
        end: "$",
        patterns: [...inc("comment", "punctuation"), { match: NAME, name: SC.clause }],
      },
      { match: String.raw`\b(expect)\s+(score)\b`, captures: cap(kw("example"), kw("example")) },
      {
        begin: String.raw`\b(expect)\s+(valid|invalid)\b`,
        beginCaptures: cap(kw("example"), kw("example")),
        end: "$",
        patterns: [{ match: String.raw`\bbecause\b`, name: kw("example") }, ...inc("comment", "punctuation"), { match: NAME, name: S("entity.name.function.condition") }],
      },
      {
        match: String.raw`\b(expect)\s+(escalation)\s+(to)\s+(${NAME})\s+(${NAME})`,
        captures: cap(kw("example"), kw("example"), kw("example"), SC.role, SC.status),
      },
      {
        // expect CLOCK [cycle N] STATUS [due DATETIME]; expect METRIC pass; expect RULE kept
        match: String.raw`\b(expect)\s+(${NAME})(?:\s+(cycle)\s+(${NUM}))?\s+(${NAME})(?:\s+(due)\b)?`,
        captures: cap(kw("example"), SC.clause, kw("example"), SC.num, SC.status, kw("example")),
      },
      { match: String.raw`\bexpect\b`, name: kw("example") },
      ...inc("literal"),
    ],
  },

  // ---- calendar NAME { open ... }
  calendar: block("calendar", {
    meta: "meta.declaration.calendar",
    scope: decl("calendar"),
    header: [declName(SC.calendar)],
    body: [
      { match: String.raw`\b(open)\s+(24x7)\b`, captures: cap(kw("calendar"), S("constant.language.always")) },
      {
        begin: String.raw`\b(open)\b`,
        beginCaptures: cap(kw("calendar")),
        end: "$",
        patterns: [
          ...inc("comment"),
          { match: HOURS, name: S("constant.other.hours") },
          { match: String.raw`(?i)\b(?:mon|tue|wed|thu|fri|sat|sun|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b`, name: S("constant.language.weekday") },
          { match: "-", name: S("keyword.operator.range") },
          ...inc("punctuation"),
          { match: NAME, name: S("invalid.illegal.weekday") },
        ],
      },
      { match: String.raw`\b(holidays)\s+(${NAME})`, captures: cap(kw("calendar"), S("support.constant.holidays")) },
      { match: String.raw`\b(timezone|closed|working)\b`, name: kw("calendar") },
      ...inc("string", "literal", "illegal", "punctuation"),
    ],
  }),

  // working time, `on CALENDAR`: the TIME of a deadline or an escalation step
  "time-spec": {
    patterns: [
      {
        match: String.raw`\b(by)\s+(${CLOCK})\s+(next)\s+(working)\s+(day)\b`,
        captures: cap(kw("time"), S("constant.other.time"), kw("time"), kw("time"), kw("time")),
      },
      {
        match: String.raw`\b(working)\s+(${NAME})(?:\s+(on)\s+(${NAME}))?`,
        captures: cap(kw("time"), SC.unit, kw("time"), SC.calendar),
      },
      { match: String.raw`(${DURATION})\s+(on)\s+(${NAME})`, captures: cap(S("constant.numeric.duration"), kw("time"), SC.calendar) },
    ],
  },

  // ---- deadline NAME ["words"] for RECORD { ... }
  deadline: block("deadline", {
    meta: "meta.declaration.deadline",
    scope: decl("deadline"),
    header: [declName(SC.deadline), wording, forRecord("deadline")],
    body: [
      { match: String.raw`\b(starts)\s+(at)\s+(${NAME})`, captures: cap(kw("deadline"), kw("deadline"), SC.field) },
      { match: String.raw`\b(starts|stops)\s+(on)\s+(${NAME})`, captures: cap(kw("deadline"), kw("deadline"), SC.event) },
      {
        match: String.raw`\b(pauses)\s+(on)\s+(${NAME})\s+(resumes)\s+(on)\s+(${NAME})(?:\s+(because)\b)?`,
        captures: cap(kw("deadline"), kw("deadline"), SC.event, kw("deadline"), kw("deadline"), SC.event, kw("deadline")),
      },
      { match: String.raw`\b(otherwise)\s+(within)\b`, captures: cap(kw("deadline"), kw("deadline")) },
      { match: String.raw`\b(within)\s+(?!by\b)(${NAME})`, captures: cap(kw("deadline"), SC.field) },
      { match: String.raw`\b(by)\s+(?!${CLOCK})(${NAME})`, captures: cap(kw("deadline"), SC.field) },
      { match: String.raw`\b(at)\s+(most)\b`, captures: cap(kw("deadline"), kw("deadline")) },
      { match: String.raw`\b(warn)\s+(at)\b`, captures: cap(kw("deadline"), kw("deadline")) },
      { match: String.raw`\b(warn)\s+(${DURATION})\s+(before)\b`, captures: cap(kw("deadline"), S("constant.numeric.duration"), kw("deadline")) },
      { match: String.raw`\b(update)\s+(every)\b`, captures: cap(kw("deadline"), kw("deadline")) },
      { match: String.raw`\b(with)\s+(${NAME})`, captures: cap(kw("deadline"), SC.event) },
      { match: String.raw`\b(reopens)\s+(on)\s+(${NAME})`, captures: cap(kw("deadline"), kw("deadline"), SC.event) },
      { match: String.raw`\b(new)\s+(cycle)\b`, captures: cap(kw("deadline"), kw("deadline")) },
      { match: String.raw`\b(continue)\b`, name: kw("deadline") },
      { match: String.raw`\b(until)\s+(${NAME})`, captures: cap(kw("deadline"), SC.event) },
      { match: String.raw`\b(calendar)\s+(${NAME})`, captures: cap(kw("deadline"), SC.calendar) },
      { match: String.raw`\b(within|when)\b`, name: kw("deadline") },
      ...inc("time-spec", "string-wording", "expression"),
    ],
  }),

  // ---- escalation NAME for RECORD { roles a -> b ... a -> b on breach of DEADLINE within TIME }
  escalation: block("escalation", {
    meta: "meta.declaration.escalation",
    scope: decl("escalation"),
    header: [declName(S("entity.name.function.escalation")), forRecord("escalation")],
    body: [
      {
        begin: String.raw`\b(roles)\b`,
        beginCaptures: cap(kw("escalation")),
        end: "$",
        patterns: [...inc("comment"), { match: "->", name: S("keyword.operator.arrow") }, { match: NAME, name: SC.role }],
      },
      { match: String.raw`(${NAME})\s*(->)\s*(${NAME})`, captures: cap(SC.role, S("keyword.operator.arrow"), SC.role) },
      ...inc("time-spec"),
      { match: String.raw`\b(on)\s+(breach)\s+(of)\s+(${NAME})`, captures: cap(kw("escalation"), kw("escalation"), kw("escalation"), SC.deadline) },
      { match: String.raw`\b(on)\s+(${NAME})`, captures: cap(kw("escalation"), SC.event) },
      { match: String.raw`\b(after|within)\b`, name: kw("escalation") },
      ...inc("literal", "illegal", "punctuation"),
    ],
  }),

  // ---- phrases NAME = ["...", ...]
  phrases: {
    name: S("meta.declaration.phrases"),
    begin: String.raw`\b(phrases)\b`,
    beginCaptures: cap(decl("phrases")),
    end: String.raw`(?<=[\]】］])|${TOP}`,
    patterns: [
      declName(S("entity.name.constant.phrases")),
      { match: "[=＝]", name: S("keyword.operator.assignment") },
      { include: "#phrase-list" },
      ...inc("comment"),
    ],
  },
  "phrase-list": {
    begin: LBRACKET,
    beginCaptures: { 0: { name: S("punctuation.section.brackets.begin") } },
    end: RBRACKET,
    endCaptures: { 0: { name: S("punctuation.section.brackets.end") } },
    name: S("meta.phrase-list"),
    patterns: inc("comment", "string-phrase", "punctuation"),
  },
  // a phrase set's name, one phrase, or a list in place
  "phrase-ref": {
    patterns: [...inc("string-phrase", "phrase-list"), { match: NAME, name: SC.phrases }],
  },

  // ---- transcript rules { ... }
  "transcript-rules": block("transcript", {
    meta: "meta.declaration.transcript-rules",
    scope: decl("transcript"),
    header: [{ match: String.raw`\b(rules)\b`, name: decl("transcript") }],
    body: [
      { include: "#situation" },
      {
        begin: String.raw`\b(normalise)\b`,
        beginCaptures: cap(kw("transcript")),
        end: "$",
        patterns: [
          ...inc("comment", "punctuation"),
          { match: String.raw`\b(?:traditional|width|case|punctuation|pinyin)\b`, name: S("constant.language.normalisation") },
          { match: NAME, name: S("invalid.illegal.normalisation") },
        ],
      },
      { match: String.raw`\b(score)\s+(from)\b`, captures: cap(kw("transcript"), kw("transcript")) },
      {
        match: String.raw`\b(ignore)\s+(${TURNS})\s+(below)\s+(confidence)\b`,
        captures: cap(kw("transcript"), kw("transcript"), kw("transcript"), kw("transcript")),
      },
      ...inc("transcript-rule"),
    ],
  }),
  situation: block("situation", {
    meta: "meta.block.situation",
    scope: kw("transcript"),
    header: [
      declName(SC.situation),
      wording,
      { begin: String.raw`\b(unless)\b`, beginCaptures: cap(kw("transcript")), end: String.raw`(?=${LBRACE})`, patterns: [...inc("comment", "punctuation"), { match: NAME, name: SC.situation }] },
      { match: String.raw`\b(when|and)\b`, name: kw("transcript") },
      ...inc("trigger", "phrase-ref"),
    ],
    body: inc("transcript-rule"),
  }),
  trigger: {
    patterns: [
      { match: String.raw`\b(trigger)\b`, name: kw("transcript") },
      { match: String.raw`\b(event)\s+(${NAME})`, captures: cap(kw("transcript"), SC.event) },
      { match: String.raw`(${NAME})\s+(says|silent)\b`, captures: cap(SC.role, kw("transcript")) },
      { match: String.raw`(${NAME})\s+(call)\b`, captures: cap(S("constant.language.direction"), kw("transcript")) },
    ],
  },
  // ID ["words"]: BODY [severity S] [points N]
  "transcript-rule": {
    patterns: [
      {
        match: String.raw`${STMT}(${NAME})\s*(${STR})?\s*(${COLON})`,
        captures: cap(S("entity.name.function.transcript-rule"), withPatterns("string-wording"), S("punctuation.separator.colon")),
      },
      {
        // require ROLE sentiment [not] S in last [N] turns
        match: String.raw`\b(require)\s+(${NAME})\s+(sentiment)(?:\s+(not))?\s+(${NAME})(?:\s+(in)\s+(last)(?:\s+(${D}+))?\s+(${TURNS})\b)?`,
        captures: cap(kw("transcript"), SC.role, kw("transcript"), kw("transcript"), S("constant.language.sentiment"), kw("transcript"), kw("transcript"), SC.num, kw("transcript")),
      },
      {
        match: String.raw`\b(forbid)\s+(${NAME})\s+(interruptions)(?:\s+(over)\b)?`,
        captures: cap(kw("transcript"), SC.role, kw("transcript"), kw("transcript")),
      },
      { match: String.raw`\b(no)\s+(interruptions)(?:\s+(over)\b)?`, captures: cap(kw("transcript"), kw("transcript"), kw("transcript")) },
      { match: String.raw`\b(hold|call)\s+(at)\s+(most)\b`, captures: cap(kw("transcript"), kw("transcript"), kw("transcript")) },
      { match: String.raw`\b(check)\s+(in)\s+(every)\b`, captures: cap(kw("transcript"), kw("transcript"), kw("transcript")) },
      { match: String.raw`\b(while)\s+(on)\s+(hold)\b`, captures: cap(kw("transcript"), kw("transcript"), kw("transcript")) },
      { match: String.raw`\b(speech)\s+(rate)\s+(between)\b`, captures: cap(kw("transcript"), kw("transcript"), kw("transcript")) },
      { match: String.raw`\b(and)\b`, name: kw("transcript") },
      { match: String.raw`\b(per)\s+(minute)\b`, captures: cap(kw("transcript"), kw("transcript")) },
      { match: String.raw`\b(wait)\s+(?=${D})`, captures: cap(kw("transcript")) },
      {
        match: String.raw`\b(in)\s+(first|last)(?:\s+(${D}+))?\s+(${NAME})\s+(${TURNS})\b`,
        captures: cap(kw("transcript"), kw("transcript"), SC.num, SC.role, kw("transcript")),
      },
      { match: String.raw`\b(in)\s+(${NAME})\s+(${TURNS})\b`, captures: cap(kw("transcript"), SC.role, kw("transcript")) },
      {
        match: String.raw`\b(within)\s+(${D}+)\s+(${NAME})\s+(${TURNS})\s+(after|before)\b`,
        captures: cap(kw("transcript"), SC.num, SC.role, kw("transcript"), kw("transcript")),
      },
      { match: String.raw`\b(before|after)\s+(hold)\b`, captures: cap(kw("transcript"), kw("transcript")) },
      { match: String.raw`\b(unless)\b`, name: kw("transcript") },
      { match: String.raw`\b(severity)\s+(${NAME})`, captures: cap(kw("transcript"), S("constant.language.severity")) },
      { match: String.raw`\b(require|forbid|prefer|over|except|steps|points)\b`, name: kw("transcript") },
      ...inc("trigger", "comment", "literal", "phrase-ref", "illegal", "punctuation"),
    ],
  },

  // ---- metric NAME ["words"]: VALUE OP THRESHOLD [by month of F, team]
  metric: {
    name: S("meta.declaration.metric"),
    begin: String.raw`\b(metric)\b`,
    beginCaptures: cap(decl("metric")),
    end: TOP,
    patterns: [
      { match: String.raw`\G\s*(${NAME})\s*(${STR})?`, captures: cap(S("entity.name.function.metric"), withPatterns("string-wording")) },
      { match: String.raw`\b(by)\b`, name: kw("metric") },
      { match: String.raw`\b(${NAME})\s+(of)\s+(${NAME})`, captures: cap(SC.period, kw("metric"), SC.field) },
      ...inc("expression"),
    ],
  },

  // ---- invariant [ID] "words" [for RECORD] { EXPR }
  invariant: block("invariant", {
    meta: "meta.declaration.invariant",
    scope: decl("invariant"),
    header: [declName(S("entity.name.function.invariant")), wording, forRecord("invariant")],
    body: inc("expression"),
  }),

  // ---- rule NAME ["words"] for RECORD { when ... require ... severity ... points ... }
  rule: block("rule", {
    meta: "meta.declaration.rule",
    scope: decl("rule"),
    header: [declName(S("entity.name.function.rule")), wording, forRecord("rule")],
    body: [
      {
        begin: String.raw`\b(require)\s+(at)\s+(least)\b`,
        beginCaptures: cap(kw("rule"), kw("rule"), kw("rule")),
        end: "$",
        patterns: [
          { match: String.raw`(${D}+)\s+(${NAME})\s+(per)\s+(${NAME})`, captures: cap(SC.num, SC.event, kw("rule"), SC.period) },
          { match: String.raw`\b(in|from|to)\b`, name: kw("rule") },
          ...inc("expression"),
        ],
      },
      { match: String.raw`\b(severity)\s+(${NAME})`, captures: cap(kw("rule"), S("constant.language.severity")) },
      { match: String.raw`\b(when|require|points)\b`, name: kw("rule") },
      ...inc("expression"),
    ],
  }),

  // ---- cites { CLAUSE: "SEED SECTION", ... }
  cites: block("cites", {
    meta: "meta.declaration.cites",
    wordPattern: String.raw`^\s*(cites)\b`,
    scope: decl("cites"),
    header: [],
    body: [
      { match: String.raw`(${NAME}(?:[.．]${NAME})?)\s*(${COLON})`, captures: cap({ patterns: [{ match: NAME, name: SC.clause }, { include: "#punctuation" }] }, S("punctuation.separator.colon")) },
      ...inc("string-citation", "illegal", "punctuation"),
    ],
  }),
};

const grammar = {
  $schema: "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
  name: "csdsl",
  scopeName: "source.csdsl",
  fileTypes: ["csp"],
  comment: "Generated by scripts/build-grammar.mjs: edit that file, then run `npm run grammar`.",
  patterns: inc(
    "comment",
    "header",
    "record",
    "validity",
    "unless",
    "example",
    "calendar",
    "deadline",
    "escalation",
    "phrases",
    "transcript-rules",
    "metric",
    "invariant",
    "rule",
    "cites",
    "string",
    "literal",
    "illegal",
    "punctuation",
  ),
  repository,
};

const text = JSON.stringify(grammar, null, 2) + "\n";
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(OUT, "utf8");
  } catch {
    // missing: reported below
  }
  if (current !== text) {
    console.error(`${OUT} is not what scripts/build-grammar.mjs writes: run \`npm run grammar\` and commit it`);
    process.exit(1);
  }
} else {
  writeFileSync(OUT, text);
  console.log(`wrote ${OUT}`);
}
