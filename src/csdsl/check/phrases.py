"""Phrase sets: names and consistency.  AST -> IR.

In: the `phrases` declarations of the root module and of the files it imports (shared phrase
books).  Out: the sets as `(name, phrases)` and diagnostics: a duplicate set name, an empty set,
a phrase with nothing to match once normalised (only punctuation or placeholders), a phrase
written twice in a set (the same after normalisation: Traditional/Simplified, full-width
forms, punctuation and spaces do not count), and unbalanced `{placeholder}` braces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from csdsl.diagnostics import Related, warning
from csdsl.phrases import PhraseSyntaxError, expand, placeholder_problems, segments
from csdsl.syntax import ast

if TYPE_CHECKING:
    from csdsl.check.lower import Lowering


def lower_phrases(
    o: Lowering, decls: list[ast.PhrasesDecl]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    o.unique((d.name for d in decls), "phrase set")
    out: dict[str, tuple[str, ...]] = {}
    for d in decls:
        o.not_a_keyword(d.name, "phrase set")
        if not d.phrases:
            o.diags.append(
                warning(
                    "W520",
                    f"phrase set `{d.name.name}` is empty",
                    d.name.span,
                    "list the phrases, or remove the set",
                )
            )
        check_phrase_list(o, d.phrases, "")
        out.setdefault(d.name.name, tuple(p.value for p in d.phrases))
    return tuple(out.items())


def check_phrase_list(o: Lowering, phrases: Sequence[ast.String], where: str) -> None:
    """The checks every list of phrases gets, declared as a set or written in a rule."""
    seen: dict[tuple[str, ...], ast.String] = {}
    for phrase in phrases:
        text = phrase.value
        if text.count("{") != text.count("}") or "{}" in text:
            o.err(
                "E241",
                f"unbalanced or empty placeholder in `{text}`",
                phrase.span,
                "write placeholders as `{name}`, e.g. `欢迎致电{org}客户服务热线`",
            )
            continue
        try:
            variants = expand(text)
        except PhraseSyntaxError as exc:
            o.err(
                "E242",
                f"`{text}`: {exc.message}",
                phrase.span,
                "write optional words as `[words]` and alternatives as `(this|that)`",
            )
            continue
        problems = placeholder_problems(text)
        if problems:
            o.err(
                "E243",
                f"`{text}`: {problems[0]}",
                phrase.span,
                "a placeholder stands for a few characters between words the agent says",
            )
            continue
        keys = [segments(v) for v in variants]
        if not any(keys):
            o.err(
                "E240",
                f"`{text}` has nothing to match",
                phrase.span,
                "punctuation, spaces and placeholders are ignored when matching: give "
                "the phrase some words",
            )
            continue
        for key in dict.fromkeys(keys):
            first = seen.get(key)
            if first is not None:
                o.diags.append(
                    warning(
                        "W521",
                        f"`{text}` is the same phrase as `{first.value}` once normalised"
                        + (f" ({where})" if where else ""),
                        phrase.span,
                        "remove one: Traditional/Simplified characters, "
                        "full-width forms, punctuation and spaces do not count",
                        [Related("the first one", first.span)],
                    )
                )
                break
            seen[key] = phrase
