"""The audit report rendered as Markdown and as one self-contained HTML page.

The fixture (tests/data/report_fixture.json) has every section of report schema 1: two policy
versions, percentage, duration and count KPIs (one not applicable, one failing by 0.01%), Chinese
clause texts, a record id, message and evidence that are hostile HTML, and more bad rows than
shown.  `_bare` makes the same report with every optional section null or empty.
"""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from _chromium import chromium as _chromium, console_messages, needs_chromium

from csdsl.report import md_escape, md_fence, render_html, render_markdown
from csdsl.report.model import ClauseIndex, fill_days, percent_pair

FIXTURE = Path(__file__).resolve().parent / "data" / "report_fixture.json"
HOSTILE_ID = '<script>alert(1)</script>"&amp;'
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


def _report() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def _bare() -> dict[str, Any]:
    r = _report()
    r.update(validity=None, timelines=None, transcripts=None, versions=r["versions"][1:])
    r["kpis"] = [k for k in r["kpis"] if not k["percent"]]
    r["findings"] = {"total": 0, "shown": 0, "file": None, "items": []}
    r["bad_rows"] = {"total": 0, "shown": 0, "items": []}
    del r["command"]
    return r


class Page(HTMLParser):
    """Tags, ids and links of a page, and every nesting error (an end tag that closes
    something other than the innermost open element, an element left open)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: list[str] = []
        self.decl: str | None = None
        self.feed(html)
        self.close()
        if self.stack:
            self.errors.append(f"left open: {self.stack}")

    def handle_decl(self, decl: str) -> None:
        self.decl = decl

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id") is not None:
            self.ids.append(str(a["id"]))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def count(self, tag: str) -> int:
        return sum(1 for t, _ in self.tags if t == tag)


# --- formatting ---------------------------------------------------------------------------


def test_percentages_show_enough_decimals_to_differ_from_the_threshold() -> None:
    assert percent_pair(0.873, 0.85) == ("87.3%", "85%")
    assert percent_pair(0.849912, 0.85) == ("84.99%", "85%")
    assert percent_pair(1, 1) == ("100%", "100%")
    assert percent_pair(None, 0.85) == ("n/a", "85%")


def test_markdown_escaping() -> None:
    assert md_escape("a|b") == r"a\|b"
    assert md_escape("<script>") == r"\<script>"
    assert md_escape("connection_rate _x_") == r"connection_rate \_x\_"
    assert md_escape("one\ntwo") == "one<br>two"
    assert md_fence("echo ```") == "````"


def test_clause_anchors_are_unique_and_texts_merge() -> None:
    idx = ClauseIndex()
    a = idx.ref({"file": "a/b.csp", "line": 1})
    b = idx.ref({"file": "a-b.csp", "line": 1})
    idx.add({"file": "a/b.csp", "line": 1, "id": "x", "text": "文本"})
    assert a is not None and b is not None and a.anchor != b.anchor
    assert a.anchor == "clause-a-b-csp-1"
    merged = idx.ref({"file": "a/b.csp", "line": 1})
    assert merged is not None and (merged.id, merged.text) == ("x", "文本")


def test_breach_days_are_a_continuous_axis() -> None:
    days = fill_days([("2024-10-30", 2), ("2024-11-02", 1)])
    assert days == [("2024-10-30", 2), ("2024-10-31", 0), ("2024-11-01", 0), ("2024-11-02", 1)]
    assert fill_days([("not a day", 3)]) == [("not a day", 3)]


# --- Markdown -----------------------------------------------------------------------------


def test_markdown_has_the_kpis_formatted() -> None:
    md = render_markdown(_report())
    assert "**Verdict: FAIL**" in md
    rows = [line for line in md.splitlines() if line.startswith("| connection_rate |")]
    assert len(rows) == 3
    assert "| 87.3% | ≥ 85% | pass |" in rows[0]
    assert "| 84.99% | ≥ 85% | **FAIL** |" in rows[1]
    assert "| n/a | ≥ 85% | n/a: no call wanted a human (division by zero) |" in rows[2]
    assert "month of started_at = 2024-11, team = east" in rows[1]
    assert "policies/hotline\\_kpis.csp:43" not in md  # intraword `_` stays readable
    assert "policies/hotline_kpis.csp:43" in rows[0]
    assert "| PT50H30M | ≤ PT48H | **FAIL** |" in md
    assert "| 12 | ≥ 10 | pass |" in md
    assert "| 11.2% | ≤ 5% | **FAIL** |" in md
    assert "002 七 人工服务接通率不低于85%" in md
    assert r"回访数 \| 每月不少于10次" in md


def test_markdown_has_findings_bad_rows_and_the_command() -> None:
    md = render_markdown(_report())
    assert "showing 9 of 187; every finding is in findings.jsonl" in md
    assert (
        "| 1 | C-20241029-0001 | examples/complaints.jsonl:12 | — / —"
        " | 投诉成立: 对客户态度不好而影响公司形象 | agent rude: yes | — | 1.0 |"
    ) in md
    assert "### policies/service_language.csp:9 no_blame (transcript)" in md
    assert "| examples/complaints.jsonl:5 | C-20241029-0005 | R004 |" in md
    assert "| examples/events.jsonl:1001 | 42 | R007 |" in md
    assert "61 bad rows; showing 3." in md
    assert "58 more not shown." in md
    assert "csdsl audit policies/hotline.csp --records" in md
    # the chart data as tables
    assert "| 2024-11-11 | 9 |" in md
    assert "| 80–90 | 98 |" in md
    assert "| policies/complaint_validity.csp:16 feedback_late | valid complaint | 41 |" in md


def test_markdown_escapes_report_text() -> None:
    md = render_markdown(_report())
    assert not re.search(r"(?<!\\)<(script|img)", md), "raw markup from the report"
    assert '| \\<script>alert(1)\\</script>"\\&amp; |' in md  # the record id, as text
    assert '"quoted" \\| piped' in md
    # every row of every table has as many cells as its header
    table: list[str] = []
    for line in [*md.splitlines(), ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            cells = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
            assert len(cells) == 1, table
            table = []


def test_markdown_of_a_bare_report() -> None:
    md = render_markdown(_bare())
    for heading in ("## Validity", "## Timelines", "## Transcripts", "## Policy versions"):
        assert heading not in md
    assert "No findings." in md and "No bad rows." in md
    assert md.count("No data.") == 3
    assert "Reproduce with" not in md


def test_the_renderers_take_an_empty_report() -> None:
    assert "Verdict: UNKNOWN" in render_markdown({})
    assert Page(render_html({})).errors == []


# --- HTML ---------------------------------------------------------------------------------


def test_html_is_one_well_formed_page() -> None:
    html = render_html(_report())
    page = Page(html)
    assert page.errors == []
    assert page.decl is not None and page.decl.lower() == "doctype html"
    assert html.startswith('<!doctype html>\n<html lang="en">')
    assert '<meta charset="utf-8">' in html
    assert "@media print" in html
    assert page.count("table") == page.count("thead") > 5
    assert page.count("script") == 0 and "<script" not in html.lower()
    assert "客服人员行为规范" in html and "发现问题及客户建议没有及时填写“问题反馈单”" in html


def test_html_escapes_report_text() -> None:
    html = render_html(_report())
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&amp;amp;" in html  # the record id
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quoted&#34;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # evidence
    assert "<img" not in html.lower()


def test_html_references_nothing_outside_the_file() -> None:
    html = render_html(_report())
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", html, re.I)
    assert not re.search(r"""url\(\s*["']?\s*(https?:|//)""", html, re.I)
    assert "@import" not in html


def test_html_charts() -> None:
    page = Page(render_html(_report()))
    svgs = [a for t, a in page.tags if t == "svg"]
    charts = [a for a in svgs if a.get("class") == "chart"]
    assert len(charts) == 3  # findings by clause, breaches per day, transcript scores
    for a in svgs:
        assert a.get("role") == "img" and a.get("aria-label")
    # a tooltip on every bar: 7 clauses, 28 days, 10 score bands
    assert page.count("g") == 7 + 28 + 10
    assert page.count("title") == 1 + 3 + page.count("g")  # and the page's and each chart's
    bars = [a for t, a in page.tags if t == "rect" and "bar" in str(a.get("class")).split()]
    assert {str(a["class"]) for a in bars} >= {"bar bar-validity", "bar bar-count"}
    # the scorecard's trend: connection_rate has a value in two of its three months
    sparks = [a for a in svgs if a.get("class") == "spark"]
    assert len(sparks) == 1
    assert sum(1 for t, a in page.tags if t == "circle" and a.get("class") == "dot-fail") == 1


def test_html_of_a_bare_report_has_notes_instead_of_charts() -> None:
    html = render_html(_bare())
    page = Page(html)
    assert page.errors == []
    assert page.count("svg") == 0
    # the three charts, the cases (a report without them), findings, bad rows
    assert html.count('class="nodata"') == 3 + 1 + 2
    for section in ("validity", "timelines", "transcripts", "versions"):
        assert f'id="{section}"' not in html
    assert "This report has no case summary (it was written by an older csdsl)." in html


def test_html_anchors_resolve() -> None:
    page = Page(render_html(_report()))
    assert len(page.ids) == len(set(page.ids))
    hrefs = [str(a["href"]) for t, a in page.tags if t == "a" and "href" in a]
    targets = {h[1:] for h in hrefs if h.startswith("#")}
    assert targets <= set(page.ids)
    assert {f"finding-{n}" for n in range(1, 10)} <= set(page.ids)
    assert "clause-policies-complaint-validity-csp-14" in targets
    assert "clause-policies-hotline-kpis-csp-43" in targets


def test_html_keeps_the_kpi_order_and_marks_status() -> None:
    html = render_html(_report())
    kpis = html[html.index('<section id="kpis"') : html.index('<section id="validity">')]
    metrics = re.findall(r'<td class="mono ident">([^<]+)</td>', kpis)
    assert metrics == [k["metric"] for k in _report()["kpis"]]
    assert len(re.findall(r'<tr id="kpi-\d+" class="st-fail">', kpis)) == 3
    assert kpis.count('<span class="badge fail">fail</span>') == 3
    assert kpis.count('<span class="badge na">n/a</span>') == 1


# --- in a browser -------------------------------------------------------------------------


@needs_chromium
def test_chromium_renders_the_report_without_console_errors(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(_report()), encoding="utf-8")
    done = _chromium(tmp_path / "profile", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("<svg") == 4
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in done.stdout
    assert console_messages(done.stderr) == []
    shot = tmp_path / "report.png"
    done = _chromium(
        tmp_path / "profile",
        "--hide-scrollbars",
        "--window-size=1280,2400",
        f"--screenshot={shot}",
        page.as_uri(),
    )
    assert done.returncode == 0, done.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 5_000
    assert console_messages(done.stderr) == []


@needs_chromium
def test_the_console_check_catches_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>x</title></head>'
        '<body><script>throw new Error("deliberate")</script></body></html>',
        encoding="utf-8",
    )
    done = _chromium(tmp_path / "profile", "--dump-dom", broken.as_uri())
    assert done.returncode == 0, done.stderr
    assert any("Uncaught Error: deliberate" in m for m in console_messages(done.stderr))
    # a script smuggled into the report is blocked by its Content-Security-Policy, and said so
    smuggled = tmp_path / "smuggled.html"
    html = render_html(_report()).replace("</main>", "<script>document.title = 1</script></main>")
    smuggled.write_text(html, encoding="utf-8")
    done = _chromium(tmp_path / "profile", "--dump-dom", smuggled.as_uri())
    assert done.returncode == 0, done.stderr
    assert any("Content Security Policy" in m for m in console_messages(done.stderr))
    assert "<title>1</title>" not in done.stdout


def test_fixture_is_not_mutated_by_rendering() -> None:
    r = _report()
    before = copy.deepcopy(r)
    render_markdown(r)
    render_html(r)
    assert r == before


def test_dumps_keeps_a_json_lines_record_on_one_line() -> None:
    """A finding quoting a value with U+2028 or U+2029 (a record's `team`, say) is one line for
    `str.splitlines()` as well as for `\\n`-splitting readers, and reads back the same."""
    from csdsl.report import dumps

    value = {"team": "a\u2028b\u2029c\ufeff", "n": 1}
    text = dumps(value)
    assert len(text.splitlines()) == 1 and "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == value
