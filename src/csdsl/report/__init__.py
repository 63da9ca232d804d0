"""The audit report as Markdown and as one self-contained HTML page.

In: the report mapping of `csdsl audit` (schema 1, the content of report.json).  Out: text.

- `render_markdown`: GitHub-flavoured Markdown; every number the HTML page charts is in a table.
  Text from the report is escaped for Markdown (`|`, `<`, `*`, backticks...), so a record id or
  a message can neither break a table nor become markup.
- `render_html`: one HTML5 file with its style sheet and inline SVG charts (`charts`), no
  script, no external resource (a Content-Security-Policy forbids both), fit to print.  Every
  piece of report text goes through Jinja's autoescaping.

Both are `printable` (below): a record id cannot act on the terminal of whoever `cat`s them.

Both templates are in `templates/` and get a `model.View` (and the HTML one `charts.figures`);
the renderers accept a report with optional parts missing or null and never raise on one.

Two helpers every output of csdsl goes through (the command line's included; they import
nothing heavy):
- `printable`: text safe to print on a terminal: control characters (C0 but the line break,
  DEL, C1), the bidirectional overrides and isolates (U+202A-202E, U+2066-2069) and lone
  surrogates are written as `\\uXXXX` (`\\t`, `\\r`), so a record id can neither move the
  cursor, retitle the window nor reorder a line, and the text always encodes as UTF-8.
- `dumps`: strict JSON (RFC 8259): a NaN or an infinity, which JSON cannot spell, is written
  `null` rather than `NaN`/`Infinity`; the text is `printable` (the escapes are JSON's own, so
  it parses to the same values).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Jinja and the templates are loaded only to render: `dumps` and
    import jinja2  # `printable` are for every verb of the command line
    import markupsafe

__all__ = ["dumps", "printable", "render_html", "render_markdown"]

_UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SHORT = {"\t": "\\t", "\r": "\\r"}


def printable(text: str) -> str:
    """`text` with every character that could act on a terminal (or not encode) escaped."""
    if _UNPRINTABLE.search(text) is None:
        return text
    return _UNPRINTABLE.sub(lambda m: _SHORT.get(m.group(0)) or f"\\u{ord(m.group(0)):04x}", text)


# line and paragraph separators, and characters that print as nothing (zero-width spaces and
# joiners, the word joiner, a byte-order mark): in one line of output, data must show them
_LINE_BREAKING = re.compile("[\n\x85\u2028\u2029\u200b-\u200f\u2060\ufeff]")


def one_line(text: str) -> str:
    """`printable(text)`, and a line break or an invisible character in it escaped too: for a
    line of output that shows data (an id, a message quoting a value), so that data can never
    start a line of its own that reads like csdsl's (`line 7  C-1  valid`)."""
    text = printable(text)
    if _LINE_BREAKING.search(text) is None:
        return text
    return _LINE_BREAKING.sub(
        lambda m: "\\n" if m.group(0) == "\n" else f"\\u{ord(m.group(0)):04x}", text
    )


def _finite(x: Any) -> Any:
    """`x` with every NaN and infinity (at any depth) replaced by None."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, Mapping):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    return x


def dumps(obj: Any, indent: int | None = None) -> str:
    """`obj` as strict, printable JSON (see above), line and paragraph separators escaped;
    values JSON has no type for as strings."""
    try:
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False, indent=indent, default=str)
    except ValueError:  # a NaN or an infinity somewhere: never written as `NaN`/`Infinity`
        text = json.dumps(
            _finite(obj), ensure_ascii=False, allow_nan=False, indent=indent, default=str
        )
    # U+2028 and U+2029 are legal inside a JSON string, but `str.splitlines()` and many line
    # readers end a line there: escaped, each JSON Lines record stays one line for every reader
    return printable(text).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


_MD_SPECIAL = re.compile(r"[\\`*\[\]<|&~]|(?<!\w)_|_(?!\w)")
_NEWLINES = re.compile(r"\r\n|\r|\n")


def md_escape(value: Any) -> str:
    """Text for a Markdown table cell or line: specials backslash-escaped, newlines as `<br>`."""
    s = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), str(value))
    return _NEWLINES.sub("<br>", s)


def md_fence(value: Any) -> str:
    """A backtick fence longer than any run of backticks in `value`."""
    runs = [len(r) for r in re.findall(r"`+", str(value))]
    return "`" * max(3, max(runs, default=0) + 1)


def breakable(value: Any) -> markupsafe.Markup:
    """Escaped text that may wrap after a `/` (a path in a narrow table cell)."""
    import markupsafe

    return markupsafe.Markup("/<wbr>").join(markupsafe.escape(str(value)).split("/"))


def svg_number(value: float) -> str:
    """A coordinate with at most one decimal."""
    return f"{value:.1f}".removesuffix(".0")


def environment(package: str, html: bool) -> jinja2.Environment:
    """The templates of a csdsl package (`templates/`): HTML autoescaped, undefined names an
    error, Markdown escaping filters `md` and `fence` (shared by the report and `csdsl doc`)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["fence"] = md_fence
    return env


@functools.cache
def _env(html: bool) -> jinja2.Environment:
    env = environment("csdsl.report", html)
    env.filters["n"] = svg_number
    env.filters["path"] = breakable
    return env


def render_markdown(report: Mapping[str, Any]) -> str:
    from csdsl.report import model, overview
    from csdsl.report.reconciliation import section

    view = model.build(report)
    o = overview.build(report, view)
    recon = section(report)
    page = _env(False).get_template("report.md.j2")
    return printable(page.render(v=view, o=o, recon=recon))


def render_html(report: Mapping[str, Any]) -> str:
    from csdsl.report import charts, model, overview
    from csdsl.report.reconciliation import section

    view = model.build(report)
    o = overview.build(report, view)
    figures = charts.figures(view, charts.tally_rows(o.clauses))
    sparks = [
        charts.sparkline(r.trend, r.threshold, [c.status for c in r.cells])
        for r in o.scorecard.rows
    ]
    strips = [charts.strip(c.raw, report.get("as_of")) for c in o.cases]
    recon = section(report)
    page = _env(True).get_template("report.html.j2")
    return printable(
        page.render(v=view, o=o, figures=figures, sparks=sparks, strips=strips, recon=recon)
    )
