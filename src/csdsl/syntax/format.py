"""The canonical layout of a `.csp` file.

In: an `ast.Module` (with the comments the parser collected).  Out: text.  Printing then parsing
gives back an equal AST, printing is idempotent, and every comment is kept: a comment on the
last line of a clause stays at the end of that line, any other comment inside a clause moves to
the line before it.  Full-width punctuation outside strings comes out half-width.
"""

from __future__ import annotations

import datetime as dt
import decimal
import unicodedata
from collections.abc import Sequence

import attrs

from csdsl import values
from csdsl.source import Span
from csdsl.syntax import ast

WIDTH = 100
INDENT = "  "

# ---- expressions ---------------------------------------------------------------------------

_PREC_OR, _PREC_AND, _PREC_NOT, _PREC_CMP, _PREC_SUM, _PREC_PROD, _PREC_UNARY, _PREC_ATOM = range(
    1, 9
)


def _prec(e: ast.Expr | ast.Value) -> int:
    if isinstance(e, ast.Or):
        return _PREC_OR
    if isinstance(e, ast.And):
        return _PREC_AND
    if isinstance(e, ast.Not):
        return _PREC_NOT
    if isinstance(e, ast.Compare | ast.IsSet | ast.IsMissing | ast.InList | ast.Contains):
        return _PREC_CMP
    if isinstance(e, ast.BinOp):
        return _PREC_SUM if e.op in "+-" else _PREC_PROD
    if isinstance(e, ast.Neg):
        return _PREC_UNARY
    return _PREC_ATOM


