"""The bundled audit's report as a reader gets it (issue 17, acceptance 1).

The README's first command's audit, rendered: the page fits 1400 px in Chromium (no table wider
than its container, with every collapsible part open), every KPI, clause and finding of
report.json is in the HTML, a person reads durations and local times, the event log's lines
are named as its lines, and the cases are grouped with their timeline.  report.json keeps
ISO 8601 and its keys.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from _chromium import chromium, console_messages, needs_chromium

import csdsl
from csdsl.report import render_html

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "examples"
WIDTH = 1400
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK JP", "Source Han Sans SC")


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bundled")
    csdsl.audit(
        csdsl.load(ROOT / "policies" / "hotline.csp"),
        records={
            "Complaint": EX / "complaints.jsonl",
            "Call": EX / "calls.jsonl",
            "Inquiry": EX / "inquiries.csv",
        },
        events=EX / "complaint_events.jsonl",
        transcripts=EX / "transcripts.jsonl",
        out=out,
    )
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return out, data, (out / "report.html").read_text(encoding="utf-8")


class Text(HTMLParser):
    """The page's text, each element's `title`, and the text of each element with an id."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.titles: list[str] = []
        self.by_id: dict[str, list[str]] = {}
        self.open: list[tuple[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("title"):
            self.titles.append(str(a["title"]))
        if tag not in ("br", "wbr", "meta", "input", "img", "hr", "link"):
            self.open.append((tag, a.get("id")))
            if a.get("id"):
                self.by_id[str(a["id"])] = []

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        for _, ident in self.open:
            if ident is not None:
                self.by_id[ident].append(data)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def of(self, ident: str) -> str:
        return "".join(self.by_id.get(ident, []))


def _group(g: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in g.items()) if g else "all"


def test_every_kpi_clause_and_finding_of_the_json_is_in_the_html(
    bundled: tuple[Path, dict[str, Any], str],
) -> None:
    _, data, html = bundled
    page = Text(html)
    text = page.text
    # every KPI: its row in the details (metric, group, status), and a scorecard cell with it
    assert len(data["kpis"]) == 42
    for n, k in enumerate(data["kpis"], 1):
        row = page.of(f"kpi-{n}")
        assert k["metric"] in row and _group(k["group"]) in row, (n, row)
        assert {"pass": "pass", "fail": "fail"}.get(k["status"], "n/a") in row
        head = f"{k['metric']} [{_group(k['group'])}]: "
        assert any(head in t for t in page.titles), head
    # the scorecard has a row per metric, not per KPI
    metrics = {k["metric"] for k in data["kpis"]}
    scorecard = html.split('<table class="scorecard fixed">', 1)[1].split("</table>\n</div>", 1)[0]
    assert len(metrics) == 11
    assert scorecard.count('<tr class="st-') == len(metrics)
    # every clause: each one any part of report.json cites, by its id and file:line
    cited = [k["clause"] for k in data["kpis"]]
    cited += [r["clause"] for r in data["findings"]["by_clause"]]
    cited += [r["clause"] for r in data["timelines"]["by_clause"]]
    cited += [r["clause"] for r in data["validity"]["by_condition"]]
    cited += [r["clause"] for r in data["transcripts"]["by_rule"]]
    for c in cited:
        assert f"{c['file']}:{c['line']}" in text, c
        if c.get("id"):
            assert c["id"] in text, c
    # every finding report.json shows: its row, with the record and where it is
    items = data["findings"]["items"]
    assert len(items) == data["findings"]["shown"] > 400
    for n, f in enumerate(items, 1):
        row = page.of(f"finding-{n}")
        assert f["record"] in row and f"{f['input']}:{f['line']}" in row, (n, row)


def test_people_read_durations_times_and_the_event_log_lines(
    bundled: tuple[Path, dict[str, Any], str],
) -> None:
    _, data, html = bundled
    text = Text(html).text
    assert "late_by" not in text and not re.search(r"\bPT\d", text)  # no ISO 8601 duration
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", text.split("generated at")[0])
    # the example: a reply 2 h 35 min late, read as times of day
    assert "replied 2024-10-29 16:12, due 13:37: 2 h 35 min late" in text
    # `at line N` of a clock finding is the event log's line, and says so
    log = r"\S*examples/complaint_events\.jsonl"
    assert re.search(rf"`replied` at {log}:16, after the due time", text)
    assert re.search(rf"escalated late, at {log}:\d+", text)
    assert "at line " not in text
    # report.json keeps ISO 8601
    late = next(f for f in data["findings"]["items"] if f["kind"] == "deadline")
    assert late["evidence"]["late_by"].startswith("PT")


def test_the_cases_are_grouped_with_their_timeline(
    bundled: tuple[Path, dict[str, Any], str],
) -> None:
    _, data, html = bundled
    cases = data["cases"]
    assert cases["total"] == 268 and cases["shown"] == 20
    worst = cases["items"][0]
    assert worst["record"] == "C-20241109-0001" and worst["findings"] == 45
    updates = next(b for b in worst["by_clause"] if b["kind"] == "update")
    assert updates["clause"]["id"] == "reply.update" and updates["findings"] == 41
    page = Text(html)
    case = page.of("case-1")
    assert "reply.update · progress update missed · 41" in case
    assert "41 findings" in case  # the 41 missed updates collapse into one line
    assert "examples/complaint_events.jsonl:197" in case and "acknowledged" in case
    assert "received_at 2024-11-09 11:04" in case
    strip = html.split('id="case-1"', 1)[1].split("</svg>", 1)[0]
    assert '<svg class="strip"' in strip
    assert strip.count('class="m-due"') == 45  # a due time for every clock finding
    assert "the other 248 are not shown here" in page.text
    assert "every finding of every case is in findings.jsonl" in page.text
    # a valid complaint's case shows the conditions that made it valid
    third = page.of("case-3")
    assert "Verdict: valid, because" in third and "missed_task" in third


def _measured(tmp_path: Path, html: str) -> dict[str, Any]:
    """The page at WIDTH px, every <details> open, measured by a script (the report itself
    runs none: its Content-Security-Policy is taken out of this copy only)."""
    probe = """<script>
for (const d of document.querySelectorAll('details')) d.open = true;
const doc = document.documentElement;
const wide = [];
for (const t of document.querySelectorAll('table')) {
  const parent = t.parentElement;
  if (t.scrollWidth > parent.clientWidth + 1 || t.getBoundingClientRect().right > doc.clientWidth)
    wide.push([t.scrollWidth, parent.clientWidth, t.innerText.slice(0, 60)]);
}
const out = document.createElement('pre');
out.id = 'measured';
out.textContent = JSON.stringify({scroll: doc.scrollWidth, client: doc.clientWidth,
  tables: document.querySelectorAll('table').length, wide: wide});
document.body.appendChild(out);
</script>"""
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    page = page.replace("</body>", probe + "</body>")
    path = tmp_path / "measure.html"
    path.write_text(page, encoding="utf-8")
    done = chromium(
        tmp_path / "profile",
        "--hide-scrollbars",
        f"--window-size={WIDTH},3000",
        "--virtual-time-budget=5000",
        "--dump-dom",
        path.as_uri(),
    )
    assert done.returncode == 0, done.stderr
    found = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stdout[-2000:]
    measured: dict[str, Any] = json.loads(found.group(1).replace("&quot;", '"'))
    return measured


@needs_chromium
def test_the_bundled_report_fits_1400_px(
    tmp_path: Path, bundled: tuple[Path, dict[str, Any], str]
) -> None:
    _, _, html = bundled
    m = _measured(tmp_path, html)
    assert m["tables"] > 20
    assert m["scroll"] <= WIDTH and m["scroll"] <= m["client"], m
    assert m["wide"] == [], m["wide"]


@needs_chromium
def test_the_width_check_catches_a_wide_table(
    tmp_path: Path, bundled: tuple[Path, dict[str, Any], str]
) -> None:
    """The measurement can fail: a table with a 3000 px cell is reported."""
    _, _, html = bundled
    wide = '<table><tr><td style="min-width:3000px">x</td></tr></table>'
    m = _measured(tmp_path, html.replace("</main>", wide + "</main>"))
    assert m["scroll"] > WIDTH and len(m["wide"]) == 1


@needs_chromium
def test_the_bundled_report_renders_without_console_errors(
    tmp_path: Path, bundled: tuple[Path, dict[str, Any], str]
) -> None:
    out, _, _ = bundled
    shot = tmp_path / "report.png"
    done = chromium(
        tmp_path / "profile",
        "--hide-scrollbars",
        f"--window-size={WIDTH},3000",
        f"--screenshot={shot}",
        (out / "report.html").as_uri(),
    )
    assert done.returncode == 0, done.stderr
    assert console_messages(done.stderr) == []
    assert shot.stat().st_size > 50_000


def test_the_page_names_an_installed_cjk_font(
    bundled: tuple[Path, dict[str, Any], str],
) -> None:
    """Chinese needs a CJK font: the style sheet names the Noto/Source Han families, and
    where fontconfig is present one of them must be installed (`apt-get install
    fonts-noto-cjk`), or Chinese renders as boxes."""
    _, _, html = bundled
    stack = re.search(r"body \{[^}]*font:[^;]*;", html)
    assert stack is not None
    for family in CJK_FAMILIES:
        assert f'"{family}"' in stack.group(0)
    if shutil.which("fc-list") is None:
        pytest.skip("fontconfig (fc-list) is not installed: cannot tell which fonts are")
    listed = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    ).stdout
    if not listed.strip():
        pytest.skip("no CJK font installed: apt-get install fonts-noto-cjk")
    assert any(f in listed for f in CJK_FAMILIES), listed[:500]


def test_an_older_report_without_the_tallies_still_renders() -> None:
    """A report.json of an older csdsl (no `findings.by_clause`, no `cases`) renders, and
    says the case summary is missing instead of showing none."""
    html = render_html({"summary": {"verdict": "pass"}, "findings": {"items": []}})
    assert "This report has no case summary" in html


def test_the_strip_marks_pauses_by_the_policy_not_by_event_names() -> None:
    """A pause is what the policy's `pauses on ... resumes on ...` says (each event's `clock`,
    from the auditor); an event merely named like one (`hold_music`) is an ordinary event."""
    from csdsl.report.charts import strip

    def event(at: str, name: str, clock: str | None, line: int) -> dict[str, Any]:
        return {"at": at, "event": name, "role": "agent", "line": line, "clock": clock}

    case = {
        "opened": {"field": "received_at", "at": "2024-10-29T09:00:00+08:00"},
        "events": [
            event("2024-10-29T09:30:00+08:00", "awaiting_customer", "pause", 1),
            event("2024-10-29T10:00:00+08:00", "hold_music", None, 2),
            event("2024-10-29T11:00:00+08:00", "customer_replied", "resume", 3),
            event("2024-10-29T12:00:00+08:00", "escalated", "escalation", 4),
        ],
        "items": [],
    }
    drawn = strip(case)
    assert drawn is not None
    css = {m.tooltip.split(",")[0].split(" by ")[0]: m.css for m in drawn.marks}
    assert css == {
        "received_at: 2024-10-29 09:00": "opened",
        "awaiting_customer": "pause",
        "hold_music": "event",
        "customer_replied": "pause",
        "escalated": "escalation",
    }
    assert [s.css for s in drawn.spans] == ["paused"]


def test_the_cases_events_carry_what_the_policy_makes_of_them(
    bundled: tuple[Path, dict[str, Any], str],
) -> None:
    _, data, _ = bundled
    clocks = {
        (e["event"], e["clock"]) for c in data["cases"]["items"] for e in c.get("events") or ()
    }
    assert {("escalated", "escalation"), ("awaiting_customer", "pause")} <= clocks
    assert ("customer_replied", "resume") in clocks
    assert all(clock is None for name, clock in clocks if name in ("replied", "acknowledged"))
