"""The four charts of the HTML report, as geometry for the template to draw as inline SVG.

In: a `model.View`.  Out: `Figure`s, each with a title, a caption and either a chart (bars,
ticks, axis labels, tooltips; coordinates in SVG user units of a `WIDTH`-wide view box) or a
note saying there is no data.  No text is put into markup here: the template does that, with
autoescaping, so that a record id or a clause text can never become markup.

Charts:
- **Sparklines** (`sparkline`): a metric's value per period of the scorecard, on its own scale,
  the threshold a dashed line, each point coloured by its status.
- **A case's timeline** (`strip`): two lanes over the case's time span: the record's receipt and
  its event-log entries (escalations and pauses marked apart, a pause shaded until its
  resume; which events pause a clock is the policy's `pauses on ... resumes on ...`, given as
  each entry's `clock`), and the due times of its clock findings, each with a red span to the
  moment it was met (or to the time the clocks were judged when it never was).
- **Breaches per day** (by due date): one vertical bar per day from the first to the
  last day with a breach, days without one at 0.
- **Transcript scores**: the histogram's bins as adjacent vertical bars.
- **Findings by clause**: the `TOP` clauses with the most findings (valid complaints, breached
  deadlines, transcript findings) as horizontal bars.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from csdsl.report import humanize
from csdsl.report.model import Labelled, View, fill_days, number

if TYPE_CHECKING:
    from csdsl.report.overview import ClauseRow

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


_KIND_CSS = {
    "valid complaint": "validity",
    "deadline breached": "timelines",
    "progress update missed": "timelines",
    "escalation late": "timelines",
    "transcript": "transcripts",
    "rule broken": "rules",
}


def tally_rows(clauses: Sequence[ClauseRow]) -> list[Labelled]:
    """report.json's `findings.by_clause` as chart rows: one per clause id and kind (a
    deadline's missed progress updates apart from its breaches), labelled with the id."""
    out = []
    for r in clauses:
        clause = attrs.evolve(r.clause, id=r.cid or r.clause.id) if r.clause else None
        css = _KIND_CSS.get(r.kind, "count")
        out.append(Labelled(clause, f"{r.kind}, {r.cases} cases", r.findings, css))
    return out


def clauses_figure(view: View, tallied: Sequence[Labelled] | None = None) -> Figure:
    """Findings per clause: from report.json's `findings.by_clause` when it has one (`tallied`),
    else from the sections' counts (a report of an older csdsl)."""
    every = list(tallied) if tallied else view.by_clause
    rows = every[:TOP]
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
    more = len(every) - len(rows)
    caption = (
        "Valid complaints per condition, breached deadlines and missed progress updates per"
        " clause (apart), late escalations, transcript findings per rule and broken"
        " record-level rules"
    )
    caption += f"; the top {TOP} of {len(every)}." if more > 0 else "."
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


def figures(view: View, tallied: Sequence[Labelled] | None = None) -> list[Figure]:
    return [clauses_figure(view, tallied), breaches_figure(view), histogram_figure(view)]


# ---- sparklines --------------------------------------------------------------------------------


@attrs.frozen
class Spark:
    width: int
    height: int
    points: str  # the polyline's points, `x,y x,y`
    dots: list[tuple[float, float, str]]  # (x, y, status css)
    threshold_y: float | None
    aria: str


SPARK_W, SPARK_H, SPARK_PAD = 112, 26, 4


def sparkline(
    values: Sequence[float | None], threshold: float | None, statuses: Sequence[str]
) -> Spark | None:
    """A trend of `values` (one per period; None leaves a gap in the dots, the line joins the
    known points), on the range of the values and the threshold.  None for fewer than two
    known points (no trend to draw)."""
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(known) < 2:
        return None
    lo = min([v for _, v in known] + ([threshold] if threshold is not None else []))
    hi = max([v for _, v in known] + ([threshold] if threshold is not None else []))
    if hi == lo:
        hi, lo = hi + 1, lo - 1
    n = max(len(values) - 1, 1)

    def x(i: int) -> float:
        return SPARK_PAD + i / n * (SPARK_W - 2 * SPARK_PAD)

    def y(v: float) -> float:
        return SPARK_H - SPARK_PAD - (v - lo) / (hi - lo) * (SPARK_H - 2 * SPARK_PAD)

    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in known)
    dots = [(x(i), y(v), statuses[i] if i < len(statuses) else "na") for i, v in known]
    ty = None if threshold is None else y(threshold)
    aria = f"trend over {len(values)} periods"
    return Spark(SPARK_W, SPARK_H, points, dots, ty, aria)


# ---- a case's timeline -------------------------------------------------------------------------


@attrs.frozen
class StripMark:
    x: float
    y: float
    css: str  # opened | event | escalation | pause | due
    tooltip: str


@attrs.frozen
class StripSpan:
    x1: float
    x2: float
    y: float
    css: str  # late | overdue | paused
    tooltip: str


