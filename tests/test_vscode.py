"""The VS Code extension (editors/vscode): its grammar covers the language, its tests pass, it
packages as a .vsix.

Without Node's npm only the checks that need no Node run: the grammar test's fixture asserts a
keyword scope on every keyword of `grammar/csp.lark` (so a new construct without highlighting
fails here), the fixture and the snippets are policies `csdsl check` accepts, and the manifest's
files exist. With npm (CI has it), `npm ci` installs the locked dev dependencies once, from the
npm cache when it can, and the grammar test (vscode-tmgrammar-test, which proves the fixture's
assertions with VS Code's own tokenizer), a scan of every bundled policy and the `.vsix` build run
too.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from csdsl.cli import main
from csdsl.source import SourceFile
from csdsl.syntax.parse import code_only, parse

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT / "editors" / "vscode"
FIXTURE = EXT / "test" / "fixture.csp"
NPM = shutil.which("npm")
needs_npm = pytest.mark.skipif(NPM is None, reason="npm is not installed (Node.js 20 or later)")

# literals of the grammar that are values, not keywords: they are scoped constant.language.*
CONSTANT_WORDS = {
    "true": "constant.language.boolean.csdsl",
    "false": "constant.language.boolean.csdsl",
}


def lark_keywords() -> set[str]:
    """The words of the grammar: the quoted literals of `grammar/csp.lark` that are words."""
    text = re.sub(r"//[^\n]*", "", (ROOT / "grammar" / "csp.lark").read_text(encoding="utf-8"))
    return set(re.findall(r'"([A-Za-z_]\w*)"', text))


def utf16(text: str) -> int:
    """The length of `text` in UTF-16 code units: the columns of vscode-tmgrammar-test."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Assertion:
    line: str  # the source line the assertion is about
    start: int  # UTF-16 columns, end exclusive
    end: int
    scopes: tuple[str, ...]
    excluded: tuple[str, ...]


def assertions(path: Path) -> list[Assertion]:
    """The scope assertions of a vscode-tmgrammar-test file whose comment token is `#`.

    `# ^^^ a b - c` asserts scopes a and b (and not c) on the columns of the carets in the last
    line that is not an assertion; `# <--- a` on the first columns of that line (`<~~--` starts
    at the number of `~`).
    """
    lines = path.read_text(encoding="utf-8").split("\n")
    assert re.match(r'# SYNTAX TEST "source\.csdsl"', lines[0]), f"{path}: no SYNTAX TEST header"
    found: list[Assertion] = []
    source = ""
    for line in lines[1:]:
        body = line[1:] if line.startswith("#") else ""
        up = re.match(r"([\s^]*\^)(\s.*)$", body)
        left = re.match(r"\s*<(~*)(-+)(\s.*)$", body)
        if up:
            scopes = _scopes(up.group(2))
            for carets in re.finditer(r"\^+", up.group(1)):  # one or more groups of carets
                found.append(Assertion(source, 1 + carets.start(), 1 + carets.end(), *scopes))
        elif left:
            start = len(left.group(1))
            found.append(
                Assertion(source, start, start + len(left.group(2)), *_scopes(left.group(3)))
            )
        else:
            source = line
    return found


