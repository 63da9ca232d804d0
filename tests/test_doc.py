"""`csdsl doc`: the sign-off rendering of every bundled policy, its plain words, its HTML in a
browser."""

from __future__ import annotations

import html
import os
import re
import subprocess
import zoneinfo
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import markupsafe
import pytest
from _chromium import chromium as _chromium, console_messages, needs_chromium
from hypothesis import given, strategies as st

import csdsl
from csdsl import doc, ir, testing
from csdsl.check.lower import Exprs, Lowering
from csdsl.check.modules import Graph
from csdsl.report import md_escape
from csdsl.source import SourceFile, Span
from csdsl.syntax import ast
from csdsl.syntax.parse import parse

ROOT = Path(__file__).resolve().parents[1]
POLICIES = sorted((ROOT / "policies").glob("*.csp"))


@pytest.fixture(scope="module")
def loaded() -> dict[str, csdsl.Policy]:
    return {p.name: csdsl.load(p) for p in POLICIES}


def _where(policy: csdsl.Policy, span: Span) -> str:
    root = os.path.dirname(policy.ir.file) or "."
    return f"{Path(os.path.relpath(span.file, root)).as_posix()}:{span.line}"


def _clauses(p: ir.Policy) -> Iterator[tuple[str, Span]]:
    """(name, span) of every clause that keeps a span."""
    for r in p.records:
        yield r.name, r.span
    for v in p.validities:
        yield f"valid {v.record}", v.span
        for c in (*v.conditions, *v.exceptions):
            yield c.id, c.span
    for d in p.deadlines:
        yield d.name, d.span
        for t in d.targets:
            yield f"{d.name} target", t.span
    for e in p.escalations:
        yield e.name, e.span
        for s in e.steps:
            yield f"{s.source} -> {s.target}", s.span
    if p.transcript_rules is not None:
        for r in p.transcript_rules.rules:
            yield r.id, r.span
        for s in p.transcript_rules.situations:
            yield s.name, s.span
    for m in p.metrics:
        yield m.name, m.span
    for x in p.examples:
        yield x.title, x.span
    for tx in p.transcript_examples:
        yield tx.title, tx.span


VOID = {"meta", "br", "wbr", "hr", "img", "input", "link"}


