"""The four charts of the HTML report, as geometry for the template to draw as inline SVG.

In: a `model.View`.  Out: `Figure`s, each with a title, a caption and either a chart (bars,
ticks, axis labels, tooltips; coordinates in SVG user units of a `WIDTH`-wide view box) or a
note saying there is no data.  No text is put into markup here: the template does that, with
autoescaping, so that a record id or a clause text can never become markup.

Charts:
- **KPI value vs threshold**: one horizontal bar per KPI row whose value is a ratio (`percent`)
  on a 0-100% axis, with a tick at the threshold; KPIs with counts or durations are left out
  (the caption says how many) because they share no scale; a not-applicable value has no bar.
- **Breaches per day** (by due date): one vertical bar per day from the first to the
  last day with a breach, days without one at 0.
- **Transcript scores**: the histogram's bins as adjacent vertical bars.
- **Findings by clause**: the `TOP` clauses with the most findings (valid complaints, breached
  deadlines, transcript findings) as horizontal bars.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

import attrs

from csdsl.report.model import Kpi, Labelled, View, fill_days, number

WIDTH = 760
TOP = 15
LABEL_CELLS = 44  # the width of a bar label, in cells (a CJK character takes two)


@attrs.frozen
class Tick:
    pos: float
    label: str


@attrs.frozen
class Bar:
    x: float
    y: float
    w: float
    h: float
    css: str  # the bar's class: pass, fail, na, validity, timelines, transcripts, rules, count
    label: str  # shown beside (horizontal) or under (vertical) the bar; may be cut
    value: str  # shown at the end of the bar
    tooltip: str
    mark: float | None = None  # the threshold's x, horizontal charts only
    text_x: float = 0.0  # where the value is written, horizontal charts only


@attrs.frozen
class Chart:
    kind: str  # hbar | vbar
    height: float
    left: float  # the plot area
    right: float
    top: float
    bottom: float
    bars: list[Bar]
    ticks: list[Tick]  # on the value axis
    x_title: str
    y_title: str
    aria: str
    rotate_labels: bool = False
    label_every: int = 1

    @property
    def width(self) -> int:
        return WIDTH


@attrs.frozen
class Figure:
    id: str
    title: str
    caption: str
    chart: Chart | None
    empty: str  # the note shown instead of an empty chart
    legend: list[tuple[str, str]]  # (css class, label)


def cells(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def cut(s: str, limit: int = LABEL_CELLS) -> str:
    """`s` cut to `limit` display cells, with an ellipsis when cut."""
    if cells(s) <= limit:
        return s
    out, used = [], 0
    for ch in s:
        w = cells(ch)
        if used + w > limit - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def nice_ticks(top: float, integer: bool = True, n: int = 5) -> list[float]:
    """0 and round steps up to at least `top` (steps of 1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return [0, 1] if integer else [0.0, 1.0]
    raw = top / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    if integer:
        step = max(1, round(step))
    count = math.ceil(top / step - 1e-9)
    return [i * step for i in range(count + 1)]


HRow = tuple[str, str, float | None, str, str, float | None]


def _hbar(
    rows: Sequence[HRow],
    ticks: list[Tick],
    scale: float,
    x_title: str,
    y_title: str,
    aria: str,
) -> Chart:
    """Rows of (label, value text, value, css, tooltip, mark) against an axis 0..scale."""
    left, right, top, row_h, bar_h = 310.0, 690.0, 8.0, 26.0, 16.0
    span = right - left
    bars = []
    for i, (label, shown, value, css, tooltip, mark) in enumerate(rows):
        y = top + i * row_h + (row_h - bar_h) / 2
        w = 0.0 if value is None else max(0.0, min(value, scale)) / scale * span
        m = None if mark is None else left + max(0.0, min(mark, scale)) / scale * span
        text_x = max(left + w, m or 0.0) + 6
        bars.append(Bar(left, y, w, bar_h, css, cut(label), shown, tooltip, m, text_x))
    bottom = top + len(rows) * row_h
    placed = [Tick(left + t.pos / scale * span, t.label) for t in ticks]
    height = bottom + 48
    return Chart("hbar", height, left, right, top, bottom, bars, placed, x_title, y_title, aria)


def _vbar(
    rows: list[tuple[str, int, str]], gap: float, x_title: str, y_title: str, aria: str
) -> Chart:
    """Rows of (label, count, tooltip) as vertical bars, `gap` the share of a slot left empty."""
    left, right, top, bottom = 64.0, 740.0, 18.0, 230.0
    rotate = len(rows) > 12 or max(cells(r[0]) for r in rows) * 7 > (right - left) / len(rows)
    values = nice_ticks(max(n for _, n, _ in rows))
    scale = values[-1]
    slot = (right - left) / len(rows)
    w = max(slot * (1 - gap), 1.0)
    bars = []
    for i, (label, n, tooltip) in enumerate(rows):
        h = n / scale * (bottom - top)
        x = left + i * slot + (slot - w) / 2
        bars.append(Bar(x, bottom - h, w, h, "count", label, str(n) if n else "", tooltip))
    ticks = [Tick(bottom - v / scale * (bottom - top), number(v)) for v in values]
    every = max(1, math.ceil(len(rows) / (16 if rotate else 12)))
    height = bottom + (100 if rotate else 50)
    return Chart(
        "vbar", height, left, right, top, bottom, bars, ticks, x_title, y_title, aria, rotate, every
    )


def _kpi_tooltip(k: Kpi) -> str:
    reason = f" ({k.reason})" if k.reason else ""
    return (
        f"{k.metric} [{k.group}]: {k.value} {k.op} {k.threshold}: {k.status_label}{reason}"
        f" — {k.clause.label if k.clause else ''}"
    )


def kpi_figure(view: View) -> Figure:
    percent = [k for k in view.kpis if k.percent]
    skipped = len(view.kpis) - len(percent)
    caption = "Bars are the KPI values on a 0–100% axis; the dark tick is the threshold."
    if skipped:
        caption += (
            f" {skipped} KPI row{'s' if skipped != 1 else ''} measured as counts or durations"
            " not shown here (no common scale): see the KPI table."
        )
    chart = None
    if percent:
        rows: list[HRow] = []
        for k in percent:
            label = k.metric if k.group == "all" else f"{k.metric} · {k.group_values}"
            css = {"pass": "pass", "fail": "fail"}.get(k.status, "na")
            shown = k.value if k.ratio is not None else "n/a"
            rows.append((label, shown, k.ratio, css, _kpi_tooltip(k), k.threshold_ratio))
        ticks = [Tick(t / 100, f"{t}%") for t in (0, 25, 50, 75, 100)]
        failing = sum(1 for k in percent if k.status == "fail")
        aria = (
            f"Horizontal bar chart of {len(percent)} percentage KPIs against their thresholds;"
            f" {failing} failing."
        )
        chart = _hbar(rows, ticks, 1.0, "value (% of the measured population)", "KPI", aria)
    return Figure(
        "chart-kpis",
        "KPI value vs threshold",
        caption,
        chart,
        "No percentage KPIs in this report.",
        [("pass", "pass"), ("fail", "fail"), ("na", "not applicable"), ("mark", "threshold")],
    )


def breaches_figure(view: View) -> Figure:
    days = fill_days(view.breaches_by_day)
    chart = None
    if days and any(n for _, n in days):
        rows = [(d, n, f"{d}: {n} breach{'es' if n != 1 else ''}") for d, n in days]
        total = sum(n for _, n in days)
        aria = f"Bar chart of {total} clock breaches over {len(days)} days, by due date."
        chart = _vbar(rows, 0.2, "due date (policy time zone)", "breaches", aria)
    return Figure(
        "chart-breaches",
        "Breaches per day",
        "Breached deadlines, progress updates and escalation steps, by the day they were due; "
        "days in between without a breach are 0.",
        chart,
        "No breached clocks (or no timelines in this audit).",
        [],
    )


def histogram_figure(view: View) -> Figure:
    bins = view.histogram
    chart = None
    if bins and any(n for _, n in bins):
        rows = [(b, n, f"score {b}: {n} transcript{'s' if n != 1 else ''}") for b, n in bins]
        total = sum(n for _, n in bins)
        aria = f"Histogram of the scores of {total} transcripts in {len(bins)} bins."
        chart = _vbar(rows, 0.04, "score", "transcripts", aria)
    return Figure(
        "chart-scores",
        "Transcript score distribution",
        "Transcripts per score band (0–100).",
        chart,
        "No transcript scores (or no transcripts in this audit).",
        [],
    )


def _clause_label(r: Labelled) -> str:
    return "(no clause)" if r.clause is None else r.clause.short


def clauses_figure(view: View) -> Figure:
    rows = view.by_clause[:TOP]
    chart = None
    if rows:
        scale_ticks = nice_ticks(max(r.count for r in rows))
        scale = float(scale_ticks[-1])
        data: list[HRow] = []
        for r in rows:
            text = f": {r.clause.text}" if r.clause and r.clause.text else ""
            name = r.clause.name if r.clause else "(no clause)"
            tip = f"{name}{text} — {r.count} ({r.kind})"
            css = r.source.split(", ")[0]
            data.append((_clause_label(r), str(r.count), float(r.count), css, tip, None))
        ticks = [Tick(float(t), number(t)) for t in scale_ticks]
        aria = f"Horizontal bar chart of findings for the {len(rows)} clauses with the most."
        chart = _hbar(data, ticks, scale, "findings", "clause", aria)
    more = len(view.by_clause) - len(rows)
    caption = (
        "Valid complaints per condition, breached deadlines per clause, transcript findings"
        " per rule and broken record-level rules"
    )
    caption += f"; the top {TOP} of {len(view.by_clause)} clauses." if more > 0 else "."
    return Figure(
        "chart-clauses",
        "Findings by clause",
        caption,
        chart,
        "No findings by clause.",
        [
            ("validity", "valid complaints"),
            ("timelines", "breached"),
            ("transcripts", "transcript"),
            ("rules", "rule broken"),
        ],
    )


def figures(view: View) -> list[Figure]:
    return [kpi_figure(view), breaches_figure(view), histogram_figure(view), clauses_figure(view)]
