"""Headless Chromium for the tests that open generated pages (the audit report, `csdsl doc`).

Debian's `chromium` (`apt install chromium`); without it those tests are skipped.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def chromium(profile: Path, *args: str, timeout: int = 90) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with its own profile directory, console messages on stderr."""
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        "--headless=new",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def console_messages(stderr: str) -> list[str]:
    """What the page printed to its console (a script error, a blocked resource)."""
    return [
        line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line.strip()
    ]
