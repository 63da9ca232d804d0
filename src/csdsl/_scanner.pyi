"""Types of csdsl._scanner, the C extension built from _scanner.c (see csdsl.phrase_engines)."""

from collections.abc import Sequence
from typing import Any

class Automaton:
    def __init__(
        self, pieces: Sequence[str], values: Sequence[Any], others: Sequence[bool]
    ) -> None: ...
    def scan(self, text: str) -> tuple[list[Any], list[tuple[int, Any]]]: ...

def fold(text: str, table: list[str], mark: str, slow: str) -> tuple[str, str, bool] | None: ...
