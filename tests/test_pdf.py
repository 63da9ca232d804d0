"""`csdsl audit --pdf`: the bundled audit's report.html rendered by WeasyPrint, read back with
poppler's `pdftotext` (the Chinese text round-trips) and `pdffonts` (it is drawn with an
embedded CJK font, not boxes).  Skipped, with the install command, where WeasyPrint, poppler or
a CJK font is missing: `pip install -e '.[pdf]'`, `apt-get install poppler-utils
fonts-noto-cjk` (.ci/run installs them)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from csdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"


def _cjk_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    return bool(found.stdout.strip())


def _missing() -> str | None:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return "WeasyPrint is not installed: pip install -e '.[pdf]'"
    for tool in ("pdftotext", "pdffonts"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed: apt-get install poppler-utils"
    if not _cjk_font():
        return "no CJK font for the Chinese text: apt-get install fonts-noto-cjk"
    return None


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if (reason := _missing()) is not None:
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("pdf")
    argv = [
        "audit",
        str(ROOT / "policies" / "hotline.csp"),
        "--records",
        str(EX / "complaints.jsonl"),
        "--records",
        f"Call={EX / 'calls.jsonl'}",
        "--records",
        f"Inquiry={EX / 'inquiries.csv'}",
        "--events",
        str(EX / "complaint_events.jsonl"),
        "--transcripts",
        str(EX / "transcripts.jsonl"),
        "--out",
        str(out),
        "--pdf",
    ]
    assert main(argv) == 0
    return out


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_chinese_text_round_trips(rendered: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pdf = rendered / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = _squeezed(text)
    report = json.loads((rendered / "report.json").read_text(encoding="utf-8"))
    wanted = {report["policy"]["name"]}
    wanted |= {k["wording"] for k in report["kpis"] if k.get("wording")}
    wanted |= {f["clause"]["text"] for f in report["findings"]["items"] if f["clause"].get("text")}
    assert any(re.search("[\u4e00-\u9fff]", w) for w in wanted)
    missing = sorted(w for w in wanted if _squeezed(w) not in flat)
    assert not missing, f"not in the PDF's text: {missing[:5]}"
    assert "\ufffd" not in text and "\u25a1" not in text  # no replacement characters or boxes


def test_the_glyphs_come_from_an_embedded_cjk_font(rendered: Path) -> None:
    fonts = subprocess.run(
        ["pdffonts", str(rendered / "report.pdf")], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    cjk = [line for line in fonts if "CJK" in line]
    assert cjk, "no CJK font in the PDF: the Chinese text would print as boxes"
    assert all(line.split()[-5] == "yes" for line in cjk), cjk  # `emb` column


def test_the_charts_keep_their_colours(rendered: Path, tmp_path: Path) -> None:
    """WeasyPrint reads an inline SVG's own style sheet only: without the page's chart rules
    copied in (`pdf.svg_styled`), every bar, hover area and sparkline filled black."""
    from PIL import Image

    pages = tmp_path / "page"
    subprocess.run(
        ["pdftoppm", "-r", "20", "-png", str(rendered / "report.pdf"), str(pages)], check=True
    )
    drawn = sorted(tmp_path.glob("page-*.png"))
    assert len(drawn) > 5
    for png in drawn:
        with Image.open(png) as image:
            grey = image.convert("L")
            dark = sum(grey.histogram()[:40]) / (grey.width * grey.height)
        assert dark < 0.05, f"{png.name}: {dark:.0%} of the page is black"


def test_without_weasyprint_the_hint_says_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint: ImportError
    argv = [
        "audit",
        str(ROOT / "policies" / "complaint_validity.csp"),
        "--records",
        str(EX / "complaints.jsonl"),
        "--out",
        str(tmp_path),
        "--pdf",
    ]
    assert main(argv) == 2
    got = capsys.readouterr()
    assert got.out == ""
    assert got.err == (
        "csdsl: --pdf needs WeasyPrint: pip install 'csdsl[pdf]' (and a CJK font: apt-get "
        "install fonts-noto-cjk)\n"
    )
    assert not (tmp_path / "report.json").exists()
