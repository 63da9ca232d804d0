"""The docs show what the code prints today: every shown `$ csdsl ...` run is run again here.

A fenced block of README.md or docs/*.md (docs/standards.md is generated and left out) whose
first line starts with `$ csdsl ` or `$ python -m csdsl` is a transcript: each `$ COMMAND` line
is followed by what COMMAND prints (standard output and standard error, as a terminal shows
them).  Each command runs in bash in a scratch directory that looks like the repository root
(a copy of its policies, examples, tests and docs, without `out*`, so the `--out` directories of
the runs do not land in the working tree); `csdsl` is `python -m csdsl` of this interpreter.
The commands of one block run in order in the same directory, so a later one can read what an
earlier one wrote; `$ echo $?` prints the exit status of the command before it.

What cannot be the same from one run to the next is allowed, and only that:

- an elapsed time `H:MM:SS` (the `audit --progress` bar) and a duration such as `0.42s` or
  `12ms` on a line that names it as the time taken (`in 0.42s`, `took 12ms`) are compared
  as `<time>`;
- the scratch directory's path, where a command prints it, is compared as `.`;
- a `| head -N`, `| tail -N` or `| sed -n ...` pipe in the command is run as written, so the
  block shows only the lines the pipe lets through;
- a line that is `...` (indented or not) stands for any number of lines (none included) that
  the doc leaves out.

A block that is illustrative (its files are not in the repository, or it shows another
machine's run) is marked with the comment `<!-- not run: REASON -->` on the line just before
its opening fence; it is reported as skipped with that reason, never silently.  A marker in
front of anything else is an error, so a marker cannot outlive its block.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [
    ROOT / "README.md",
    *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "standards.md"),
]
FENCE = re.compile(r"^(`{3,}|~{3,})")
MARKER = re.compile(r"^<!-- not run: (?P<reason>[^>]+?) -->$")
TRANSCRIPT = ("$ csdsl ", "$ python -m csdsl")
ELIDED = "..."
TIMEOUT = 120
COPY_SKIP = {"src", "benchmarks", "build", "dist"}  # the code itself is imported, not read


@dataclass(frozen=True)
class Block:
    doc: str  # path relative to the repository root
    line: int  # line number of the opening fence
    body: tuple[str, ...]
    skip_reason: str | None

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"


def blocks(path: Path) -> tuple[list[Block], list[str]]:
    """The transcript blocks of one doc, and the problems with its `not run` markers."""
    lines = path.read_text(encoding="utf-8").splitlines()
    doc = path.relative_to(ROOT).as_posix()
    found: list[Block] = []
    problems: list[str] = []
    i = 0
    while i < len(lines):
        marker = MARKER.match(lines[i].strip())
        opening = FENCE.match(lines[i].lstrip())
        if marker and not (i + 1 < len(lines) and FENCE.match(lines[i + 1].lstrip())):
            problems.append(f"{doc}:{i + 1}: `not run` marker not just before a fenced block")
        if not opening:
            i += 1
            continue
        fence = opening.group(1)
        end = i + 1
        while end < len(lines) and not lines[end].lstrip().startswith(fence):
            end += 1
        body = tuple(lines[i + 1 : end])
        before = MARKER.match(lines[i - 1].strip()) if i > 0 else None
        if body and body[0].startswith(TRANSCRIPT):
            reason = before.group("reason") if before else None
            found.append(Block(doc, i + 1, body, reason))
        elif before:
            problems.append(f"{doc}:{i}: `not run` marker before a block that is not a transcript")
        i = end + 1
    return found, problems


ALL: list[Block] = []
MARKER_PROBLEMS: list[str] = []
for _doc in DOCS:
    _found, _problems = blocks(_doc)
    ALL.extend(_found)
    MARKER_PROBLEMS.extend(_problems)

TIME_TAKEN = re.compile(r"\b(in|took|elapsed:?) \d+(\.\d+)?\s?(ms|s)\b")
ELAPSED = re.compile(r"(?<![\dT:])\d+:\d\d:\d\d(?![\d:+])")


def normalise(line: str, scratch: str) -> str:
    line = line.replace(scratch + "/", "./").replace(scratch, ".")
    line = TIME_TAKEN.sub(lambda m: f"{m.group(1)} <time>", line)
    return ELAPSED.sub("<time>", line)


def matches(shown: list[str], got: list[str]) -> bool:
    """Whether `got` is `shown` with each `...` line standing for any run of lines."""
    # Dynamic programming over (shown index, got index): a small glob on lines.
    reach = {0}
    for pattern in shown:
        if pattern.strip() == ELIDED:
            lowest = min(reach, default=len(got) + 1)
            reach = set(range(lowest, len(got) + 1))
        else:
            reach = {j + 1 for j in reach if j < len(got) and got[j] == pattern}
        if not reach:
            return False
    return len(got) in reach


def split(body: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """The block's commands, each with the lines shown after it."""
    runs: list[tuple[str, list[str]]] = []
    for line in body:
        if line.startswith("$ "):
            runs.append((line[2:], []))
        else:
            runs[-1][1].append(line)
    return runs


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("docroot")
    for entry in ROOT.iterdir():
        if entry.name.startswith((".", "out")) or entry.name in COPY_SKIP:
            continue
        if entry.is_dir():
            shutil.copytree(entry, where / entry.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(entry, where / entry.name)
    return where


def run(command: str, cwd: Path) -> tuple[int, list[str]]:
    env = dict(os.environ, PYTHONUNBUFFERED="1", NO_COLOR="1", COLUMNS="100")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    prelude = f'csdsl() {{ "{sys.executable}" -m csdsl "$@"; }}\n'
    done = subprocess.run(
        ["bash", "-c", prelude + command],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=TIMEOUT,
        check=False,
    )
    return done.returncode, done.stdout.decode("utf-8", "replace").splitlines()


def test_the_docs_have_transcripts_and_well_placed_markers() -> None:
    assert MARKER_PROBLEMS == []
    assert len([b for b in ALL if b.skip_reason is None]) >= 35


def test_matches_treats_an_ellipsis_line_as_any_lines() -> None:
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "...", "b"], ["a", "b"])
    assert matches(["{", "  ...", "}"], ["{", '  "x": 1', "}"])
    assert matches(["...", "c"], ["a", "b", "c"])
    assert not matches(["a", "...", "d"], ["a", "b", "c"])
    assert not matches(["a", "b"], ["a", "b", "c"])
    assert not matches(["a"], ["a", "b"])
    assert normalise("  examples/calls.jsonl 3004/3004 rows 0:01:02", "/tmp/x") == (
        "  examples/calls.jsonl 3004/3004 rows <time>"
    )
    assert normalise("due 2025-03-03T13:00:00+08:00 at 12:00", "/tmp/x") == (
        "due 2025-03-03T13:00:00+08:00 at 12:00"
    )
    assert normalise("wrote /tmp/x/out/a.json", "/tmp/x") == "wrote ./out/a.json"


@pytest.mark.parametrize("block", ALL, ids=[b.id for b in ALL])
def test_shown_output_is_what_the_command_prints(block: Block, scratch: Path) -> None:
    if block.skip_reason is not None:
        pytest.skip(f"{block.id} is marked not run: {block.skip_reason}")
    runs = split(block.body)
    if any(re.search(r"(^|\| *)jq ", command) for command, _ in runs) and not shutil.which("jq"):
        pytest.skip("the block pipes through jq, which is not installed")
    status = 0
    for command, shown in runs:
        if command.strip() == "echo $?":
            got = [str(status)]
        else:
            status, got = run(command, scratch)
        got = [normalise(line, str(scratch)) for line in got]
        want = [normalise(line, str(scratch)) for line in shown]
        if not matches(want, got):
            diff = difflib.unified_diff(want, got, "shown", "printed now", lineterm="", n=1)
            pytest.fail(f"{block.id}: `$ {command}`:\n" + "\n".join(diff), pytrace=False)
