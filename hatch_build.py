"""Hatchling build hook: compiles `csdsl._scanner` (src/csdsl/_scanner.c), the C engine of
phrase matching (`csdsl.phrase_engines`'s `native` engine and the fold of
`csdsl.phrases.Matcher.scan_many`), with the compiler Python itself was built with (or the one
`LDSHARED` names).

Optional by design: where there is no C compiler or no Python headers (or `CSDSL_NO_NATIVE=1`
is set) the install goes on without it, says so on stderr (pip shows it with `-v`), and phrase
matching uses Hyperscan or pyahocorasick, with the same results.  An editable install
(`pip install -e .`) puts the module beside its source, in src/csdsl/ (ignored by git), and
removes a module left there by an earlier install whenever this one does not build it, so an
editable tree never runs a module older than its source; a wheel carries the module and is
tagged for this Python and platform.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class ScannerBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        source = Path(self.root, "src", "csdsl", "_scanner.c")
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        editable = version == "editable"
        if editable:
            for old in source.parent.glob("_scanner*.so"):  # an earlier install's
                old.unlink()
        if os.environ.get("CSDSL_NO_NATIVE", "").strip().lower() not in ("", "0", "false", "no"):
            _say("CSDSL_NO_NATIVE is set: csdsl._scanner not built")
            return
        self._scratch = tempfile.mkdtemp(prefix="csdsl-build-")
        built = Path(self._scratch, "_scanner" + suffix)
        problem = compile_module(source, built)
        if problem:
            _say(
                f"csdsl._scanner not built ({problem}); phrase matching will use Hyperscan "
                "or pyahocorasick, with the same results, more slowly"
            )
            return
        if editable:
            os.replace(built, source.with_name("_scanner" + suffix))
        else:
            build_data["force_include"][str(built)] = f"csdsl/_scanner{suffix}"
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        scratch = getattr(self, "_scratch", None)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def compile_module(source: Path, target: Path) -> str | None:
    """Compile and link `source` into the extension module `target`; what went wrong, or
    None."""
    link = os.environ.get("LDSHARED") or sysconfig.get_config_var("LDSHARED")
    include = sysconfig.get_paths().get("include")
    if not link or not include or not Path(include, "Python.h").exists():
        return "no C compiler or Python headers known to this Python"
    command = [
        *shlex.split(link),
        *shlex.split(sysconfig.get_config_var("CCSHARED") or ""),
        "-O2",
        "-I",
        include,
        str(source),
        "-o",
        str(target),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as e:
        return f"{command[0]}: {e.strerror}"
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        first = next((line for line in lines if "error" in line), lines[0] if lines else "")
        return f"{command[0]} failed: {first.strip() or done.returncode}"
    return None


def _say(message: str) -> None:
    print(f"csdsl build: {message}", file=sys.stderr)