class _Balance(HTMLParser):
    """Checks that every element is closed, in order; collects the ids."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ids: list[str] = []
        self.errors: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids += [v for k, v in attrs if k == "id" and v]
        if tag == "script":
            self.scripts += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids += [v for k, v in attrs if k == "id" and v]

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'} at {self.getpos()}")
            return
        self.stack.pop()


def _balanced(page: str) -> _Balance:
    parser = _Balance()
    parser.feed(page)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    return parser


# ---- every bundled policy --------------------------------------------------------------------


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
def test_every_clause_is_rendered(path: Path, loaded: dict[str, csdsl.Policy]) -> None:
    policy = loaded[path.name]
    p = policy.ir
    page, md = doc.render_html(policy), doc.render_markdown(policy)
    parsed = _balanced(page)
    assert parsed.scripts == 0
    assert len(parsed.ids) == len(set(parsed.ids))  # anchors are unique
    from csdsl.codegen.jsonir import content_hash

    for text in (page, md):
        assert content_hash(policy) in text
        assert p.name is not None and p.version is not None
        assert str(p.effective) in text and p.timezone in text
    assert html.escape(p.name, quote=False) in page and md_escape(p.name) in md
    names = [d.name for d in p.deadlines] + [e.name for e in p.escalations]
    names += [m.name for m in p.metrics] + [name for name, _ in p.phrase_sets]
    names += [name for name, _ in p.calendars]
    for v in p.validities:
        for c in (*v.conditions, *v.exceptions):
            names.append(c.id)
            assert c.wording is not None
            assert str(markupsafe.escape(c.wording)) in page
            assert md_escape(c.wording) in md
    for name in names:
        assert str(markupsafe.escape(name)) in page, name
        assert md_escape(name) in md, name
    for name, span in _clauses(p):
        where = _where(policy, span)
        assert where in page, (name, where)
        assert md_escape(where) in md, (name, where)
    # an anchor for every clause, and a link to it
    for anchor in doc.build(policy).anchors:
        assert f'id="{anchor}"' in page and f'href="#{anchor}"' in page
        assert f'<a id="{anchor}"></a>' in md


def test_rendering_is_deterministic_and_independent_of_the_working_directory(
    loaded: dict[str, csdsl.Policy], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = loaded["hotline.csp"]
    first = doc.render_html(policy), doc.render_markdown(policy)
    assert (doc.render_html(policy), doc.render_markdown(policy)) == first
    monkeypatch.chdir(ROOT / "policies")
    again = csdsl.load("hotline.csp")
    assert (doc.render_html(again), doc.render_markdown(again)) == first
    assert "generated" not in first[1]
    stamped = doc.render_markdown(policy, generated="2024-11-01T09:00:00+08:00")
    assert "| generated | 2024-11-01T09:00:00+08:00 |" in stamped


def test_clauses_show_what_they_cite(loaded: dict[str, csdsl.Policy]) -> None:
    md = doc.render_markdown(loaded["complaint_handling.csp"])
    # a trailing comment on a target's line, and the comment above a block
    target = next(line for line in md.splitlines() if "complaint_handling.csp:26 |" in line)
    assert "due within 2 hours when complexity is simple" in target
    assert "004 篇5 §20: 简单投诉 2 小时之内" in target
    assert "> 000 二: 收到书面报告后部门经理要在48小时内答复客户" in md
    # the file header's `Sources` notes, with the file's hash
    assert "| complaint_handling.csp | " in md and "002 七: the hotline gives" in md
    validity = doc.render_markdown(loaded["complaint_validity.csp"])
    assert "Source: ../shared/seeds/000_agent_conduct_and_complaints.txt" in validity
    row = next(
        line
        for line in validity.splitlines()
        if line.startswith('| <a id="clause-') and "missed_task" in line
    )
    assert "task_completed_same_day is false, and not (customer_contacted and rescheduled)" in row
    assert "000 二(2): " in row and "complaint_validity.csp:37 |" in row


def test_calendars_escalations_metrics_and_examples(loaded: dict[str, csdsl.Policy]) -> None:
    md = doc.render_markdown(loaded["hotline.csp"])
    assert "| Monday | 09:00–12:00, 13:30–18:00 |" in md and "| Saturday | closed |" in md
    assert "China's statutory holidays and make-up working days (调休)" in md
    assert "roles in order: agent → team_lead → supervisor → department_manager" in md
    assert (
        "team_lead hands over to supervisor after 4 hours of working time on calendar office" in md
    )
    # 002 八's 48 hours is its own clock, and its KPI counts that clock's status
    assert "| due within 48 hours | within 48h |" in md
    assert "the share of Complaint records where the status of reply_48h is met" in md
    assert (
        "the share of Call records where connected among all Call records must be at least 85%"
        in md
    )
    assert "threshold: >= 85%" in md and "grouping: month of started_at, team" in md
    assert "| feedback_form_delay | 2 hours |" in md  # given values as a table
    assert "| 2024-10-29 11:00+08:00 | replied |  |" in md  # events as a table
    assert "- deadline reply is met, due 2024-10-29 11:15+08:00" in md
    assert "- the Complaint is valid because of rude_attitude" in md
    assert "the agent must say a phrase of `greeting` in the first agent turn" in md


POLICY_WITH_MARKUP = """\
# Source: <b>bold</b> & co
policy "<i>p</i>" version "1" effective 2024-01-01 timezone "UTC"
record R { a: bool, e: enum(x, y) }
# cites <script>alert(2)</script>
valid R when any {
  bad "<script>alert(1)</script> | pipe": a   # <img src=x onerror=alert(3)>
  other "*not* bold": e in [x]
}
example "<script>alert(4)</script>" {
  given R { a: true, e: x }
  expect valid because bad
}
"""


def test_policy_text_is_escaped(tmp_path: Path) -> None:
    path = tmp_path / "markup.csp"
    path.write_text(POLICY_WITH_MARKUP, encoding="utf-8")
    policy = csdsl.load(path)
    page = doc.render_html(policy)
    parsed = _balanced(page)
    assert parsed.scripts == 0
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    for text in ("alert(1)", "alert(2)", "alert(3)", "alert(4)"):
        assert text in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; | pipe" in page
    assert "&lt;img src=x onerror=alert(3)&gt;" in page
    md = doc.render_markdown(policy)
    assert "\\<script>alert(1)\\</script> \\| pipe" in md
    assert "\\*not\\* bold" in md
    assert re.search(r"(?<!\\)<(script|img|b>|i>)", md) is None  # only `<a id>` and `<br>`


# ---- plain words -----------------------------------------------------------------------------

RECORD = """\
record R {
  a: bool
  b: bool
  c: bool
  n: number
  i: int
  dur: duration?
  t1: datetime?
  t2: datetime
  e: enum(x, y, z)
  s: text?
}
"""

WORDS = [
    (
        "not a and not (b and c)",
        "a is false, and not (b and c)",
    ),
    ("a", "a"),
    ("a and b or c", "(a and b), or c"),
    ("a or b and c", "a, or (b and c)"),
    ("not (a or b)", "not (a or b)"),
    ("dur is missing or dur > 24h", "dur is missing, or dur is more than 24 hours"),
    ("t1 is set and t2 - t1 > 4h", "t1 is set, and the time from t1 to t2 is more than 4 hours"),
    ("e in [x, y]", "e is in [x, y]"),
    ("e not in [z]", "e is not in [z]"),
    ("e = x", "e is x"),
    ("n >= 100.5 and i != 3", "n is at least 100.5, and i is not 3"),
    ("i <= -n and n > -2", "i is at most minus n, and n is more than -2"),
    ("(n + i) * 2 < 10", "(n + i) × 2 is less than 10"),
    ("t2 < 2024-10-29T09:15", "t2 is before 2024-10-29 09:15+08:00"),
    ('s = "客户" and a = true', "s is “客户”, and a is true"),
    ("dur >= 24h1m", "dur is at least 24 hours 1 minute"),
    ('s contains "投诉"', "s contains “投诉”"),
    ("not not a", "not (a is false)"),
]


@pytest.fixture(scope="module")
def word_conditions(tmp_path_factory: pytest.TempPathFactory) -> list[ir.Condition]:
    lines = [f"  c{i}: {text}" for i, (text, _) in enumerate(WORDS)]
    text = (
        'policy "w" version "1" effective 2024-01-01 timezone "Asia/Shanghai"\n'
        + RECORD
        + "valid R when any {\n"
        + "\n".join(lines)
        + "\n}\n"
    )
    path = tmp_path_factory.mktemp("words") / "w.csp"
    path.write_text(text, encoding="utf-8")
    validity = csdsl.load(path).ir.validities[0]
    return list(validity.conditions)


@pytest.mark.parametrize(("index", "expected"), [(i, w) for i, (_, w) in enumerate(WORDS)])
def test_plain_words_of_expressions(
    word_conditions: list[ir.Condition], index: int, expected: str
) -> None:
    assert doc.words.condition(word_conditions[index].expr) == expected


def _record() -> ir.Record:
    module, _ = parse(SourceFile("r.csp", RECORD))
    assert module is not None
    decl = module.items[0]
    assert isinstance(decl, ast.RecordDecl)
    return Lowering(Graph()).record(decl)


REC = _record()


@given(testing.typed_conditions(REC), st.data())
def test_plain_words_never_raise_and_are_deterministic(cond: ast.Expr, data: st.DataObject) -> None:
    lowering = Lowering(Graph())
    lowering.tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    lowered = Exprs(lowering, REC).lower(cond)
    assert [d for d in lowering.diags if d.is_error] == []
    text = doc.words.condition(lowered)
    assert text and text == doc.words.condition(lowered)
    for name in ir.fields_used(lowered):  # every field it reads is named
        assert name in text


# ---- in a browser ----------------------------------------------------------------------------


@needs_chromium
def test_chromium_opens_every_policy_page(tmp_path: Path, loaded: dict[str, csdsl.Policy]) -> None:
    jobs: list[tuple[str, Path, list[str]]] = []
    for name, policy in loaded.items():
        page = tmp_path / f"{name}.html"
        page.write_text(doc.render_html(policy), encoding="utf-8")
        anchors = list(doc.build(policy).anchors)
        jobs.append((name, page, anchors))
    broken = tmp_path / "broken.html"
    broken.write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>x</title></head>'
        '<body><script>throw new Error("deliberate")</script></body></html>',
        encoding="utf-8",
    )
    smuggled = tmp_path / "smuggled.html"
    smuggled.write_text(
        doc.render_html(loaded["complaint_validity.csp"]).replace(
            "</main>", "<script>document.title = 1</script></main>"
        ),
        encoding="utf-8",
    )

    def dump(page: Path) -> subprocess.CompletedProcess[str]:
        return _chromium(tmp_path / f"profile-dom-{page.stem}", "--dump-dom", page.as_uri())

    def shot(page: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
        png = tmp_path / f"{page.stem}.png"
        done = _chromium(
            tmp_path / f"profile-shot-{page.stem}",
            "--hide-scrollbars",
            "--window-size=1280,2000",
            f"--screenshot={png}",
            page.as_uri(),
        )
        return done, png

    pages = [page for _, page, _ in jobs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        dumps = list(pool.map(dump, [*pages, broken, smuggled]))
        shots = list(pool.map(shot, pages))
    for (name, _, anchors), done in zip(jobs, dumps, strict=False):
        assert done.returncode == 0, done.stderr
        assert console_messages(done.stderr) == [], name
        assert anchors
        for anchor in anchors:
            assert f'id="{anchor}"' in done.stdout, (name, anchor)
    # the console check can fail: a thrown error is seen, a smuggled script is blocked
    done = dumps[len(jobs)]
    assert any("Uncaught Error: deliberate" in m for m in console_messages(done.stderr))
    done = dumps[len(jobs) + 1]
    assert any("Content Security Policy" in m for m in console_messages(done.stderr))
    assert "<title>1</title>" not in done.stdout
    for (name, _, _), (done, png) in zip(jobs, shots, strict=False):
        assert done.returncode == 0, done.stderr
        assert console_messages(done.stderr) == [], name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 20_000, name  # text and tables, not a blank page