@attrs.frozen
class Strip:
    width: int
    height: int
    left: float
    right: float
    lanes: list[tuple[float, str]]  # (y, label)
    marks: list[StripMark]
    spans: list[StripSpan]
    ticks: list[Tick]
    aria: str


STRIP_W = 1000


def _moment(value: Any) -> dt.datetime | None:
    """A time with its offset (a naive one cannot be placed beside the others)."""
    m = humanize.parse_moment(value)
    return m if m is not None and m.tzinfo is not None else None


def _hm(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def _ticks(first: dt.datetime, last: dt.datetime, x: Any) -> list[Tick]:
    """Day (or, over two days or less, six-hour) boundaries in the case's own offset, at most
    about 10 labelled."""
    hours = 6 if (last - first) <= dt.timedelta(days=2) else 24
    start = first.replace(minute=0, second=0, microsecond=0)
    start = start.replace(hour=start.hour - start.hour % hours) + dt.timedelta(hours=hours)
    marks: list[dt.datetime] = []
    t = start
    while t <= last and len(marks) < 400:
        marks.append(t)
        t += dt.timedelta(hours=hours)
    every = max(1, math.ceil(len(marks) / 10))
    fmt = "%m-%d %H:%M" if hours < 24 else "%m-%d"
    return [Tick(x(t), t.strftime(fmt)) for t in marks[::every]]


def strip(case: Mapping[str, Any], as_of: Any = None) -> Strip | None:
    """A case's timeline (see the module's docstring); None when it has no time to draw."""
    lanes = [(34.0, "received, events"), (74.0, "due times")]
    points: list[tuple[dt.datetime, int, str, str]] = []  # (when, lane, css, tooltip)
    spans: list[tuple[dt.datetime, dt.datetime, int, str, str]] = []
    opened = case.get("opened")
    if isinstance(opened, Mapping) and (o := _moment(opened.get("at"))) is not None:
        points.append(
            (o, 0, "opened", f"{opened.get('field')}: {humanize.moment(opened.get('at'))}")
        )
    paused: dt.datetime | None = None
    for e in case.get("events") or ():
        if not isinstance(e, Mapping) or (at := _moment(e.get("at"))) is None:
            continue
        name = str(e.get("event"))
        clock = e.get("clock")  # the policy's reading of the event: pause, resume, escalation
        css = "escalation" if clock == "escalation" else "event"
        if clock == "pause":
            css, paused = "pause", at
        elif clock == "resume" and paused is not None:
            spans.append(
                (
                    paused,
                    at,
                    0,
                    "paused",
                    f"paused {humanize.moment(paused)} to {humanize.moment(at)}",
                )
            )
            css, paused = "pause", None
        who = f" by {e.get('role')}" if e.get("role") else ""
        points.append(
            (at, 0, css, f"{name}{who}, {humanize.moment(e.get('at'))} (line {e.get('line')})")
        )
    end_of_clocks = _moment(as_of)
    for f in case.get("items") or ():
        ev = f.get("evidence") if isinstance(f, Mapping) else None
        if not isinstance(ev, Mapping) or (due := _moment(ev.get("due"))) is None:
            continue
        cid = (f.get("clause") or {}).get("id") if isinstance(f.get("clause"), Mapping) else None
        sentence = humanize.clock(ev, str(f.get("message") or "")) or ""
        points.append((due, 1, "due", f"{cid}: {sentence}"))
        at = _moment(ev.get("at"))
        if at is not None and at > due:
            spans.append((due, at, 1, "late", f"{cid}: {sentence}"))
        elif at is None and end_of_clocks is not None and end_of_clocks > due:
            spans.append((due, end_of_clocks, 1, "overdue", f"{cid}: {sentence}"))
    if not points:
        return None
    times = [p[0] for p in points] + [t for s in spans for t in s[:2]]
    first, last = min(times), max(times)
    if last == first:
        last = first + dt.timedelta(hours=1)
    left, right = 130.0, STRIP_W - 20.0
    total = (last - first).total_seconds()

    def x(t: dt.datetime) -> float:
        return left + (t - first).total_seconds() / total * (right - left)

    zone = first.tzinfo
    local_first, local_last = first.astimezone(zone), last.astimezone(zone)
    marks = [StripMark(x(t), lanes[lane][0], css, tip) for t, lane, css, tip in points]
    bars = [StripSpan(x(a), x(b), lanes[lane][0], css, tip) for a, b, lane, css, tip in spans]
    late = sum(1 for s in bars if s.css in ("late", "overdue"))
    aria = (
        f"Timeline from {_hm(first)} to {_hm(last)}: {sum(1 for m in marks if m.y == lanes[0][0])} "
        f"events, {sum(1 for m in marks if m.css == 'due')} due times, {late} of them missed."
    )
    ticks = _ticks(local_first, local_last, x)
    return Strip(STRIP_W, 110, left, right, lanes, marks, bars, ticks, aria)
