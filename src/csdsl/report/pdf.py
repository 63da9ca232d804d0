"""The HTML report as a PDF (`csdsl audit --pdf`): `report.pdf`, rendered by WeasyPrint.

In: the text of report.html (`render_html`).  Out: a PDF file.  WeasyPrint (the `pdf` extra)
lays the page out with the report's own print style sheet and the fonts fontconfig finds: the
Chinese text needs a CJK font installed (Debian: `fonts-noto-cjk`), or it prints as empty boxes.
The page has no external resource to fetch (its Content-Security-Policy forbids them), and none
is fetched: only `data:` URLs may be read.  WeasyPrint's warnings about CSS it does not support
are silenced (they say nothing about the audit).

WeasyPrint draws an inline SVG with the style sheets inside that SVG only: the page's own rules
for its charts (`svg.spark polyline { fill: none }`, a bar's colour, a transparent hover area)
would be lost and every shape drawn black.  So each `<svg>` gets a copy of the page's rules that
select SVG content (`_svg_rules`) as its own `<style>` before rendering.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

INSTALL = "pip install 'csdsl[pdf]' (and a CJK font: apt-get install fonts-noto-cjk)"


class PdfUnavailable(Exception):
    """WeasyPrint cannot be imported (not installed, or its system libraries are missing)."""


def require() -> None:
    """Raise `PdfUnavailable` with the install hint unless WeasyPrint can be imported."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: Pango or its friends are missing
        detail = "" if isinstance(exc, ImportError) else f" ({str(exc).splitlines()[0]})"
        raise PdfUnavailable(f"--pdf needs WeasyPrint{detail}: {INSTALL}") from None


_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
_SVG_OPEN = re.compile(r"(<svg\b[^>]*>)")


_VAR = re.compile(r"var\((--[\w-]+)\)")
_CUSTOM = re.compile(r"(--[\w-]+)\s*:\s*([^;}]+)")


def _svg_rules(css: str) -> str:
    """The top-level rules of `css` (not those inside `@media` and other at-rules) that may
    select SVG content: those naming `svg` and the class-only ones (a chart's bar colours),
    with each `var(--x)` replaced by its `:root` value (SVG style sheets know no variables)."""
    rules: list[str] = []
    custom: dict[str, str] = {}
    depth, start = 0, 0
    for i, ch in enumerate(css):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                rule = css[start : i + 1].strip()
                selector = rule.split("{", 1)[0].strip()
                if selector == ":root":
                    custom.update((k, v.strip()) for k, v in _CUSTOM.findall(rule))
                elif re.search(r"\bsvg\b", selector) or re.fullmatch(r"[.\w\s,-]+", selector):
                    rules.append(rule)
                start = i + 1
    return _VAR.sub(lambda m: custom.get(m.group(1), m.group(0)), "\n".join(rules))


def svg_styled(html: str) -> str:
    """`html` with the page's SVG rules copied into every inline `<svg>` (see the module)."""
    rules = "\n".join(_svg_rules(m.group(1)) for m in _STYLE.finditer(html)).strip()
    if not rules:
        return html
    return _SVG_OPEN.sub(lambda m: f"{m.group(1)}<style>{rules}</style>", html)


def write_pdf(html: str, path: str | Path) -> None:
    """Render `html` (report.html's text) to the PDF file `path`."""
    require()
    import weasyprint

    # only `data:` URLs (none today) may be read; never a file or the network
    fetcher: Any = (
        weasyprint.URLFetcher(allowed_protocols=("data",))
        if hasattr(weasyprint, "URLFetcher")
        else None
    )
    quiet = logging.getLogger("weasyprint")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # its notes on CSS it skips are not the user's business
    try:
        weasyprint.HTML(string=svg_styled(html), url_fetcher=fetcher).write_pdf(str(path))
    finally:
        quiet.setLevel(level)
