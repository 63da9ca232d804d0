"""The HTML report as a PDF (`csdsl audit --pdf`): `report.pdf`, rendered by WeasyPrint.

In: the text of report.html (`render_html`).  Out: a PDF file.  WeasyPrint (the `pdf` extra)
lays the page out with the report's own print style sheet and the fonts fontconfig finds: the
Chinese text needs a CJK font installed (Debian: `fonts-noto-cjk`), or it prints as empty boxes.
The page has no external resource to fetch (its Content-Security-Policy forbids them), and none
is fetched: only `data:` URLs may be read.  WeasyPrint's warnings about CSS it does not support
are silenced (they say nothing about the audit).
"""

from __future__ import annotations

import logging
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
        weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(str(path))
    finally:
        quiet.setLevel(level)