def _scopes(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`a b - c`: required a and b, excluded c (a lone `-` separates them; scopes may hold `-`)."""
    words = text.split()
    cut = words.index("-") if "-" in words else len(words)
    return tuple(words[:cut]), tuple(words[cut + 1 :])


def test_assertion_parser_reads_both_forms(tmp_path: Path) -> None:
    path = FIXTURE.parent / "included.csp"
    got = {(a.line.strip(), a.start, a.end, a.scopes) for a in assertions(path)}
    assert ("record Call {", 0, 6, ("keyword.declaration.record.csdsl",)) in got
    assert ("record Call {", 7, 11, ("entity.name.type.record.csdsl",)) in got
    path = tmp_path / "two.csp"
    path.write_text('# SYNTAX TEST "source.csdsl"\nor and\n# ^ ^^^ keyword.a - b\n', "utf-8")
    two = [(a.start, a.end, a.scopes, a.excluded) for a in assertions(path)]
    assert two == [(2, 3, ("keyword.a",), ("b",)), (4, 7, ("keyword.a",), ("b",))]
    hold = [a for a in assertions(FIXTURE) if a.line.strip().startswith("hold: hold at most")]
    assert hold[0].scopes == ("entity.name.function.transcript-rule.csdsl",)
    assert hold[0].excluded == ("keyword.other.transcript.csdsl",)


def test_fixture_asserts_a_keyword_scope_on_every_keyword_of_the_grammar() -> None:
    """Every word `grammar/csp.lark` spells out appears in the fixture, and an assertion there
    says it is a keyword (true and false: a constant), so a construct added to the grammar without
    highlighting fails this test until the grammar and the fixture cover it."""
    words = lark_keywords()
    # the parse is right: the header's, a clause's and a transcript rule's words are there
    assert {"policy", "timezone", "within", "reopens", "says", "turns", "interruptions"} <= words
    assert len(words) > 100
    by_word: dict[str, list[tuple[str, ...]]] = {}
    for a in assertions(FIXTURE):
        # a word in a comment or a string is no use of the keyword: they are blanked out
        for m in re.finditer(r"(?<!\w)[A-Za-z_]\w*(?!\w)", code_only(a.line)):
            span = (utf16(a.line[: m.start()]), utf16(a.line[: m.end()]))
            if span == (a.start, a.end) and m.group() in words:
                by_word.setdefault(m.group(), []).append(a.scopes)
    missing = sorted(words - by_word.keys())
    assert not missing, f"no scope assertion in {FIXTURE.name} on: {', '.join(missing)}"
    wrong = []
    for word, scope_lists in sorted(by_word.items()):
        want = CONSTANT_WORDS.get(word)
        ok = any(
            (want in scopes) if want else any(s.startswith("keyword.") for s in scopes)
            for scopes in scope_lists
        )
        if not ok:
            wrong.append(f"{word}: {scope_lists}")
    assert not wrong, "asserted, but not as a keyword: " + "; ".join(wrong)


def check_json(capsys: pytest.CaptureFixture[str], *paths: Path) -> list[dict[str, object]]:
    code = main(["check", "--format", "json", *map(str, paths)])
    out = capsys.readouterr().out
    diagnostics: list[dict[str, object]] = json.loads(out)
    assert code == 0, out
    return diagnostics


def test_fixture_is_a_policy_csdsl_accepts(capsys: pytest.CaptureFixture[str]) -> None:
    """The assertion lines are comments: the fixture is real syntax, checked as the language is."""
    assert check_json(capsys, FIXTURE, FIXTURE.parent / "included.csp") == []


def render_snippet(body: list[str]) -> str:
    """A snippet as VS Code inserts it when every placeholder keeps its default."""
    text = "\n".join(body)
    previous = None
    while previous != text:
        previous = text
        text = re.sub(r"\$\{\d+:([^${}]*)\}", r"\1", text)
        text = re.sub(r"\$\{\d+\|([^,|]*)[^|]*\|\}", r"\1", text)
    return text


def test_snippets_with_their_defaults_make_a_policy_csdsl_accepts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    snippets = json.loads((EXT / "snippets" / "csdsl.json").read_text(encoding="utf-8"))
    part = {name: render_snippet(s["body"]) for name, s in snippets.items()}
    # the fragments go where they belong: a condition in a validity block, a situation in the
    # transcript rules; `$0` (where the cursor ends) is empty
    part["validity"] = part["validity"].replace("$0", part.pop("condition"))
    part["transcript rules"] = part["transcript rules"].replace("$0", part.pop("situation"))
    imports = part.pop("import"), part.pop("include")
    assert all(p.startswith(("import ", "include ")) for p in imports)
    policy = "\n\n".join(re.sub(r"\$\d+", "", p) for p in part.values()) + "\n"
    assert "${" not in policy
    path = tmp_path / "snippets.csp"
    path.write_text(policy, encoding="utf-8")
    assert check_json(capsys, path) == []


def test_manifest_names_files_that_exist() -> None:
    manifest = json.loads((EXT / "package.json").read_text(encoding="utf-8"))
    contributes = manifest["contributes"]
    (language,) = contributes["languages"]
    assert (language["id"], language["extensions"]) == ("csdsl", [".csp"])
    assert "onLanguage:csdsl" in manifest["activationEvents"]
    paths = [language["configuration"], manifest["main"].replace("./out/", "./src/")[:-3] + ".ts"]
    paths += [g["path"] for g in contributes["grammars"]] + [
        s["path"] for s in contributes["snippets"]
    ]
    for p in paths:
        assert (EXT / p).is_file(), p
    settings = contributes["configuration"]["properties"]
    assert {"csdsl.server.command", "csdsl.formatOnSave"} <= settings.keys()
    assert "devDependencies" in manifest and "vscode-tmgrammar-test" in manifest["devDependencies"]
    # the extension's version is the package's
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{manifest["version"]}"' in pyproject


# ---- with npm ---------------------------------------------------------------------------------


def npm(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    assert NPM is not None
    return subprocess.run(
        [NPM, *args], cwd=EXT, capture_output=True, text=True, timeout=timeout, check=False
    )


def installed_as_locked() -> bool:
    """Is node_modules what `npm ci` would install? npm's own record of the tree it installed
    (node_modules/.package-lock.json) matches package-lock.json: every package installed is the
    locked one, and every locked package but the other platforms' optional ones is installed."""
    hidden = EXT / "node_modules" / ".package-lock.json"
    if not hidden.is_file():
        return False
    locked = json.loads((EXT / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    have = json.loads(hidden.read_text(encoding="utf-8"))["packages"]
    return all(locked.get(k) == v for k, v in have.items()) and all(
        k in have for k, v in locked.items() if k and not v.get("optional")
    )


@pytest.fixture(scope="module")
def node_modules() -> Iterator[None]:
    """`npm ci`, from the npm cache when it has the packages; skipped when node_modules already
    holds exactly the locked tree (a developer's second run)."""
    if not installed_as_locked():
        done = npm("ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error")
        assert done.returncode == 0, done.stdout + done.stderr
        assert installed_as_locked()
    yield


@needs_npm
def test_npm_test(node_modules: None) -> None:
    """The generated grammar is current, every assertion of test/*.csp holds under VS Code's
    tokenizer, the client compiles and its unit tests pass."""
    done = npm("test")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test/fixture.csp run successfuly" in done.stdout
    assert "# fail 0" in done.stdout


def scopes_of(*files: Path) -> dict[str, list[dict[str, object]]]:
    assert shutil.which("node") is not None
    done = subprocess.run(
        ["node", str(EXT / "scripts" / "scopes.mjs"), "--json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {(d := json.loads(line))["file"]: d["tokens"] for line in done.stdout.splitlines()}


def doc_policies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[Path]:
    """The ```csp blocks of docs/language.md that `csdsl check` accepts (others show mistakes)."""
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    kept = []
    for i, block in enumerate(re.findall(r"```csp\n(.*?)```", text, re.S)):
        path = tmp_path / f"doc{i:03d}.csp"
        path.write_text(block, encoding="utf-8")
        code = main(["check", "--format", "json", str(path)])
        capsys.readouterr()
        if code == 0:
            kept.append(path)
    return kept


def declaration_starts(path: Path) -> list[tuple[int, int]]:
    """Where csdsl's parser sees the header and each declaration start: (line, UTF-16 column)."""
    text = path.read_text(encoding="utf-8")
    module, diagnostics = parse(SourceFile(str(path), text))
    assert module is not None, diagnostics
    lines = text.split("\n")
    spans = [item.span for item in module.items]
    if module.header is not None:
        spans.append(module.header.span)
    return [(s.line, utf16(lines[s.line - 1][: s.column - 1])) for s in spans]


@needs_npm
def test_bundled_policies_are_highlighted_without_a_slip(
    node_modules: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every bundled policy and every policy of docs/language.md that checks, tokenized as VS Code
    does: nothing in a bundled policy is marked a mistake, and wherever csdsl's parser sees a
    declaration start, the grammar sees its keyword at the top level (so no clause's region runs
    into the next one)."""
    bundled = sorted(ROOT.glob("policies/**/*.csp")) + sorted(ROOT.glob("examples/**/*.csp"))
    docs = doc_policies(tmp_path, capsys)
    assert len(bundled) >= 10 and len(docs) >= 20
    problems = []
    starts_checked = 0
    for file, tokens in scopes_of(*bundled, *docs).items():
        at = {(int(str(t["line"])), int(str(t["col"]))): t for t in tokens}
        for t in tokens:
            scopes = [str(s) for s in t["scopes"]]  # type: ignore[attr-defined]
            if Path(file) in bundled and any(s.startswith("invalid.") for s in scopes):
                problems.append(f"marked a mistake: {file}:{t['line']}:{t['col']} `{t['text']}`")
        for line, col in declaration_starts(Path(file)):
            token = at.get((line, col))
            scopes = [str(s) for s in token["scopes"]] if token else []  # type: ignore[attr-defined]
            metas = [s for s in scopes if s.startswith("meta.")]
            keyword = scopes[-1] if scopes else ""
            top = len(metas) <= 1 and scopes[1 : 1 + len(metas)] == metas
            if not (keyword.startswith(("keyword.declaration.", "keyword.control.import")) and top):
                problems.append(f"a declaration the grammar misses: {file}:{line}:{col} {scopes}")
            starts_checked += 1
    assert not problems, "\n".join(problems[:30])
    assert starts_checked > 300


@needs_npm
def test_build_script_packages_the_vsix(node_modules: None, tmp_path: Path) -> None:
    """editors/vscode/build.sh builds csdsl-VERSION.vsix: the manifest, the grammar, the snippets,
    the compiled client and its runtime dependency, and none of the sources or tests."""
    version = json.loads((EXT / "package.json").read_text(encoding="utf-8"))["version"]
    vsix = tmp_path / f"csdsl-{version}.vsix"
    done = subprocess.run(
        [str(EXT / "build.sh"), "--no-install", "--out", str(vsix)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with zipfile.ZipFile(vsix) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("extension/package.json"))
        grammar = z.read("extension/syntaxes/csdsl.tmLanguage.json").decode("utf-8")
        client = z.read("extension/out/extension.js").decode("utf-8")
        resolver = z.read("extension/out/serverCommand.js").decode("utf-8")
    assert (manifest["name"], manifest["version"]) == ("csdsl", version)
    assert grammar == (EXT / "syntaxes" / "csdsl.tmLanguage.json").read_text(encoding="utf-8")
    assert "LanguageClient" in client and "csdsl.server.command" in resolver
    for name in (
        "extension.vsixmanifest",
        "extension/language-configuration.json",
        "extension/snippets/csdsl.json",
        "extension/out/serverCommand.js",
        "extension/node_modules/vscode-languageclient/package.json",
        "extension/LICENSE.txt",
        "extension/readme.md",
        "extension/changelog.md",
    ):
        assert name in names, name
    assert not [
        n
        for n in names
        if n.startswith(("extension/src/", "extension/test/", "extension/scripts/"))
    ]