def quote(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or ch == "\x85":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _number(v: int | float) -> str:
    if isinstance(v, int):
        return str(v)
    text = repr(v)
    if "e" in text or "E" in text:
        # positional notation of the shortest repr: parses back to the same float
        text = format(decimal.Decimal(text), "f")
        text = text if "." in text else text + ".0"
    return text


def _datetime(v: dt.datetime) -> str:
    return v.isoformat()


def expr_text(e: ast.Expr | ast.Value, min_prec: int = 0) -> str:
    """One-line text of an expression; parenthesised when its precedence is below `min_prec`."""
    text = _expr(e)
    return f"({text})" if _prec(e) < min_prec else text


def _expr(e: ast.Expr | ast.Value) -> str:
    if isinstance(e, ast.Name):
        return e.id
    if isinstance(e, ast.Number):
        return e.text or _number(e.value)
    if isinstance(e, ast.Percent):
        return e.text or f"{_number(e.value)}%"
    if isinstance(e, ast.Duration):
        return e.text or values.canonical_compact(e.seconds)
    if isinstance(e, ast.DateLit):
        return e.value.isoformat()
    if isinstance(e, ast.DateTimeLit):
        return e.text or _datetime(e.value)
    if isinstance(e, ast.String):
        return quote(e.value)
    if isinstance(e, ast.Bool):
        return "true" if e.value else "false"
    if isinstance(e, ast.Missing):
        return "missing"
    if isinstance(e, ast.Neg):
        return "-" + expr_text(e.operand, _PREC_UNARY)
    if isinstance(e, ast.Or):
        return f"{expr_text(e.left, _PREC_OR)} or {expr_text(e.right, _PREC_AND)}"
    if isinstance(e, ast.And):
        return f"{expr_text(e.left, _PREC_AND)} and {expr_text(e.right, _PREC_NOT)}"
    if isinstance(e, ast.Not):
        return "not " + expr_text(e.operand, _PREC_NOT)
    if isinstance(e, ast.Compare):
        return f"{expr_text(e.left, _PREC_SUM)} {e.op} {expr_text(e.right, _PREC_SUM)}"
    if isinstance(e, ast.IsSet):
        return f"{expr_text(e.operand, _PREC_SUM)} is set"
    if isinstance(e, ast.IsMissing):
        return f"{expr_text(e.operand, _PREC_SUM)} is missing"
    if isinstance(e, ast.InList):
        items = ", ".join(expr_text(i, _PREC_SUM) for i in e.items)
        word = "not in" if e.negated else "in"
        return f"{expr_text(e.operand, _PREC_SUM)} {word} [{items}]"
    if isinstance(e, ast.Contains):
        return f"{expr_text(e.left, _PREC_SUM)} contains {expr_text(e.right, _PREC_SUM)}"
    if isinstance(e, ast.BinOp):
        p = _PREC_SUM if e.op in "+-" else _PREC_PROD
        return f"{expr_text(e.left, p)} {e.op} {expr_text(e.right, p + 1)}"
    if isinstance(e, ast.Call) and e.inner is not None:
        return f"{e.func.name}({e.inner.name}({e.record.name}))"
    if isinstance(e, ast.Call):
        arg = f"{expr_text(e.arg)}, " if e.arg is not None else ""
        field = f".{e.field.name}" if e.field is not None else ""
        where = f" where {expr_text(e.where)}" if e.where is not None else ""
        return f"{e.func.name}({arg}{e.record.name}{field}{where})"
    raise AssertionError(f"unexpected node {e!r}")  # pragma: no cover


def _chain(e: ast.Expr) -> tuple[str, list[ast.Expr]] | None:
    """The operands of a root `and`/`or` chain, for breaking a long condition over lines."""
    if not isinstance(e, ast.And | ast.Or):
        return None
    kind = type(e)
    operands: list[ast.Expr] = []
    node: ast.Expr = e
    while isinstance(node, kind):
        operands.append(node.right)
        node = node.left
    operands.append(node)
    operands.reverse()
    return ("and" if kind is ast.And else "or", operands)


# ---- layout with comments ------------------------------------------------------------------


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@attrs.define
class _Line:
    depth: int
    text: str
    comment: str | None = None
    group: int | None = None  # lines of one group get their trailing comments aligned


@attrs.define
class _Printer:
    comments: list[ast.Comment]
    lines: list[_Line] = attrs.Factory(list)
    next_comment: int = 0
    group: int = 0
    last: int = 0  # the last source line emitted: a gap after it becomes one blank line

    def pending(self) -> ast.Comment | None:
        if self.next_comment < len(self.comments):
            return self.comments[self.next_comment]
        return None

    def leading(self, before_line: int, depth: int) -> None:
        """Emit, on their own lines, the comments that come before `before_line`."""
        while (c := self.pending()) is not None and c.span.line < before_line:
            self.gap(c.span.line)
            self.lines.append(_Line(depth, c.text))
            self.next_comment += 1
            self.last = c.span.line

    def gap(self, line: int) -> None:
        """One blank line where the source has one or more between `self.last` and `line`."""
        if self.last and line - self.last > 1 and self.lines:
            self.blank()

    def trailing(self, line: int) -> str | None:
        c = self.pending()
        if c is not None and c.span.line == line:
            self.next_comment += 1
            return c.text
        return None

    def emit(self, depth: int, text: str, comment: str | None = None) -> _Line:
        line = _Line(depth, text, comment, self.group)
        self.lines.append(line)
        return line

    def blank(self) -> None:
        if self.lines and self.lines[-1].text != "":
            self.lines.append(_Line(0, ""))

    def clause(self, span_line: int, span_end: int, depth: int, out: Sequence[str]) -> None:
        """A clause printed as `out` lines: inner comments before it, a last-line one after."""
        self.leading(span_line, depth)
        self.gap(span_line)
        while (c := self.pending()) is not None and span_line <= c.span.line < span_end:
            self.lines.append(_Line(depth, c.text))
            self.next_comment += 1
        *head, last = out
        for text in head:
            self.emit(depth, text)
        self.emit(depth, last, self.trailing(span_end))
        self.last = max(self.last, span_end)

    def render(self) -> str:
        # trailing comments of consecutive lines (a run) start in one column
        column = [0] * len(self.lines)
        i = 0
        while i < len(self.lines):
            j = i
            while (
                j < len(self.lines)
                and self.lines[j].comment is not None
                and self.lines[j].group == self.lines[i].group
            ):
                j += 1
            if j > i:
                col = max(len(INDENT) * ln.depth + width(ln.text) for ln in self.lines[i:j])
                column[i:j] = [col] * (j - i)
            i = max(j, i + 1)
        out = []
        for ln, col in zip(self.lines, column, strict=True):
            text = (INDENT * ln.depth + ln.text) if ln.text else ""
            if ln.comment is not None:
                text = text + " " * max(0, col - width(text)) + "  " + ln.comment
            out.append(text.rstrip())
        while out and out[-1] == "":
            out.pop()
        return "\n".join(out) + "\n"


def format_module(module: ast.Module) -> str:
    p = _Printer(sorted(module.comments, key=lambda c: (c.span.line, c.span.column)))
    h = module.header
    if h is not None:
        parts = [f"policy {quote(h.name)}"]
        if h.version is not None:
            parts.append(f"version {quote(h.version)}")
        if h.effective is not None:
            parts.append(f"effective {h.effective.isoformat()}")
        if h.timezone is not None:
            parts.append(f"timezone {quote(h.timezone)}")
        p.clause(h.span.line, h.span.end_line, 0, [" ".join(parts)])
    previous: ast.Item | ast.Header | None = h
    for item in module.items:
        if previous is not None and not (
            isinstance(item, ast.Import) and isinstance(previous, ast.Import)
        ):
            p.blank()
            # a comment block directly above an item stays attached to it
        p.group += 1
        if isinstance(item, ast.Import):
            word = "include" if item.include else "import"
            p.clause(item.span.line, item.span.end_line, 0, [f"{word} {quote(item.path)}"])
        elif isinstance(item, ast.RecordDecl):
            _record(p, item)
        elif isinstance(item, ast.Validity):
            _validity(p, item)
        elif isinstance(item, ast.Example):
            _example(p, item)
        elif isinstance(item, ast.PhrasesDecl):
            _phrases(p, item)
        elif isinstance(item, ast.TranscriptRules):
            _transcript_rules(p, item)
        elif isinstance(item, ast.TranscriptExample):
            _transcript_example(p, item)
        elif isinstance(item, ast.MetricDecl):
            _metric(p, item)
        elif isinstance(item, ast.InvariantDecl):
            _invariant(p, item)
        elif isinstance(item, ast.CitesDecl):
            _cites(p, item)
        elif isinstance(item, ast.RuleDecl):
            _rule(p, item)
        else:
            _block(p, item)
        previous = item
    p.leading(10**9, 0)
    return p.render()


def _open(p: _Printer, span: Span, text: str, first_member: int | None) -> None:
    """The opening line of a block; a comment on it stays here unless a member shares it."""
    p.leading(span.line, 0)
    p.gap(span.line)
    p.emit(0, text, p.trailing(span.line) if first_member != span.line else None)
    p.last = span.line


def _close(p: _Printer, end_line: int, depth: int, text: str = "}") -> None:
    p.leading(end_line, depth + 1)
    p.emit(depth, text, p.trailing(end_line))
    p.last = max(p.last, end_line)


def _type(t: ast.TypeRef) -> str:
    if isinstance(t, ast.EnumType):
        return "enum(" + ", ".join(v.name for v in t.values) + ")"
    return t.name.name


def _record(p: _Printer, r: ast.RecordDecl) -> None:
    _open(p, r.span, f"record {r.name.name} {{", r.fields[0].span.line if r.fields else None)
    for f in r.fields:
        text = f"{f.name.name}: {_type(f.type)}{'?' if f.optional else ''}"
        p.clause(f.span.line, f.span.end_line, 1, [text])
    _close(p, r.span.end_line, 0)


def _condition_lines(c: ast.Condition, depth: int) -> list[str]:
    head = c.id.name + (f" {quote(c.wording)}" if c.wording is not None else "") + ":"
    body = expr_text(c.expr)
    if len(INDENT) * depth + width(head) + 1 + width(body) <= WIDTH:
        return [f"{head} {body}"]
    return [head] + [INDENT + line for line in _expr_lines(c.expr, depth + 1)]


def _expr_lines(e: ast.Expr, depth: int) -> list[str]:
    """An expression on one line if it fits at `depth`, else its root `and`/`or` chain one
    operand a line, each after the first led by its operator; in an `or` chain, an `and`
    operand still too long goes on over lines of its own, one step further in."""
    body = expr_text(e)
    chain = _chain(e)
    if len(INDENT) * depth + width(body) <= WIDTH or chain is None:
        return [body]
    op, operands = chain
    min_prec = _PREC_AND if op == "or" else _PREC_NOT
    lines = []
    for i, x in enumerate(operands):
        lead = f"{op} " if i else ""
        text = lead + expr_text(x, min_prec if op == "and" or i else _PREC_OR)
        inner = _chain(x)
        if (
            op == "or"
            and inner is not None
            and inner[0] == "and"
            and len(INDENT) * depth + width(text) > WIDTH
        ):
            first, *rest = inner[1]
            lines.append(lead + expr_text(first, _PREC_NOT))
            lines += [f"{INDENT}and {expr_text(y, _PREC_NOT)}" for y in rest]
        elif (
            op == "and"
            and inner is not None
            and inner[0] == "or"
            and len(INDENT) * depth + width(text) > WIDTH
        ):
            # a bracketed `or` too long for its line: one operand a line, inside the brackets
            first, *rest = inner[1]
            lines.append(f"{lead}({expr_text(first, _PREC_AND)}")
            lines += [f"{INDENT}or {expr_text(y, _PREC_AND)}" for y in rest]
            lines[-1] += ")"
        else:
            lines.append(text)
    return lines


def _conditions(p: _Printer, conds: Sequence[ast.Condition]) -> None:
    for c in conds:
        p.clause(c.span.line, c.span.end_line, 1, _condition_lines(c, 1))


def _validity(p: _Printer, v: ast.Validity) -> None:
    first = v.conditions[0].span.line if v.conditions else None
    _open(p, v.span, f"valid {v.record.name} when {v.quantifier} {{", first)
    _conditions(p, v.conditions)
    if v.exceptions is None:
        _close(p, v.span.end_line, 0)
        return
    line = v.unless_span.line
    p.leading(line, 1)
    p.emit(0, "} unless {", p.trailing(line))
    p.last = max(p.last, line)
    _conditions(p, v.exceptions)
    _close(p, v.span.end_line, 0)


def _given(
    p: _Printer, given: ast.Ident, base: bool, fields: Sequence[ast.FieldValue], g: Span
) -> None:
    word = f"{given.name} with" if base else given.name
    pairs = [f"{fv.name.name}: {expr_text(fv.value)}" for fv in fields]
    inline = f"given {word} {{ " + ", ".join(pairs) + " }" if pairs else f"given {word} {{}}"
    if len(INDENT) + width(inline) <= WIDTH:
        p.clause(g.line, g.end_line, 1, [inline])
    else:
        p.leading(g.line, 1)
        p.gap(g.line)
        p.emit(1, f"given {word} {{", p.trailing(g.line))
        p.last = g.line
        for fv in fields:
            p.clause(fv.span.line, fv.span.end_line, 2, [f"{fv.name.name}: {expr_text(fv.value)}"])
        _close(p, g.end_line, 1)


def _example(p: _Printer, e: ast.Example) -> None:
    ident = f"{e.id.name} " if e.id is not None else ""
    _open(p, e.span, f"example {ident}{quote(e.title)} {{", e.given_span.line)
    _given(p, e.given, e.base, e.fields, e.given_span)
    for g in e.more:
        _given(p, g.given, g.base, g.fields, g.span)
    if e.events:
        s = e.events_span
        p.leading(s.line, 1)
        p.gap(s.line)
        p.emit(1, "events {", p.trailing(s.line) if e.events[0].span.line != s.line else None)
        p.last = s.line
        for ev in e.events:
            role = f" by {ev.role.name}" if ev.role is not None else ""
            p.clause(
                ev.span.line, ev.span.end_line, 2, [f"{ev.name.name} at {expr_text(ev.at)}{role}"]
            )
        _close(p, s.end_line, 1)
    if e.expect_valid is not None:
        expect = "expect " + ("valid" if e.expect_valid else "invalid")
        if e.because:
            expect += " because " + ", ".join(b.name for b in e.because)
        p.clause(e.expect_span.line, e.expect_span.end_line, 1, [expect])
    for x in e.clocks:
        if x.escalation:
            text = f"expect escalation to {x.clock.name} {x.status.name}"
        else:
            cycle = f" cycle {x.cycle}" if x.cycle is not None else ""
            due = f" due {expr_text(x.due)}" if x.due is not None else ""
            text = f"expect {x.clock.name}{cycle} {x.status.name}{due}"
        p.clause(x.span.line, x.span.end_line, 1, [text])
    _close(p, e.span.end_line, 0)


# ---- calendars, deadlines, escalation -------------------------------------------------------


def time_text(t: ast.TimeSpec) -> str:
    a = t.amount
    if isinstance(a, ast.Natural):
        text = expr_text(a.duration)
    elif isinstance(a, ast.Working):
        text = f"{a.amount} working {a.unit.name}"
    elif isinstance(a, ast.FieldDue):
        text = a.field.name + (f" {quote(a.about)}" if a.about is not None else "")
    else:
        text = f"by {a.clock} next working day"
    return text + (f" on {t.calendar.name}" if t.calendar is not None else "")


def stmt_text(s: ast.CalStmt | ast.DlStmt | ast.EsRoles | ast.EsStep) -> str:
    """One statement of a calendar, deadline or escalation block, on one line."""
    if isinstance(s, ast.CalAlways):
        return "open 24x7"
    if isinstance(s, ast.CalOpen):
        days = ", ".join(d.first.name + (f"-{d.last.name}" if d.last else "") for d in s.days)
        return f"open {days} {', '.join(s.hours)}"
    if isinstance(s, ast.CalTimezone):
        return f"timezone {quote(s.name)}"
    if isinstance(s, ast.CalHolidays):
        return f"holidays {s.dataset.name}"
    if isinstance(s, ast.CalDates):
        return ("working " if s.working else "closed ") + ", ".join(d.isoformat() for d in s.dates)
    if isinstance(s, ast.DlStart):
        return f"starts at {s.field.name}" if s.field else f"starts on {s.event.name}"  # type: ignore[union-attr]
    if isinstance(s, ast.DlStop):
        return f"stops on {s.event.name}"
    if isinstance(s, ast.DlPause):
        reason = f" because {quote(s.reason)}" if s.reason is not None else ""
        return f"pauses on {s.pause.name} resumes on {s.resume.name}{reason}"
    if isinstance(s, ast.DlTarget):
        if s.default:
            return f"otherwise within {time_text(s.time)}"
        when = f" when {expr_text(s.when)}" if s.when is not None else ""
        by = isinstance(s.time.amount, ast.FieldDue) and s.time.amount.by
        return f"{'by' if by else 'within'} {time_text(s.time)}{when}"
    if isinstance(s, ast.DlCap):
        return f"at most {time_text(s.time)}"
    if isinstance(s, ast.DlWarn):
        if s.percent is not None:
            return f"warn at {expr_text(s.percent)}"
        return f"warn {expr_text(s.lead)} before"  # type: ignore[arg-type]
    if isinstance(s, ast.DlUpdate):
        return f"update every {time_text(s.every)} with {s.event.name}"
    if isinstance(s, ast.DlReopen):
        mode = " new cycle" if s.mode == "new" else " continue"
        until = f" until {s.until.name}" if s.until is not None else ""
        return f"reopens on {s.event.name}{mode}{until}"
    if isinstance(s, ast.DlCalendar):
        return f"calendar {s.name.name}"
    if isinstance(s, ast.EsRoles):
        return "roles " + " -> ".join(r.name for r in s.roles)
    trigger = {
        "breach": f"on breach of {s.ref.name if s.ref else ''}",
        "event": f"on {s.ref.name if s.ref else ''}",
        "after": f"after {time_text(s.after) if s.after else ''}",
    }[s.kind]
    within = f" within {time_text(s.within)}" if s.within is not None else ""
    return f"{s.source.name} -> {s.target.name} {trigger}{within}"


def _block(p: _Printer, b: ast.CalendarDecl | ast.DeadlineDecl | ast.EscalationDecl) -> None:
    if isinstance(b, ast.CalendarDecl):
        head = f"calendar {b.name.name} {{"
    else:
        word = "deadline" if isinstance(b, ast.DeadlineDecl) else "escalation"
        words = ""
        if isinstance(b, ast.DeadlineDecl) and b.wording is not None:
            words = f" {quote(b.wording)}"
        head = f"{word} {b.name.name}{words} for {b.record.name} {{"
    _open(p, b.span, head, b.stmts[0].span.line if b.stmts else None)
    for stmt in b.stmts:
        p.clause(stmt.span.line, stmt.span.end_line, 1, [stmt_text(stmt)])
    _close(p, b.span.end_line, 0)


def _cites(p: _Printer, d: ast.CitesDecl) -> None:
    _open(p, d.span, "cites {", d.items[0].span.line if d.items else None)
    for x in d.items:
        ref = x.clause.name.name + (f".{x.clause.member.name}" if x.clause.member else "")
        p.clause(
            x.span.line,
            x.span.end_line,
            1,
            [f"{ref}: " + ", ".join(quote(r.value) for r in x.refs)],
        )
    _close(p, d.span.end_line, 0)


def _phrases(p: _Printer, d: ast.PhrasesDecl) -> None:
    head = f"phrases {d.name.name} = ["
    inline = head + ", ".join(quote(x.value) for x in d.phrases) + "]"
    multi_line = d.phrases and d.phrases[0].span.line != d.span.line
    if width(inline) <= WIDTH and not multi_line:
        p.clause(d.span.line, d.span.end_line, 0, [inline])
        return
    _open(p, d.span, head, d.phrases[0].span.line if d.phrases else None)
    for x in d.phrases:
        p.clause(x.span.line, x.span.end_line, 1, [quote(x.value) + ","])
    _close(p, d.span.end_line, 0, "]")


# ---- transcript rules ----------------------------------------------------------------------


def phrase_ref_text(r: ast.PhraseRef) -> str:
    if r.set is not None:
        return r.set.name
    if not r.listed and len(r.phrases) == 1:
        return quote(r.phrases[0].value)
    return "[" + ", ".join(quote(x.value) for x in r.phrases) + "]"


def trigger_text(t: ast.Trigger) -> str:
    if t.kind == "trigger":
        return "trigger"
    if t.kind == "event":
        return f"event {t.event.name if t.event else ''}"
    role = t.role.name if t.role else ""
    if t.kind == "silent":
        return f"{role} silent"
    if t.kind == "call":
        return f"{role} call"
    return f"{role} says {phrase_ref_text(t.phrases) if t.phrases else '[]'}"


def _turns(role: ast.Ident | None, count: ast.Number | None) -> str:
    n = count.value if count is not None else 1
    return f"{role.name if role else ''} {'turn' if n == 1 else 'turns'}"


def position_text(pos: ast.Position) -> str:
    count = f"{expr_text(pos.count)} " if pos.count is not None else ""
    if pos.kind in ("first", "last"):
        return f"in {pos.kind} {count}{_turns(pos.role, pos.count)}"
    if pos.kind == "any":
        return f"in {pos.role.name if pos.role else ''} turns"
    if pos.kind in ("after", "before"):
        trigger = trigger_text(pos.trigger) if pos.trigger else "trigger"
        return f"within {count}{_turns(pos.role, pos.count)} {pos.kind} {trigger}"
    return "before hold" if pos.kind == "before_hold" else "after hold"


def rule_body_text(r: ast.TrRule) -> str:
    """A transcript rule's body and options, on one line."""
    scope = f" in {r.scope.name} turns" if r.scope is not None else ""
    except_ = f" except {phrase_ref_text(r.except_)}" if r.except_ is not None else ""
    if r.kind == "require" and r.phrases is not None and r.position is not None:
        body = f"require {phrase_ref_text(r.phrases)} {position_text(r.position)}"
    elif r.kind == "forbid" and r.phrases is not None:
        body = f"forbid {phrase_ref_text(r.phrases)}{scope}{except_}"
    elif r.kind == "prefer" and r.phrases is not None and r.other is not None:
        body = f"prefer {phrase_ref_text(r.phrases)} over {phrase_ref_text(r.other)}"
        body += scope + except_
    elif r.kind == "hold" and r.duration is not None:
        body = f"hold at most {expr_text(r.duration)}"
        if r.unless_role is not None and r.other is not None:
            body += f" unless {r.unless_role.name} says {phrase_ref_text(r.other)}"
    elif r.kind == "checkin" and r.duration is not None:
        body = f"check in every {expr_text(r.duration)} while on hold"
    elif r.kind == "rate" and r.low is not None and r.high is not None:
        body = f"speech rate between {expr_text(r.low)} and {expr_text(r.high)} per minute"
    elif r.kind == "call" and r.duration is not None:
        body = f"call at most {expr_text(r.duration)}"
    elif r.kind == "interrupt":
        over = f" over {expr_text(r.duration)}" if r.duration is not None else ""
        body = f"no interruptions{over}"
    elif r.kind == "sentiment" and r.scope is not None and r.sentiment is not None:
        count = f"{expr_text(r.count)} " if r.count is not None else ""
        body = (
            f"require {r.scope.name} sentiment {'not ' if r.negated else ''}{r.sentiment.name} "
            f"in last {count}{_turns(None, r.count).strip()}"
        )
    elif r.kind == "interruptions" and r.scope is not None:
        most = r.count if r.count is not None else r.duration
        body = f"forbid {r.scope.name} interruptions"
        body += f" over {expr_text(most)}" if most is not None else ""
    else:
        steps = []
        for st in r.steps:
            if st.kind == "wait" and st.wait is not None:
                steps.append(f"wait {expr_text(st.wait)}")
            elif st.kind == "event" and st.event is not None:
                steps.append(f"event {st.event.name}")
            elif st.phrases is not None:
                steps.append(phrase_ref_text(st.phrases))
        body = "steps " + ", ".join(steps)
    if r.severity is not None:
        body += f" severity {r.severity.name}"
    if r.points is not None:
        body += f" points {expr_text(r.points)}"
    return body


def _rule_lines(r: ast.TrRule, depth: int) -> list[str]:
    head = r.name.name + (f" {quote(r.wording)}" if r.wording is not None else "") + ":"
    body = rule_body_text(r)
    if len(INDENT) * depth + width(head) + 1 + width(body) <= WIDTH:
        return [f"{head} {body}"]
    return [head, INDENT + body]


def _transcript_rules(p: _Printer, b: ast.TranscriptRules) -> None:
    _open(p, b.span, "transcript rules {", b.stmts[0].span.line if b.stmts else None)
    for st in b.stmts:
        if isinstance(st, ast.TrNormalise):
            text = "normalise " + ", ".join(o.name for o in st.options)
            p.clause(st.span.line, st.span.end_line, 1, [text])
        elif isinstance(st, ast.TrScore):
            p.clause(st.span.line, st.span.end_line, 1, [f"score from {expr_text(st.base)}"])
        elif isinstance(st, ast.TrConfidence):
            text = f"ignore turns below confidence {expr_text(st.threshold)}"
            p.clause(st.span.line, st.span.end_line, 1, [text])
        elif isinstance(st, ast.TrRule):
            p.clause(st.span.line, st.span.end_line, 1, _rule_lines(st, 1))
        else:
            wording = f" {quote(st.wording)}" if st.wording is not None else ""
            triggers = (st.trigger, *st.also) if st.trigger is not None else ()
            when = " when " + " and ".join(trigger_text(t) for t in triggers) if triggers else ""
            unless = " unless " + ", ".join(u.name for u in st.unless) if st.unless else ""
            head = f"situation {st.name.name}{wording}{when}{unless} {{"
            h = st.head_span
            p.leading(h.line, 1)
            p.gap(h.line)
            first = st.rules[0].span.line if st.rules else None
            p.emit(1, head, p.trailing(h.end_line) if first != h.end_line else None)
            p.last = h.end_line
            for r in st.rules:
                p.clause(r.span.line, r.span.end_line, 2, _rule_lines(r, 2))
            _close(p, st.span.end_line, 1)
    _close(p, b.span.end_line, 0)


def _seconds(n: ast.Number) -> str:
    return n.text or _number(n.value)


def turn_text(t: ast.ExTurn | ast.ExInterruptions) -> str:
    if isinstance(t, ast.ExInterruptions):
        lasting = f" for {expr_text(t.duration)}" if t.duration is not None else ""
        return f"{t.role.name} interruptions {_seconds(t.count)}{lasting}"
    if t.text is None:
        at = f" at {_seconds(t.start)}" if t.start is not None else ""
        return f"{t.speaker.name}{at}"
    times = ""
    if t.start is not None:
        times = " " + _seconds(t.start) + (f"-{_seconds(t.end)}" if t.end is not None else "")
    signals = f" confidence {_seconds(t.confidence)}" if t.confidence is not None else ""
    signals += f" sentiment {t.sentiment.name}" if t.sentiment is not None else ""
    return f"{t.speaker.name}{times}{signals}: {quote(t.text.value)}"


def expect_findings_text(x: ast.ExpectFindings) -> str:
    refs = ", ".join(r.name.name + (f".{r.member.name}" if r.member else "") for r in x.rules)
    if x.kind == "score" and x.score is not None:
        return f"expect score {expr_text(x.score)}"
    return f"expect {x.kind}" + (f" {refs}" if refs else "")


def _transcript_example(p: _Printer, e: ast.TranscriptExample) -> None:
    ident = f"{e.id.name} " if e.id is not None else ""
    _open(p, e.span, f"example {ident}{quote(e.title)} {{", e.turns_span.line)
    s = e.turns_span
    p.leading(s.line, 1)
    p.gap(s.line)
    shared = e.turns and e.turns[0].span.line == s.line
    direction = f"{e.direction.name} " if e.direction is not None else ""
    p.emit(1, f"transcript {direction}{{", None if shared else p.trailing(s.line))
    p.last = s.line
    for t in e.turns:
        p.clause(t.span.line, t.span.end_line, 2, [turn_text(t)])
    _close(p, s.end_line, 1)
    for x in e.expects:
        p.clause(x.span.line, x.span.end_line, 1, [expect_findings_text(x)])
    _close(p, e.span.end_line, 0)


# ---- metrics -------------------------------------------------------------------------------


def group_text(g: ast.Group) -> str:
    return f"{g.period.name} of {g.field.name}" if g.period is not None else g.field.name


def _metric(p: _Printer, m: ast.MetricDecl) -> None:
    head = f"metric {m.name.name}" + (f" {quote(m.wording)}" if m.wording is not None else "") + ":"
    body = expr_text(m.expr)
    by = " by " + ", ".join(group_text(g) for g in m.groups) if m.groups else ""
    if width(head) + 1 + width(body + by) <= WIDTH:
        lines = [f"{head} {body}{by}"]
    elif len(INDENT) + width(body + by) <= WIDTH:
        lines = [head, INDENT + body + by]
    else:
        lines = [head, INDENT + body] + ([INDENT + by.strip()] if by else [])
    p.clause(m.span.line, m.span.end_line, 0, lines)


# ---- invariants ----------------------------------------------------------------------------


def _invariant(p: _Printer, v: ast.InvariantDecl) -> None:
    ident = f"{v.id.name} " if v.id is not None else ""
    record = f" for {v.record.name}" if v.record is not None else ""
    _open(p, v.span, f"invariant {ident}{quote(v.wording)}{record} {{", v.expr.span.line)
    p.clause(v.expr.span.line, v.expr.span.end_line, 1, _expr_lines(v.expr, 1))
    _close(p, v.span.end_line, 0)


# ---- record-level rules --------------------------------------------------------------------


def rule_stmt_text(s: ast.RuleStmt) -> str:
    """One statement of a `rule` block on one line (the `require`/`when` of a long expression
    are laid out by `_rule_stmt_lines`)."""
    if isinstance(s, ast.RuWhen):
        return f"when {expr_text(s.expr)}"
    if isinstance(s, ast.RuRequire):
        return f"require {expr_text(s.expr)}"
    if isinstance(s, ast.RuPer):
        hours = f" in {s.hours}" if s.hours is not None else ""
        return (
            f"require at least {expr_text(s.count)} {s.event.name} per {s.period.name}{hours}"
            f" from {expr_text(s.start, _PREC_SUM)} to {expr_text(s.end, _PREC_SUM)}"
        )
    if isinstance(s, ast.RuSeverity):
        return f"severity {s.level.name}"
    return f"points {expr_text(s.points)}"


def _rule_stmt_lines(s: ast.RuleStmt) -> list[str]:
    if isinstance(s, ast.RuWhen | ast.RuRequire):
        word = "when" if isinstance(s, ast.RuWhen) else "require"
        if len(INDENT) + width(rule_stmt_text(s)) > WIDTH and _chain(s.expr) is not None:
            first, *rest = _expr_lines(s.expr, 2)
            return [f"{word} {first}"] + [INDENT + line for line in rest]
    return [rule_stmt_text(s)]


def _rule(p: _Printer, r: ast.RuleDecl) -> None:
    words = f" {quote(r.wording)}" if r.wording is not None else ""
    head = f"rule {r.name.name}{words} for {r.record.name} {{"
    _open(p, r.span, head, r.stmts[0].span.line if r.stmts else None)
    for stmt in r.stmts:
        p.clause(stmt.span.line, stmt.span.end_line, 1, _rule_stmt_lines(stmt))
    _close(p, r.span.end_line, 0)
