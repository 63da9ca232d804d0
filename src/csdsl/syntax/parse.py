"""`.csp` text -> AST, or syntax diagnostics a policy owner can act on.

In: a `SourceFile`.  Out: `(Module | None, diagnostics)`.

Two things happen before lark sees the text:
- full-width punctuation typed by a Chinese input method, outside strings and comments, is read as
  its half-width twin (`：` as `:`, `，` as `,`, `（）` as `()`, `“…”` as `"…"`, `、` as `,`,
  `【】` as `[]`, and every other full-width ASCII form U+FF01-U+FF5E).  Each replacement is one
  character for one, so every line and column stays true to the file;
- comments are collected, for the formatter.

Lark's exceptions are then turned into diagnostics by `_explain`, a table of the mistakes policy
owners actually make (missing brace or colon, unterminated string, `==`, misspelt keyword, ...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import attrs
from lark import Token
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from csdsl.diagnostics import Diagnostic, Related, did_you_mean, error, rename
from csdsl.source import SourceFile, Span
from csdsl.syntax import ast, repair
from csdsl.syntax.build import Builder
from csdsl.syntax.grammar import CLAUSE_WORDS, KEYWORDS, TOP_LEVEL, parser

FULL_WIDTH_EXTRA = {
    "“": '"',
    "”": '"',
    "、": ",",
    "【": "[",
    "】": "]",
    "\u3000": " ",
    "〈": "<",
    "〉": ">",
    "《": "<",
    "》": ">",
}


_HALF_WIDTH: dict[int, int | str] = {
    **{c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)},
    **{ord(k): v for k, v in FULL_WIDTH_EXTRA.items()},
}
# comments, and strings opened by `"` or by a full-width `“` (closed by `”` or `"`)
_SEGMENTS = re.compile(
    r'[#＃][^\n]*|"(?:[^"\\\n]|\\.)*"?|“(?:[^"”\\\n]|\\.)*["”]?|＂(?:[^"＂\\\n]|\\.)*["＂]?'
)


def normalise(text: str, file: str) -> tuple[str, tuple[ast.Comment, ...]]:
    """Map full-width punctuation outside strings/comments; collect comments.

    Returns the mapped text (the same length as `text`, so every position stays true) and the
    comments.
    """
    src = SourceFile(file, text)
    out: list[str] = []
    comments: list[ast.Comment] = []
    pos = 0
    for m in _SEGMENTS.finditer(text):
        out.append(text[pos : m.start()].translate(_HALF_WIDTH))
        piece = m.group()
        if piece[0] in "#＃":
            comments.append(ast.Comment("#" + piece[1:].rstrip(), src.span(m.start(), m.end())))
            piece = "#" + piece[1:]
        elif piece[0] in "“＂":
            closed = len(piece) > 1 and piece[-1] in '"”＂'
            piece = '"' + (piece[1:-1] + '"' if closed else piece[1:])
        out.append(piece)
        pos = m.end()
    out.append(text[pos:].translate(_HALF_WIDTH))
    return "".join(out), tuple(comments)


def code_only(text: str) -> str:
    """`text` with every string and comment blanked out, for checks that must not look inside."""
    return _SEGMENTS.sub(lambda m: " " * len(m.group()), text)


def parse(source: SourceFile) -> tuple[ast.Module | None, list[Diagnostic]]:
    text, comments = normalise(source.text, source.name)
    code = code_only(text)
    for pattern, message, hint in _LITERAL_MISTAKES:
        bad = pattern.search(code)
        if bad:
            mapped = SourceFile(source.name, text)
            where = mapped.span(bad.start(), bad.end())
            word = bad.group()
            fixes = (
                repair.one_digit_hour(mapped, bad.start(), bad.end())
                if "T" in word
                else repair.duration(mapped, bad.start(), bad.end(), word[:-1], word[-1])
            )
            return None, [error("E112", message.format(word), where, hint, fixes=fixes)]
    try:
        tree = parser().parse(text)
    except UnexpectedInput as exc:
        mapped = SourceFile(source.name, text)
        stop = (exc.pos_in_stream or 0) + 1
        spaced = _SPACED_UNIT.search(code, 0, stop + 16)
        if spaced:
            number, unit = spaced.group(1), _UNIT_WORDS[spaced.group(2).lower()]
            hint = (
                f"write `{number}{unit}` (no space, one-letter unit)"
                if "." not in number
                else "durations are whole numbers of units with no space: write `1h30m` for an "
                "hour and a half"
            )
            return None, [
                error(
                    "E112",
                    f"`{spaced.group()}` is not a duration",
                    mapped.span(spaced.start(), spaced.end()),
                    hint,
                    fixes=repair.duration(mapped, spaced.start(), spaced.end(), number, unit),
                )
            ]
        # `24x7` is the one word that starts with digits
        glued = next((m for m in _GLUED.finditer(code, 0, stop) if m.group() != "24x7"), None)
        if glued:
            amount = _NUMBER.match(glued.group())
            number = amount.group() if amount else ""
            glued_unit = _UNIT_WORDS.get(glued.group()[len(number) :].lower())
            return None, [
                error(
                    "E112",
                    f"`{glued.group()}` is not a number, duration or date",
                    mapped.span(glued.start(), glued.end()),
                    _LITERAL_FORMS,
                    fixes=repair.duration(mapped, glued.start(), glued.end(), number, glued_unit)
                    if glued_unit and number
                    else [],
                )
            ]
        diag = _explain(exc, mapped, source.text)
        return None, [_show_original(diag, source, mapped)]
    builder = Builder(source)
    try:
        module = builder.transform(tree)
    except RecursionError:
        return None, [too_deep(source)]
    except VisitError as exc:  # lark wraps what a rule's callback raises
        if isinstance(exc.orig_exc, RecursionError):
            return None, [too_deep(source)]
        raise
    module = ast.Module(module.header, module.items, comments, span=module.span)
    deepest = _deeper_than(module, MAX_DEPTH)
    if deepest is not None:
        return None, [
            error(
                "E118",
                f"this expression nests more than {MAX_DEPTH} deep (operators, parentheses)",
                deepest.span,
                "split it into several named conditions, or list values with `in [...]`",
            )
        ]
    return module, builder.problems


# the deepest expression every stage (checker, interpreter, cache, each compile target) takes
# from any caller: a fixed bound, so that `check` and `validate` never disagree on a policy
# because one of them was called from deeper in the stack
MAX_DEPTH = 200
_NESTED = (
    ast.Neg,
    ast.BinOp,
    ast.Compare,
    ast.And,
    ast.Or,
    ast.Not,
    ast.IsSet,
    ast.IsMissing,
    ast.InList,
    ast.Contains,
    ast.Call,
)


def _node_fields(cls: type) -> tuple[str, ...] | None:
    """The names of the fields of a syntax node class; None for any other class."""
    if not attrs.has(cls) or issubclass(cls, Span):
        return None
    return tuple(f.name for f in attrs.fields(cls))


def _deeper_than(module: ast.Module, limit: int) -> Any | None:
    """The outermost expression holding one nested more than `limit` deep, walked without
    recursion."""
    stack: list[tuple[Any, int, Any]] = [(module, 0, None)]
    # per class, the names of its fields, or None for what is not a node (a span, a string):
    # worked out once a class, as this walks every node of every file parsed
    fields = {ast.Module: _node_fields(ast.Module)}
    while stack:
        node, depth, outer = stack.pop()
        if isinstance(node, _NESTED):
            depth += 1
            outer = outer or node
            if depth > limit:
                return outer
        for name in fields[type(node)] or ():
            value = getattr(node, name)
            for v in value if isinstance(value, tuple) else (value,):
                cls = type(v)
                if cls not in fields:
                    fields[cls] = _node_fields(cls)
                if fields[cls] is not None:
                    stack.append((v, depth, outer))
    return None


# ---- syntax errors -------------------------------------------------------------------------

_GLUED = re.compile(r"(?<![\w.:\-])\d+(?:\.\d+)?(?![dhms](?:\d|\b))[^\W\d]\w*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_UNIT_WORDS = {
    "d": "d",
    "day": "d",
    "days": "d",
    "天": "d",
    "h": "h",
    "hour": "h",
    "hours": "h",
    "hr": "h",
    "hrs": "h",
    "小时": "h",
    "m": "m",
    "min": "m",
    "mins": "m",
    "minute": "m",
    "minutes": "m",
    "分钟": "m",
    "分": "m",
    "s": "s",
    "sec": "s",
    "secs": "s",
    "second": "s",
    "seconds": "s",
    "秒": "s",
}
_SPACED_UNIT = re.compile(
    r"(?<![\w.:\-])(\d+(?:\.\d+)?)[ \t]+("
    + "|".join(sorted(_UNIT_WORDS, key=len, reverse=True))
    + r")(?!\w)",
    re.IGNORECASE,
)
_LITERAL_MISTAKES = (
    (
        re.compile(r"(?<![\w.:])\d+\.\d+[dhms](?!\w)"),
        "`{}` is not a duration",
        "durations are whole numbers of units: write `1h30m` for an hour and a half",
    ),
    (
        re.compile(r"(?<![\w.:\-])\d{4}-\d{2}-\d{2}T(?!\d{2}:\d{2})[\w:.+\-]*"),
        "`{}` is not a datetime",
        "write the time with two-digit hours and minutes, e.g. `2024-10-29T09:00`",
    ),
)
_LITERAL_FORMS = (
    "durations are written `15s`, `2m`, `4h`, `3d` or `2h30m`; dates `2024-10-29`; "
    "datetimes `2024-10-29T09:00`"
)


def _show_original(diag: Diagnostic, source: SourceFile, mapped: SourceFile) -> Diagnostic:
    """Name a full-width character as the author typed it: unexpected `（` (read as `(`)."""
    s = diag.span
    if s.line != s.end_line or s.end_column - s.column != 1:
        return diag
    typed = source.line_text(s.line)[s.column - 1 : s.column]
    read = mapped.line_text(s.line)[s.column - 1 : s.column]
    if typed == read or not typed:
        return diag
    shown = f"`{typed}` (read as `{read}`)"
    fixes = tuple(
        attrs.evolve(f, title=f.title.replace(f"`{read}`", f"`{typed}`")) for f in diag.fixes
    )
    return attrs.evolve(diag, message=diag.message.replace(f"`{read}`", shown, 1), fixes=fixes)


_NAMES = {
    "NAME": "a name",
    "STRING": "a string in double quotes",
    "NUMBER": "a number",
    "DURATION": "a duration such as `4h`",
    "DATE": "a date such as `2024-10-29`",
    "DATETIME": "a datetime",
    "PERCENT": "a percentage",
    "COMPARE": "a comparison such as `=`",
    "ADD_OP": "`+` or `-`",
    "MUL_OP": "`*` or `/`",
    "OPTIONAL": "`?`",
    "$END": "the end of the file",
}


def _terminal_text(name: str) -> str:
    if name in _NAMES:
        return _NAMES[name]
    try:
        pattern = parser().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    return f"`{pattern.value}`" if pattern.type == "str" else name.lower()


def _keyword_terminals(expected: set[str]) -> list[str]:
    words = []
    for name in expected:
        text = _terminal_text(name).strip("`")
        if text in KEYWORDS or text in CLAUSE_WORDS:
            words.append(text)
    return words


def _span_at(src: SourceFile, line: int, column: int, length: int = 1) -> Span:
    return Span(src.name, line, column, line, column + max(1, length))


def _open_brackets(src: SourceFile) -> list[int]:
    """Offsets of the `{`, `(` and `[` still open at the end (outside strings and comments)."""
    stack: list[int] = []
    text = src.text
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "#":
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl
            continue
        if ch == '"':
            j = i + 1
            while j < len(text) and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if ch in "{([":
            stack.append(i)
        elif ch in "})]" and stack:
            stack.pop()
        i += 1
    return stack


def _unclosed_brace(src: SourceFile) -> Span | None:
    """The last `{`, `(` or `[` that is never closed (outside strings and comments)."""
    stack = _open_brackets(src)
    return src.span(stack[-1], stack[-1] + 1) if stack else None


def _explain(exc: UnexpectedInput, src: SourceFile, typed: str) -> Diagnostic:
    """`src`: the text as lark read it (full-width punctuation mapped); `typed`: as written."""
    line, column = exc.line, exc.column
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(exc, src, typed)
    token: Token | None = getattr(exc, "token", None)
    expected: set[str] = set(getattr(exc, "expected", set()) or set())
    if isinstance(exc, UnexpectedToken) and token is not None and token.type == "$END":
        expected = set(exc.accepts or expected)
        return _at_end(src, expected)
    if isinstance(exc, UnexpectedEOF) or token is None:
        return _at_end(src, expected)
    assert isinstance(exc, UnexpectedToken)
    expected = set(exc.accepts or expected)
    value = str(token)
    span = _span_at(src, line, column, len(value))
    pos = token.start_pos or 0
    before = src.text[:pos].rstrip()

    line_start = src.text.rfind("\n", 0, pos) + 1
    first_word = src.text[line_start:].split(maxsplit=1)[:1]
    if (
        first_word
        and first_word[0] in _BLOCK_STARTS
        and line_start <= pos
        and src.text[line_start] not in " \t"
    ):
        opener = _unclosed_brace(SourceFile(src.name, src.text[:line_start]))
        if opener is not None:
            kw = first_word[0]
            return error(
                "E106",
                f"missing `}}` before `{kw}`",
                src.span(line_start, line_start + len(kw)),
                "close the block above with `}`",
                [Related("the block opened here", opener)],
                repair.close_block(src, line, opener),
            )
    if (
        pos > 0
        and value[:1].isidentifier()
        and (src.text[pos - 1].isalnum() or src.text[pos - 1] == "_")
    ):
        # the contextual lexer read a keyword off the front of a longer word (`anyy`, `validx`)
        start = pos
        while start > 0 and (src.text[start - 1].isalnum() or src.text[start - 1] == "_"):
            start -= 1
        word = src.text[start : pos + len(value)]
        return error(
            "E108",
            f"unknown keyword `{word}`",
            src.span(start, pos + len(value)),
            did_you_mean(word, KEYWORDS) or "check the spelling",
            fixes=rename(src.span(start, pos + len(value)), word, KEYWORDS),
        )
    if value == "=" and src.text[pos - 1 : pos] == "=":
        return error(
            "E104",
            "`==` is not an operator",
            _span_at(src, line, column - 1, 2),
            "use a single `=` to compare two values",
            fixes=repair.rewrite(src, pos - 1, pos + 1, "="),
        )
    if value == "=" and before.endswith(("<", ">", "!")):
        return error(
            "E101",
            f"unexpected `{before[-1]} =`",
            span,
            f"write `{before[-1]}=` without a space",
            fixes=repair.rewrite(src, len(before) - 1, pos + 1, f"{before[-1]}="),
        )
    if value == "=" and "COLON" in expected:
        return error(
            "E105",
            "`=` where `:` was expected",
            span,
            "a field and its type or value are separated by `:`, e.g. `agent_rude: true`",
            fixes=repair.rewrite(src, len(before), pos + 1, ":"),
        )
    if "COLON" in expected and token.type in (
        "NAME",
        "STRING",
        "ENUM",
        "TRUE",
        "FALSE",
        "NUMBER",
        "DURATION",
        "NOT",
        "LPAR",
        "MINUS",
    ):
        prev_start = _word_start(src.text, len(before))
        prev = src.text[prev_start : len(before)]
        prev_span = src.span(prev_start, len(before))
        line_start = src.text.rfind("\n", 0, prev_start) + 1
        if prev in _CLAUSE_WORDS and not src.text[line_start:prev_start].strip():
            # a clause keyword read as a field or condition name: the block above is not closed
            opener = _unclosed_brace(SourceFile(src.name, src.text[:prev_start]))
            related = [Related("the block opened here", opener)] if opener else []
            return error(
                "E106",
                f"missing `}}` before `{prev}`",
                prev_span,
                "close the block above with `}`",
                related,
                repair.close_block(src, prev_span.line, opener) if opener else [],
            )
        operator = did_you_mean(prev, _OPERATOR_WORDS)
        if operator and prev not in _OPERATOR_WORDS:
            return error(
                "E108",
                f"unknown keyword `{prev}`",
                prev_span,
                operator,
                fixes=rename(prev_span, prev, _OPERATOR_WORDS),
            )
        if before.endswith('"'):
            return error(
                "E105",
                "missing `:` after the wording",
                span,
                'write `id "wording": condition`',
                fixes=repair.missing_colon(src, len(before)),
            )
        return error(
            "E105",
            f"missing `:` after `{prev}`",
            span,
            "put `:` between a name and its type, value or condition",
            fixes=repair.missing_colon(src, len(before)),
        )
    if token.type == "NOT" and before.endswith("is"):
        return error(
            "E101",
            "`is not set` is not a test",
            span,
            "write `is missing` (or `is set` for the opposite)",
            fixes=repair.is_not_set(src, pos),
        )
    if token.type == "POLICY" and before:
        return error(
            "E114",
            "the `policy` header must come first in the file",
            span,
            "move the `policy ...` line above every import and declaration",
        )
    if token.type == "NAME":
        words: Sequence[str] = _keyword_terminals(expected)
        suggestion = did_you_mean(value, words) if words else None
        if (suggestion is None and before == "") or (
            words and set(words) <= set(TOP_LEVEL) | {"policy", "version", "effective", "timezone"}
        ):
            words = words if suggestion else TOP_LEVEL
            suggestion = suggestion or did_you_mean(value, TOP_LEVEL)
        if suggestion:
            return error(
                "E108",
                f"unknown keyword `{value}`",
                span,
                suggestion,
                fixes=rename(span, value, words),
            )
    if token.type in ("RBRACE",) and any(e in expected for e in ("NAME", "NUMBER", "LPAR")):
        start = _word_start(src.text, len(before)) if before[-1:].isalnum() else len(before) - 1
        dangling = src.text[start : len(before)] or value
        return error(
            "E109",
            f"an expression is missing after `{dangling}`",
            src.span(start, len(before)) if before else span,
            "finish the expression, or remove the dangling operator",
        )
    if "RBRACE" in expected and token.type in ("POLICY", "RECORD", "VALID", "EXAMPLE", "IMPORT"):
        opener = _unclosed_brace(SourceFile(src.name, src.text[:pos]))
        related = [Related("the block opened here", opener)] if opener else []
        return error(
            "E106",
            "missing `}` before the next declaration",
            span,
            "close the block above with `}`",
            related,
            repair.close_block(src, line, opener) if opener else [],
        )
    if first_word and first_word[0] == "expect":
        end = src.text.find("\n", line_start)
        end = len(src.text) if end < 0 else end
        start = line_start + len(src.text[line_start:end]) - len(src.text[line_start:end].lstrip())
        inner = _open_brackets(SourceFile(src.name, src.text[:line_start]))
        if len(inner) > 1:  # an `expect` line belongs directly inside its example
            opener = src.span(inner[-1], inner[-1] + 1)
            return error(
                "E106",
                "missing `}` before `expect`",
                src.span(start, start + len("expect")),
                "close the block above with `}`",
                [Related("the block opened here", opener)],
                repair.close_block(src, line, opener),
            )
        return error(
            "E117",
            "this `expect` line is not understood",
            src.span(start, len(src.text[:end].rstrip())),
            "write `expect valid|invalid [because c1, c2]`, `expect DEADLINE STATUS [due "
            "DATETIME]` or `expect escalation to ROLE STATUS` (STATUS: met, breached, pending, "
            "not_applicable)",
        )
    exp = sorted({_terminal_text(e) for e in expected})
    hint = "expected " + (", ".join(exp[:6]) + (", ..." if len(exp) > 6 else "")) if exp else None
    what = "a string" if token.type == "STRING" else f"`{value}`"
    return error("E101", f"unexpected {what}", span, hint)


_BLOCK_STARTS = frozenset({"policy", *TOP_LEVEL})  # words that open a declaration
_CLAUSE_WORDS = frozenset(
    {"policy", "import", "record", "valid", "example", "given", "expect", "unless"}
)
_OPERATOR_WORDS = ("and", "or", "not", "is", "in", "contains")


def _word_start(text: str, end: int) -> int:
    start = end
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "{}()[],:":
        start -= 1
    return start


def _at_end(src: SourceFile, expected: set[str]) -> Diagnostic:
    last_line = src.line_count
    end_col = len(src.line_text(last_line)) + 1
    span = Span(src.name, last_line, end_col, last_line, end_col)
    opener = _unclosed_brace(src)
    if opener is not None:
        closer = {"{": "}", "(": ")", "[": "]"}[src.text[src.offset(opener.line, opener.column)]]
        return error(
            "E106",
            f"missing `{closer}`: the file ends inside a block",
            opener,
            f"close it with `{closer}`",
            fixes=repair.close_block(src, src.line_count + 1, opener),
        )
    exp = sorted({_terminal_text(e) for e in expected})
    return error(
        "E110",
        "the file ends in the middle of a declaration",
        span,
        ("expected " + ", ".join(exp[:6])) if exp else None,
    )


def _bad_character(exc: UnexpectedCharacters, src: SourceFile, typed: str) -> Diagnostic:
    pos = exc.pos_in_stream or 0
    ch = src.text[pos] if pos < len(src.text) else ""
    span = _span_at(src, exc.line, exc.column)
    rest = src.text[pos:]
    if ch == '"':
        end = src.text.find("\n", pos)
        end = len(src.text) if end < 0 else end
        return error(
            "E102",
            "unterminated string",
            src.span(pos, end),
            'close the string with `"` on the same line (use `\\n` for a line break)',
        )
    for c_style, word in (("&&", "and"), ("||", "or")):
        if rest.startswith(c_style):
            return error(
                "E111",
                f"`{c_style}` is not an operator",
                _span_at(src, exc.line, exc.column, 2),
                f"use `{word}`",
                fixes=repair.spaced_word(src, pos, pos + 2, word),
            )
    if ch == "!":
        return error("E111", "`!` is not an operator", span, "use `not`, or `!=` for 'not equal'")
    if ch == "'":
        return error(
            "E102",
            "strings use double quotes",
            span,
            "write \"text\" instead of 'text'",
            fixes=repair.single_quoted(src, pos, typed),
        )
    if ch.isdigit():
        word = rest.split()[0] if rest.split() else ch
        return error(
            "E112", f"`{word[:20]}` is not a number, duration or date", span, _LITERAL_FORMS
        )
    return error(
        "E113",
        f"unexpected character `{ch}`",
        span,
        "remove it; only names, literals, operators and brackets may appear here",
        fixes=repair.trailing_terminator(src, pos),
    )


def format_source(source: SourceFile) -> tuple[str | None, list[Diagnostic]]:
    """Canonical text of a file, or the syntax diagnostics that stop it being formatted."""
    from csdsl.syntax.format import format_module

    module, diags = parse(source)
    if module is None or any(d.is_error for d in diags):
        return None, diags
    try:
        return format_module(module), diags
    except RecursionError:
        return None, [too_deep(source)]


_NESTING = re.compile(r"[()\[\]]|\b(?:and|or|not)\b|[-+*/]")


def too_deep(source: SourceFile) -> Diagnostic:
    """E118: an expression nested or chained beyond what the compiler's recursion can take,
    pointed at the line with the most operators and brackets."""
    code = code_only(source.text).splitlines() or [""]
    line = max(range(len(code)), key=lambda i: len(_NESTING.findall(code[i])))
    text = code[line]
    start = len(text) - len(text.lstrip())
    return error(
        "E118",
        "this expression nests too deeply to compile",
        Span(source.name, line + 1, start + 1, line + 1, max(len(text.rstrip()), start) + 1),
        "split it into several named conditions, or list values with `in [...]`",
    )
