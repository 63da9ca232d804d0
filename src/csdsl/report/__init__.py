"""The audit report as Markdown and as one self-contained HTML page.

In: the report mapping of `csdsl audit` (schema 1, the content of report.json).  Out: text.

- `render_markdown`: GitHub-flavoured Markdown; every number the HTML page charts is in a table.
  Text from the report is escaped for Markdown (`|`, `<`, `*`, backticks...), so a record id or
  a message can neither break a table nor become markup.
- `render_html`: one HTML5 file with its style sheet and inline SVG charts (`charts`), no
  script, no external resource (a Content-Security-Policy forbids both), fit to print.  Every
  piece of report text goes through Jinja's autoescaping.

Both templates are in `templates/` and get a `model.View` (and the HTML one `charts.figures`);
the renderers accept a report with optional parts missing or null and never raise on one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import jinja2
import markupsafe

from csdsl.report import charts, model

__all__ = ["render_html", "render_markdown"]

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
    return markupsafe.Markup("/<wbr>").join(markupsafe.escape(str(value)).split("/"))


def svg_number(value: float) -> str:
    """A coordinate with at most one decimal."""
    return f"{value:.1f}".removesuffix(".0")


def environment(package: str, html: bool) -> jinja2.Environment:
    """The templates of a csdsl package (`templates/`): HTML autoescaped, undefined names an
    error, Markdown escaping filters `md` and `fence` (shared by the report and `csdsl doc`)."""
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
    view = model.build(report)
    return _env(False).get_template("report.md.j2").render(v=view)


def render_html(report: Mapping[str, Any]) -> str:
    view = model.build(report)
    figures = charts.figures(view)
    return _env(True).get_template("report.html.j2").render(v=view, figures=figures)
