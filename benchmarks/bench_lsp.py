"""`csdsl lsp`: time from an edit (`textDocument/didChange`) to its diagnostics.

Generates a policy of about 1,000 lines from the bundled clauses (`policies/complaint_validity.csp`
with its examples repeated under new titles until the file is long enough), starts
`python -m csdsl lsp` as an editor would, opens the policy and then sends `--edits` changes of
the whole text, alternately breaking a field name in a condition (one error) and restoring it
(none), each also rewriting a comment so that no two texts are alike.  Each edit's time runs
from sending the change to receiving the `publishDiagnostics` that reflects it, so it includes
the server's debounce (`csdsl.lsp.server.DEBOUNCE`, 150 ms), the compilation and the JSON over
the pipe.  Also reports, in this process, the median time of
the compilation alone (`compile_file` with the edited text as an overlay, with and without the
parse cache the server keeps: whole files by text, clauses by text and line).  Goal: under
300 ms on the development machine.

    python benchmarks/bench_lsp.py               # ~30 s
    python benchmarks/bench_lsp.py --edits 50 --lines 2000

Needs the lsp extra (`pip install -e '.[lsp]'`).  Writes benchmarks/results/lsp-<UTC stamp>.json
and prints the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from csdsl.check import compile_file
from csdsl.check.modules import ParseCache, resolved
from csdsl.lsp.server import DEBOUNCE

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "policies" / "complaint_validity.csp"
GOOD = ": agent_rude\n"
BAD = ": agent_rud\n"
NOTE = "# 000 二(1)\n"  # a comment line each edit rewrites: no two texts alike, no parse reused


def generate(lines: int) -> str:
    """The seed policy with its examples repeated, renamed, until it has `lines` lines."""
    text = SEED.read_text(encoding="utf-8")
    blocks = re.findall(r"^example [^\n]*\{\n.*?^\}\n", text, flags=re.M | re.S)
    assert blocks, "the seed policy has examples"
    parts, n, copy = [text], text.count("\n"), 0
    while n < lines:
        copy += 1
        for block in blocks:
            renamed = re.sub(r'^example (\w+ )?"', f'example "copy {copy}: ', block, count=1)
            parts.append("\n" + renamed)
            n += renamed.count("\n") + 1
            if n >= lines:
                break
    return "".join(parts)


def edited(text: str, n: int, broken: bool) -> str:
    """Edit `n`: the field name broken or not, and a comment rewritten (same line count)."""
    body = text.replace(NOTE, f"# 000 二(1) edit {n}\n", 1)
    return body.replace(GOOD, BAD, 1) if broken else body


async def measure(path: Path, text: str, edits: int) -> list[float]:
    client = LanguageClient("bench", "1")
    uri = path.as_uri()
    published: asyncio.Queue[types.PublishDiagnosticsParams] = asyncio.Queue()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_publish(params: types.PublishDiagnosticsParams) -> None:
        published.put_nowait(params)

    await client.start_io(sys.executable, "-m", "csdsl", "lsp")
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=path.parent.as_uri()
        )
    )
    client.initialized(types.InitializedParams())

    async def until(errors: int) -> None:
        while True:
            got = await asyncio.wait_for(published.get(), 60)
            if got.uri == uri and len(got.diagnostics) == errors:
                return

    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "csp", 1, text))
    )
    await until(0)
    times = []
    for version in range(2, edits + 2):
        broken = version % 2 == 0
        body = edited(text, version, broken)
        start = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=version, uri=uri),
                [types.TextDocumentContentChangeWholeDocument(text=body)],
            )
        )
        await until(1 if broken else 0)
        times.append(time.perf_counter() - start)
        await asyncio.sleep(0.05)  # a pause between keystrokes, so edits are not debounced away
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times


def compile_times(path: Path, text: str, runs: int, parses: ParseCache | None) -> list[float]:
    out = []
    for i in range(runs):
        body = edited(text, i, i % 2 == 0)
        start = time.perf_counter()
        compile_file(path, {resolved(path): body}, parses)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=30)
    args = parser.parse_args()
    text = generate(args.lines)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csp"
        path.write_text(text, encoding="utf-8")
        assert compile_file(path).ok, "the generated policy compiles"
        times = asyncio.run(measure(path, text, args.edits))
        cold = compile_times(path, text, args.edits, None)
        warm = compile_times(path, text, args.edits, ParseCache())
    ms = [t * 1000 for t in times]
    result: dict[str, Any] = {
        "benchmark": "lsp",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "lines": text.count("\n"),
        "edits": args.edits,
        "debounce_ms": DEBOUNCE * 1000,
        "edit_to_diagnostics_ms": {
            "median": round(statistics.median(ms), 1),
            "min": round(min(ms), 1),
            "max": round(max(ms), 1),
        },
        "compile_ms_median": round(statistics.median(cold) * 1000, 1),
        "compile_with_parse_cache_ms_median": round(statistics.median(warm) * 1000, 1),
        "goal_ms": 300,
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"lsp-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
