"""`csdsl doc`: a readable rendering of a policy for the people who sign it off.

In: a loaded `csdsl.Policy`.  Out: text, the same bytes for the same policy.

- `render_html`: one self-contained HTML5 page (style sheet inline, no script, no external
  resource: a Content-Security-Policy forbids both), fit to print, with an anchor per clause
  (`#clause-<file>-<line>`).  Every piece of policy text goes through Jinja's autoescaping.
- `render_markdown`: GitHub-flavoured Markdown with the same content; policy text is escaped so
  it can neither break a table nor become markup.

Both show the header (name, version, effective date, time zone, files and content hash), then
each clause with its `file:line`, its own wording, its meaning in plain words
(`csdsl.doc.words`) and the seed sections it cites (the comments above and beside it), and the
examples as tables.  No timestamp is printed unless `generated` is passed.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

import jinja2
import markupsafe

from csdsl.doc import words
from csdsl.doc.model import View, build

if TYPE_CHECKING:
    from csdsl.api import Policy

_BLANKS = re.compile(r"\n{3,}")  # the template's optional parts leave blank runs

__all__ = ["View", "build", "render_html", "render_markdown", "words"]


@functools.cache
def _env(html: bool) -> jinja2.Environment:
    from csdsl.report import environment

    env = environment("csdsl.doc", html)
    env.filters["words"] = html_words if html else md_words
    return env


_CODE = re.compile(r"`([^`\n]*)`")


def html_words(text: str) -> markupsafe.Markup:
    """Plain words for HTML: escaped, with the `names` they quote as code."""
    out = []
    for i, part in enumerate(_CODE.split(text)):
        escaped = markupsafe.escape(part)
        out.append(markupsafe.Markup("<code>{}</code>").format(part) if i % 2 else escaped)
    return markupsafe.Markup("").join(out)


def md_words(text: str) -> str:
    """Plain words for Markdown: escaped, the `names` they quote kept as code spans."""
    from csdsl.report import md_escape

    parts = _CODE.split(text)
    return "".join(f"`{p}`" if i % 2 else md_escape(p) for i, p in enumerate(parts))


def render_html(policy: Policy, generated: str | None = None) -> str:
    """The policy as one self-contained HTML page."""
    return _env(True).get_template("doc.html.j2").render(v=build(policy, generated))


def render_markdown(policy: Policy, generated: str | None = None) -> str:
    """The policy as GitHub-flavoured Markdown."""
    text = _env(False).get_template("doc.md.j2").render(v=build(policy, generated))
    return _BLANKS.sub("\n\n", text)
